"""The printable ticket: one A4 page with the QR code (the same as jou.bookings.tickets), the site and its
address, the slot, the party, and what to bring. Attached to the ticket e-mails and served at
/billets/<token>.pdf.

fpdf2's built-in Helvetica covers Latin-1, which French needs (é, à, ç, œ aside); the few typographic
characters outside it (narrow no-break spaces of French numbers, dashes, curly quotes) are written with
their Latin-1 neighbours rather than shipping a font file.
"""

from __future__ import annotations

import io

from fpdf import FPDF

from core.formatting import count_of, french_date, french_time
from jou.bookings import calendar, tickets
from jou.bookings.models import SCHOOL_LEVELS, Booking, BookingKind

QR_MM = 70
_LATIN1 = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2013": "-", "\u2014": "-", "\u2019": "'",
                         "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u0153": "oe",
                         "\u0152": "OE"})  # fmt: skip


def _text(value: str) -> str:
    return value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _party(booking: Booking) -> str:
    if booking.kind == BookingKind.SCHOOL:
        level = SCHOOL_LEVELS.get(booking.level or "", booking.level or "niveau non précisé")
        school = booking.school.name if booking.school else f"UAI {booking.uai}"
        return (
            f"Classe de {level} ({school}) : {count_of(booking.pupils, 'élève', 'élèves')} et "
            f"{count_of(booking.adults, 'accompagnateur', 'accompagnateurs')}"
        )
    return f"{count_of(booking.party_size, 'place', 'places')} au nom de {booking.name}"


def ticket_pdf(booking: Booking) -> bytes:
    slot = booking.slot
    site = slot.site
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"Billet - {site.name}"))
    pdf.set_author("Soce - Journées Usines Ouvertes")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, _text("Journées Usines Ouvertes - votre billet"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _text(f"{site.name} ({site.company_name})"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    when = f"{french_date(slot.day)}, de {french_time(slot.start)} à {french_time(slot.end)}"
    if calendar.site_zone(site) is not calendar.PARIS:
        when += " (heure locale)"
    for line in (
        f"{site.street}, {site.postcode} {site.city}",
        when,
        _party(booking),
        f"Billet n° {booking.id}",
    ):
        pdf.multi_cell(0, 7, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.image(io.BytesIO(tickets.qr_png(booking)), x=(pdf.w - QR_MM) / 2, w=QR_MM, h=QR_MM)
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, _text("Présentez ce code à l'accueil du site, imprimé ou sur votre téléphone."),
                   align="C", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _text("À savoir avant de venir"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for notice in calendar.slot_notices(slot):
        pdf.multi_cell(0, 6, _text(f"- {notice}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _text(f"Modifier ou annuler : {calendar.manage_url(booking)}"), new_x="LMARGIN",
                   new_y="NEXT")  # fmt: skip
    return bytes(pdf.output())
