"""Booking e-mails, received by a real local SMTP server: French text + HTML, the QR inline under a
Content-ID the HTML refers to, the .ics attached and parseable."""

from __future__ import annotations

import io
from email.message import EmailMessage

from icalendar import Calendar
from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import select

from core.mail import OutgoingMail, commit_and_deliver, deliver_pending
from jou.bookings.calendar import manage_url
from jou.bookings.models import Booking, BookingKind, BookingStatus
from jou.bookings.notify import queue_cancellation, queue_confirmation, queue_promotion, queue_slot_message
from jou.bookings.tickets import checkin_url
from tests.factories import make_site
from tests.plugins.jou import make_booking, party, public_slot, public_slot_of
from tests.plugins.mail import free_port, html_body, link_path, text_body


def delivered(smtp_server) -> EmailMessage:  # noqa: ANN001
    report = commit_and_deliver()
    assert (report.sent, report.failed) == (1, 0)
    [message] = smtp_server.messages
    return message


def inline_png(message: EmailMessage) -> EmailMessage:
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    return image


def ics_attachment(message: EmailMessage) -> Calendar:
    [attachment] = [a for a in message.iter_attachments() if a.get_content_type() != "application/pdf"]
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename().endswith(".ics")
    return Calendar.from_ical(attachment.get_payload(decode=True))


def test_confirmation_has_text_html_inline_qr_and_ics(db_session, smtp_server):
    slot = public_slot_of(make_site(status="approved"))
    slot.min_age = 12
    slot.protective_equipment = "Chaussures fermées"
    slot.wheelchair_accessible = True
    booking = make_booking(slot, party_size=3, email="eloise@example.org")
    queue_confirmation(booking)

    message = delivered(smtp_server)
    assert smtp_server.envelopes[0].rcpt_tos == ["eloise@example.org"]
    assert str(message["To"]) == "Éloïse Dupré <eloise@example.org>"
    assert message["Subject"] == f"Votre visite chez {slot.site.name} est confirmée"

    text, html = text_body(message), html_body(message)
    for body in (text, html):
        assert "Bonjour Éloïse Dupré" in body
        assert "Votre visite est confirmée" in body
        assert "Âge minimum : 12 ans" in body
        assert "Chaussures fermées" in body
        assert "Accessible en fauteuil roulant" in body
        assert manage_url(booking) in body
    assert "Places : 3" in text
    assert link_path(message, "/reservations/") == manage_url(booking).split("127.0.0.1:5000")[-1]

    image = inline_png(message)
    content_id = image["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html
    decoded = decode(Image.open(io.BytesIO(image.get_content())))
    assert [d.data.decode() for d in decoded] == [checkin_url(booking)]

    event = ics_attachment(message).walk("VEVENT")[0]
    assert str(event["UID"]).startswith(f"booking-{booking.id}@")
    assert str(event["STATUS"]) == "CONFIRMED"


def test_school_confirmation_summarises_the_class(db_session, smtp_server):
    site = make_site(status="approved")
    slot = next(s for s in site.slots if s.audience == "schools")
    booking = make_booking(
        slot, kind=BookingKind.SCHOOL, party_size=27, unspecified=1, female=12, male=12, adults=2,
        uai="0751234A", level="3e", name="M. Martin",
    )  # fmt: skip
    queue_confirmation(booking)

    message = delivered(smtp_server)
    for body in (text_body(message), html_body(message)):
        assert "Troisième" in body
        assert "0751234A" in body
        assert "25 (filles : 12, garçons : 12, non précisé : 1)" in body
        assert "Accompagnateurs" in body


def test_promotion_carries_the_ticket(db_session, smtp_server):
    booking = make_booking()
    queue_promotion(booking)
    message = delivered(smtp_server)
    assert "Une place s'est libérée" in message["Subject"]
    assert "liste d'attente" in text_body(message)
    assert inline_png(message)
    assert ics_attachment(message).walk("VEVENT")


def test_cancellation_sends_the_cancelled_event(db_session, smtp_server):
    booking = make_booking()
    booking.status = BookingStatus.CANCELLED
    queue_cancellation(booking)
    message = delivered(smtp_server)
    assert "Annulation" in message["Subject"]
    assert "annulée" in text_body(message)
    assert not [p for p in message.walk() if p.get_content_type() == "image/png"]
    event = ics_attachment(message).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CANCELLED"


def test_each_change_of_the_party_sends_the_ticket_with_the_same_event_one_revision_up(
    db_session, smtp_server
):
    """Calendars replace an event they hold only when its SEQUENCE grows: confirmation 0, each change
    one more, the cancellation one more again; the UID never changes."""
    from jou.bookings import services

    slot = public_slot(capacity=10)
    booking = services.book(slot.id, party(2), send_confirmation=True)
    first = ics_attachment(delivered(smtp_server)).walk("VEVENT")[0]
    assert int(first["SEQUENCE"]) == 0
    events = [first]
    for size in (4, 3):
        smtp_server.clear()
        services.change_party(booking, {"party_size": size})
        message = delivered(smtp_server)
        assert message["Subject"] == f"Votre visite chez {slot.site.name} : réservation modifiée"
        assert f"Votre réservation est modifiée : {size} places désormais" in text_body(message)
        assert inline_png(message)  # the ticket again
        events.append(ics_attachment(message).walk("VEVENT")[0])
        assert f"Réservation pour {size} personnes" in str(events[-1]["DESCRIPTION"])
    smtp_server.clear()
    services.change_party(booking, {"party_size": 3})  # no change: no e-mail
    assert commit_and_deliver().sent == 0
    services.cancel_booking(booking)
    queue_cancellation(booking)
    events.append(ics_attachment(delivered(smtp_server)).walk("VEVENT")[0])
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2, 3]
    assert len({str(e["UID"]) for e in events}) == 1 and str(events[-1]["STATUS"]) == "CANCELLED"


def test_slot_message_goes_to_each_confirmed_booker_alone(db_session, smtp_server):
    slot = public_slot_of(make_site(status="approved"))
    first = make_booking(slot, email="a@example.org", name="Alice")
    make_booking(slot, email="b@example.org", name="Bruno")
    make_booking(slot, email="A@example.org", name="Alice encore")  # same person, one message
    make_booking(slot, email="c@example.org", name="Chloé", status=BookingStatus.CANCELLED)

    queued = queue_slot_message(slot, "Changement d'horaire", "La visite commence à 10h au lieu de 9h.")
    assert len(queued) == 2
    report = commit_and_deliver()
    assert report.sent == 2

    assert sorted(rcpt for e in smtp_server.envelopes for rcpt in e.rcpt_tos) == [
        "a@example.org",
        "b@example.org",
    ]
    for envelope in smtp_server.envelopes:
        message = envelope.message
        raw = message.as_string()
        others = {"a@example.org", "b@example.org", "c@example.org"} - set(envelope.rcpt_tos)
        assert not any(address in raw for address in others)
        assert message["Cc"] is None and message["Bcc"] is None
        assert message["Subject"] == f"{slot.site.name} : Changement d'horaire"
        assert "La visite commence à 10h au lieu de 9h." in text_body(message)
        assert "La visite commence à 10h au lieu de 9h." in html_body(message)
    [alice] = smtp_server.to("a@example.org")
    assert manage_url(first) in text_body(alice)


def test_html_escapes_what_people_typed(db_session, smtp_server):
    booking = make_booking(name="<b>Eve</b>")
    queue_slot_message(booking.slot, "Info", "<script>alert(1)</script>")
    commit_and_deliver()
    html = html_body(smtp_server.messages[0])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Eve</b>" not in html


def test_a_booking_made_by_the_service_is_confirmed_by_mail(db_session, smtp_server):
    from datetime import UTC, datetime

    from jou.bookings.services import book

    slot = public_slot_of(make_site(status="approved"))
    edition = slot.site.edition
    now = datetime.combine(edition.booking_opens, datetime.min.time(), tzinfo=UTC)
    data = {"party_size": 2, "name": "Léa Roux", "email": "lea@example.org", "consent": True}
    booking = book(slot.id, data, now=now)
    queue_confirmation(booking)

    message = delivered(smtp_server)
    assert smtp_server.envelopes[0].rcpt_tos == ["lea@example.org"]
    assert "Places : 2" in text_body(message)
    assert ics_attachment(message).walk("VEVENT")[0]["UID"].startswith(f"booking-{booking.id}@")


def test_smtp_down_the_booking_is_kept_and_its_ticket_sent_once_smtp_is_back(
    app, client, db_session, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", "worker")
    slot = public_slot(capacity=10)
    db_session.commit()
    response = client.post(f"/api/v1/slots/{slot.id}/bookings", json=party(2, email="zoe@example.org"))
    assert response.status_code == 201
    booking = db_session.get(Booking, response.get_json()["id"])
    assert booking.is_confirmed and slot.seats_taken == 2
    [queued] = db_session.scalars(select(OutgoingMail).where(OutgoingMail.sent_at.is_(None)))
    assert queued.message is None  # the request did not compose the ticket

    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # SMTP down
    report = deliver_pending(due_only=True)
    assert (report.sent, report.failed, report.unreachable) == (0, 1, True)
    db_session.refresh(queued)
    assert queued.attempts == 1 and queued.next_attempt_at > queued.last_attempt_at
    composed = queued.as_email()  # composed before the first attempt, kept for every retry
    assert composed["Subject"] == f"Votre visite chez {slot.site.name} est confirmée"
    assert db_session.get(Booking, booking.id).is_confirmed  # the failure undid nothing

    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)  # back
    queued.next_attempt_at = queued.last_attempt_at  # the backoff has run out
    db_session.commit()
    assert deliver_pending(due_only=True).sent == 1
    assert deliver_pending().sent == 0
    [message] = smtp_server.to("zoe@example.org")
    assert message["Message-ID"] == composed["Message-ID"]
    assert [d.data.decode() for d in decode(Image.open(io.BytesIO(inline_png(message).get_content())))] == [
        checkin_url(booking)
    ]


def test_a_ticket_whose_booking_was_cancelled_before_sending_is_dropped(
    app, db_session, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", "worker")
    booking = make_booking()
    queue_confirmation(booking)
    booking.status = BookingStatus.CANCELLED
    queue_cancellation(booking)
    assert commit_and_deliver().sent == 0  # worker mode: the request sends nothing
    report = deliver_pending()
    assert (report.sent, report.dropped) == (1, 1)
    [message] = smtp_server.messages
    assert "Annulation" in message["Subject"]
