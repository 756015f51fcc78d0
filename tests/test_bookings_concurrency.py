"""Never one seat too many: 60 concurrent booking requests at a slot with 5 seats left, real commits."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter

from sqlalchemy import func, select

from core.extensions import db
from jou.bookings.models import Booking, BookingStatus
from jou.models import Slot
from tests.plugins.jou import party, public_slot

REQUESTS = 60


def _slot_with_seats_left(committed_db, capacity: int = 20, left: int = 5) -> int:
    slot = public_slot(capacity=capacity)
    slot.seats_taken = capacity - left  # taken by earlier bookings, as far as this test cares
    committed_db.commit()
    return slot.id


def test_concurrent_requests_never_oversell(app, committed_db, without_admission):
    slot_id = _slot_with_seats_left(committed_db, capacity=20, left=5)
    barrier = threading.Barrier(REQUESTS)
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/slots/{slot_id}/bookings", json=party(1, email=f"v{i}@example.org"))
        body = response.get_json()
        code = body.get("error", {}).get("code") if response.status_code != 201 else None
        message = body.get("error", {}).get("message", "")
        with lock:
            results.append((response.status_code, code, message))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(REQUESTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    db.session.remove()
    slot = db.session.get(Slot, slot_id)
    confirmed = db.session.scalar(
        select(func.coalesce(func.sum(Booking.party_size), 0)).where(
            Booking.slot_id == slot_id, Booking.status == BookingStatus.CONFIRMED
        )
    )
    statuses = Counter(status for status, _, _ in results)
    refused = [r for r in results if r[0] != 201]
    oversold = max(0, slot.seats_taken - slot.capacity)
    print(
        f"\n[{db.engine.dialect.name}] requests={REQUESTS} confirmed={statuses[201]} "
        f"refused={len(refused)} oversold={oversold} statuses={dict(statuses)}"
    )
    assert statuses[201] == 5 == confirmed
    assert slot.seats_taken == slot.capacity == 15 + confirmed
    assert all(status == 409 and code == "slot_full" and "complet" in msg for status, code, msg in refused)
    assert len(refused) == REQUESTS - 5


def test_median_time_of_one_booking_request(app, committed_db):
    """Not an assertion on time: prints the median of 200 booking requests through the test client."""
    slot_id = _slot_with_seats_left(committed_db, capacity=1000, left=1000)
    client = app.test_client()
    durations = []
    for i in range(200):
        started = time.perf_counter()
        response = client.post(f"/api/v1/slots/{slot_id}/bookings", json=party(1, email=f"m{i}@example.org"))
        durations.append(time.perf_counter() - started)
        assert response.status_code == 201
    print(
        f"\n[{db.engine.dialect.name}] median booking request: {statistics.median(durations) * 1000:.1f} ms"
    )
