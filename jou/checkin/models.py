"""Check-ins at the gate, walk-ins and the factory's final attendance figures.

A check-in is one row per booking (UNIQUE booking_id): the same ticket scanned twice, on one phone or on
two offline phones, is counted once. Walk-ins are counts (never persons) in `walk_ins`, held within the
slot's capacity with the bookings by a conditional UPDATE of `slots.walk_in_seats` unless explicitly
overridden.
An attendance report holds the figures the factory confirms or corrects after the day; raw scans stay.
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


class CheckIn(db.Model):
    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("admitted > 0", name="admitted_positive"),
        CheckConstraint("source IN ('scan', 'offline', 'link')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    admitted: Mapped[int] = mapped_column(Integer)
    # When the visitors came in (the phone's clock for offline check-ins) and when the server learnt it.
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10), default=CheckInSource.SCAN)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)

    booking: Mapped[Booking] = relationship(Booking)
    slot: Mapped[Slot] = relationship(Slot)
    by = relationship("User")


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

    by = relationship("User")

    @hybrid_property
    def persons(self) -> int:
        """Everyone admitted: the headcount and the accompanying adults."""
        return self.total + self.adults


class AttendanceReport(HeadcountMixin, db.Model):
    """The final figures of a slot as the factory confirmed or corrected them (statistics use these)."""

    __tablename__ = "attendance_reports"
    __table_args__ = (headcount_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
