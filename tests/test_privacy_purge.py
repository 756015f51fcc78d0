"""`flask privacy purge --edition YEAR`: a past edition's visitors are anonymised, every statistic stays
identical, nothing personal is left in any table, a current edition is refused, a dry run changes
nothing, and a second run finds nothing to do."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from core.extensions import db
from core.mail import OutgoingMail
from jou.bookings import notify, services, tokens
from jou.bookings.models import Booking, WaitlistEntry
from jou.checkin import attendance as gate_counts
from jou.checkin import services as checkin_services
from jou.checkin import walk_ins
from jou.checkin.models import CheckIn
from jou.models import Slot
from stats.queries import compute
from tests.factories import make_edition, make_site, make_user, slot_data
from tests.plugins.jou import enrolled, holds, string_values

YEAR = 2024
BOOKED_ON = datetime(2024, 2, 1, 10, tzinfo=UTC)
VISITORS = {  # name → e-mail: every one must vanish
    "Zoé Purgeable": "zoe.purgeable@example.org",
    "Yann Annulé": "yann.annule@example.org",
    "Xavier Attente": "xavier.attente@example.org",
    "Mme Professeure Unique": "prof.unique@example.org",
}
PHONE = "+33699887766"
BREAKDOWNS = ([], ["region"], ["day"], ["site"], ["audience"], ["region", "day"])


def party(name: str, n: int, female: int = 0, male: int = 0) -> dict:
    return {"party_size": n, "female": female, "male": male, "name": name, "email": VISITORS[name],
            "phone": PHONE, "consent": True}  # fmt: skip


def past_edition_world() -> dict:
    """Two sites of the 2024 edition (Paris, Lyon) with bookings, a cancelled one, a waiting party, a school
    class, check-ins, a walk-in, an attendance report and the e-mails sent to the visitors."""
    edition = make_edition(YEAR)
    steward = make_user("factory")
    paris = make_site(
        edition=edition,
        status="approved",
        slots=[
            slot_data(day=edition.saturday, audience="public", capacity=4),
            slot_data(day=edition.friday, audience="schools", capacity=40),
        ],
    )
    lyon = make_site(
        edition=edition,
        status="approved",
        street="1 place Bellecour",
        postcode="69002",
        city="Lyon",
        slots=[slot_data(day=edition.saturday, audience="public", capacity=6, start=time(14), end=time(16))],
    )
    public = next(s for s in paris.slots if s.audience == "public")
    school = next(s for s in paris.slots if s.audience == "schools")
    lyon_slot = lyon.slots[0]

    zoe = services.book(public.id, party("Zoé Purgeable", 4, female=2, male=1), now=BOOKED_ON)
    notify.queue_confirmation(zoe)
    services.join_waitlist(public.id, party("Xavier Attente", 2, male=2), now=BOOKED_ON)
    yann = services.book(lyon_slot.id, party("Yann Annulé", 2, female=1), now=BOOKED_ON)
    services.cancel_booking(yann, now=BOOKED_ON)
    notify.queue_cancellation(yann)
    services.book(lyon_slot.id, party("Zoé Purgeable", 3, female=1, male=2), now=BOOKED_ON)
    klass = services.book(
        school.id,
        {"uai": enrolled(), "level": "4e", "female": 12, "male": 11, "unspecified": 1, "adults": 2,
         "name": "Mme Professeure Unique", "email": VISITORS["Mme Professeure Unique"], "consent": True},
        now=BOOKED_ON,
    )  # fmt: skip

    on_the_day = datetime.combine(edition.saturday, time(9, 10), tzinfo=UTC)
    checkin_services.check_in(steward, public, tokens.ticket_token(zoe), admitted=3, now=on_the_day)
    checkin_services.check_in(
        steward, school, tokens.ticket_token(klass), now=datetime.combine(edition.friday, time(9), tzinfo=UTC)
    )
    walk_ins.admit_walk_in(steward, lyon_slot, {"female": 1, "male": 1}, now=on_the_day)
    gate_counts.confirm_attendance(steward, school, {"female": 12, "male": 10, "unspecified": 3})

    mails = db.session.scalars(select(OutgoingMail)).all()
    for mail in mails:
        mail.created_at = BOOKED_ON
    mails[0].sent_at = BOOKED_ON  # one sent (scrubbed, kept), the others still queued (deleted)
    db.session.flush()
    return {"edition": edition, "slots": [public, school, lyon_slot], "sites": [paris, lyon]}


@pytest.fixture
def world(app, db_session):
    world = past_edition_world()
    # Into the outer test transaction: the command's own commit and rollback must not undo the set-up.
    db.session.commit()
    return world


def purge(app, *args: str):
    return app.test_cli_runner().invoke(args=["privacy", "purge", *args])


def statistics(world: dict) -> dict:
    """Every figure that the edition's data feeds: the statistics layer on several breakdowns and both
    measures, the attendance per slot and site, seats, and the rows' counts."""
    figures: dict = {}
    for by in BREAKDOWNS:
        for measure in ("booked", "attended"):
            result = compute("jou", by=by, filters={"edition": YEAR}, measure=measure)
            figures[f"{'+'.join(by) or 'total'}/{measure}"] = result.to_dict()
    for slot in world["slots"]:
        att = gate_counts.slot_attendance(slot)
        figures[f"slot {slot.id}"] = (att.female, att.male, att.unspecified, att.booked, att.checked_in,
                                      att.walk_ins, att.final, att.no_show_rate)  # fmt: skip
        figures[f"seats {slot.id}"] = db.session.scalar(select(Slot.seats_taken).where(Slot.id == slot.id))
    for site in world["sites"]:
        _, total, final = gate_counts.site_attendance(site)
        figures[f"site {site.id}"] = (total.booked, total.checked_in, total.walk_ins, final)
    figures["bookings"] = [
        tuple(row)
        for row in db.session.execute(
            select(Booking.id, Booking.slot_id, Booking.kind, Booking.status, Booking.party_size, Booking.female,
                   Booking.male, Booking.unspecified, Booking.adults, Booking.uai, Booking.level,
                   Booking.created_at, Booking.cancelled_at).order_by(Booking.id)
        )
    ]  # fmt: skip
    figures["waitlist"] = [
        tuple(row)
        for row in db.session.execute(
            select(WaitlistEntry.slot_id, WaitlistEntry.status, WaitlistEntry.party_size, WaitlistEntry.female,
                   WaitlistEntry.male).order_by(WaitlistEntry.id)
        )
    ]  # fmt: skip
    figures["checkins"] = [
        tuple(row)
        for row in db.session.execute(select(CheckIn.booking_id, CheckIn.admitted).order_by(CheckIn.id))
    ]
    return figures


def every_value() -> list[str]:
    """Every value of every table of the database, as text."""
    return string_values(*db.metadata.sorted_tables)


def test_the_purge_keeps_every_statistic_and_leaves_nothing_personal(app, world):
    before = statistics(world)
    assert before["total/booked"]["totals"]["total"] == 4 + 3 + 26  # Yann's cancelled party is not counted
    assert holds(every_value(), *VISITORS, *VISITORS.values(), PHONE)  # the scan does find them

    result = purge(app, "--edition", str(YEAR))
    assert result.exit_code == 0, result.output
    assert "Édition 2024 : 4 réservations, 1 inscription en liste d'attente et 3 courriels anonymisés." in (
        result.output
    )

    db.session.expire_all()
    assert statistics(world) == before
    assert holds(every_value(), *VISITORS, *VISITORS.values(), PHONE) == []
    # The sent message keeps its row (subject, dates), the unsent ones are gone.
    [kept] = db.session.scalars(select(OutgoingMail)).all()
    assert (kept.to_address, kept.message, kept.sent_at is not None) == ("", b"", True)


def test_a_second_run_finds_nothing_to_do(app, world):
    assert purge(app, "--edition", str(YEAR)).exit_code == 0
    db.session.expire_all()
    first = statistics(world)
    again = purge(app, "--edition", str(YEAR))
    assert again.exit_code == 0
    assert "0 réservation, 0 inscription en liste d'attente et 0 courriel" in again.output
    db.session.expire_all()
    assert statistics(world) == first


def test_a_dry_run_counts_and_changes_nothing(app, world):
    values = every_value()
    result = purge(app, "--edition", str(YEAR), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Simulation : rien n'a été modifié." in result.output
    assert "4 réservations, 1 inscription en liste d'attente et 3 courriels seraient anonymisés" in (
        result.output
    )
    db.session.expire_all()
    assert every_value() == values


def test_a_current_or_future_edition_is_refused(app, db_session):
    make_edition(2027)  # its Saturday is in March 2027
    db.session.commit()
    result = purge(app, "--edition", "2027")
    assert result.exit_code == 1
    assert "L'édition 2027 n'est pas terminée" in result.output
    assert purge(app, "--edition", "1999").exit_code == 1  # unknown edition: a message, not a traceback


def test_mails_about_another_edition_are_kept(app, world):
    """The same visitor booked the next edition too: its messages (written after that edition's bookings
    opened) stay, the 2024 ones go."""
    later = make_edition(2025)
    mail = db.session.get(
        OutgoingMail,
        notify.queue_cancellation(db.session.scalars(select(Booking).order_by(Booking.id)).first()),
    )
    mail.created_at = datetime(2025, 2, 1, tzinfo=UTC)
    db.session.commit()
    assert later.booking_opens < mail.created_at.date()
    assert purge(app, "--edition", str(YEAR)).exit_code == 0
    db.session.expire_all()
    assert db.session.get(OutgoingMail, mail.id).to_address == VISITORS["Zoé Purgeable"]


def test_the_purge_is_in_the_audit_log(app, world):
    from core.audit import AuditEvent

    purge(app, "--edition", str(YEAR))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "edition.purge"))
    assert event.entity_id == world["edition"].id and event.actor_label == "ligne de commande"
    assert event.changes == {"bookings": 4, "waitlist_entries": 1, "emails": 3}
