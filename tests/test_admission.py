"""Admission control of bookings (core/admission.py): a bounded number in flight per process, a few
waiting, the rest answered at once with 503 `busy` and Retry-After — nothing written for them, and the same
request with the same Idempotency-Key goes through later."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from core.admission import Admission, Busy
from core.extensions import db
from jou.bookings import services as booking_services
from jou.bookings.models import Booking, WaitlistEntry
from jou.models import Slot
from tests.plugins.jou import party, public_slot


@pytest.fixture
def admission(use_admission) -> Admission:
    """This process's Admission replaced by a small one: 1 booking at a time, none waiting."""
    return use_admission(in_flight=1, waiting=0, wait_seconds=0.05)


def bookings_of(slot_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == slot_id))


# ---- the gate itself --------------------------------------------------------------------------------


def test_turns_in_flight_then_waiting_then_refused_at_once():
    gate = Admission(in_flight=1, waiting=1, wait_seconds=5, retry_after=2)
    gate.enter()  # the one turn
    waited: list[float] = []

    def wait_for_a_turn() -> None:
        started = time.monotonic()
        gate.enter()
        waited.append(time.monotonic() - started)
        gate.leave()

    waiting = threading.Thread(target=wait_for_a_turn)
    waiting.start()
    time.sleep(0.2)  # the second caller is now queued
    started = time.monotonic()
    with pytest.raises(Busy) as refused:
        gate.enter()  # the queue is full: refused without waiting
    assert time.monotonic() - started < 0.1
    assert refused.value.status == 503 and refused.value.code == "busy" and refused.value.retry_after == 2
    gate.leave()
    waiting.join(timeout=5)
    assert waited and 0.15 < waited[0] < 5  # it waited for the turn, then got it


def test_a_waiting_caller_is_refused_after_the_wait():
    gate = Admission(in_flight=1, waiting=5, wait_seconds=0.2, retry_after=1)
    gate.enter()
    started = time.monotonic()
    with pytest.raises(Busy):
        gate.enter()
    assert 0.15 < time.monotonic() - started < 2
    gate.leave()
    gate.enter()  # the turn given back is taken again
    gate.leave()


# ---- the API ----------------------------------------------------------------------------------------


def test_a_busy_api_answers_503_busy_and_writes_nothing(client, db_session, admission):
    slot = public_slot(capacity=10)
    admission.enter()  # another booking holds the one turn
    try:
        response = client.post(
            f"/api/v1/slots/{slot.id}/bookings", json=party(2), headers={"Idempotency-Key": "k-busy-1"}
        )
    finally:
        admission.leave()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "busy"
    assert bookings_of(slot.id) == 0 and db.session.get(Slot, slot.id).seats_taken == 0
    # The same request, same key, once the turn is free: booked once.
    again = client.post(
        f"/api/v1/slots/{slot.id}/bookings", json=party(2), headers={"Idempotency-Key": "k-busy-1"}
    )
    assert again.status_code == 201
    assert bookings_of(slot.id) == 1 and db.session.get(Slot, slot.id).seats_taken == 2


def test_reads_are_never_held_back(client, db_session, admission):
    slot = public_slot(capacity=10)
    admission.enter()
    try:
        assert client.get(f"/creneaux/{slot.id}/reserver").status_code == 200
        assert client.get("/api/v1/sites").status_code == 200
    finally:
        admission.leave()


def test_a_busy_waitlist_join_answers_503(client, db_session, admission):
    slot = public_slot(capacity=1)
    booking_services.book(slot.id, party(1, email="first@example.org"))
    admission.enter()
    try:
        response = client.post(f"/api/v1/slots/{slot.id}/waitlist", json=party(1, email="next@example.org"))
    finally:
        admission.leave()
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "busy"
    assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0


# ---- the page ---------------------------------------------------------------------------------------


def test_a_busy_booking_page_keeps_what_was_typed_and_retries_by_itself(client, db_session, admission):
    slot = public_slot(capacity=10)
    form = {"idempotency_key": "form-key-1", "party_size": "2", "name": "Zoé Lambert",
            "email": "zoe@example.org", "consent": "y"}  # fmt: skip
    admission.enter()
    try:
        response = client.post(f"/creneaux/{slot.id}/reserver", data=form)
    finally:
        admission.leave()
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "File d'attente" in page and 'data-testid="queued"' in page
    assert re.search(r'data-testid="booking-form" data-retry-after="1"', page)
    assert 'value="Zoé Lambert"' in page and 'value="zoe@example.org"' in page
    assert 'name="idempotency_key" value="form-key-1"' in page  # the retry is the same request
    assert bookings_of(slot.id) == 0
    # What the page's script sends again: booked.
    assert client.post(f"/creneaux/{slot.id}/reserver", data=form).status_code == 302
    assert bookings_of(slot.id) == 1


# ---- under real concurrency -------------------------------------------------------------------------


def test_concurrent_bookings_beyond_the_bound_are_refused_fast_and_none_is_lost(
    app, committed_db, monkeypatch, use_admission
):
    """24 bookings at once against 2 in flight + 2 waiting: never more than 2 inside the booking service,
    every other answer a fast 503, and every 201 in the database."""
    slot_id = public_slot(capacity=100).id
    committed_db.commit()
    use_admission(in_flight=2, waiting=2, wait_seconds=0.3)
    inside, most, lock = 0, 0, threading.Lock()
    real_book = booking_services.book

    def slow_book(*args, **kwargs):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.15)  # a booking waiting on the slot's row lock
            return real_book(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(booking_services, "book", slow_book)
    barrier = threading.Barrier(24)
    answers: list[tuple[int, str | None, float, int | None]] = []

    def one(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        started = time.monotonic()
        response = client.post(f"/api/v1/slots/{slot_id}/bookings", json=party(1, email=f"c{i}@example.org"))
        body = response.get_json()
        code = body["error"]["code"] if response.status_code >= 400 else None
        booking_id = body.get("id") if response.status_code == 201 else None
        with lock:
            answers.append((response.status_code, code, time.monotonic() - started, booking_id))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = Counter(status for status, *_ in answers)
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503] >= 10 and statuses[201] >= 2, statuses
    assert most <= 2
    assert all(code == "busy" for status, code, *_ in answers if status == 503)
    # Refused at once (queue full) or after the 0.3 s wait: never held for long.
    assert max(elapsed for status, _, elapsed, _ in answers if status == 503) < 2
    db.session.remove()
    created = {booking_id for status, _, _, booking_id in answers if status == 201}
    stored = set(db.session.scalars(select(Booking.id).where(Booking.slot_id == slot_id)))
    assert stored == created
    assert db.session.get(Slot, slot_id).seats_taken == len(created)
