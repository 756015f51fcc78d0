"""Rules of booking: seats, windows, limits, idempotency, waiting list.

Services take plain arguments, flush (never commit) and raise core.errors exceptions; the API, the pages,
the CLI and the fixtures all call these.

Seats are taken and given back only by one conditional UPDATE of the slot row with a row-count check —
never read-then-write — so no interleaving of requests can oversell a slot; bookings and walk-ins share
that row (`seats_taken + walk_in_seats <= capacity`), and the CHECK `seats_taken <= capacity` is the
second safety net. `flask doctor` recounts both counters from the bookings and walk-ins.

Every other change is made under a lock taken before the state it depends on is read (core.locking),
always in the same order — address, booking, slot — so two changes never deadlock:
- a booking's own changes (cancel, new party size, erasure) lock the booking row first and read its
  status and size fresh under the lock; confirmed → cancelled is a conditional UPDATE, done once;
- the per-address rules (bookings per edition, no overlap) are checked under a lock on the address
  within the edition, so two parallel bookings by one address are judged one after the other;
- the waiting list is served under the slot's row lock, each entry claimed by a conditional UPDATE.
On SQLite every lock is the database's single write lock, taken before the first read (core.locking).

Waiting list (public slots): when seats free up, they are offered, in order of arrival, to the first party
whose whole party fits (an entry that does not fit keeps its place and a smaller party behind it may pass:
seats are never left empty waiting for a big party, and the big party is first in line for the next
seats). An offer holds the seats on the slot row until its deadline (48 h, shorter as the visit nears) and
is e-mailed with a link: the party confirms (a booking), declines, or lets it run out — then the seats are
offered to the next party (`expire_offers`, run by the mail worker and `flask messages send-due`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import Select, bindparam, delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core import audit, locking, mail
from core.errors import AppError, Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import PARIS, count_of, french_date, french_datetime
from core.models import utcnow
from core.schedule import periodic
from core.schools import School
from core.schools.directory import find_school
from core.validation import valid_uai
from jou.bookings import calendar, notify
from jou.bookings.models import (
    LEVELS_BY_KIND,
    SCHOOL_LEVELS,
    Booking,
    BookingKind,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from jou.models import Audience, Edition, Site, Slot

SLOT_FULL = "Ce créneau est complet."
# A key replays its booking for this long after it was first used, then may be used anew.
IDEMPOTENCY_TTL = timedelta(hours=24)
ADDRESS_LOCK = "booking-address"
# The shortest offer worth making: closer to the visit, freed seats stay for the gate.
MIN_OFFER = timedelta(minutes=30)
# What the audit log keeps of a booking: counts and places, never the person (name, e-mail, phone).
AUDITED_FIELDS = (
    "slot_id", "kind", "status", "party_size", "female", "male", "unspecified", "adults", "uai", "level",
)  # fmt: skip


# ---- statements ---------------------------------------------------------------------------------------

# The booking request's statements, built once per process, on the tables: building an ORM statement at
# each call and running it through the ORM cost a booking more CPU than the statement's round trip
# (bench/booking_cpu.py). The SQL is the same.
_SLOTS, _BOOKINGS, _SITES = Slot.__table__, Booking.__table__, Site.__table__
_TAKE_SEATS = (
    update(_SLOTS)
    .where(
        _SLOTS.c.id == bindparam("slot_id"),
        _SLOTS.c.seats_taken + _SLOTS.c.walk_in_seats + bindparam("seats") <= _SLOTS.c.capacity,
    )
    .values(seats_taken=_SLOTS.c.seats_taken + bindparam("seats"))
    .returning(_SLOTS.c.seats_taken)
)
_FREE_SEATS = (
    update(_SLOTS)
    .where(_SLOTS.c.id == bindparam("slot_id"), _SLOTS.c.seats_taken >= bindparam("seats"))
    .values(seats_taken=_SLOTS.c.seats_taken - bindparam("seats"))
)
_INSERT_BOOKING = insert(_BOOKINGS).returning(_BOOKINGS.c.id)
_BOOKING_OF_KEY = select(_BOOKINGS.c.id).where(_BOOKINGS.c.idempotency_key == bindparam("key"))
_HELD_BY_EMAIL = (
    select(_SLOTS.c.day, _SLOTS.c.start, _SLOTS.c.end)
    .join(_BOOKINGS, _BOOKINGS.c.slot_id == _SLOTS.c.id)
    .join(_SITES, _SITES.c.id == _SLOTS.c.site_id)
    .where(
        _BOOKINGS.c.email == bindparam("email"),
        _BOOKINGS.c.status == BookingStatus.CONFIRMED.value,
        _SITES.c.edition_id == bindparam("edition_id"),
    )
)


# ---- loading -----------------------------------------------------------------------------------------


@cache
def _slot_site_edition() -> Select:
    """One statement for the slot, its site and its edition, built once at first use (loader options
    need every model mapped, which importing this module does not ensure)."""
    return (
        select(Slot)
        .join(Slot.site)
        .join(Site.edition)
        .options(contains_eager(Slot.site).contains_eager(Site.edition))
        .where(Slot.id == bindparam("slot_id"))
    )


def bookable_slot(slot_id: int) -> Slot:
    """The slot of a published site, with its site and edition (404 otherwise: an unpublished site's
    slots do not exist for the public). Taken from the session when this transaction already loaded it
    (the booking API reads the slot to choose its input schema, then book() needs it again)."""
    slot = db.session.identity_map.get(identity_key(Slot, slot_id))
    if slot is None or inspect(slot).expired:  # expired by a commit: read again, site and edition too
        slot = db.session.scalars(_slot_site_edition(), {"slot_id": slot_id}).first()
    if slot is None or not slot.site.is_published:
        raise NotFound("Créneau introuvable.")
    return slot


def booking_kind(slot: Slot) -> BookingKind:
    return BookingKind.SCHOOL if slot.audience == Audience.SCHOOLS else BookingKind.PUBLIC


def bookings_of_slot(slot_id: int) -> list[Booking]:
    """Confirmed bookings of a slot, oldest first."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.slot_id == slot_id, Booking.status == BookingStatus.CONFIRMED)
            .order_by(Booking.created_at, Booking.id)
        )
    )


def waitlist_of_slot(slot_id: int, *, offered: bool = False) -> list[WaitlistEntry]:
    """The parties waiting, in order; with `offered`, those holding an offer too."""
    statuses = [WaitlistStatus.WAITING, WaitlistStatus.OFFERED] if offered else [WaitlistStatus.WAITING]
    return list(
        db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.status.in_(statuses))
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
    )


# ---- seats -------------------------------------------------------------------------------------------


def _take_seats(slot_id: int, seats: int) -> int | None:
    """The slot's seats_taken after taking them, or None when they do not fit beside the bookings and
    walk-ins already there."""
    return db.session.execute(_TAKE_SEATS, {"slot_id": slot_id, "seats": seats}).scalar()


def _free_seats(slot_id: int, seats: int) -> None:
    freed = db.session.execute(_FREE_SEATS, {"slot_id": slot_id, "seats": seats}).rowcount
    if freed != 1:  # seats given back that the slot does not count: a drift, never hidden
        raise RuntimeError(f"Slot {slot_id}: {seats} seat(s) to free but fewer taken (run `flask doctor`).")


def _refresh_seats(slot: Slot) -> None:
    db.session.refresh(slot, attribute_names=["seats_taken", "walk_in_seats"])


def _full(slot: Slot, wanted: int) -> Conflict:
    _refresh_seats(slot)
    left = slot.seats_left
    if left <= 0:
        message = SLOT_FULL
    else:
        message = (
            f"Ce créneau est complet pour {wanted} personnes : il reste {count_of(left, 'place', 'places')}."
        )
    return Conflict(message, code="slot_full", fields={"party_size": [message]})


# ---- rules -------------------------------------------------------------------------------------------


def slot_starts_at(slot: Slot) -> datetime:
    """In the site's own zone: a 10:00 visit in Guadeloupe starts at 10:00 there, not in Paris."""
    return calendar.slot_bounds(slot)[0]


def _check_open(slot: Slot, now: datetime) -> None:
    edition: Edition = slot.site.edition
    today = now.astimezone(PARIS).date()
    if today < edition.booking_opens:
        raise Conflict(
            f"Les réservations ouvriront le {french_date(edition.booking_opens)}.", code="booking_closed"
        )
    if today > edition.booking_closes:
        raise Conflict("Les réservations sont closes pour cette édition.", code="booking_closed")
    _check_not_past(slot, now)


def _check_not_past(slot: Slot, now: datetime) -> None:
    if slot_starts_at(slot) <= now:
        raise Conflict("Ce créneau est passé : il ne peut plus être réservé ni modifié.", code="slot_past")


def _check_party_size(edition: Edition, kind: BookingKind, party_size: int) -> None:
    """The edition's limit is for public parties; a class is bounded by the slot's seats alone."""
    if party_size < 1 or (kind == BookingKind.PUBLIC and party_size > edition.max_party_size):
        raise ValidationFailed.on(
            "party_size", f"Entre 1 et {edition.max_party_size} personnes par réservation."
        )


def _check_acknowledgements(slot: Slot, data: dict) -> None:
    errors: dict[str, list[str]] = {}
    if not data.get("consent"):
        errors["consent"] = ["Votre accord est nécessaire pour enregistrer la réservation."]
    if slot.min_age is not None and not data.get("ack_min_age"):
        errors["ack_min_age"] = [f"Confirmez que chaque visiteur a au moins {slot.min_age} ans."]
    if slot.protective_equipment and not data.get("ack_equipment"):
        errors["ack_equipment"] = ["Confirmez avoir pris connaissance des équipements de protection."]
    if errors:
        raise ValidationFailed(fields=errors)


def _check_email(slot: Slot, email: str, *, except_id: int | None = None) -> None:
    """At most edition.max_bookings_per_email confirmed bookings per email and edition, never two at
    overlapping times on the same day."""
    edition: Edition = slot.site.edition
    query = _HELD_BY_EMAIL if except_id is None else _HELD_BY_EMAIL.where(_BOOKINGS.c.id != except_id)
    held = db.session.execute(query, {"email": email, "edition_id": edition.id}).all()
    # The answer goes to whoever typed the address, who has not proven it is theirs: it names the rule,
    # never the other bookings (their number, day or time). The mailbox's owner finds them in the e-mails.
    if len(held) >= edition.max_bookings_per_email:
        message = (
            f"Cette adresse e-mail ne peut pas réserver davantage pour cette édition : une même adresse "
            f"peut faire au plus {edition.max_bookings_per_email} réservations. Vos réservations sont "
            "dans les e-mails de confirmation reçus."
        )
        raise Conflict(message, code="booking_limit", fields={"email": [message]})
    if any(_overlaps(slot, day, start, end) for day, start, end in held):
        message = (
            "Cette adresse e-mail a déjà une réservation qui chevauche ce créneau : une même adresse ne "
            "peut pas réserver deux visites à la même heure. Vos réservations sont dans les e-mails de "
            "confirmation reçus."
        )
        raise Conflict(message, code="overlapping_booking", fields={"email": [message]})


def _lock_address(edition: Edition, email: str) -> None:
    """Bookings of one address are judged one after the other (the per-address rules read, then write)."""
    locking.lock_key(ADDRESS_LOCK, f"{edition.id}:{email}")


def _overlaps(slot: Slot, day: date, start: time, end: time) -> bool:
    return slot.day == day and slot.start < end and start < slot.end


def _public_headcount(data: dict, party_size: int) -> dict[str, int]:
    female, male = data.get("female") or 0, data.get("male") or 0
    if female < 0 or male < 0 or female + male > party_size:
        raise ValidationFailed.on("female", "La répartition femmes/hommes dépasse la taille du groupe.")
    return {"female": female, "male": male, "unspecified": party_size - female - male, "adults": 0}


def _school_headcount(data: dict) -> dict[str, int]:
    counts = {k: data.get(k) or 0 for k in ("female", "male", "unspecified", "adults")}
    if any(v < 0 for v in counts.values()):
        raise ValidationFailed.on("female", "Les effectifs ne peuvent pas être négatifs.")
    if counts["female"] + counts["male"] + counts["unspecified"] < 1:
        raise ValidationFailed.on("female", "Indiquez le nombre d'élèves (filles, garçons ou non précisé).")
    return counts


def _headcount(kind: BookingKind, data: dict) -> tuple[int, dict[str, int]]:
    if kind == BookingKind.PUBLIC:
        party_size = data.get("party_size")
        if not isinstance(party_size, int):
            raise ValidationFailed.on("party_size", "Ce champ est obligatoire.")
        return party_size, _public_headcount(data, party_size)
    counts = _school_headcount(data)
    return sum(counts.values()), counts


def _school_fields(data: dict) -> dict[str, Any]:
    """The class's school is one of the directory, open, and teaches the class's level."""
    errors: dict[str, list[str]] = {}
    level = data.get("level")
    if level not in SCHOOL_LEVELS:
        errors["level"] = ["Niveau de classe inconnu."]
    try:
        uai = valid_uai(data.get("uai"))
    except ValidationError as exc:
        raise ValidationFailed(fields={"uai": exc.messages, **errors}) from None
    school = find_school(uai)
    if school is None:
        errors["uai"] = [
            "Cet établissement n'est pas dans l'annuaire de l'éducation : choisissez-le dans la liste "
            "(nom, commune ou UAI)."
        ]
    elif not school.open:
        errors["uai"] = [f"{school.name} est fermé selon l'annuaire de l'éducation."]
    elif level in SCHOOL_LEVELS and level not in LEVELS_BY_KIND.get(school.kind, ()):
        taught = ", ".join(SCHOOL_LEVELS[code] for code in LEVELS_BY_KIND.get(school.kind, ()))
        errors["level"] = [
            f"{school.name} ({school.kind_label.lower()}) n'a pas de classe de niveau "
            f"« {SCHOOL_LEVELS[level]} » : choisissez parmi {taught}."
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    return {"uai": uai, "level": level, "school": school}


# ---- booking -----------------------------------------------------------------------------------------


class IdempotencyKeyReused(AppError):
    """The key was first used with another request: nothing of that request is revealed."""

    status = 422
    code = "idempotency_key_reused"
    message = "Cette clé d'idempotence a déjà servi pour une autre demande : utilisez une nouvelle clé."


def booking_for_key(idempotency_key: str) -> Booking | None:
    # Its id first: almost every request brings a new key, and then no booking is loaded at all.
    booking_id = db.session.scalar(_BOOKING_OF_KEY, {"key": idempotency_key})
    return None if booking_id is None else db.session.get(Booking, booking_id)


def request_fingerprint(slot_id: int, data: dict) -> str:
    """A digest of what was asked (the slot and the validated fields), to bind a key to its request."""
    canonical = json.dumps({"slot": slot_id, "data": data}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _replayed(booking: Booking, slot_id: int, fingerprint: str) -> Booking:
    """The booking a key made, for the same request only."""
    if booking.slot_id != slot_id or (
        booking.idempotency_fingerprint is not None and booking.idempotency_fingerprint != fingerprint
    ):
        raise IdempotencyKeyReused()
    booking.replayed = True
    return booking


def _expired_key(booking: Booking, now: datetime) -> bool:
    """A key older than IDEMPOTENCY_TTL is released (its booking keeps everything else) and may serve
    again; `consent_at` is when the booking was made, on the caller's clock."""
    if booking.consent_at > now - IDEMPOTENCY_TTL:
        return False
    booking.idempotency_key = None
    booking.idempotency_fingerprint = None
    db.session.flush()
    return True


# Long on purpose: one linear flow whose order is the concurrency contract (checks, rows, seats last).
def book(
    slot_id: int,
    data: dict,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    send_confirmation: bool = False,
) -> Booking:
    """Book a slot: a public party (party_size, name, email, phone?, female?, male?, consent, ack_*) or a
    school class (uai, level, female, male, unspecified, adults, name, email, phone?, consent), by the
    slot's audience. With an idempotency key used within IDEMPOTENCY_TTL for the same request, the
    booking made with it is returned as is (its `replayed` is True) and no seat is taken again; for
    another request the key is refused (422). send_confirmation queues the ticket e-mail (the page and
    the API; not the demo fixtures)."""
    now = now or utcnow()
    locking.begin_write()
    fingerprint = request_fingerprint(slot_id, data)
    if idempotency_key:
        existing = booking_for_key(idempotency_key)
        if existing is not None and not _expired_key(existing, now):
            return _replayed(existing, slot_id, fingerprint)
    slot = bookable_slot(slot_id)
    edition: Edition = slot.site.edition
    kind = booking_kind(slot)
    party_size, counts = _headcount(kind, data)
    _check_party_size(edition, kind, party_size)
    extra = _school_fields(data) if kind == BookingKind.SCHOOL else {}
    _check_acknowledgements(slot, data)
    _check_open(slot, now)
    email = data["email"].strip().lower()
    _lock_address(edition, email)
    _check_email(slot, email)

    # Every row first, the seats last: the slot's row lock, which queues every concurrent booker of the
    # slot, is then held from the seat UPDATE to the caller's commit only, with nothing in between (a
    # statement more under the lock is a wake-up more of a busy process: measured in bench/README.md).
    # A concurrent twin with the same key loses on the UNIQUE constraint, before taking any seat, and
    # answers with the first booking. Its transaction is undone whole, not to a SAVEPOINT (two round trips
    # less per booking): with a key, book() must be its transaction's first write (the API and the page).
    try:
        booking = _insert_booking(
            slot,
            extra.get("school"),
            kind=kind,
            party_size=party_size,
            name=data["name"],
            email=email,
            phone=data.get("phone") or None,
            consent_at=now,
            idempotency_key=idempotency_key or None,
            idempotency_fingerprint=fingerprint if idempotency_key else None,
            uai=extra.get("uai"),
            level=extra.get("level"),
            **counts,
        )
    except IntegrityError:
        if not idempotency_key:
            raise
        db.session.rollback()
        existing = booking_for_key(idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, slot_id, fingerprint)
    mail_id = notify.queue_confirmation(booking) if send_confirmation else None
    event_id = audit.record(
        "booking.create", booking, actor_label=audit.VISITOR,
        changes=audit.created(audit.snapshot(booking, AUDITED_FIELDS)),
    )  # fmt: skip
    taken = _take_seats(slot.id, party_size)
    if taken is None:  # a refused booking leaves nothing, even for a caller that goes on
        db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id == event_id))
        if mail_id is not None:
            mail.withdraw(mail_id)
        db.session.delete(booking)
        db.session.flush()
        raise _full(slot, party_size)
    set_committed_value(slot, "seats_taken", taken)
    return booking


def _insert_booking(slot: Slot, school: School | None, **values: Any) -> Booking:
    """A new confirmed booking of the slot: one INSERT, then the object attached to the session as stored
    (the ORM's flush of it cost more CPU than the INSERT: bench/booking_cpu.py). Every column is given
    its value and the slot (and a class's school) is set, so reading any of them never goes back to the database
    (tests/test_bookings_services.py checks that no column is left out)."""
    now = utcnow()
    row = {
        "slot_id": slot.id,
        "status": BookingStatus.CONFIRMED,
        "created_at": now,
        "updated_at": now,
        "revision": 0,
    }
    row |= values
    row["id"] = db.session.execute(_INSERT_BOOKING, row).scalar_one()
    booking = Booking(**row, cancelled_at=None, anonymised_at=None)
    make_transient_to_detached(booking)
    db.session.add(booking)
    set_committed_value(booking, "slot", slot)
    set_committed_value(booking, "school", school)
    return booking


def _locked_booking(booking: Booking) -> Booking:
    """The booking read again under its row lock: its status and size as committed, not as first read."""
    locked = locking.lock(Booking, booking.id)
    if locked is None:
        raise NotFound("Cette réservation n'existe plus.")
    return locked


def change_party(booking: Booking, data: dict, *, now: datetime | None = None) -> Booking:
    """New size of the party (public: party_size and optionally female/male; school: female, male,
    unspecified, adults). Growing takes the extra seats with the same conditional UPDATE and needs the
    booking window open; shrinking frees seats at once and promotes the waiting list. The difference is
    taken from the size read under the booking's lock, so parallel changes add up right."""
    now = now or utcnow()
    booking = _locked_booking(booking)
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict("Cette réservation est annulée.", code="booking_cancelled")
    slot = booking.slot
    _check_not_past(slot, now)
    kind = BookingKind(booking.kind)
    if kind == BookingKind.SCHOOL:
        merged = {k: data.get(k, getattr(booking, k)) for k in ("female", "male", "unspecified", "adults")}
    else:
        # The breakdown given so far stays unless the request changes it (a new size alone must not
        # erase the women/men counts the statistics use).
        merged = {
            "party_size": data.get("party_size", booking.party_size),
            "female": data.get("female", booking.female),
            "male": data.get("male", booking.male),
        }
    party_size, counts = _headcount(kind, merged)
    _check_party_size(slot.site.edition, kind, party_size)
    before = audit.snapshot(booking, AUDITED_FIELDS)
    delta = party_size - booking.party_size
    if delta > 0:
        _check_open(slot, now)
        if _take_seats(slot.id, delta) is None:
            raise _full(slot, delta)
    elif delta < 0:
        _free_seats(slot.id, -delta)
    booking.party_size = party_size
    for key, value in counts.items():
        setattr(booking, key, value)
    changes = audit.diff(before, audit.snapshot(booking, AUDITED_FIELDS))
    if changes:
        # The visitor gets the ticket again with the new party, its .ics one revision up (same event).
        booking.revision += 1
        db.session.flush()
        audit.record("booking.update", booking, actor_label=audit.VISITOR, changes=changes)
        notify.queue_change(booking)
    db.session.flush()
    if delta < 0:
        promote_waitlist(slot.id)
    _refresh_seats(slot)
    return booking


def cancel_booking(booking: Booking, *, now: datetime | None = None) -> None:
    """Cancel: the seats are free at once and the waiting list is promoted. Confirmed → cancelled happens
    once: under the booking's lock, by a conditional UPDATE whose row count is checked, so a double
    submit, or a cancel racing an erasure, frees the seats once."""
    now = now or utcnow()
    booking = _locked_booking(booking)
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict("Cette réservation est déjà annulée.", code="booking_cancelled")
    _check_not_past(booking.slot, now)
    freed = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.CONFIRMED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now, revision=Booking.revision + 1)
        .returning(Booking.party_size, Booking.revision)
        .execution_options(synchronize_session=False)
    ).first()
    if freed is None:
        raise Conflict("Cette réservation est déjà annulée.", code="booking_cancelled")
    freed, revision = freed
    set_committed_value(booking, "status", BookingStatus.CANCELLED.value)
    set_committed_value(booking, "cancelled_at", now)
    set_committed_value(booking, "revision", revision)
    _free_seats(booking.slot_id, freed)
    audit.record(
        "booking.cancel", booking, actor_label=audit.VISITOR,
        changes={"status": [BookingStatus.CONFIRMED.value, BookingStatus.CANCELLED.value]},
    )  # fmt: skip
    promote_waitlist(booking.slot_id)
    _refresh_seats(booking.slot)


# ---- waiting list ------------------------------------------------------------------------------------


def join_waitlist(slot_id: int, data: dict, *, now: datetime | None = None) -> WaitlistEntry:
    """Join the waiting list of a public slot that cannot take the party (data as for a public booking)."""
    now = now or utcnow()
    locking.begin_write()
    slot = bookable_slot(slot_id)
    if booking_kind(slot) != BookingKind.PUBLIC:
        raise Conflict(
            "La liste d'attente n'existe que pour les créneaux grand public.", code="waitlist_unavailable"
        )
    party_size, counts = _headcount(BookingKind.PUBLIC, data)
    _check_party_size(slot.site.edition, BookingKind.PUBLIC, party_size)
    _check_acknowledgements(slot, data)
    _check_open(slot, now)
    email = data["email"].strip().lower()
    _lock_address(slot.site.edition, email)
    _check_email(slot, email)
    _refresh_seats(slot)
    if slot.seats_left >= party_size:
        raise Conflict(
            f"Il reste {count_of(slot.seats_left, 'place', 'places')} sur ce créneau : réservez directement.",
            code="seats_available",
        )
    already = db.session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.slot_id == slot.id,
            WaitlistEntry.email == email,
            WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
        )
    )
    if already:
        raise Conflict(
            "Cette adresse e-mail est déjà sur la liste d'attente de ce créneau.", code="already_waiting"
        )
    counts.pop("adults")
    entry = WaitlistEntry(
        slot_id=slot.id,
        party_size=party_size,
        name=data["name"],
        email=email,
        phone=data.get("phone") or None,
        consent_at=now,
        created_at=now,
        status=WaitlistStatus.WAITING,
        **counts,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "waitlist.create", entry, actor_label=audit.VISITOR,
        changes=audit.created(audit.snapshot(entry, ("slot_id", "party_size", "female", "male", "unspecified"))),
    )  # fmt: skip
    notify.queue_waitlist_joined(entry)
    return entry


def _change_entry(entry: WaitlistEntry, before: WaitlistStatus, after: WaitlistStatus, **values: Any) -> bool:
    """before → after, once (a conditional UPDATE: of an offer and a departure, only one wins)."""
    done = db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == before)
        .values(status=after, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        set_committed_value(entry, "status", after.value)
        for key, value in values.items():
            set_committed_value(entry, key, value)
    return bool(done)


def cancel_waitlist_entry(entry: WaitlistEntry, *, now: datetime | None = None) -> None:
    """Leave the list; an offer declined gives its held seats to the next party at once."""
    locking.begin_write()
    if _change_entry(entry, WaitlistStatus.WAITING, WaitlistStatus.CANCELLED):
        audit.record(
            "waitlist.cancel", entry, actor_label=audit.VISITOR, changes={"status": ["waiting", "cancelled"]}
        )
        return
    locking.lock(Slot, entry.slot_id)
    if _change_entry(entry, WaitlistStatus.OFFERED, WaitlistStatus.CANCELLED):
        _free_seats(entry.slot_id, entry.party_size)
        audit.record(
            "waitlist.decline", entry, actor_label=audit.VISITOR, changes={"status": ["offered", "cancelled"]}
        )
        promote_waitlist(entry.slot_id, now=now)


def offer_deadline(slot: Slot, now: datetime) -> datetime | None:
    """How long an offer stands: WAITLIST_OFFER_HOURS (48), or half the time left before the visit when
    that is shorter; None when even that is under MIN_OFFER (the seats then stay for the gate)."""
    start, _end = calendar.slot_bounds(slot)
    hours = current_app.config.get("WAITLIST_OFFER_HOURS", 48)
    window = min(timedelta(hours=hours), (start - now) / 2)
    return now + window if window >= MIN_OFFER else None


def promote_waitlist(slot_id: int, *, now: datetime | None = None) -> list[WaitlistEntry]:
    """Offer the freed seats to the waiting parties that fit, in order (see module doc): the seats are
    held for each until its offer expires, and it is e-mailed a link to confirm (accept_offer).

    Runs under the slot's row lock, so offers of one slot never interleave and the seats read are the
    seats there are. A party whose address is being booked by another request at this very moment keeps
    its place for the next freed seat (waiting for that address here could deadlock: its booker holds the
    address and waits for this slot)."""
    offered: list[WaitlistEntry] = []
    slot = locking.lock(Slot, slot_id)
    if slot is None:
        return offered
    now = now or utcnow()
    deadline = offer_deadline(slot, now)
    if deadline is None:
        return offered
    edition = slot.site.edition
    for entry in waitlist_of_slot(slot_id):
        if not locking.try_lock_key(ADDRESS_LOCK, f"{edition.id}:{entry.email}"):
            continue
        try:
            # They may have booked elsewhere since joining: the per-email rules hold for them too.
            _check_email(slot, entry.email)
        except Conflict as refused:
            if _change_entry(entry, WaitlistStatus.WAITING, WaitlistStatus.CANCELLED):
                audit.record(
                    "waitlist.cancel", entry, actor_label=audit.SYSTEM,
                    changes={"status": ["waiting", "cancelled"]}, summary=f"Non promue : {refused.code}",
                )  # fmt: skip
            continue
        if _take_seats(slot_id, entry.party_size) is None:
            continue  # keeps its place; a smaller party behind may fit
        if not _change_entry(
            entry, WaitlistStatus.WAITING, WaitlistStatus.OFFERED, offered_at=now, offer_expires_at=deadline
        ):
            _free_seats(slot_id, entry.party_size)  # left the list in between (its own request)
            continue
        audit.record(
            "waitlist.offer", entry, actor_label=audit.SYSTEM, changes={"status": ["waiting", "offered"]},
            summary=f"Places tenues jusqu'au {french_datetime(deadline)}",
        )  # fmt: skip
        notify.queue_offer(entry)
        offered.append(entry)
    db.session.flush()
    _refresh_seats(slot)
    return offered


def accept_offer(entry: WaitlistEntry, *, now: datetime | None = None) -> Booking:
    """The offered party confirms: its held seats become a booking, and it gets its ticket. Locks in the
    usual order (address, slot) before reading the entry again; an offer accepted twice answers the same
    booking (`replayed`), an offer past its deadline is expired here and refused."""
    now = now or utcnow()
    slot = entry.slot
    _lock_address(slot.site.edition, entry.email)
    locking.lock(Slot, slot.id)
    db.session.refresh(entry)
    if entry.status == WaitlistStatus.PROMOTED and entry.booking is not None:
        entry.booking.replayed = True
        return entry.booking
    if entry.status != WaitlistStatus.OFFERED:
        raise Conflict("Cette proposition n'est plus valable : aucune place ne vous est réservée.",
                       code="offer_closed")  # fmt: skip
    if now >= entry.offer_expires_at:
        _expire(entry, now)
        raise Conflict("Le délai pour confirmer est passé : les places ont été proposées à la personne suivante.",
                       code="offer_expired")  # fmt: skip
    _check_email(slot, entry.email)
    booking = _insert_booking(
        slot, None, kind=BookingKind.PUBLIC, party_size=entry.party_size, name=entry.name, email=entry.email,
        phone=entry.phone, consent_at=entry.consent_at, idempotency_key=None, idempotency_fingerprint=None,
        uai=None, level=None, female=entry.female, male=entry.male, unspecified=entry.unspecified, adults=0,
    )  # fmt: skip
    _change_entry(entry, WaitlistStatus.OFFERED, WaitlistStatus.PROMOTED, booking_id=booking.id)
    set_committed_value(entry, "booking", booking)
    audit.record(
        "booking.promote", booking, actor_label=audit.VISITOR,
        changes={**audit.created(audit.snapshot(booking, AUDITED_FIELDS)), "waitlist_entry": [None, entry.id]},
    )  # fmt: skip
    notify.queue_promotion(booking)
    return booking


def _expire(entry: WaitlistEntry, now: datetime) -> None:
    """offered → expired under the slot's lock: the held seats go to the next party."""
    if _change_entry(entry, WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED):
        _free_seats(entry.slot_id, entry.party_size)
        audit.record(
            "waitlist.expire", entry, actor_label=audit.SYSTEM, changes={"status": ["offered", "expired"]}
        )
        promote_waitlist(entry.slot_id, now=now)


@periodic("waitlist_offers")
def expire_offers(now: datetime) -> int:
    """Every offer past its deadline expires, and its seats are offered to the next party."""
    expired = 0
    for entry_id, slot_id in db.session.execute(
        select(WaitlistEntry.id, WaitlistEntry.slot_id)
        .where(WaitlistEntry.status == WaitlistStatus.OFFERED, WaitlistEntry.offer_expires_at <= now)
        .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)
    ).all():
        locking.lock(Slot, slot_id)
        entry = db.session.get(WaitlistEntry, entry_id)
        db.session.refresh(entry)
        if entry.status == WaitlistStatus.OFFERED:
            _expire(entry, now)
            expired += 1
    return expired
