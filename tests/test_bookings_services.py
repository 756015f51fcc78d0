"""Booking rules: seats, party limits, windows, per-email limits, idempotency, waiting list, tokens."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, inspect, select

from core.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from core.identifiers import UAI_LETTERS
from core.schools import SchoolKind
from jou.bookings import services, tokens
from jou.bookings.models import (
    LEVELS_BY_KIND,
    SCHOOL_LEVELS,
    Booking,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from jou.services import paris_today
from tests.factories import make_site, slot_data
from tests.plugins.jou import UAI, open_edition, party, public_slot, school_class, seats_taken, slots_of
from tests.plugins.pmi import make_school

# ---- public booking ----------------------------------------------------------------------------------


def test_public_booking_takes_seats_and_defaults_to_unspecified(db_session):
    slot = public_slot(capacity=5)
    booking = services.book(slot.id, party(3, female=1))
    assert booking.id and booking.status == BookingStatus.CONFIRMED and booking.kind == "public"
    assert (booking.female, booking.male, booking.unspecified, booking.adults) == (1, 0, 2, 0)
    assert seats_taken(slot) == 3
    assert slot.seats_left == 2


def test_school_booking_counts_pupils_and_adults(db_session):
    _, slot = slots_of(capacity=40)
    booking = services.book(slot.id, school_class(uai="0750001u"))
    assert booking.kind == "school" and booking.uai == UAI and booking.level == "4e"
    assert booking.party_size == 26 and booking.pupils == 24
    assert seats_taken(slot) == 26


def test_full_slot_is_refused_with_complet(db_session):
    slot = public_slot(capacity=5)
    services.book(slot.id, party(4))
    with pytest.raises(Conflict) as exc:
        services.book(slot.id, party(2, email="bob@example.org"))
    assert exc.value.code == "slot_full" and "complet" in exc.value.message
    assert seats_taken(slot) == 4
    assert db_session.scalar(select(func.count(Booking.id))) == 1


def test_a_refused_booking_leaves_no_event_and_no_mail(db_session):
    from core.audit import AuditEvent
    from core.mail import OutgoingMail

    slot = public_slot(capacity=5)
    services.book(slot.id, party(4), send_confirmation=True)
    counts = [select(func.count()).select_from(model) for model in (Booking, AuditEvent, OutgoingMail)]
    before = [db_session.scalar(count) for count in counts]
    with pytest.raises(Conflict):
        services.book(slot.id, party(2, email="bob@example.org"), send_confirmation=True)
    assert [db_session.scalar(count) for count in counts] == before
    assert before[0] == 1


def test_a_new_booking_needs_no_read_to_be_answered(db_session):
    """book() inserts the row and attaches the object with every column and its slot (no ORM flush)."""
    slot = public_slot(capacity=5)
    booking = services.book(slot.id, party(2))
    assert not inspect(booking).unloaded and booking.slot is slot
    assert db_session.get(Booking, booking.id) is booking


@pytest.mark.parametrize("size", [0, 7])
def test_party_size_within_the_editions_limit(db_session, size):
    slot = public_slot(capacity=50)
    with pytest.raises(ValidationFailed) as exc:
        services.book(slot.id, party(size))
    assert "party_size" in exc.value.fields
    assert seats_taken(slot) == 0


def test_party_limit_is_set_per_edition(db_session):
    slot = slots_of(open_edition(max_party_size=10), capacity=50)[0]
    assert services.book(slot.id, party(10)).party_size == 10


def test_consent_and_acknowledgements_required(db_session):
    slot = public_slot(capacity=5, min_age=12, protective_equipment="Chaussures de sécurité fournies")
    with pytest.raises(ValidationFailed) as exc:
        services.book(slot.id, party(2, consent=False))
    assert set(exc.value.fields) == {"consent", "ack_min_age", "ack_equipment"}
    assert services.book(slot.id, party(2, ack_min_age=True, ack_equipment=True)).party_size == 2


def test_invalid_uai_and_level(db_session):
    _, slot = slots_of(capacity=40)
    with pytest.raises(ValidationFailed) as exc:
        services.book(slot.id, school_class(uai="0750001A", level="Master"))
    assert set(exc.value.fields) == {"uai", "level"}


def test_a_class_books_only_for_an_open_school_of_the_directory(db_session):
    _, slot = slots_of(capacity=200)
    nowhere = "0750002" + UAI_LETTERS[750002 % 23]  # passes the checksum, in no directory
    closed = make_school(kind="college", open=False, name="Collège Fermé")
    lycee = make_school(kind="lycee_gt", name="Lycée Voltaire")
    refusals = {
        nowhere: ("uai", "pas dans l'annuaire"),
        closed.uai: ("uai", "Collège Fermé est fermé"),
        lycee.uai: ("level", "Lycée Voltaire (lycée général et technologique) n'a pas de classe de niveau « Quatrième »"),
    }  # fmt: skip
    for uai, (field, message) in refusals.items():
        with pytest.raises(ValidationFailed) as exc:
            services.book(slot.id, school_class(uai=uai, level="4e"))
        assert set(exc.value.fields) == {field} and message in exc.value.fields[field][0], exc.value.fields
    assert seats_taken(slot) == 0
    booking = services.book(slot.id, school_class(uai=lycee.uai, level="2nde"))
    assert (booking.uai, booking.level) == (lycee.uai, "2nde")


def test_every_kind_of_school_teaches_some_level_and_every_level_is_taught_somewhere():
    for kind in SchoolKind:
        assert LEVELS_BY_KIND[kind] and set(LEVELS_BY_KIND[kind]) <= set(SCHOOL_LEVELS)
    assert set().union(*(LEVELS_BY_KIND[k] for k in SchoolKind if k != SchoolKind.OTHER)) == set(
        SCHOOL_LEVELS
    )


def test_unpublished_site_slot_does_not_exist(db_session):
    slot = slots_of(status="submitted")[0]
    with pytest.raises(NotFound):
        services.book(slot.id, party())
    with pytest.raises(NotFound):
        services.book(987654, party())


def test_booking_window(db_session):
    today = paris_today()
    slot = slots_of(open_edition(booking_opens=today + timedelta(days=2)))[0]
    with pytest.raises(Conflict) as exc:
        services.book(slot.id, party())
    assert exc.value.code == "booking_closed" and "ouvriront" in exc.value.message
    slot2 = slots_of(
        open_edition(2041, booking_opens=today - timedelta(days=9), booking_closes=today - timedelta(days=1))
    )[0]
    with pytest.raises(Conflict, match="closes"):
        services.book(slot2.id, party())


def test_past_slot_cannot_be_booked(db_session):
    slot = public_slot()
    after_start = datetime.combine(slot.day, time(12, 0), tzinfo=UTC)
    with pytest.raises(Conflict) as exc:
        services.book(slot.id, party(), now=after_start)
    assert exc.value.code in {"slot_past", "booking_closed"}
    # Within the window (booking closes on Friday) but after the start time on the day itself:
    slot.site.edition.booking_closes = slot.day
    with pytest.raises(Conflict) as exc:
        services.book(slot.id, party(), now=after_start)
    assert exc.value.code == "slot_past"


def test_per_email_limit_and_overlap(db_session):
    edition = open_edition(max_bookings_per_email=2)
    times = [(time(9), time(10)), (time(11), time(12)), (time(14), time(15))]
    site = make_site(
        edition=edition,
        status="approved",
        slots=[slot_data(day=edition.saturday, audience="public", start=s, end=e) for s, e in times],
    )
    other = make_site(edition=edition, status="approved", slots=[
        slot_data(day=edition.saturday, audience="public", start=time(9, 30), end=time(10, 30))
    ])  # fmt: skip
    first, second, third = site.slots
    services.book(first.id, party(email="Alice@Example.org"))
    with pytest.raises(Conflict) as exc:
        services.book(other.slots[0].id, party())
    assert exc.value.code == "overlapping_booking" and "chevauche" in exc.value.message
    services.book(second.id, party())
    with pytest.raises(Conflict) as exc:
        services.book(third.id, party())
    assert exc.value.code == "booking_limit" and "email" in exc.value.fields
    assert services.book(third.id, party(email="bob@example.org")).is_confirmed


def test_idempotency_key_returns_the_same_booking(db_session):
    slot = public_slot(capacity=5)
    first = services.book(slot.id, party(2), idempotency_key="form-123")
    again = services.book(slot.id, party(2), idempotency_key="form-123")
    assert again.id == first.id and again.replayed and not first.replayed or again is first
    assert seats_taken(slot) == 2
    assert db_session.scalar(select(func.count(Booking.id))) == 1
    other = public_slot()
    with pytest.raises(services.IdempotencyKeyReused):
        services.book(other.id, party(2), idempotency_key="form-123")


def test_idempotency_constraint_catches_a_concurrent_twin(db_session, monkeypatch):
    """The twin that did not see the first booking loses on the UNIQUE constraint and gets it back."""
    slot = public_slot(capacity=5)
    first = services.book(slot.id, party(2), idempotency_key="twin")
    first_id = first.id
    db_session.commit()  # the first twin's transaction ends; the second one is undone whole
    db_session.expunge(first)
    monkeypatch.setattr(services, "booking_for_key", _miss_once(services.booking_for_key))
    monkeypatch.setattr(services, "_check_email", lambda *a, **kw: None)
    again = services.book(slot.id, party(2), idempotency_key="twin")
    assert again.id == first_id
    assert seats_taken(slot) == 2


def _miss_once(real):  # noqa: ANN001, ANN202
    calls = {"n": 0}

    def lookup(key: str):  # noqa: ANN202
        calls["n"] += 1
        return None if calls["n"] == 1 else real(key)

    return lookup


# ---- change and cancel -------------------------------------------------------------------------------


def test_change_party_by_the_delta(db_session):
    slot = public_slot(capacity=5)
    booking = services.book(slot.id, party(2))
    services.book(slot.id, party(1, email="bob@example.org"))
    services.change_party(booking, {"party_size": 4})
    assert seats_taken(slot) == 5 and booking.unspecified == 4
    with pytest.raises(Conflict) as exc:
        services.change_party(booking, {"party_size": 5})
    assert exc.value.code == "slot_full"
    services.change_party(booking, {"party_size": 1})
    assert seats_taken(slot) == 2 and booking.party_size == 1


def test_a_new_party_size_keeps_the_women_men_breakdown(db_session):
    slot = public_slot(capacity=10)
    booking = services.book(slot.id, party(4, female=2, male=1))
    services.change_party(booking, {"party_size": 5})
    assert (booking.female, booking.male, booking.unspecified) == (2, 1, 2)
    services.change_party(booking, {"female": 3})
    assert (booking.female, booking.male, booking.unspecified) == (3, 1, 1)
    with pytest.raises(ValidationFailed):  # 3 women + 1 man do not fit in 2: say who comes
        services.change_party(booking, {"party_size": 2})
    services.change_party(booking, {"party_size": 2, "female": 1, "male": 1})
    assert (booking.party_size, booking.female, booking.male, booking.unspecified) == (2, 1, 1, 0)


def test_change_school_headcount(db_session):
    _, slot = slots_of(capacity=40)
    booking = services.book(slot.id, school_class())
    services.change_party(booking, {"female": 14, "adults": 3})
    assert booking.party_size == 14 + 11 + 1 + 3 == seats_taken(slot)


def test_cancel_frees_seats_at_once(db_session):
    slot = public_slot(capacity=5)
    booking = services.book(slot.id, party(5))
    services.cancel_booking(booking)
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_at
    assert seats_taken(slot) == 0
    with pytest.raises(Conflict):
        services.cancel_booking(booking)
    with pytest.raises(Conflict):
        services.change_party(booking, {"party_size": 1})
    assert services.bookings_of_slot(slot.id) == []


# ---- waiting list ------------------------------------------------------------------------------------


def test_waitlist_only_when_full(db_session):
    slot = public_slot(capacity=5)
    with pytest.raises(Conflict) as exc:
        services.join_waitlist(slot.id, party(2))
    assert exc.value.code == "seats_available" and "réservez" in exc.value.message
    services.book(slot.id, party(4, email="first@example.org"))
    entry = services.join_waitlist(slot.id, party(2))
    assert entry.status == WaitlistStatus.WAITING and entry.unspecified == 2
    with pytest.raises(Conflict):
        services.join_waitlist(slot.id, party(2))


def test_waitlist_offers_in_order_and_big_parties_keep_their_place(db_session):
    slot = public_slot(capacity=5)
    holder = services.book(slot.id, party(3, email="holder@example.org"))
    other = services.book(slot.id, party(2, email="other@example.org"))
    big = services.join_waitlist(slot.id, party(4, email="big@example.org"))
    small = services.join_waitlist(slot.id, party(2, email="small@example.org"))
    tiny = services.join_waitlist(slot.id, party(1, email="tiny@example.org"))

    services.cancel_booking(holder)  # 3 seats free: big (4) does not fit, small (2) and tiny (1) do
    assert big.status == WaitlistStatus.WAITING
    assert small.status == tiny.status == WaitlistStatus.OFFERED  # seats held, not booked yet
    assert seats_taken(slot) == 5
    from core.mail import OutgoingMail

    def queued(template: str) -> list[str]:
        return list(
            db_session.scalars(select(OutgoingMail.to_address).where(OutgoingMail.template == template))
        )

    assert queued("waitlist_offer") == ["small@example.org", "tiny@example.org"]
    for entry in (small, tiny):
        services.accept_offer(entry)
    assert small.status == tiny.status == WaitlistStatus.PROMOTED and seats_taken(slot) == 5
    assert [b.email for b in services.bookings_of_slot(slot.id)] == [
        "other@example.org", "small@example.org", "tiny@example.org"
    ]  # fmt: skip
    assert queued("booking_promotion") == ["small@example.org", "tiny@example.org"]

    services.cancel_booking(other)  # 2 free: big still waits, first in line
    assert big.status == WaitlistStatus.WAITING and seats_taken(slot) == 3
    services.change_party(db_session.get(Booking, small.booking_id), {"party_size": 1})  # 3 free
    assert big.status == WaitlistStatus.WAITING and seats_taken(slot) == 2
    services.cancel_booking(db_session.get(Booking, tiny.booking_id))  # 4 free
    assert big.status == WaitlistStatus.OFFERED and seats_taken(slot) == 5
    assert services.accept_offer(big).party_size == 4 and big.status == WaitlistStatus.PROMOTED


def test_waitlist_never_promotes_beyond_capacity(db_session):
    slot = public_slot(capacity=3)
    booking = services.book(slot.id, party(3))
    for i in range(4):
        services.join_waitlist(slot.id, party(1, email=f"w{i}@example.org"))
    services.cancel_booking(booking)
    assert seats_taken(slot) == 3  # three offers hold the three seats
    waiting = db_session.scalars(select(WaitlistEntry).where(WaitlistEntry.status == "waiting")).all()
    assert len(waiting) == 1


# ---- tokens ------------------------------------------------------------------------------------------


def _tamper(token: str) -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    out = []
    for i, char in enumerate(token):
        if char == ".":
            continue
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        out.append(token[:i] + replacement + token[i + 1 :])
    return out


def test_tokens_round_trip_and_any_altered_character_fails(db_session):
    slot = public_slot()
    booking = services.book(slot.id, party())
    ticket, manage = tokens.ticket_token(booking), tokens.manage_token(booking)
    assert len(ticket) < 40 and ticket != manage
    assert tokens.booking_from_ticket(ticket) is booking
    assert tokens.booking_from_manage_token(manage) is booking
    for bad in _tamper(ticket):
        with pytest.raises(Unauthorized) as exc:
            tokens.booking_from_ticket(bad)
        assert exc.value.code == "invalid_ticket"
    for bad in _tamper(manage):
        with pytest.raises(Unauthorized) as exc:
            tokens.booking_from_manage_token(bad)
        assert exc.value.code == "invalid_link"
    # A ticket does not open the manage page, nor the reverse.
    with pytest.raises(Unauthorized):
        tokens.booking_from_manage_token(ticket)
    with pytest.raises(Unauthorized):
        tokens.booking_from_ticket(manage)


def test_token_of_a_deleted_booking_is_not_found(db_session):
    slot = public_slot()
    booking = services.book(slot.id, party())
    token = tokens.ticket_token(booking)
    db_session.delete(booking)
    db_session.flush()
    with pytest.raises(NotFound):
        tokens.booking_from_ticket(token)


def test_a_slot_with_a_cancelled_booking_is_kept_when_the_factory_drops_it(db_session):
    """Its bookings stay for the statistics and the audit: a clear refusal, never a database error."""
    from jou import services as site_services
    from jou.models import Site

    slot = public_slot(capacity=5)
    booking = services.book(slot.id, party(2))
    services.cancel_booking(booking)
    site = db_session.get(Site, slot.site_id)
    owner = site.owner
    others = [s for s in site.slots if s.id != slot.id]
    payload = [{"id": s.id, "day": s.day, "start": s.start, "end": s.end, "audience": s.audience,
                "capacity": s.capacity} for s in others]  # fmt: skip
    with pytest.raises(Conflict) as exc:
        site_services.update_site(owner, site, {"slots": payload})
    assert "historique" in exc.value.message
    assert db_session.get(Booking, booking.id) is not None


def test_an_overseas_slot_is_judged_on_its_own_clock(db_session):
    """9:00 in Guadeloupe is 13:00 UTC: at 12:00 UTC the visit has not started there (it has in Paris)."""
    edition = open_edition()
    edition.booking_closes = edition.saturday
    public = slot_data(day=edition.saturday, audience="public", start=time(9, 0), end=time(11, 0))
    school = slot_data(day=edition.friday, audience="schools")
    site = make_site(edition=edition, status="approved", slots=[school, public],
                     postcode="97110", city="Pointe-à-Pitre")  # fmt: skip
    slot = next(s for s in site.slots if s.audience == "public")
    noon_utc = datetime.combine(edition.saturday, time(12, 0), tzinfo=UTC)
    booking = services.book(slot.id, party(2), now=noon_utc)
    assert booking.party_size == 2
    with pytest.raises(Conflict) as exc:  # 14:00 UTC = 10:00 in Guadeloupe: started
        services.book(slot.id, party(1, email="late@example.org"), now=noon_utc + timedelta(hours=2))
    assert exc.value.code == "slot_past"


def test_promotion_respects_the_per_email_rules(db_session):
    """Someone who booked an overlapping visit elsewhere since joining the list is not promoted."""
    slot = public_slot(capacity=2)
    holder = services.book(slot.id, party(2, email="holder@example.org"))
    waiting = services.join_waitlist(slot.id, party(1, email="busy@example.org"))
    # Same day and time at another factory of the edition: the waiting person books there meanwhile.
    elsewhere = make_site(edition=slot.site.edition, status="approved",
                          slots=[slot_data(day=slot.day, start=slot.start, end=slot.end, audience="public")])  # fmt: skip
    services.book(elsewhere.slots[0].id, party(1, email="busy@example.org"))
    services.cancel_booking(holder)
    assert waiting.status == WaitlistStatus.CANCELLED
    assert seats_taken(slot) == 0
