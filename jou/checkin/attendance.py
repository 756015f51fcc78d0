"""What the gate counted: attendance by gender per slot and site (for the factory's figures and the
statistics), who is on site now, and the factory's confirmed figures.

A ticket's persons count as the women/men the steward tapped at the gate, else in proportion to the
booking's breakdown (rounded down, the rest unspecified); walk-ins as counted (accompanying adults
unspecified). Undone events count for nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from core.auth.models import User
from core.errors import ValidationFailed
from core.extensions import db
from core.formatting import french_date
from core.models import HEADCOUNT, utcnow
from jou.bookings.calendar import site_zone
from jou.bookings.models import Booking, BookingStatus
from jou.checkin.models import AttendanceReport, CheckIn, Direction, WalkIn
from jou.models import Site, Slot


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
        return None if not self.booked else max(self.booked - self.checked_in, 0) / self.booked

    def add(self, other: Attendance) -> None:
        for name in (*HEADCOUNT, "booked", "checked_in", "walk_ins"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Party:
    """A booking's entries: persons tapped (with their women/men) and persons to scale."""

    tapped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HEADCOUNT, 0))
    untapped: int = 0


def slot_attendance(slot: Slot) -> Attendance:
    result = Attendance()
    bookings = db.session.scalars(
        select(Booking).where(Booking.slot_id == slot.id, Booking.status == BookingStatus.CONFIRMED)
    ).all()
    parties: dict[int, _Party] = defaultdict(_Party)
    for event in db.session.scalars(
        select(CheckIn).where(
            CheckIn.slot_id == slot.id,
            CheckIn.booking_id.is_not(None),
            CheckIn.direction == Direction.ENTRY,
            CheckIn.undone_at.is_(None),
        )
    ):
        party = parties[event.booking_id]
        if event.female is None:
            party.untapped += event.admitted
        else:
            party.tapped["female"] += event.female
            party.tapped["male"] += event.male
            party.tapped["unspecified"] += event.admitted - event.female - event.male
    for booking in bookings:
        result.booked += booking.party_size
        party = parties.get(booking.id)
        if party is None:
            continue
        counted = scaled(booking, party.untapped)
        for key in HEADCOUNT:
            value = party.tapped[key] + counted[key]
            setattr(result, key, getattr(result, key) + value)
            result.checked_in += value
    for walk_in in db.session.scalars(
        select(WalkIn).where(WalkIn.slot_id == slot.id, WalkIn.undone_at.is_(None))
    ):
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
    final = dict.fromkeys(HEADCOUNT, 0)
    for _slot, att in per_slot:
        total.add(att)
        for key, value in att.final.items():
            final[key] += value
    return per_slot, total, final


def confirm_attendance(
    user: User, slot: Slot, counts: dict[str, int], note: str = "", *, now: datetime | None = None
) -> AttendanceReport:
    """The factory's figures of a slot, from the slot's day on (in the site's own time zone): figures of a
    visit that has not happened yet would be counted as happened."""
    values = {k: int(counts.get(k) or 0) for k in HEADCOUNT}
    if any(v < 0 for v in values.values()):
        raise ValidationFailed.on("female", "Les effectifs ne peuvent pas être négatifs.")
    local_today = (now or utcnow()).astimezone(site_zone(slot.site)).date()
    if local_today < slot.day:
        raise ValidationFailed.on(
            "female",
            f"La visite n'a pas encore eu lieu : les chiffres se saisissent à partir du {french_date(slot.day)}.",
        )
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


# ---- who is on site ----------------------------------------------------------------------------------


@dataclass
class Presence:
    expected: int = 0  # persons booked (confirmed)
    arrived: int = 0  # persons in on a ticket or without one
    left: int = 0

    @property
    def on_site(self) -> int:
        return self.arrived - self.left

    def to_dict(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "arrived": self.arrived,
            "left": self.left,
            "on_site": self.on_site,
        }


def presence(slot_ids: list[int]) -> dict[int, Presence]:
    """Per slot: persons expected, arrived and gone (three grouped queries, whatever the number of slots)."""
    result = {slot_id: Presence() for slot_id in slot_ids}
    for slot_id, booked in db.session.execute(
        select(Booking.slot_id, func.sum(Booking.party_size))
        .where(Booking.slot_id.in_(slot_ids), Booking.status == BookingStatus.CONFIRMED)
        .group_by(Booking.slot_id)
    ):
        result[slot_id].expected = int(booked)
    for slot_id, direction, persons in db.session.execute(
        select(CheckIn.slot_id, CheckIn.direction, func.sum(CheckIn.admitted))
        .where(CheckIn.slot_id.in_(slot_ids), CheckIn.undone_at.is_(None))
        .group_by(CheckIn.slot_id, CheckIn.direction)
    ):
        if direction == Direction.ENTRY:
            result[slot_id].arrived += int(persons)
        else:
            result[slot_id].left += int(persons)
    for slot_id, persons in db.session.execute(
        select(WalkIn.slot_id, func.sum(WalkIn.persons))
        .where(WalkIn.slot_id.in_(slot_ids), WalkIn.undone_at.is_(None))
        .group_by(WalkIn.slot_id)
    ):
        result[slot_id].arrived += int(persons)
    return result


def site_presence(site: Site) -> tuple[dict[int, Presence], Presence]:
    per_slot = presence([slot.id for slot in site.slots])
    total = Presence()
    for p in per_slot.values():
        total.expected += p.expected
        total.arrived += p.arrived
        total.left += p.left
    return per_slot, total
