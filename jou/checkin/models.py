"""Check-ins at the gate, walk-ins, refused scans and the factory's final attendance figures.

A check-in is one event: persons of a booking let in (`entry`) or out (`exit`), or persons without a
ticket going out (`exit`, no booking). A group may come in several times (2 of 4, then the other 2);
what a booking has in and out is the sum of its events that are not undone, read under the booking's row
lock (jou.checkin.services), so two phones scanning one ticket let its party in once. An undone event
stays, with who undid it and when. Walk-ins are counts (never persons) in `walk_ins`, held within the
slot's capacity with the bookings by a conditional UPDATE of `slots.walk_in_seats` unless explicitly
overridden. An attendance report holds the figures the factory confirms or corrects after the day; raw
scans stay.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import HeadcountMixin, UTCDateTime, headcount_check, utcnow
from jou.bookings.models import Booking
from jou.models import Slot


class CheckInSource(enum.StrEnum):
    SCAN = "scan"  # camera or typed code, online
    OFFLINE = "offline"  # recorded by a phone without network, merged later
    LINK = "link"  # the QR's own URL opened by a signed-in steward


class Direction(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class CheckIn(db.Model):
    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("admitted > 0", name="admitted_positive"),
        CheckConstraint("source IN ('scan', 'offline', 'link')", name="source_known"),
        CheckConstraint("direction IN ('entry', 'exit')", name="direction_known"),
        CheckConstraint("booking_id IS NOT NULL OR direction = 'exit'", name="entry_has_ticket"),
        CheckConstraint(
            "(female IS NULL AND male IS NULL) OR (female >= 0 AND male >= 0 AND female + male <= admitted)",
            name="breakdown_within_admitted",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: persons without a ticket (walk-ins) going out.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True, nullable=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    direction: Mapped[str] = mapped_column(String(5), default=Direction.ENTRY, server_default="entry")
    # Persons let in (or out) by this event.
    admitted: Mapped[int] = mapped_column(Integer)
    # Women/men among them when the steward tapped them (None: scaled from the booking's breakdown).
    female: Mapped[int | None] = mapped_column(Integer, nullable=True)
    male: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # When the visitors came in (the phone's clock for offline check-ins) and when the server learnt it.
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10), default=CheckInSource.SCAN)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A phone's id for the event, so a replayed offline batch adds nothing.
    client_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    booking: Mapped[Booking | None] = relationship(Booking)
    slot: Mapped[Slot] = relationship(Slot)
    by = relationship("User", foreign_keys=[by_id])
    undone_by = relationship("User", foreign_keys=[undone_by_id])


class WalkIn(HeadcountMixin, db.Model):
    """Visitors admitted without a booking: women/men/unspecified, or girls/boys/unspecified + adults."""

    __tablename__ = "walk_ins"
    __table_args__ = (
        headcount_check(),
        CheckConstraint("adults >= 0", name="adults_nonneg"),
        CheckConstraint("female + male + unspecified + adults > 0", name="someone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    adults: Mapped[int] = mapped_column(Integer, default=0)
    # True when the factory admitted them beyond the slot's capacity, knowingly (who and when: by, at).
    over_capacity: Mapped[bool] = mapped_column(Boolean, default=False)
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # A phone's id for the entry, so a replayed offline batch adds nothing.
    client_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    by = relationship("User", foreign_keys=[by_id])
    undone_by = relationship("User", foreign_keys=[undone_by_id])

    @hybrid_property
    def persons(self) -> int:
        """Everyone admitted: the headcount and the accompanying adults."""
        return self.total + self.adults


class RefusedScan(db.Model):
    """A ticket the gate refused, for the factory and the staff to review. Only what the factory may see:
    the booking when it is one of this site's (cancelled, another day or slot), never another site's."""

    __tablename__ = "refused_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    reason_code: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(300))
    # The first characters of the SHA-256 of what was read: tells repeated codes apart, reveals nothing.
    fingerprint: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    booking: Mapped[Booking | None] = relationship(Booking)
    slot: Mapped[Slot] = relationship(Slot)
    by = relationship("User")


class AttendanceReport(HeadcountMixin, db.Model):
    """The final figures of a slot as the factory confirmed or corrected them (statistics use these)."""

    __tablename__ = "attendance_reports"
    __table_args__ = (headcount_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
