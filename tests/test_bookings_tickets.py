"""QR tickets: the image decodes back (zbar) to the check-in URL; a tampered token is a 404."""

from __future__ import annotations

import io
import string
import xml.etree.ElementTree as ET
from datetime import time

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from jou.bookings.models import BookingKind
from jou.bookings.tickets import checkin_url, qr_png, qr_svg
from jou.bookings.tokens import ticket_token
from tests.factories import make_site
from tests.plugins.jou import make_booking

SVG_NS = "{http://www.w3.org/2000/svg}"


def decoded(png: bytes) -> list[str]:
    return [s.data.decode() for s in decode(Image.open(io.BytesIO(png)), symbols=[ZBarSymbol.QRCODE])]


def test_checkin_url_is_on_the_public_base_url_with_the_ticket_token(app, db_session):
    booking = make_booking()
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    assert checkin_url(booking) == f"{base}/controle/{ticket_token(booking)}"
    # Short payload, low-density code: scans fast on a phone.
    assert len(checkin_url(booking)) < 80


def test_png_decodes_back_to_the_checkin_url(db_session):
    booking = make_booking()
    png = qr_png(booking)
    assert png.startswith(b"\x89PNG")
    assert decoded(png) == [checkin_url(booking)]
    width, height = Image.open(io.BytesIO(png)).size
    assert width == height and 250 <= width <= 500  # fits a phone screen without scaling


def test_svg_is_xml_with_path_data(db_session):
    booking = make_booking()
    root = ET.fromstring(qr_svg(booking))
    assert root.tag == f"{SVG_NS}svg"
    paths = root.findall(f".//{SVG_NS}path")
    assert paths and all(p.get("d") for p in paths)


def test_png_and_svg_routes(client, db_session):
    booking = make_booking()
    token = ticket_token(booking)

    png = client.get(f"/billets/{token}.png")
    assert png.status_code == 200
    assert png.mimetype == "image/png"
    assert png.headers["Cache-Control"] == "no-store"
    assert decoded(png.data) == [checkin_url(booking)]

    svg = client.get(f"/billets/{token}.svg")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert svg.headers["Cache-Control"] == "no-store"
    ET.fromstring(svg.data)


@pytest.mark.parametrize("position", [0, 3, 10])
def test_an_altered_token_is_a_404_page(client, db_session, position):
    token = ticket_token(make_booking())
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    response = client.get(f"/billets/{''.join(chars)}.png")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "billet" in response.get_data(as_text=True)


def test_every_single_character_alteration_is_refused(db_session):
    from core.errors import AppError
    from jou.bookings.tokens import booking_from_ticket

    token = ticket_token(make_booking())
    alphabet = string.ascii_letters + string.digits + "-_."
    accepted = []
    for position, original in enumerate(token):
        for char in alphabet.replace(original, ""):
            try:
                booking_from_ticket(token[:position] + char + token[position + 1 :])
            except AppError:
                continue
            accepted.append((position, char))
    assert accepted == []


def test_a_manage_token_is_not_a_ticket(client, db_session):
    from jou.bookings.tokens import manage_token

    booking = make_booking()
    assert client.get(f"/billets/{manage_token(booking)}.png").status_code == 404


def test_school_ticket_decodes_too(db_session):
    site = make_site(status="approved")
    slot = next(s for s in site.slots if s.audience == "schools")
    slot.start, slot.end = time(14, 0), time(16, 0)
    booking = make_booking(
        slot, kind=BookingKind.SCHOOL, party_size=27, unspecified=0, female=12, male=13, adults=2,
        uai="0751234A", level="3e",
    )  # fmt: skip
    assert decoded(qr_png(booking)) == [checkin_url(booking)]
