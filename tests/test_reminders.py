"""The visit's reminder, a scheduled message: due BOOKING_REMINDER_DAYS (2) days before the visit, for the
bookings made before that day, sent once however often `flask messages send-due` runs (and by two at
once), received by a real SMTP server with the ticket, what to bring and a link that frees the seats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core import schedule
from core.extensions import db
from core.mail import OutgoingMail, commit_and_deliver
from core.models import utcnow
from jou.bookings import services
from jou.bookings.models import Booking
from jou.bookings.notify import REMINDER
from tests.factories import make_site
from tests.plugins.jou import make_booking, public_slot_of
from tests.plugins.mail import html_body, link_path, text_body
from tests.plugins.races import race

# The public slot of a test site is on Saturday 20 March 2027 from 09:00 (tests.factories), in Paris (UTC+1).
DAY_BEFORE_REMINDER = datetime(2027, 3, 17, 22, 59, tzinfo=UTC)  # 17 March, 23:59 in Paris
REMINDER_DAY = datetime(2027, 3, 17, 23, 0, tzinfo=UTC)  # 18 March, 00:00 in Paris
VISIT_STARTS = datetime(2027, 3, 20, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def visit(**booking_fields):  # noqa: ANN003, ANN201
    slot = public_slot_of(make_site(status="approved"))
    slot.protective_equipment = "Chaussures fermées"
    return slot, make_booking(slot, party_size=3, **{"email": "eloise@example.org", **booking_fields})


def reminders_at(moment: datetime) -> int:
    return schedule.send_due(moment)[REMINDER]


def test_due_two_days_before_and_sent_once(db_session, smtp_server):
    slot, booking = visit()
    assert reminders_at(DAY_BEFORE_REMINDER) == 0
    assert reminders_at(REMINDER_DAY) == 1
    assert reminders_at(REMINDER_DAY + timedelta(hours=5)) == 0  # the next run: already queued
    commit_and_deliver()  # (the factory's digest is due that week too: tests/test_factory_mail.py)
    [message] = smtp_server.to("eloise@example.org")
    assert message["Subject"] == f"Rappel : votre visite chez {slot.site.name} le samedi 20 mars 2027"
    text, html = text_body(message), html_body(message)
    assert "Votre visite approche : nous vous attendons le samedi 20 mars 2027 de" in text
    assert "Chaussures fermées" in text and "Chaussures fermées" in html
    assert "Je ne peux pas venir : libérer mes places" in html
    assert [p.get_content_type() for p in message.walk()].count("image/png") == 1  # the ticket's QR
    assert reminders_at(REMINDER_DAY + timedelta(days=1)) == 0
    assert len(smtp_server.to("eloise@example.org")) == 1

    # The link frees the seats: the cancel page, then its button.
    from flask import current_app

    client = current_app.test_client()
    cancel = link_path(message, "/annuler")
    assert client.get(cancel).status_code == 200
    client.post(cancel)
    db.session.refresh(booking)
    assert booking.status == "cancelled"


def test_no_reminder_for_who_needs_none(db_session, smtp_server):
    _, cancelled = visit()
    services.cancel_booking(cancelled)
    _, erased = visit(anonymised_at=utcnow(), name="", email="")
    _, late = visit()
    late.created_at = REMINDER_DAY + timedelta(hours=1)  # booked after the reminder day: just got its ticket
    _, on_time = visit()
    db.session.flush()
    assert reminders_at(REMINDER_DAY + timedelta(hours=2)) == 1
    [(key,)] = db.session.execute(select(OutgoingMail.dedup_key).where(OutgoingMail.template == REMINDER))
    assert key == f"{REMINDER}:{on_time.id}"
    assert reminders_at(VISIT_STARTS) == 0  # the visit has begun: too late to remind


def test_two_runs_at_once_queue_one_reminder(app, committed_db):
    _, booking = visit()
    db.session.commit()

    def run(_i: int) -> int:
        with app.app_context():
            queued = reminders_at(REMINDER_DAY)
            db.session.commit()
            return queued

    assert sorted(race(4, run)) == [0, 0, 0, 1]
    keyed = select(func.count()).where(OutgoingMail.dedup_key == f"{REMINDER}:{booking.id}")
    assert db.session.scalar(keyed) == 1


def test_the_command_sends_what_a_given_day_is_due(app, db_session, smtp_server):
    visit()
    runner = app.test_cli_runner()
    status = runner.invoke(args=["mail", "status"])
    assert "Rappels de visite : 0 à envoyer maintenant" in status.output
    early = runner.invoke(args=["messages", "send-due", "--now", "2027-03-17T23:59+01:00"])
    assert early.exit_code == 0 and "Rappels de visite : 0 mis en file" in early.output
    due = runner.invoke(args=["messages", "send-due", "--now", "2027-03-19T09:00+01:00"])
    assert due.exit_code == 0 and "Rappels de visite : 1 mis en file" in due.output, due.output
    again = runner.invoke(args=["messages", "send-due", "--now", "2027-03-19T09:00+01:00"])
    assert "Rappels de visite : 0 mis en file" in again.output
    assert (
        len(smtp_server.to("eloise@example.org")) == 1
        and db.session.scalar(select(func.count(Booking.id))) == 1
    )
    bad = runner.invoke(args=["messages", "send-due", "--now", "mardi"])
    assert bad.exit_code != 0 and "--now" in bad.output
