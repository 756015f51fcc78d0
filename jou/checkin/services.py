"""Rules of the gate: which ticket is admitted, walk-ins within capacity, offline merge, attendance.

The scanner chooses a check-in context (a slot of a site it may edit); a ticket is judged against it:
another edition, another site, another day or another slot of the same site, a cancelled booking, or a
token that is not exactly one we issued (forged, altered, truncated, another QR code) is refused and
nothing is recorded. The slot's day is NOT a rule: a steward may check in on any day (a rehearsal, a
clock off by a day, the tests); the answer then carries a `warning`.

One check-in per booking is a UNIQUE constraint: two phones (online or offline) checking the same ticket
count it once — the second gets "already_checked_in" — and a replayed offline batch adds nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core import locking
from core.auth.models import User
from core.auth.permissions import Permission, can
from core.errors import AppError, Conflict, ValidationFailed
from core.extensions import db
from core.formatting import PARIS, french_date, french_time
from core.models import utcnow
from jou.bookings import tokens
from jou.bookings.models import Booking, BookingKind, BookingStatus
from jou.checkin.models import AttendanceReport, CheckIn, CheckInSource, WalkIn
from jou.models import Site, Slot

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
}


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
    checkin: CheckIn | None = None
    warning: str | None = None

    @property
    def party_size(self) -> int | None:
        return self.booking.party_size if self.booking else None

    @property
    def checked_in_at(self) -> datetime | None:
        return self.checkin.checked_in_at if self.checkin else None

    def to_dict(self) -> dict[str, Any]:
        booking, checkin = self.booking, self.checkin
        data: dict[str, Any] = {
            "status": self.status,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "party_size": self.party_size,
            "checked_in_at": self.checked_in_at.isoformat() if self.checked_in_at else None,
            "warning": self.warning,
        }
        if booking is not None and self.status != REFUSED:
            data |= {
                "booking_id": booking.id,
                "name": booking.name,
                "school": booking.uai if booking.kind == BookingKind.SCHOOL else None,
                "level": booking.level,
                "kind": booking.kind,
                "admitted": checkin.admitted if checkin else None,
                "checked_in_by": checkin.by.name if checkin and checkin.by else None,
            }
        return data


def _refused(code: str, booking: Booking | None = None) -> Answer:
    return Answer(REFUSED, REASONS[code], code, booking)


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
        answer = _refused("wrong_day")
        answer.reason = f"Billet pour le {french_date(theirs.day)}, pas pour ce jour."
        return answer
    if theirs.id != slot.id:
        answer = _refused("wrong_slot")
        answer.reason = f"Billet pour le créneau de {french_time(theirs.start)} à {french_time(theirs.end)}."
        return answer
    if booking.status == BookingStatus.CANCELLED:
        return _refused("cancelled")
    return None


def day_warning(slot: Slot, now: datetime) -> str | None:
    if now.astimezone(PARIS).date() != slot.day:
        return f"Attention : ce créneau est le {french_date(slot.day)}, pas aujourd'hui."
    return None


def existing_checkin(booking_id: int) -> CheckIn | None:
    return db.session.scalar(select(CheckIn).where(CheckIn.booking_id == booking_id))


def check(slot: Slot, scanned: str, *, now: datetime | None = None) -> Answer:
    """What the gate would answer, without recording anything."""
    now = now or utcnow()
    booking = booking_of(scanned)
    refusal = judge(slot, booking)
    if refusal:
        return refusal
    done = existing_checkin(booking.id)
    if done:
        return Answer(ALREADY, _already_reason(done), "already_checked_in", booking, done)
    return Answer(VALID, None, None, booking, warning=day_warning(slot, now))


def _already_reason(done: CheckIn) -> str:
    at = done.checked_in_at.astimezone(PARIS)
    who = done.by.name if done.by else "?"
    return f"Déjà entré·e·s le {french_date(at.date())} à {at:%H:%M} ({done.admitted} pers.), par {who}."


def check_in(
    user: User,
    slot: Slot,
    scanned: str,
    *,
    admitted: int | None = None,
    now: datetime | None = None,
    checked_in_at: datetime | None = None,
    source: CheckInSource = CheckInSource.SCAN,
    device: str | None = None,
) -> Answer:
    """Judge the ticket in the slot's context and, when valid, record the check-in (all of the party, or
    `admitted` of them). A refusal records nothing."""
    now = now or utcnow()
    answer = check(slot, scanned, now=now)
    if answer.status != VALID:
        return answer
    booking = answer.booking
    admitted = booking.party_size if admitted is None else admitted
    if not 1 <= admitted <= booking.party_size:
        raise ValidationFailed.on("admitted", f"Entre 1 et {booking.party_size} personnes.")
    row = CheckIn(
        booking_id=booking.id,
        slot_id=slot.id,
        admitted=admitted,
        checked_in_at=min(checked_in_at or now, now),
        recorded_at=now,
        by_id=user.id,
        source=source,
        device=(device or None) and device[:64],
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # Another phone checked this ticket in between: it counts once, the first one stays.
        done = existing_checkin(booking.id)
        if done is None:
            raise
        return Answer(ALREADY, _already_reason(done), "already_checked_in", booking, done)
    answer.checkin = row
    return answer


def undo_check_in(checkin: CheckIn) -> None:
    db.session.delete(checkin)
    db.session.flush()


# ---- search (manual fallback) ------------------------------------------------------------------------


def search_bookings(slot: Slot, query: str, limit: int = 20) -> list[tuple[Booking, CheckIn | None]]:
    """Confirmed bookings of the slot whose booker's name contains `query` (case-insensitive)."""
    words = query.strip()
    if len(words) < 2:
        return []
    rows = db.session.execute(
        select(Booking, CheckIn)
        .outerjoin(CheckIn, CheckIn.booking_id == Booking.id)
        .where(
            Booking.slot_id == slot.id,
            Booking.status == BookingStatus.CONFIRMED,
            func.lower(Booking.name).contains(words.lower()),
        )
        .order_by(Booking.name)
        .limit(limit)
    ).all()
    return [(b, c) for b, c in rows]


# ---- walk-ins ----------------------------------------------------------------------------------------


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
    """Visitors without a booking. They take seats of the slot row like an online booking (one
    conditional UPDATE), so bookings plus walk-ins stay within the slot's capacity unless the factory
    overrides it; the override is recorded (by whom, when). A replayed `client_key` (an offline phone
    sending its batch again, or twice at once) gives back the first walk-in and takes no seat."""
    now = now or utcnow()
    counts = {k: int(counts.get(k) or 0) for k in ("female", "male", "unspecified", "adults")}
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
            f"Capacité du créneau atteinte : il reste {left} place(s). Cochez « dépasser la capacité » "
            "pour les faire entrer quand même."
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


# ---- offline -----------------------------------------------------------------------------------------


def ticket_digest(token: str) -> str:
    """What the offline list holds instead of the ticket: a leaked list cannot be turned into tickets."""
    return hashlib.sha256(token.encode()).hexdigest()


def _list_key(slot: Slot) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"jou-checkin-list:{slot.id}".encode(), hashlib.sha256).digest()


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def offline_list(slot: Slot, *, now: datetime | None = None) -> dict:
    """The slot's valid tickets for checking without the server, signed HMAC-SHA256 with a key derived
    from the app secret for this slot only; the key is given with the list to the slot's own stewards,
    whose page verifies the list (WebCrypto) before trusting a copy kept in the phone's storage."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Booking, CheckIn)
        .outerjoin(CheckIn, CheckIn.booking_id == Booking.id)
        .where(Booking.slot_id == slot.id, Booking.status == BookingStatus.CONFIRMED)
        .order_by(Booking.id)
    ).all()
    payload = {
        "slot_id": slot.id,
        "site_id": slot.site_id,
        "day": slot.day.isoformat(),
        "generated_at": now.isoformat(),
        "tickets": [
            {
                "digest": ticket_digest(tokens.ticket_token(b)),
                "booking_id": b.id,
                "name": b.name,
                "party_size": b.party_size,
                "checked_in": c is not None,
            }
            for b, c in rows
        ],
    }
    signature = hmac.new(_list_key(slot), canonical(payload), hashlib.sha256).hexdigest()
    return {"payload": payload, "signature": signature, "key": _list_key(slot).hex(), "alg": "HMAC-SHA256"}


def verify_offline_list(slot: Slot, signed: dict) -> bool:
    expected = hmac.new(_list_key(slot), canonical(signed["payload"]), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signed.get("signature", ""))


def merge_offline(user: User, slot: Slot, entries: list[dict], *, device: str | None = None) -> list[dict]:
    """Check-ins a phone recorded offline: each judged as online, recorded once (the earliest phone to
    sync keeps its time); a replayed batch answers "already_checked_in" and adds nothing."""
    now = utcnow()
    results = []
    for entry in entries:
        try:
            with db.session.begin_nested():
                answer = check_in(
                    user,
                    slot,
                    entry.get("token") or "",
                    admitted=entry.get("admitted"),
                    now=now,
                    checked_in_at=entry.get("checked_in_at"),
                    source=CheckInSource.OFFLINE,
                    device=device,
                )
        except ValidationFailed as exc:
            # One bad entry (e.g. more people than the booking holds now) must not block the phone's
            # whole batch forever: it is refused alone, with its reason, and the others are recorded.
            reason = " ".join(m for messages in exc.fields.values() for m in messages) or exc.message
            answer = Answer(REFUSED, reason, "invalid_entry")
        results.append(answer.to_dict())
    return results


# ---- attendance --------------------------------------------------------------------------------------


def scaled(booking: Booking, admitted: int) -> dict[str, int]:
    """The booking's breakdown for `admitted` of its party: women and men in proportion (rounded down),
    the rest (accompanying adults, rounding, unknown) unspecified."""
    size = booking.party_size
    female = booking.female * admitted // size
    male = booking.male * admitted // size
    return {"female": female, "male": male, "unspecified": admitted - female - male}


@dataclass
class Attendance:
    female: int = 0
    male: int = 0
    unspecified: int = 0
    booked: int = 0  # people booked (confirmed)
    checked_in: int = 0  # people admitted on a ticket
    walk_ins: int = 0
    reported: AttendanceReport | None = None

    @property
    def measured_total(self) -> int:
        return self.female + self.male + self.unspecified

    @property
    def final(self) -> dict[str, int]:
        """The figures statistics use: the factory's report when there is one, else the gate's."""
        source = self.reported or self
        return {"female": source.female, "male": source.male, "unspecified": source.unspecified}

    @property
    def final_total(self) -> int:
        return sum(self.final.values())

    @property
    def no_show_rate(self) -> float | None:
        return None if not self.booked else (self.booked - self.checked_in) / self.booked

    def add(self, other: Attendance) -> None:
        for name in ("female", "male", "unspecified", "booked", "checked_in", "walk_ins"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def slot_attendance(slot: Slot) -> Attendance:
    result = Attendance()
    for booking, checkin in db.session.execute(
        select(Booking, CheckIn)
        .outerjoin(CheckIn, CheckIn.booking_id == Booking.id)
        .where(Booking.slot_id == slot.id, Booking.status == BookingStatus.CONFIRMED)
    ).all():
        result.booked += booking.party_size
        if checkin:
            result.checked_in += checkin.admitted
            for key, value in scaled(booking, checkin.admitted).items():
                setattr(result, key, getattr(result, key) + value)
    for walk_in in db.session.scalars(select(WalkIn).where(WalkIn.slot_id == slot.id)):
        result.female += walk_in.female
        result.male += walk_in.male
        result.unspecified += walk_in.unspecified + walk_in.adults
        result.walk_ins += walk_in.persons
    result.reported = db.session.scalar(select(AttendanceReport).where(AttendanceReport.slot_id == slot.id))
    return result


def site_attendance(site: Site) -> tuple[list[tuple[Slot, Attendance]], Attendance, dict[str, int]]:
    """Per slot, the sum of the gate's figures, and the sum of the final figures."""
    per_slot = [(slot, slot_attendance(slot)) for slot in site.slots]
    total = Attendance()
    final = {"female": 0, "male": 0, "unspecified": 0}
    for _slot, att in per_slot:
        total.add(att)
        for key, value in att.final.items():
            final[key] += value
    return per_slot, total, final


def confirm_attendance(user: User, slot: Slot, counts: dict[str, int], note: str = "") -> AttendanceReport:
    values = {k: int(counts.get(k) or 0) for k in ("female", "male", "unspecified")}
    if any(v < 0 for v in values.values()):
        raise ValidationFailed.on("female", "Les effectifs ne peuvent pas être négatifs.")
    report = db.session.scalar(select(AttendanceReport).where(AttendanceReport.slot_id == slot.id))
    if report is None:
        report = AttendanceReport(slot_id=slot.id)
        db.session.add(report)
    for key, value in values.items():
        setattr(report, key, value)
    report.note = note or ""
    report.confirmed_at = utcnow()
    report.confirmed_by_id = user.id
    db.session.flush()
    return report
