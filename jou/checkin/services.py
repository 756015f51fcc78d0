"""Rules of the gate for tickets: which ticket is admitted, groups let in in parts, exits, undo, and the
log of refused scans.

The scanner chooses a check-in context (a slot of a site it may edit); a ticket is judged against it:
another edition, another site, another day or another slot of the same site, a cancelled booking, or a
token that is not exactly one we issued (forged, altered, truncated, another QR code) is refused, the
refusal is logged for review (jou.checkin.models.RefusedScan) and nothing else is recorded. The slot's
day is NOT a rule: a steward may check in on any day (a rehearsal, a clock off by a day, the tests); the
answer then carries a `warning`.

A booking's persons in and out are the sums of its events not undone, read under the booking's row lock
(core.locking) and changed before it is released: two phones (online or offline) scanning the same
ticket let its party in once — the second gets "already_checked_in" — and an event sent again with its
`client_key` (an offline batch replayed) adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import audit, locking
from core.auth.models import User
from core.auth.permissions import Permission, can
from core.errors import AppError, Conflict, Forbidden, ValidationFailed
from core.extensions import db
from core.formatting import PARIS, count_of, french_date, french_time
from core.models import utcnow
from jou.bookings import tokens
from jou.bookings.models import Booking, BookingKind, BookingStatus
from jou.checkin.models import CheckIn, CheckInSource, Direction, RefusedScan, WalkIn
from jou.models import Slot

MAX_TOKEN_LENGTH = 300
VALID, ALREADY, REFUSED = "valid", "already_checked_in", "refused"
REASONS = {
    "invalid_ticket": "Billet non reconnu : code falsifié, modifié, tronqué ou autre QR code.",
    "unknown_booking": "Cette réservation n'existe plus.",
    "cancelled": "Réservation annulée.",
    "wrong_edition": "Billet d'une autre édition des Journées Usines Ouvertes.",
    "wrong_site": "Billet d'un autre site.",
    "wrong_day": "Billet pour un autre jour.",
    "wrong_slot": "Billet pour un autre créneau de ce site.",
    "not_inside": "Sortie refusée : personne de ce billet n'est entré.",
    "already_out": "Sortie refusée : tout le groupe est déjà sorti.",
}
# Refusals about one of this site's own bookings: the log keeps which booking.
OWN_SITE_REFUSALS = {"cancelled", "wrong_day", "wrong_slot", "not_inside", "already_out"}


# ---- context -----------------------------------------------------------------------------------------


def may_check_in(user: User | None, booking: Booking) -> bool:
    return can(user, Permission.CHECK_IN, booking.slot.site)


def extract_token(scanned: str) -> str:
    """The bare token, from itself or from the check-in URL the QR code holds."""
    text = (scanned or "").strip()
    if "/controle/" in text:
        text = text.rsplit("/controle/", 1)[1]
    return text.split("?", 1)[0].split("#", 1)[0].strip().strip("/")


def booking_of(scanned: str) -> Booking | None:
    token = extract_token(scanned)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return tokens.booking_from_ticket(token)
    except AppError:
        return None


# ---- answers -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: str
    reason: str | None = None
    reason_code: str | None = None
    booking: Booking | None = None
    checkin: CheckIn | None = None  # the event this scan recorded, or the last entry for "already"
    warning: str | None = None
    entered: int = 0  # persons of the party in after this scan (entries not undone)
    exited: int = 0
    direction: str = Direction.ENTRY

    @property
    def party_size(self) -> int | None:
        return self.booking.party_size if self.booking else None

    @property
    def checked_in_at(self) -> datetime | None:
        return self.checkin.checked_in_at if self.checkin else None

    @property
    def remaining(self) -> int | None:
        """Persons of the party still to come in."""
        return None if self.booking is None else max(self.booking.party_size - self.entered, 0)

    def to_dict(self) -> dict[str, Any]:
        booking, checkin = self.booking, self.checkin
        data: dict[str, Any] = {
            "status": self.status,
            "direction": self.direction,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "party_size": self.party_size,
            "checked_in_at": self.checked_in_at.isoformat() if self.checked_in_at else None,
            "warning": self.warning,
        }
        if booking is not None and self.status != REFUSED:
            recorded = self.status == VALID and checkin is not None
            data |= {
                "id": checkin.id if recorded else None,
                "booking_id": booking.id,
                "name": booking.name,
                "school": booking.uai if booking.kind == BookingKind.SCHOOL else None,
                "level": booking.level,
                "kind": booking.kind,
                # This scan's persons when it recorded one; else all of the party in so far.
                "admitted": checkin.admitted if recorded else self.entered,
                "entered": self.entered,
                "remaining": self.remaining,
                "on_site": self.entered - self.exited,
                "checked_in_by": checkin.by.name if checkin and checkin.by else None,
                "breakdown_known": booking.unspecified == 0,
            }
        return data


def _refused(code: str, booking: Booking | None = None, reason: str | None = None) -> Answer:
    return Answer(REFUSED, reason or REASONS[code], code, booking)


def judge(slot: Slot, booking: Booking | None) -> Answer | None:
    """A refusal for this ticket in this context, or None when it belongs here."""
    if booking is None:
        return _refused("invalid_ticket")
    theirs = booking.slot
    if theirs.site.edition_id != slot.site.edition_id:
        return _refused("wrong_edition")
    if theirs.site_id != slot.site_id:
        return _refused("wrong_site")
    if theirs.day != slot.day:
        return _refused("wrong_day", booking, f"Billet pour le {french_date(theirs.day)}, pas pour ce jour.")
    if theirs.id != slot.id:
        when = f"Billet pour le créneau de {french_time(theirs.start)} à {french_time(theirs.end)}."
        return _refused("wrong_slot", booking, when)
    if booking.status == BookingStatus.CANCELLED:
        return _refused("cancelled", booking)
    return None


def day_warning(slot: Slot, now: datetime) -> str | None:
    if now.astimezone(PARIS).date() != slot.day:
        return f"Attention : ce créneau est le {french_date(slot.day)}, pas aujourd'hui."
    return None


def live(direction: Direction):  # noqa: ANN201 (a SQL condition)
    return (CheckIn.direction == direction) & CheckIn.undone_at.is_(None)


def tallies(booking_id: int) -> tuple[int, int]:
    """Persons of a booking in and out so far (events not undone)."""
    rows = db.session.execute(
        select(CheckIn.direction, func.sum(CheckIn.admitted))
        .where(CheckIn.booking_id == booking_id, CheckIn.undone_at.is_(None))
        .group_by(CheckIn.direction)
    ).all()
    sums = {direction: int(total or 0) for direction, total in rows}
    return sums.get(Direction.ENTRY, 0), sums.get(Direction.EXIT, 0)


def entered_per_booking():  # noqa: ANN201 (a subquery)
    """(booking_id, n): persons of each booking in so far, to join to bookings."""
    return (
        select(CheckIn.booking_id, func.sum(CheckIn.admitted).label("n"))
        .where(live(Direction.ENTRY))
        .group_by(CheckIn.booking_id)
        .subquery()
    )


def last_entry(booking_id: int) -> CheckIn | None:
    return db.session.scalar(
        select(CheckIn)
        .where(CheckIn.booking_id == booking_id, live(Direction.ENTRY))
        .order_by(CheckIn.id.desc())
        .limit(1)
    )


def _already(booking: Booking, entered: int, exited: int) -> Answer:
    done = last_entry(booking.id)
    return Answer(ALREADY, _already_reason(done, entered), ALREADY, booking, done, None, entered, exited)


def _already_reason(done: CheckIn | None, entered: int) -> str:
    if done is None:
        return "Déjà entré·e·s."
    at = done.checked_in_at.astimezone(PARIS)
    who = done.by.name if done.by else "?"
    return (
        f"Déjà entré·e·s ({count_of(entered, 'personne', 'personnes')}) ; "
        f"dernière entrée le {french_date(at.date())} à {at:%H:%M}, par {who}."
    )


def check(slot: Slot, scanned: str, *, now: datetime | None = None) -> Answer:
    """What the gate would answer to an entry, without recording anything."""
    now = now or utcnow()
    booking = booking_of(scanned)
    refusal = judge(slot, booking)
    if refusal:
        return refusal
    entered, exited = tallies(booking.id)
    if entered >= booking.party_size:
        return _already(booking, entered, exited)
    return Answer(VALID, None, None, booking, None, day_warning(slot, now), entered, exited)


# ---- scanning ----------------------------------------------------------------------------------------


def check_in(
    user: User,
    slot: Slot,
    scanned: str,
    *,
    admitted: int | None = None,
    direction: Direction = Direction.ENTRY,
    female: int | None = None,
    male: int | None = None,
    now: datetime | None = None,
    checked_in_at: datetime | None = None,
    source: CheckInSource = CheckInSource.SCAN,
    device: str | None = None,
    client_key: str | None = None,
) -> Answer:
    """Judge the ticket in the slot's context and, when it belongs here, let `admitted` persons of its
    party in (default: all still outside) or out (`direction=exit`, default: all inside). `female` and
    `male` are the women/men among them when the steward tapped them. A refusal is logged and changes
    nothing; a replayed `client_key` answers what its first sending recorded."""
    now = now or utcnow()
    client_key = client_key or None
    found = booking_of(scanned)
    refusal = judge(slot, found)
    if refusal:
        return log_refusal(user, slot, refusal, scanned, source, now)
    # Under the booking's row lock from here: the sums read are the ones the new event adds to, and an
    # event sent again (or its twin recorded while this one waited for the lock) is found.
    booking = locking.lock(Booking, found.id)
    if client_key:
        replay = db.session.scalar(select(CheckIn).where(CheckIn.client_key == client_key))
        if replay is not None:
            return _replayed(replay, slot)
    if booking is None or booking.status == BookingStatus.CANCELLED:
        return log_refusal(user, slot, _refused("cancelled", booking), scanned, source, now)
    entered, exited = tallies(booking.id)
    if direction == Direction.ENTRY:
        room = booking.party_size - entered
        if room <= 0:
            return _already(booking, entered, exited)
        what = f"Il reste {count_of(room, 'personne', 'personnes')} à faire entrer sur {booking.party_size}."
    else:
        room = entered - exited
        if room <= 0:
            code = "not_inside" if entered == 0 else "already_out"
            return log_refusal(user, slot, _refused(code, booking), scanned, source, now)
        what = f"{count_of(room, 'personne', 'personnes')} de ce billet sur le site."
    admitted = room if admitted is None else admitted
    if not 1 <= admitted <= room:
        raise ValidationFailed.on("admitted", f"Entre 1 et {room}. {what}")
    _check_breakdown(admitted, female, male)
    row = CheckIn(
        booking_id=booking.id,
        slot_id=slot.id,
        direction=direction,
        admitted=admitted,
        female=female if female is not None or male is not None else None,
        male=male if female is not None or male is not None else None,
        checked_in_at=min(checked_in_at or now, now),
        recorded_at=now,
        by_id=user.id,
        source=source,
        device=(device or None) and device[:64],
        client_key=client_key,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        replay = client_key and db.session.scalar(select(CheckIn).where(CheckIn.client_key == client_key))
        if not replay:
            raise
        return _replayed(replay, slot)
    if direction == Direction.ENTRY:
        entered += admitted
    else:
        exited += admitted
    return Answer(VALID, None, None, booking, row, day_warning(slot, now), entered, exited, direction)


def _check_breakdown(admitted: int, female: int | None, male: int | None) -> None:
    if (female or 0) < 0 or (male or 0) < 0:
        raise ValidationFailed.on("female", "Les effectifs ne peuvent pas être négatifs.")
    if (female or 0) + (male or 0) > admitted:
        raise ValidationFailed.on("female", f"Femmes et hommes : {admitted} au plus en tout.")


def _replayed(event: CheckIn, slot: Slot) -> Answer:
    """The answer to an event sent again: what the first sending recorded, nothing added."""
    if event.slot_id != slot.id or event.booking is None:
        raise Conflict("Cette clé d'envoi a déjà servi pour un autre contrôle.", code="client_key_reused")
    entered, exited = tallies(event.booking_id)
    status = VALID if event.undone_at is None else ALREADY
    booking = event.booking
    return Answer(status, None, None, booking, event, None, entered, exited, event.direction)


# ---- refusals ----------------------------------------------------------------------------------------


def fingerprint(scanned: str) -> str:
    return hashlib.sha256((scanned or "").encode("utf-8", "replace")).hexdigest()[:12]


def log_refusal(
    user: User, slot: Slot, answer: Answer, scanned: str, source: str, now: datetime | None = None
) -> Answer:
    """Keep a refused scan for review (in the caller's transaction), then answer it."""
    own = answer.booking if answer.reason_code in OWN_SITE_REFUSALS else None
    db.session.add(
        RefusedScan(
            slot_id=slot.id,
            booking_id=own.id if own is not None else None,
            reason_code=answer.reason_code or "",
            reason=(answer.reason or "")[:300],
            fingerprint=fingerprint(scanned),
            source=str(source),
            at=now or utcnow(),
            by_id=user.id,
        )
    )
    return answer


def refused_scans(slot_ids: list[int], limit: int = 200) -> list[RefusedScan]:
    return list(
        db.session.scalars(
            select(RefusedScan)
            .where(RefusedScan.slot_id.in_(slot_ids))
            .order_by(RefusedScan.at.desc(), RefusedScan.id.desc())
            .limit(limit)
        )
    )


# ---- undo --------------------------------------------------------------------------------------------


def author(event: CheckIn | WalkIn) -> str:
    return event.by.name if event.by else "?"


def may_undo(user: User, by_id: int, recorded_at: datetime, now: datetime | None = None) -> None:
    """Its author may undo a gate event the same day (Paris time); the staff any day."""
    now = now or utcnow()
    if can(user, Permission.ADMINISTER):
        return
    if by_id != user.id:
        raise Forbidden(
            "Seule la personne qui l'a enregistré peut annuler ce contrôle.", code="not_your_checkin"
        )
    if recorded_at.astimezone(PARIS).date() != now.astimezone(PARIS).date():
        raise Conflict("Un contrôle ne peut être annulé que le jour même.", code="too_late")


def undo_check_in(user: User, event: CheckIn, *, now: datetime | None = None) -> CheckIn:
    """Undo a ticket's entry or exit, or an exit without ticket, recorded in the journal. Refused when
    it is already undone, or when it would leave more persons out than in."""
    now = now or utcnow()
    may_undo(user, event.by_id, event.recorded_at, now)
    if event.booking_id is not None:
        locking.lock(Booking, event.booking_id)
    else:
        locking.lock(Slot, event.slot_id)
    db.session.refresh(event)
    if event.undone_at is not None:
        raise Conflict("Ce contrôle est déjà annulé.", code="already_undone")
    if event.direction == Direction.ENTRY:
        entered, exited = tallies(event.booking_id)
        if entered - event.admitted < exited:
            raise Conflict(
                "Une partie de ce groupe est déjà ressortie : annulez d'abord sa sortie.", code="already_left"
            )
    event.undone_at, event.undone_by_id = now, user.id
    db.session.flush()
    what = "Entrée" if event.direction == Direction.ENTRY else "Sortie"
    ticket = f"réservation n° {event.booking_id}" if event.booking_id else "sans billet"
    summary = f"{what} annulée : {count_of(event.admitted, 'personne', 'personnes')}, {ticket}"
    journal_undo("checkin", event, user, now, summary)
    return event


def journal_undo(kind: str, event: CheckIn | WalkIn, user: User, now: datetime, summary: str) -> None:
    """The journal's line for an undone gate event: who undid what, recorded by whom."""
    audit.record(
        f"{kind}.undo",
        entity_type=kind,
        entity_id=event.id,
        actor=user,
        changes={"undone_at": [None, audit.plain(now)]},
        summary=f"{summary}, créneau n° {event.slot_id} (enregistrée par {author(event)})",
    )


def set_breakdown(
    user: User, event: CheckIn, female: int, male: int, *, now: datetime | None = None
) -> CheckIn:
    """The women/men among the persons of an entry, tapped by its steward after the scan (the rest
    unspecified); the same rules as an undo (its author, the same day)."""
    may_undo(user, event.by_id, event.recorded_at, now)
    if event.direction != Direction.ENTRY or event.undone_at is not None:
        raise Conflict("Seule une entrée en cours se répartit par genre.", code="not_an_entry")
    _check_breakdown(event.admitted, female, male)
    event.female, event.male = female, male
    db.session.flush()
    return event


# ---- search (manual fallback) ------------------------------------------------------------------------


def search_bookings(slot: Slot, query: str, limit: int = 20) -> list[tuple[Booking, int]]:
    """Confirmed bookings of the slot whose booker's name contains `query` (case-insensitive), with the
    persons of each already in."""
    words = query.strip()
    if len(words) < 2:
        return []
    entered = entered_per_booking()
    rows = db.session.execute(
        select(Booking, func.coalesce(entered.c.n, 0))
        .outerjoin(entered, entered.c.booking_id == Booking.id)
        .where(
            Booking.slot_id == slot.id,
            Booking.status == BookingStatus.CONFIRMED,
            func.lower(Booking.name).contains(words.lower()),
        )
        .order_by(Booking.name)
        .limit(limit)
    ).all()
    return [(b, int(n)) for b, n in rows]
