from __future__ import annotations

import enum
import unicodedata
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    case,
    event,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from core.extensions import db
from core.models import TimestampMixin, UTCDateTime


class Edition(TimestampMixin, db.Model):
    """One year's Journées Usines Ouvertes: Friday for schools, Saturday for the public."""

    __tablename__ = "editions"
    __table_args__ = (
        CheckConstraint("saturday > friday", name="days_in_order"),
        CheckConstraint("registration_closes >= registration_opens", name="registration_window"),
        CheckConstraint("booking_closes >= booking_opens", name="booking_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    friday: Mapped[date] = mapped_column(Date)
    saturday: Mapped[date] = mapped_column(Date)
    registration_opens: Mapped[date] = mapped_column(Date)
    registration_closes: Mapped[date] = mapped_column(Date)
    booking_opens: Mapped[date] = mapped_column(Date)
    booking_closes: Mapped[date] = mapped_column(Date)
    # Seats one booking may take, and confirmed bookings one email may hold, in this edition.
    max_party_size: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    max_bookings_per_email: Mapped[int] = mapped_column(Integer, default=3, server_default="3")

    sites: Mapped[list[Site]] = relationship(back_populates="edition")

    @property
    def days(self) -> tuple[date, date]:
        return (self.friday, self.saturday)

    def registration_open_on(self, day: date) -> bool:
        return self.registration_opens <= day <= self.registration_closes

    def booking_open_on(self, day: date) -> bool:
        return self.booking_opens <= day <= self.booking_closes


class SiteStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


STATUS_LABELS = {
    SiteStatus.DRAFT: "Brouillon",
    SiteStatus.SUBMITTED: "En attente de validation",
    SiteStatus.APPROVED: "Publié",
    SiteStatus.REJECTED: "Refusé",
}


class Audience(enum.StrEnum):
    SCHOOLS = "schools"  # Friday: collège and lycée classes
    PUBLIC = "public"  # Saturday: families and the general public


AUDIENCE_LABELS = {Audience.SCHOOLS: "Scolaires", Audience.PUBLIC: "Grand public"}


class Site(TimestampMixin, db.Model):
    """A factory site opening its doors for one edition."""

    __tablename__ = "sites"
    # Not stored: set by jou.services.set_site_location when a manual pin is far from the commune.
    location_warning = None
    __table_args__ = (
        UniqueConstraint("edition_id", "siret", name="uq_sites_edition_siret"),
        Index("ix_sites_edition_status", "edition_id", "status"),
        Index("ix_sites_region", "region"),
        Index("ix_sites_department", "department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=SiteStatus.DRAFT)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")

    company_name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(5))
    city: Mapped[str] = mapped_column(String(120))
    commune_insee: Mapped[str | None] = mapped_column(String(5), nullable=True)
    department: Mapped[str | None] = mapped_column(String(3), nullable=True)
    region: Mapped[str | None] = mapped_column(String(3), nullable=True)
    regional_group: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)

    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    # address | street | commune | department | manual; None until geocoded
    geo_precision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    geo_source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    geocoded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    contact_name: Mapped[str] = mapped_column(String(120))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(20))
    # Company, site and city folded (lower case, no accents) so that `q` matches "Électricité" and
    # "electricite" alike on SQLite (whose lower() is ASCII-only) and on PostgreSQL; kept by an event.
    search_text: Mapped[str] = mapped_column(Text, default="")

    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    edition: Mapped[Edition] = relationship(back_populates="sites")
    owner = relationship("User", foreign_keys=[owner_id])
    slots: Mapped[list[Slot]] = relationship(
        back_populates="site", order_by="(Slot.day, Slot.start)", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.status == SiteStatus.APPROVED


class Slot(db.Model):
    """A visit slot: wall-clock times at the site (Europe/Paris or the overseas zone), on one edition day."""

    __tablename__ = "slots"
    __table_args__ = (
        CheckConstraint('"end" > start', name="times_in_order"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("walk_in_seats >= 0", name="walk_in_seats_nonneg"),
        CheckConstraint("min_age IS NULL OR (min_age >= 0 AND min_age <= 99)", name="min_age_range"),
        Index("ix_slots_site_day", "site_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    audience: Mapped[str] = mapped_column(String(10))
    capacity: Mapped[int] = mapped_column(Integer)
    # Seats of confirmed bookings and of walk-ins, changed only by conditional UPDATEs of this row (never
    # read-then-write), so one row lock orders every seat change of the slot. Bookings stay within
    # capacity (CHECK); a steward's override may take walk-ins beyond it. `flask doctor` recounts both.
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    walk_in_seats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    min_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    protective_equipment: Mapped[str] = mapped_column(Text, default="")
    wheelchair_accessible: Mapped[bool] = mapped_column(Boolean, default=False)

    site: Mapped[Site] = relationship(back_populates="slots")

    @hybrid_property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken - self.walk_in_seats, 0)

    @seats_left.inplace.expression
    @classmethod
    def _seats_left_sql(cls) -> ColumnElement[int]:
        left = cls.capacity - cls.seats_taken - cls.walk_in_seats
        return case((left > 0, left), else_=0)


def search_key(value: str | None) -> str:
    """Lower case without accents: the form `Site.search_text` and search terms are compared in."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@event.listens_for(Site, "before_insert")
@event.listens_for(Site, "before_update")
def _refresh_search_text(_mapper, _connection, site: Site) -> None:  # noqa: ANN001
    site.search_text = search_key(" ".join((site.company_name or "", site.name or "", site.city or "")))
