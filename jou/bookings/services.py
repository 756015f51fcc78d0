"""Rules of booking: seats, windows, limits, idempotency, waiting list.

Services take plain arguments, flush (never commit) and raise core.errors exceptions; the API, the pages,
the CLI and the fixtures all call these.

Seats are taken and given back only by one conditional UPDATE of `slots.seats_taken` with a row-count
check — never read-then-write — so no interleaving of requests can oversell a slot; the CHECK constraint
`seats_taken <= capacity` is the second safety net.

SQLite: a transaction that has read and then writes fails at once ("database is locked") when another
writer committed in between, whatever the busy timeout. So a booking transaction must *begin* with a
write: `book()` first touches the slot row (`_lock_slot`), which waits its turn like `BEGIN IMMEDIATE`;
callers end any read transaction before calling it (the API commits after loading the slot). On
PostgreSQL the conditional UPDATE alone is atomic (the row lock queues concurrent bookers and READ
COMMITTED re-checks the condition on the updated row).

Waiting list (public slots): an entry is promoted, in order of arrival, as soon as its whole party fits in
the seats left; an entry that does not fit keeps its place and a smaller party behind it may pass (seats
are never left empty waiting for a big party, and the big party is first in line for the next seats).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from core import audit
from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import PARIS, french_date
from core.identifiers import normalise_uai, uai_is_valid
from core.models import utcnow
from jou.bookings import calendar, notify
from jou.bookings.models import (
    SCHOOL_LEVELS,
    Booking,
    BookingKind,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from jou.models import Audience, Edition, Site, Slot

SLOT_FULL = "Ce créneau est complet."
# What the audit log keeps of a booking: counts and places, never the person (name, e-mail, phone).
AUDITED_FIELDS = (
    "slot_id", "kind", "status", "party_size", "female", "male", "unspecified", "adults", "uai", "level",
)  # fmt: skip


# ---- loading -----------------------------------------------------------------------------------------


def bookable_slot(slot_id: int) -> Slot:
    """The slot of a published site, with its site and edition (404 otherwise: an unpublished site's
    slots do not exist for the public). Taken from the session when this transaction already loaded it
    (the booking API reads the slot to choose its input schema, then book() needs it again)."""
    slot = db.session.get(Slot, slot_id, options=[joinedload(Slot.site).joinedload(Site.edition)])
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


def waitlist_of_slot(slot_id: int) -> list[WaitlistEntry]:
    return list(
        db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.status == WaitlistStatus.WAITING)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
    )


# ---- seats -------------------------------------------------------------------------------------------


def _lock_slot(slot_id: int) -> None:
    """SQLite only: start the transaction with a write so it holds the write lock (see module doc)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE slots SET seats_taken = seats_taken WHERE id = :id"), {"id": slot_id})


def _take_seats(slot_id: int, seats: int) -> int | None:
    """The slot's seats_taken after taking them, or None when they do not fit."""
    return db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.seats_taken + seats <= Slot.capacity)
        .values(seats_taken=Slot.seats_taken + seats)
        .returning(Slot.seats_taken)
        .execution_options(synchronize_session=False)
    ).scalar()


def _free_seats(slot_id: int, seats: int) -> None:
    db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.seats_taken >= seats)
        .values(seats_taken=Slot.seats_taken - seats)
        .execution_options(synchronize_session=False)
    )


def _refresh_seats(slot: Slot) -> None:
    db.session.refresh(slot, attribute_names=["seats_taken"])


def _full(slot: Slot, wanted: int) -> Conflict:
    _refresh_seats(slot)
    left = slot.seats_left
    if left <= 0:
        message = SLOT_FULL
    else:
        message = f"Ce créneau est complet pour {wanted} personnes : il reste {left} place(s)."
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
    query = (
        select(Slot.day, Slot.start, Slot.end)
        .join(Booking, Booking.slot_id == Slot.id)
        .join(Site, Site.id == Slot.site_id)
        .where(
            Booking.email == email,
            Booking.status == BookingStatus.CONFIRMED,
            Site.edition_id == edition.id,
        )
    )
    if except_id is not None:
        query = query.where(Booking.id != except_id)
    held = db.session.execute(query).all()
    if len(held) >= edition.max_bookings_per_email:
        message = (
            f"Cette adresse e-mail a déjà {len(held)} réservations pour cette édition "
            f"(maximum {edition.max_bookings_per_email})."
        )
        raise Conflict(message, code="booking_limit", fields={"email": [message]})
    for day, start, end in held:
        if _overlaps(slot, day, start, end):
            message = (
                f"Cette adresse e-mail a déjà une réservation le {french_date(day)} "
                f"de {start:%H:%M} à {end:%H:%M}, qui chevauche ce créneau."
            )
            raise Conflict(message, code="overlapping_booking", fields={"email": [message]})


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
    errors: dict[str, list[str]] = {}
    uai = normalise_uai(data.get("uai") or "")
    if not uai_is_valid(uai):
        errors["uai"] = ["Code UAI invalide (7 chiffres et une lettre, par exemple 0750001A)."]
    if data.get("level") not in SCHOOL_LEVELS:
        errors["level"] = ["Niveau de classe inconnu."]
    if errors:
        raise ValidationFailed(fields=errors)
    return {"uai": uai, "level": data["level"]}


# ---- booking -----------------------------------------------------------------------------------------


def booking_for_key(idempotency_key: str) -> Booking | None:
    return db.session.scalar(select(Booking).where(Booking.idempotency_key == idempotency_key))


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
    slot's audience. With an idempotency key already used, the booking made with it is returned as is
    (its `replayed` is True) and no seat is taken again. send_confirmation queues the ticket e-mail
    (the page and the API; not the demo fixtures)."""
    now = now or utcnow()
    _lock_slot(slot_id)
    if idempotency_key:
        existing = booking_for_key(idempotency_key)
        if existing is not None:
            return _replayed(existing, slot_id)
    slot = bookable_slot(slot_id)
    edition: Edition = slot.site.edition
    kind = booking_kind(slot)
    party_size, counts = _headcount(kind, data)
    _check_party_size(edition, kind, party_size)
    extra = _school_fields(data) if kind == BookingKind.SCHOOL else {}
    _check_acknowledgements(slot, data)
    _check_open(slot, now)
    email = data["email"].strip().lower()
    _check_email(slot, email)

    booking = Booking(
        slot_id=slot.id,
        kind=kind,
        status=BookingStatus.CONFIRMED,
        party_size=party_size,
        name=data["name"],
        email=email,
        phone=data.get("phone") or None,
        consent_at=now,
        idempotency_key=idempotency_key or None,
        **counts,
        **extra,
    )
    # Every row first, the seats last: the slot's row lock, which queues every concurrent booker of the
    # slot, is then held from the seat UPDATE to the caller's commit only, with nothing in between (a
    # statement more under the lock is a wake-up more of a busy process: measured in bench/README.md).
    # A concurrent twin with the same key loses on the UNIQUE constraint, before taking any seat, and
    # answers with the first booking. Its transaction is undone whole, not to a SAVEPOINT (two round trips
    # less per booking): with a key, book() must be its transaction's first write (the API and the page).
    db.session.add(booking)
    try:
        db.session.flush()
    except IntegrityError:
        if not idempotency_key:
            raise
        db.session.rollback()
        existing = booking_for_key(idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, slot_id)
    written = [booking]
    if send_confirmation:
        written.append(notify.queue_confirmation(booking))
    written.append(
        audit.record(
            "booking.create", booking, actor_label=audit.VISITOR,
            changes=audit.created(audit.snapshot(booking, AUDITED_FIELDS)),
        )
    )  # fmt: skip
    db.session.flush()
    taken = _take_seats(slot.id, party_size)
    if taken is None:
        for row in reversed(written):  # a refused booking leaves nothing, even for a caller that goes on
            db.session.delete(row)
        db.session.flush()
        raise _full(slot, party_size)
    set_committed_value(slot, "seats_taken", taken)
    return booking


def _replayed(booking: Booking, slot_id: int) -> Booking:
    if booking.slot_id != slot_id:
        raise Conflict(
            "Cette clé d'idempotence a déjà servi pour un autre créneau.", code="idempotency_key_reused"
        )
    booking.replayed = True
    return booking


def change_party(booking: Booking, data: dict, *, now: datetime | None = None) -> Booking:
    """New size of the party (public: party_size and optionally female/male; school: female, male,
    unspecified, adults). Growing takes the extra seats with the same conditional UPDATE and needs the
    booking window open; shrinking frees seats at once and promotes the waiting list."""
    now = now or utcnow()
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
    db.session.flush()
    changes = audit.diff(before, audit.snapshot(booking, AUDITED_FIELDS))
    if changes:
        audit.record("booking.update", booking, actor_label=audit.VISITOR, changes=changes)
    if delta < 0:
        promote_waitlist(slot.id)
    _refresh_seats(slot)
    return booking


def cancel_booking(booking: Booking, *, now: datetime | None = None) -> None:
    """Cancel: the seats are free at once and the waiting list is promoted."""
    now = now or utcnow()
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict("Cette réservation est déjà annulée.", code="booking_cancelled")
    _check_not_past(booking.slot, now)
    _free_seats(booking.slot_id, booking.party_size)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    db.session.flush()
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
    _check_email(slot, email)
    _refresh_seats(slot)
    if slot.seats_left >= party_size:
        raise Conflict(
            f"Il reste {slot.seats_left} place(s) sur ce créneau : réservez directement.",
            code="seats_available",
        )
    already = db.session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.slot_id == slot.id,
            WaitlistEntry.email == email,
            WaitlistEntry.status == WaitlistStatus.WAITING,
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
    return entry


def cancel_waitlist_entry(entry: WaitlistEntry) -> None:
    if entry.status == WaitlistStatus.WAITING:
        entry.status = WaitlistStatus.CANCELLED
        db.session.flush()
        audit.record(
            "waitlist.cancel", entry, actor_label=audit.VISITOR, changes={"status": ["waiting", "cancelled"]}
        )


def promote_waitlist(slot_id: int) -> list[Booking]:
    """Book the waiting parties that fit, in order (see module doc); each is emailed its ticket."""
    promoted: list[Booking] = []
    slot = db.session.get(Slot, slot_id)
    for entry in waitlist_of_slot(slot_id):
        try:
            # They may have booked elsewhere since joining: the per-email rules hold for them too.
            _check_email(slot, entry.email)
        except Conflict as refused:
            entry.status = WaitlistStatus.CANCELLED
            audit.record(
                "waitlist.cancel", entry, actor_label=audit.SYSTEM,
                changes={"status": ["waiting", "cancelled"]}, summary=f"Non promue : {refused.code}",
            )  # fmt: skip
            continue
        if _take_seats(slot_id, entry.party_size) is None:
            continue  # keeps its place; a smaller party behind may fit
        booking = Booking(
            slot_id=slot_id,
            kind=BookingKind.PUBLIC,
            status=BookingStatus.CONFIRMED,
            party_size=entry.party_size,
            female=entry.female,
            male=entry.male,
            unspecified=entry.unspecified,
            adults=0,
            name=entry.name,
            email=entry.email,
            phone=entry.phone,
            consent_at=entry.consent_at,
        )
        db.session.add(booking)
        db.session.flush()
        entry.status = WaitlistStatus.PROMOTED
        entry.booking_id = booking.id
        audit.record(
            "booking.promote", booking, actor_label=audit.SYSTEM,
            changes={**audit.created(audit.snapshot(booking, AUDITED_FIELDS)), "waitlist_entry": [None, entry.id]},
        )  # fmt: skip
        notify.queue_promotion(booking)
        promoted.append(booking)
    db.session.flush()
    return promoted
