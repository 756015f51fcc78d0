"""Visitors without a booking at the gate: let in within the slot's capacity (shared with the online
bookings), out again, and undone the same day.

A walk-in takes seats of the slot row like an online booking (one conditional UPDATE), so bookings plus
walk-ins stay within the slot's capacity unless the steward overrides it; the override is recorded (who,
when). Persons without a ticket going out are exit events without a booking (jou.checkin.models.CheckIn),
counted against the walk-ins in, under the slot's row lock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core import locking
from core.auth.models import User
from core.errors import Conflict, ValidationFailed
from core.extensions import db
from core.formatting import count_of
from core.models import utcnow
from jou.checkin.models import CheckIn, Direction, WalkIn
from jou.checkin.services import journal_undo, may_undo
from jou.models import Slot

COUNTS = ("female", "male", "unspecified", "adults")


def seats_left_at_gate(slot: Slot) -> int:
    """Seats neither booked nor taken by walk-ins, read fresh (negative after an override)."""
    row = db.session.execute(
        select(Slot.capacity, Slot.seats_taken, Slot.walk_in_seats).where(Slot.id == slot.id)
    ).one()
    return row.capacity - row.seats_taken - row.walk_in_seats


def admit_walk_in(
    user: User,
    slot: Slot,
    counts: dict[str, int],
    *,
    override: bool = False,
    client_key: str | None = None,
    now: datetime | None = None,
) -> WalkIn:
    """Visitors without a booking, within the slot's capacity unless `override`. A replayed
    `client_key` (an offline phone sending its batch again, or twice at once) gives back the first
    walk-in and takes no seat."""
    now = now or utcnow()
    counts = {k: int(counts.get(k) or 0) for k in COUNTS}
    if any(v < 0 for v in counts.values()):
        raise ValidationFailed.on("female", "Les effectifs ne peuvent pas être négatifs.")
    total = sum(counts.values())
    if total < 1:
        raise ValidationFailed.on("female", "Indiquez au moins une personne.")
    client_key = client_key or None  # an empty key is no key (the UNIQUE column would take it once)
    locking.begin_write()
    if client_key:
        replay = db.session.scalar(select(WalkIn).where(WalkIn.client_key == client_key))
        if replay is not None:
            return _replayed_walk_in(replay, slot)
    walk_in = WalkIn(slot_id=slot.id, admitted_at=now, by_id=user.id, client_key=client_key, **counts)
    # The row first, the seats after (as for a booking): a twin with the same key loses on UNIQUE
    # before it takes any seat.
    try:
        with db.session.begin_nested():
            db.session.add(walk_in)
    except IntegrityError:
        replay = db.session.scalar(select(WalkIn).where(WalkIn.client_key == client_key))
        if not client_key or replay is None:
            raise
        return _replayed_walk_in(replay, slot)
    seats = update(Slot).where(Slot.id == slot.id)
    if not override:
        seats = seats.where(Slot.seats_taken + Slot.walk_in_seats + total <= Slot.capacity)
    left_after = db.session.execute(
        seats.values(walk_in_seats=Slot.walk_in_seats + total)
        .returning(Slot.capacity - Slot.seats_taken - Slot.walk_in_seats)
        .execution_options(synchronize_session=False)
    ).scalar()
    if left_after is None:
        db.session.delete(walk_in)
        db.session.flush()
        left = max(seats_left_at_gate(slot), 0)
        message = (
            f"Capacité du créneau atteinte : il reste {count_of(left, 'place', 'places')}. Cochez "
            "« dépasser la capacité » pour les faire entrer quand même."
        )
        raise Conflict(message, code="slot_full", fields={"female": [message]})
    walk_in.over_capacity = left_after < 0
    db.session.flush()
    db.session.refresh(slot, attribute_names=["seats_taken", "walk_in_seats"])
    return walk_in


def _replayed_walk_in(walk_in: WalkIn, slot: Slot) -> WalkIn:
    if walk_in.slot_id != slot.id:
        # Keys are unique across slots: never hand back (or count under) another slot's walk-in.
        raise Conflict("Cette clé d'envoi a déjà servi pour un autre créneau.", code="client_key_reused")
    return walk_in


def walk_ins_inside(slot_id: int) -> int:
    """Persons without a ticket on site: walk-ins in minus exits without a ticket (none undone)."""
    came = db.session.scalar(
        select(func.coalesce(func.sum(WalkIn.persons), 0)).where(
            WalkIn.slot_id == slot_id, WalkIn.undone_at.is_(None)
        )
    )
    left = db.session.scalar(
        select(func.coalesce(func.sum(CheckIn.admitted), 0)).where(
            CheckIn.slot_id == slot_id,
            CheckIn.booking_id.is_(None),
            CheckIn.direction == Direction.EXIT,
            CheckIn.undone_at.is_(None),
        )
    )
    return int(came) - int(left)


def walk_out(
    user: User, slot: Slot, persons: int, *, client_key: str | None = None, now: datetime | None = None
) -> CheckIn:
    """Persons without a ticket going out: at most as many as came in (under the slot's row lock)."""
    now = now or utcnow()
    client_key = client_key or None
    locking.lock(Slot, slot.id)
    if client_key:
        replay = db.session.scalar(select(CheckIn).where(CheckIn.client_key == client_key))
        if replay is not None:
            if replay.slot_id != slot.id or replay.booking_id is not None:
                raise Conflict("Cette clé d'envoi a déjà servi.", code="client_key_reused")
            return replay
    inside = walk_ins_inside(slot.id)
    if not 1 <= persons <= inside:
        message = (
            f"Sortie refusée : {count_of(inside, 'personne', 'personnes')} sans billet sur le site."
            if inside
            else "Sortie refusée : aucune personne sans billet n'est entrée sur ce créneau."
        )
        raise Conflict(message, code="not_inside", fields={"persons": [message]})
    event = CheckIn(
        booking_id=None,
        slot_id=slot.id,
        direction=Direction.EXIT,
        admitted=persons,
        checked_in_at=now,
        recorded_at=now,
        by_id=user.id,
        client_key=client_key,
    )
    db.session.add(event)
    db.session.flush()
    return event


def undo_walk_in(user: User, walk_in: WalkIn, *, now: datetime | None = None) -> WalkIn:
    """Undo a walk-in the same day: its seats go back to the slot; recorded in the journal. Refused when
    they already went out (undo the exit first)."""
    now = now or utcnow()
    may_undo(user, walk_in.by_id, walk_in.admitted_at, now)
    locking.lock(Slot, walk_in.slot_id)
    db.session.refresh(walk_in)
    if walk_in.undone_at is not None:
        raise Conflict("Cette entrée est déjà annulée.", code="already_undone")
    if walk_ins_inside(walk_in.slot_id) < walk_in.persons:
        raise Conflict(
            "Une partie de ces visiteurs est déjà ressortie : annulez d'abord la sortie.", code="already_left"
        )
    walk_in.undone_at, walk_in.undone_by_id = now, user.id
    db.session.execute(
        update(Slot)
        .where(Slot.id == walk_in.slot_id)
        .values(walk_in_seats=Slot.walk_in_seats - walk_in.persons)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    persons = count_of(walk_in.persons, "personne", "personnes")
    journal_undo("walkin", walk_in, user, now, f"Entrée sans réservation annulée : {persons}")
    return walk_in
