"""Seat counters recounted from the records they summarise: what `flask doctor` reports.

`slots.seats_taken` must equal the parties of the slot's confirmed bookings (and of the waiting-list
offers holding seats) and `slots.walk_in_seats`
the people admitted without a booking; bookings plus walk-ins stay within capacity unless a walk-in was
knowingly admitted over it. A difference means a seat change escaped the guarded statements of
jou.bookings.services / jou.checkin.services: the counters are kept (they are what the conditional
UPDATEs guard) and recounted here, by the tests after every race and by an operator at any time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, func, select, union_all

from core.extensions import db
from jou.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from jou.checkin.models import WalkIn
from jou.models import Slot


@dataclass(frozen=True)
class SeatDrift:
    slot_id: int
    capacity: int
    seats_taken: int
    booked: int
    walk_in_seats: int
    walked_in: int
    over_capacity_allowed: bool

    @property
    def oversold(self) -> bool:
        return self.booked + self.walked_in > self.capacity and not self.over_capacity_allowed

    def describe(self) -> str:
        parts = []
        if self.seats_taken != self.booked:
            parts.append(
                f"places réservées comptées {self.seats_taken}, réservations confirmées {self.booked}"
            )
        if self.walk_in_seats != self.walked_in:
            parts.append(
                f"entrées sans réservation comptées {self.walk_in_seats}, enregistrées {self.walked_in}"
            )
        if self.oversold:
            parts.append(f"{self.booked + self.walked_in} personnes pour {self.capacity} places")
        return f"Créneau {self.slot_id} : " + " ; ".join(parts) + "."


def seat_drifts(slot_ids: list[int] | None = None) -> list[SeatDrift]:
    """Every slot whose counters differ from its records, or that holds more than its capacity."""
    # Seats are taken by confirmed bookings and held by waiting-list offers not yet answered.
    holders = union_all(
        select(Booking.slot_id.label("slot_id"), Booking.party_size.label("n")).where(
            Booking.status == BookingStatus.CONFIRMED
        ),
        select(WaitlistEntry.slot_id, WaitlistEntry.party_size).where(
            WaitlistEntry.status == WaitlistStatus.OFFERED
        ),
    ).subquery()
    booked = (
        select(holders.c.slot_id, func.sum(holders.c.n).label("n")).group_by(holders.c.slot_id).subquery()
    )
    walked = (
        select(
            WalkIn.slot_id,
            func.sum(WalkIn.persons).label("n"),
            func.max(WalkIn.over_capacity.cast(Integer)).label("over"),
        )
        .where(WalkIn.undone_at.is_(None))  # an undone walk-in gave its seats back
        .group_by(WalkIn.slot_id)
        .subquery()
    )
    n_booked = func.coalesce(booked.c.n, 0)
    n_walked = func.coalesce(walked.c.n, 0)
    over = func.coalesce(walked.c.over, 0) == 1
    query = (
        select(Slot.id, Slot.capacity, Slot.seats_taken, n_booked, Slot.walk_in_seats, n_walked, over)
        .outerjoin(booked, booked.c.slot_id == Slot.id)
        .outerjoin(walked, walked.c.slot_id == Slot.id)
        .where(
            (Slot.seats_taken != n_booked)
            | (Slot.walk_in_seats != n_walked)
            | ((n_booked + n_walked > Slot.capacity) & ~over)
        )
        .order_by(Slot.id)
    )
    if slot_ids is not None:
        query = query.where(Slot.id.in_(slot_ids))
    return [SeatDrift(*row) for row in db.session.execute(query)]


def slots_checked() -> int:
    return db.session.scalar(select(func.count(Slot.id))) or 0
