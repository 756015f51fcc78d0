"""Seat accounting under races, with real commits and threads, on SQLite and PostgreSQL.

Each test starts the same requests at once (a barrier), then recounts every slot from its bookings and
walk-ins (jou.integrity, what `flask doctor` runs) and checks no slot holds more than its capacity. The
pairs are the ones a black-box probe broke: double cancel, cancel vs erase, cancel vs change, parallel
grow and shrink, one address booking in parallel (limit and overlap), waiting-list promotion vs new
bookings, walk-ins vs bookings, a replayed walk-in key, and a capacity raise vs bookings.
"""

from __future__ import annotations

from collections import Counter
from datetime import time

import pytest
from sqlalchemy import func, select

from core.extensions import db
from jou import services as site_services
from jou.bookings import privacy, services, tokens
from jou.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from jou.checkin import walk_ins
from jou.checkin.models import WalkIn
from jou.integrity import seat_drifts
from jou.models import Slot
from tests.factories import api_token, make_site, slot_data
from tests.plugins.jou import open_edition, party, public_slot
from tests.plugins.races import race


def sound(*slot_ids: int) -> Slot:
    """The invariant after every race: counters equal the records, nothing beyond capacity."""
    db.session.remove()
    assert seat_drifts() == []
    for slot_id in slot_ids:
        slot = db.session.get(Slot, slot_id)
        assert slot.seats_taken + slot.walk_in_seats <= slot.capacity
    return db.session.get(Slot, slot_ids[0]) if slot_ids else None


def confirmed(slot_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Booking.party_size), 0)).where(
            Booking.slot_id == slot_id, Booking.status == BookingStatus.CONFIRMED
        )
    )


def codes(responses) -> Counter:  # noqa: ANN001
    return Counter((r.status_code, (r.get_json() or {}).get("error", {}).get("code")) for r in responses)


@pytest.fixture
def ten_seats(app, committed_db):
    """A 10-seat slot holding a party of 5 and five parties of 1 (the probe's set-up)."""
    slot = public_slot(capacity=10)
    five = services.book(slot.id, party(5, email="five@example.org"))
    for i in range(5):
        services.book(slot.id, party(1, email=f"one{i}@example.org"))
    committed_db.commit()
    return {"slot_id": slot.id, "five": five.id, "token": tokens.manage_token(five)}


def test_cancelling_twice_frees_the_seats_once(app, ten_seats):
    token = ten_seats["token"]
    answers = race(10, lambda i: app.test_client().delete(f"/api/v1/bookings/{token}"))
    assert codes(answers) == Counter({(200, None): 1, (409, "booking_cancelled"): 9})
    slot_id = ten_seats["slot_id"]
    slot = sound(slot_id)
    assert slot.seats_taken == 5 == confirmed(slot_id)
    # Then ten bookings of one: five seats are left, not ten.
    booked = race(
        10,
        lambda i: app.test_client().post(
            f"/api/v1/slots/{slot_id}/bookings", json=party(1, email=f"late{i}@example.org")
        ),
    )
    assert codes(booked) == Counter({(201, None): 5, (409, "slot_full"): 5})
    assert sound(slot.id).seats_taken == 10 == confirmed(slot.id)


def test_a_double_submit_of_the_cancel_form(app, ten_seats):
    token = ten_seats["token"]
    race(6, lambda i: app.test_client().post(f"/reservations/{token}/annuler"))
    slot = sound(ten_seats["slot_id"])
    assert slot.seats_taken == 5


def test_cancel_racing_an_erasure(app, ten_seats):
    token = ten_seats["token"]
    client = app.test_client

    def one(i: int):
        if i % 2:
            return client().delete(f"/api/v1/bookings/{token}")
        return client().delete(f"/api/v1/bookings/{token}/personal-data")

    answers = race(8, one)
    assert all(r.status_code in (200, 409, 410) for r in answers), codes(answers)
    slot = sound(ten_seats["slot_id"])
    assert slot.seats_taken == 5
    assert db.session.get(Booking, ten_seats["five"]).status == BookingStatus.CANCELLED


def test_cancel_racing_a_change_of_party(app, ten_seats):
    token = ten_seats["token"]

    def one(i: int):
        client = app.test_client()
        if i % 2:
            return client.delete(f"/api/v1/bookings/{token}")
        return client.patch(f"/api/v1/bookings/{token}", json={"party_size": 1 + i % 5})

    answers = race(10, one)
    assert all(r.status_code in (200, 409) for r in answers), codes(answers)
    sound(ten_seats["slot_id"])


def test_parallel_growths_add_up(app, committed_db):
    slot = public_slot(capacity=20)
    booking = services.book(slot.id, party(1))
    committed_db.commit()
    token = tokens.manage_token(booking)
    answers = race(10, lambda i: app.test_client().patch(f"/api/v1/bookings/{token}", json={"party_size": 3}))
    assert all(r.status_code == 200 for r in answers), codes(answers)
    slot = sound(slot.id)
    assert slot.seats_taken == 3 == db.session.get(Booking, booking.id).party_size


def test_parallel_growths_and_shrinks(app, committed_db):
    slot = public_slot(capacity=8)
    booking = services.book(slot.id, party(4))
    services.book(slot.id, party(2, email="other@example.org"))
    committed_db.commit()
    token = tokens.manage_token(booking)
    sizes = [1, 6, 2, 5, 1, 6, 3, 4, 1, 6, 2, 5]
    answers = race(
        len(sizes),
        lambda i: app.test_client().patch(f"/api/v1/bookings/{token}", json={"party_size": sizes[i]}),
    )
    assert all(r.status_code in (200, 409) for r in answers), codes(answers)
    slot = sound(slot.id)
    assert slot.seats_taken == 2 + db.session.get(Booking, booking.id).party_size


def test_one_address_in_parallel_keeps_the_limit_per_edition(app, committed_db):
    edition = open_edition(max_bookings_per_email=3)
    site = make_site(
        edition=edition,
        status="approved",
        slots=[
            slot_data(day=edition.saturday, audience="public", capacity=5, start=time(8 + i), end=time(9 + i))
            for i in range(6)
        ],
    )
    slot_ids = sorted(s.id for s in site.slots)
    committed_db.commit()
    answers = race(
        6,
        lambda i: app.test_client().post(
            f"/api/v1/slots/{slot_ids[i]}/bookings", json=party(1, email="same@example.org")
        ),
    )
    assert codes(answers) == Counter({(201, None): 3, (409, "booking_limit"): 3})
    sound(*slot_ids)
    # The refusal names the rule, never the other bookings' days or times.
    refused = next(r for r in answers if r.status_code == 409).get_json()["error"]["message"]
    assert "3 réservations" in refused and ":00" not in refused and "samedi" not in refused


def test_one_address_in_parallel_never_holds_overlapping_visits(app, committed_db):
    slot = public_slot(capacity=10)
    committed_db.commit()
    slot_id = slot.id
    answers = race(
        5,
        lambda i: app.test_client().post(
            f"/api/v1/slots/{slot_id}/bookings", json=party(1, email="same@example.org")
        ),
    )
    assert codes(answers) == Counter({(201, None): 1, (409, "overlapping_booking"): 4})
    refused = next(r for r in answers if r.status_code == 409).get_json()["error"]["message"]
    assert "chevauche" in refused and ":00" not in refused and "samedi" not in refused
    assert sound(slot_id).seats_taken == 1


def test_promotion_racing_new_bookings(app, committed_db):
    """A full slot, two parties waiting; its bookers cancel while newcomers try to book: the freed
    seats go to the waiting list first (each entry offered them once, the seats held), nothing is
    oversold; the offers accepted at once become bookings."""
    slot = public_slot(capacity=4)
    holders = [services.book(slot.id, party(1, email=f"h{i}@example.org")) for i in range(4)]
    waiting = [services.join_waitlist(slot.id, party(1, email=f"w{i}@example.org")) for i in range(2)]
    committed_db.commit()
    slot_id, waiting_ids = slot.id, [w.id for w in waiting]
    cancel_tokens = [tokens.manage_token(b) for b in holders[:2]]

    def one(i: int):
        client = app.test_client()
        if i < 2:
            return client.delete(f"/api/v1/bookings/{cancel_tokens[i]}")
        return client.post(f"/api/v1/slots/{slot_id}/bookings", json=party(1, email=f"new{i}@example.org"))

    answers = race(8, one)
    assert [r.status_code for r in answers[:2]] == [200, 200]
    slot = sound(slot.id)
    assert slot.seats_taken == 4
    offered = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.id.in_(waiting_ids))).all()
    statuses = Counter(e.status for e in offered)
    newcomers = sum(r.status_code == 201 for r in answers[2:])
    # Every freed seat went to a waiting party (the list goes first) or, once it was empty, a newcomer.
    assert statuses[WaitlistStatus.OFFERED] == 2 and newcomers == 0
    links = [tokens.waitlist_token(entry) for entry in offered]
    accepted = race(2, lambda i: app.test_client().post(f"/api/v1/waitlist/{links[i]}/accept"))
    assert [r.status_code for r in accepted] == [201, 201]
    assert sound(slot_id).seats_taken == 4
    bookings_from_list = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.email.in_(["w0@example.org", "w1@example.org"]))
    )
    assert bookings_from_list == 2


def test_leaving_the_waiting_list_racing_its_promotion(app, committed_db):
    slot = public_slot(capacity=2)
    holder = services.book(slot.id, party(2, email="holder@example.org"))
    entry = services.join_waitlist(slot.id, party(2, email="waiting@example.org"))
    committed_db.commit()
    holder_id, entry_id = holder.id, entry.id

    def one(i: int) -> None:
        with app.app_context():
            if i == 0:
                services.cancel_booking(db.session.get(Booking, holder_id))
            else:
                services.cancel_waitlist_entry(db.session.get(WaitlistEntry, entry_id))
            db.session.commit()

    race(2, one)
    slot = sound(slot.id)
    status = db.session.get(WaitlistEntry, entry_id).status
    # Offered then declined, or gone before the offer: the seats are held for it or free, never both.
    assert (status, slot.seats_taken) in ((WaitlistStatus.OFFERED, 2), (WaitlistStatus.CANCELLED, 0))


def test_walk_ins_and_bookings_share_the_last_seats(app, committed_db):
    slot = public_slot(capacity=10)
    services.book(slot.id, party(4, email="early@example.org"))
    owner_email, slot_id = slot.site.owner.email, slot.id
    committed_db.commit()
    auth = api_token(app.test_client(), owner_email)

    def one(i: int):
        client = app.test_client()
        if i % 2:
            return client.post(f"/api/v1/slots/{slot_id}/walk-ins", json={"female": 1}, headers=auth)
        return client.post(f"/api/v1/slots/{slot_id}/bookings", json=party(1, email=f"b{i}@example.org"))

    answers = race(16, one)
    assert all(r.status_code in (201, 409) for r in answers), codes(answers)
    assert sum(r.status_code == 201 for r in answers) == 6
    slot = sound(slot.id)
    assert slot.seats_taken + slot.walk_in_seats == 10
    # The public sees no seat left, and an online booking is refused.
    late = app.test_client().post(f"/api/v1/slots/{slot.id}/bookings", json=party(1, email="z@example.org"))
    assert late.status_code == 409


def test_a_walk_in_sent_twice_at_once_counts_once(app, committed_db):
    slot = public_slot(capacity=10)
    owner_email, slot_id = slot.site.owner.email, slot.id
    committed_db.commit()
    auth = api_token(app.test_client(), owner_email)
    body = {"female": 2, "client_key": "phone-1:entry-7"}
    answers = race(
        6, lambda i: app.test_client().post(f"/api/v1/slots/{slot_id}/walk-ins", json=body, headers=auth)
    )
    assert all(r.status_code == 201 for r in answers), codes(answers)
    assert len({r.get_json()["id"] for r in answers}) == 1
    assert sound(slot_id).walk_in_seats == 2
    assert db.session.scalar(select(func.count(WalkIn.id))) == 1


def test_raising_capacity_serves_the_waiting_list_while_others_book(app, committed_db):
    slot = public_slot(capacity=2)
    services.book(slot.id, party(2, email="holder@example.org"))
    entry = services.join_waitlist(slot.id, party(2, email="waiting@example.org"))
    site_id, owner_id, slot_id, entry_id = slot.site_id, slot.site.owner_id, slot.id, entry.id
    committed_db.commit()

    def one(i: int):
        if i == 0:
            with app.app_context():
                site = site_services.get_site(site_id)
                owner = db.session.get(type(site.owner), owner_id)
                slots = [
                    {
                        "id": s.id, "day": s.day, "start": s.start, "end": s.end, "audience": s.audience,
                        "capacity": 6 if s.id == slot_id else s.capacity,
                    }
                    for s in site.slots
                ]  # fmt: skip
                site_services.update_site(owner, site, {"slots": slots})
                db.session.commit()
            return None
        return app.test_client().post(
            f"/api/v1/slots/{slot_id}/bookings", json=party(1, email=f"n{i}@example.org")
        )

    answers = race(5, one)
    slot = sound(slot.id)
    # The new seats are seen by others only once the raise is committed, and the raise offered them to
    # the waiting party in its own transaction: the list always goes first.
    assert db.session.get(WaitlistEntry, entry_id).status == WaitlistStatus.OFFERED
    newcomers = sum(r.status_code == 201 for r in answers[1:])
    assert newcomers <= 2 and slot.seats_taken == 4 + newcomers


def test_raising_capacity_serves_the_waiting_list_first(app, db_session):
    slot = public_slot(capacity=2)
    services.book(slot.id, party(2, email="holder@example.org"))
    entry = services.join_waitlist(slot.id, party(2, email="waiting@example.org"))
    site = slot.site
    slots = [
        {"id": s.id, "day": s.day, "start": s.start, "end": s.end, "audience": s.audience,
         "capacity": 4 if s.id == slot.id else s.capacity}
        for s in site.slots
    ]  # fmt: skip
    site_services.update_site(site.owner, site, {"slots": slots})
    assert entry.status == WaitlistStatus.OFFERED
    assert sound_in_transaction(slot.id) == 4  # the offer holds its seats


def sound_in_transaction(slot_id: int) -> int:
    assert seat_drifts([slot_id]) == []
    return db.session.scalar(select(Slot.seats_taken).where(Slot.id == slot_id))


def test_doctor_reports_a_drift(app, db_session):
    slot = public_slot(capacity=10)
    services.book(slot.id, party(3))
    assert seat_drifts([slot.id]) == []
    db.session.execute(Slot.__table__.update().where(Slot.id == slot.id).values(seats_taken=0))
    [drift] = seat_drifts([slot.id])
    assert (drift.seats_taken, drift.booked) == (0, 3)
    assert "réservations confirmées 3" in drift.describe()


def test_the_doctor_command_on_a_sound_and_a_drifted_database(app, committed_db):
    slot = public_slot(capacity=10)
    services.book(slot.id, party(3))
    committed_db.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["doctor"])
    assert ok.exit_code == 0 and "aucun écart" in ok.output
    db.session.execute(Slot.__table__.update().where(Slot.id == slot.id).values(seats_taken=5))
    db.session.commit()
    bad = runner.invoke(args=["doctor"])
    assert bad.exit_code == 1 and f"Créneau {slot.id}" in bad.output and "1 écart" in bad.output


def test_an_erasure_keeps_the_counters_right(app, committed_db):
    """erase_person cancels every future booking of the address under its lock while a cancel of one of
    them arrives through its own link."""
    slot = public_slot(capacity=10)
    booking = services.book(slot.id, party(3, email="gone@example.org"))
    committed_db.commit()
    token, slot_id = tokens.manage_token(booking), slot.id

    def one(i: int):
        if i == 0:
            with app.app_context():
                done = privacy.erase_person("gone@example.org")
                db.session.commit()
                return done
        return app.test_client().delete(f"/api/v1/bookings/{token}")

    race(2, one)
    assert sound(slot_id).seats_taken == 0


def test_an_empty_client_key_is_no_key(app, db_session):
    """Found by bench/fuzz.py: `client_key: ""` twice hit the UNIQUE column (a 500)."""

    slot = public_slot(capacity=10)
    steward = slot.site.owner
    first = walk_ins.admit_walk_in(steward, slot, {"male": 1}, client_key="")
    second = walk_ins.admit_walk_in(steward, slot, {"male": 1}, client_key="")
    assert first.id != second.id and first.client_key is None is second.client_key
    assert seat_drifts([slot.id]) == []
