"""Tickets: the QR code a visitor shows at the factory gate.

The code holds only the check-in URL with the signed ticket token (jou.bookings.tokens): a short payload
keeps the code at a low version (large modules), which a phone camera reads fast, even from a cracked
screen in sunlight. The token is what is checked; the QR is a rendering of it, made on demand.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from flask import current_app
from qrcode.image.svg import SvgPathFillImage

from jou.bookings.models import Booking
from jou.bookings.tokens import ticket_token

# 8 px a module: a version 4-5 code (what our URLs give) is about 330-360 px, the width of a phone screen.
BOX_SIZE = 8
# The quiet zone the QR standard asks for; scanners miss codes printed without it.
BORDER = 4


def checkin_url(booking: Booking) -> str:
    """The URL a steward's phone opens when scanning the ticket (check-in page, later issue)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/controle/{ticket_token(booking)}"


def _qr(booking: Booking) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=BOX_SIZE, border=BORDER)
    code.add_data(checkin_url(booking))
    code.make(fit=True)
    return code


def qr_png(booking: Booking) -> bytes:
    buffer = io.BytesIO()
    _qr(booking).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(booking: Booking) -> bytes:
    """Vector, for printing: one path on a white background (readable in a dark-mode viewer too)."""
    return _qr(booking).make_image(image_factory=SvgPathFillImage).to_string(encoding="utf-8")
