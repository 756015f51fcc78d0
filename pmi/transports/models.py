"""Campus transports: a chartered bus of a regional group (GR), and its pickup stops in order."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, Time, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from core.extensions import db
from core.models import HEADCOUNT, HeadcountMixin, TimestampMixin, headcount_check
from pmi.transports.campuses import CAMPUS_CODES, campus_label


class TransportStatus(enum.StrEnum):
    PLANNED = "planned"
    CONFIRMED = "confirmed"
    DONE = "done"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    TransportStatus.PLANNED: "Prévu",
    TransportStatus.CONFIRMED: "Confirmé",
    TransportStatus.DONE: "Effectué",
    TransportStatus.CANCELLED: "Annulé",
}

_CAMPUS_IN = ", ".join(f"'{code}'" for code in CAMPUS_CODES)


class Transport(TimestampMixin, db.Model):
    """One bus. `seats_taken` is the sum of the stops' planned pupils and teachers, changed only by the
    conditional UPDATE of pmi.transports.services (never read-then-write)."""

    __tablename__ = "transports"
    __table_args__ = (
        CheckConstraint("seats > 0", name="seats_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= seats", name="seats_within"),
        CheckConstraint("return_time > departure_time", name="return_after_departure"),
        CheckConstraint("cost IS NULL OR cost >= 0", name="cost_nonneg"),
        CheckConstraint("status IN ('planned', 'confirmed', 'done', 'cancelled')", name="status_known"),
        CheckConstraint(f"campus IN ({_CAMPUS_IN})", name="campus_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    regional_group_code: Mapped[str] = mapped_column(ForeignKey("regional_groups.code"), index=True)
    campus: Mapped[str] = mapped_column(String(20), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    departure_time: Mapped[dt.time] = mapped_column(Time)
    return_time: Mapped[dt.time] = mapped_column(Time)
    operator: Mapped[str] = mapped_column(String(200), default="")
    seats: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=TransportStatus.PLANNED.value)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    regional_group = relationship("RegionalGroup")
    created_by = relationship("User")
    stops: Mapped[list[TransportStop]] = relationship(
        back_populates="transport", order_by="TransportStop.position", cascade="all, delete-orphan"
    )

    @property
    def campus_label(self) -> str:
        return campus_label(self.campus)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken


class TransportStop(HeadcountMixin, TimestampMixin, db.Model):
    """A pickup at a school: planned pupils (the headcount) and teachers; the actual counts once done."""

    __tablename__ = "transport_stops"
    __table_args__ = (
        headcount_check(),
        CheckConstraint("teachers >= 0", name="teachers_nonneg"),
        CheckConstraint(
            "(actual_female IS NULL OR actual_female >= 0) AND (actual_male IS NULL OR actual_male >= 0)"
            " AND (actual_unspecified IS NULL OR actual_unspecified >= 0)"
            " AND (actual_teachers IS NULL OR actual_teachers >= 0)",
            name="actual_nonneg",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transport_id: Mapped[int] = mapped_column(ForeignKey("transports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pickup_time: Mapped[dt.time] = mapped_column(Time)
    teachers: Mapped[int] = mapped_column(Integer, default=0)
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    actual_female: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actual_male: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actual_unspecified: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actual_teachers: Mapped[int | None] = mapped_column(Integer, nullable=True)

    transport: Mapped[Transport] = relationship(back_populates="stops")
    school = relationship("School")

    @property
    def pupils(self) -> int:
        return self.total

    @property
    def seats_used(self) -> int:
        return self.pupils + self.teachers

    @property
    def has_actual(self) -> bool:
        return self.actual_female is not None

    @classmethod
    def counted(cls) -> dict[str, ColumnElement[int]]:
        """What statistics count of a stop, per gender (for core.models.headcount_sums): the actual count
        once recorded, else the planned one."""
        return {name: func.coalesce(getattr(cls, f"actual_{name}"), getattr(cls, name)) for name in HEADCOUNT}

    @property
    def actual_pupils(self) -> int | None:
        if not self.has_actual:
            return None
        return (self.actual_female or 0) + (self.actual_male or 0) + (self.actual_unspecified or 0)

    @property
    def school_uai(self) -> str:
        return self.school.uai if self.school else ""
