"""The printable ticket, read back: its text names the site, the address, the slot and what to bring; its
QR code decodes to the ticket's check-in URL; it is served at /billets/<token>.pdf, linked in the booking's
JSON as `pdf_url`, and attached to the ticket e-mails."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pyzbar.pyzbar import decode

from core.mail import commit_and_deliver
from jou.bookings import tokens
from jou.bookings.ticket_pdf import ticket_pdf
from jou.bookings.tickets import checkin_url
from tests.factories import make_site
from tests.plugins.jou import make_booking, party, public_slot, public_slot_of


def read(pdf: bytes) -> tuple[str, list[str]]:
    """(the text of the page, what the QR codes in its images say)."""
    [page] = PdfReader(io.BytesIO(pdf)).pages
    codes = [d.data.decode() for image in page.images for d in decode(image.image)]
    return page.extract_text(), codes


def test_the_pdf_names_the_visit_and_its_qr_is_the_ticket(db_session):
    slot = public_slot_of(make_site(status="approved", name="Forge de l'Été"))
    slot.protective_equipment = "Chaussures fermées"
    booking = make_booking(slot, party_size=3, name="Éloïse Dupré")
    text, codes = read(ticket_pdf(booking))
    assert codes == [checkin_url(booking)]
    for expected in ("Forge de l'Été", "1 rue de Rivoli, 75001 Paris", "samedi 20 mars 2027", "3 places au nom de Éloïse Dupré",
                     "Chaussures fermées", f"Billet n° {booking.id}"):  # fmt: skip
        assert expected in text, (expected, text)


def test_served_linked_and_attached(client, db_session, smtp_server):
    slot = public_slot(capacity=10)
    response = client.post(f"/api/v1/slots/{slot.id}/bookings", json=party(2))
    assert response.status_code == 201
    body = response.get_json()
    path = body["pdf_url"].split("://", 1)[1].split("/", 1)[1]
    pdf = client.get(f"/{path}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"].startswith("private") or "no-store" in pdf.headers["Cache-Control"]
    booking = tokens.booking_from_ticket(body["ticket_token"])
    assert read(pdf.data)[1] == [checkin_url(booking)]
    assert client.get("/billets/altered.pdf").status_code in (401, 404)
    manage = client.get("/" + body["manage_url"].split("://", 1)[1].split("/", 1)[1]).get_data(as_text=True)
    assert f'href="/{path}" data-testid="pdf-link"' in manage

    commit_and_deliver()
    [message] = smtp_server.messages
    attached = {part.get_filename(): part for part in message.iter_attachments()}
    assert f"billet-{booking.id}.pdf" in attached
    assert read(attached[f"billet-{booking.id}.pdf"].get_payload(decode=True))[1] == [checkin_url(booking)]
