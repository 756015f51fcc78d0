"""E-mails to the factories, received by a real SMTP server: their site approved or refused (with the
reason and the way back), the digest of their bookings a week before the edition, the reminder to confirm
their attendance every few days after it until they do; and a factory's message to its bookers answers
to the factory's contact."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from core import schedule
from core.auth.models import Role
from core.mail import commit_and_deliver
from jou import services
from jou.bookings.notify import queue_slot_message
from jou.checkin.attendance import confirm_attendance
from jou.notify import ATTENDANCE, DIGEST
from tests.factories import make_edition, make_site, make_user
from tests.plugins.jou import enrolled, make_booking, public_slot_of, school_class
from tests.plugins.mail import text_body


def delivered(smtp_server) -> dict[str, list]:  # noqa: ANN001
    commit_and_deliver()
    by_address: dict[str, list] = {}
    for envelope, message in zip(smtp_server.envelopes, smtp_server.messages, strict=True):
        for address in envelope.rcpt_tos:
            by_address.setdefault(address, []).append(message)
    smtp_server.clear()
    return by_address


def at(day, hour: int = 9) -> datetime:  # noqa: ANN001 - 09:00 in Paris (UTC+1 in winter and March)
    return datetime.combine(day, time(hour - 1), tzinfo=UTC)


def test_approval_and_refusal_reach_the_owner_and_the_contact(db_session, smtp_server):
    admin = make_user(Role.ADMIN)
    owner = make_user(Role.FACTORY, email="usine@example.org")
    site = make_site(owner, status="submitted")
    services.reject_site(admin, site, "Ajoutez un parcours dans les ateliers.")
    mails = delivered(smtp_server)
    assert set(mails) == {"usine@example.org", "camille.martin@example.org"}
    [refused] = mails["usine@example.org"]
    assert refused["Subject"] == f"Votre site {site.name} n'est pas publié : à revoir"
    assert "Ajoutez un parcours dans les ateliers." in text_body(refused)
    assert f"/mes-sites/{site.id}/modifier" in text_body(refused)

    services.submit_site(owner, site)
    services.approve_site(admin, site)
    [published] = delivered(smtp_server)["camille.martin@example.org"]
    assert published["Subject"] == f"Votre site {site.name} est publié"
    assert f"/usines/{site.id}" in text_body(published) and f"/mes-sites/{site.id}/reservations" in text_body(
        published
    )


def test_the_digest_a_week_before_lists_bookings_and_classes_once(db_session, smtp_server):
    edition = make_edition(2027)
    site = make_site(edition=edition, status="approved")
    public = public_slot_of(site)
    make_booking(public, party_size=3)
    school_slot = next(s for s in site.slots if s.audience == "schools")
    klass = school_class(level="3e")
    make_booking(school_slot, kind="school", party_size=26, female=12, male=11, unspecified=1, adults=2,
                 uai=klass["uai"], level="3e")  # fmt: skip
    week_before = edition.friday - timedelta(days=7)
    assert schedule.send_due(at(week_before - timedelta(days=1)))[DIGEST] == 0
    assert schedule.send_due(at(week_before))[DIGEST] == 2  # the owner and the contact
    assert schedule.send_due(at(week_before + timedelta(days=2)))[DIGEST] == 0
    [digest] = delivered(smtp_server)["camille.martin@example.org"]
    text = text_body(digest)
    assert "1 réservation, 3 places sur" in text
    assert f"Établissement {enrolled()}, Troisième : 24 élèves, 2 accompagnateurs" in text


def test_attendance_reminders_every_few_days_until_confirmed(db_session, smtp_server):
    edition = make_edition(2026, friday=datetime(2026, 3, 20).date())
    site = make_site(edition=edition, status="approved")
    day_after = edition.saturday + timedelta(days=1)
    assert schedule.send_due(at(edition.saturday))[ATTENDANCE] == 0  # the edition is not over
    assert schedule.send_due(at(day_after))[ATTENDANCE] == 2
    assert schedule.send_due(at(day_after + timedelta(days=2)))[ATTENDANCE] == 0  # same round
    [reminder] = delivered(smtp_server)["camille.martin@example.org"]
    assert "Il reste à confirmer la fréquentation de 2 créneaux" in text_body(reminder)
    assert f"/mes-sites/{site.id}/frequentation" in text_body(reminder)
    assert schedule.send_due(at(day_after + timedelta(days=3)))[ATTENDANCE] == 2  # the next round

    for slot in site.slots:
        confirm_attendance(site.owner, slot, {"female": 5, "male": 4}, now=at(day_after))
    assert delivered(smtp_server) == {}  # the queued round became pointless: dropped
    assert schedule.send_due(at(day_after + timedelta(days=6)))[ATTENDANCE] == 0
    assert schedule.send_due(at(day_after + timedelta(days=40)))[ATTENDANCE] == 0


def test_a_factorys_message_answers_to_its_contact(db_session, smtp_server):
    slot = public_slot_of(make_site(status="approved"))
    make_booking(slot, email="alice@example.org")
    queue_slot_message(slot, "Parking", "Garez-vous rue des Forges.")
    [message] = delivered(smtp_server)["alice@example.org"]
    assert message["Reply-To"] == "Camille Martin <camille.martin@example.org>"
    assert "répondez simplement à cet e-mail" in text_body(message)
    assert "ne pas y répondre" not in message.as_string()
