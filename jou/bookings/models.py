"""Bookings of visit slots and their waiting lists.

A booking holds seats of one slot: `party_size` seats, taken and given back only by conditional UPDATEs
in jou.bookings.services. A public booking is a party of people (women/men/unspecified, unspecified by
default); a school booking is a class: pupils as counts (girls/boys/unspecified — never names) plus
accompanying adults, so `party_size == female + male + unspecified + adults` for both kinds.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import HeadcountMixin, PersonalData, TimestampMixin, UTCDateTime, headcount_check, utcnow
from core.schools import School, SchoolKind
from jou.models import Slot


class BookingKind(enum.StrEnum):
    PUBLIC = "public"  # a party of the general public (Saturday)
    SCHOOL = "school"  # a class with its teachers (Friday)


class BookingStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # seats held for the party until offer_expires_at: it confirms, or they pass on
    PROMOTED = "promoted"  # the offer accepted: a booking
    CANCELLED = "cancelled"  # left the list (or declined the offer)
    EXPIRED = "expired"  # the offer ran out unanswered


# Class levels a teacher picks from (collège, lycée, voie professionnelle, post-bac).
SCHOOL_LEVELS = {
    "6e": "Sixième",
    "5e": "Cinquième",
    "4e": "Quatrième",
    "3e": "Troisième",
    "2nde": "Seconde",
    "1re": "Première",
    "Tle": "Terminale",
    "CAP": "CAP",
    "Bac pro": "Bac professionnel",
    "BTS": "BTS",
    "BUT": "BUT",
    "CPGE": "Classe préparatoire",
}
_LYCEE = ("2nde", "1re", "Tle")
# The classes each kind of school of the directory teaches: a collège has no Terminale, a lycée no
# Quatrième (lycées professionnels have 3e prépa-métiers; lycées host BTS and classes préparatoires).
LEVELS_BY_KIND: dict[str, tuple[str, ...]] = {
    SchoolKind.COLLEGE: ("6e", "5e", "4e", "3e"),
    SchoolKind.LYCEE_GT: (*_LYCEE, "BTS", "CPGE"),
    SchoolKind.LYCEE_PRO: ("3e", *_LYCEE, "CAP", "Bac pro", "BTS"),
    SchoolKind.POST_BAC: ("BTS", "BUT", "CPGE"),
    SchoolKind.OTHER: tuple(SCHOOL_LEVELS),
}


class Booking(PersonalData, HeadcountMixin, TimestampMixin, db.Model):
    __tablename__ = "bookings"
    # The key and its digest are the visitor's own request (the digest covers their name and address).
    __personal__ = ("name", "email", "phone", "idempotency_key", "idempotency_fingerprint")
    __not_personal__ = ("kind", "status", "uai", "level")
    __table_args__ = (
        headcount_check(),
        CheckConstraint("party_size > 0", name="party_size_positive"),
        CheckConstraint("adults >= 0", name="adults_nonneg"),
        CheckConstraint("female + male + unspecified + adults = party_size", name="party_matches_headcount"),
        CheckConstraint("kind IN ('public', 'school')", name="kind_known"),
        CheckConstraint("status IN ('confirmed', 'cancelled')", name="status_known"),
        Index("ix_bookings_slot_status", "slot_id", "status"),
        # The per-address rules' lookup (email = ? AND status = ?): exactly its equalities, so PostgreSQL
        # takes it even on tables without statistics (migration 0014); it serves email lookups too.
        Index("ix_bookings_email_status", "email", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=BookingStatus.CONFIRMED)
    party_size: Mapped[int] = mapped_column(Integer)
    adults: Mapped[int] = mapped_column(Integer, default=0)
    uai: Mapped[str | None] = mapped_column(String(8), nullable=True)
    level: Mapped[str | None] = mapped_column(String(10), nullable=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the person's name, e-mail and phone were erased (jou.bookings.privacy); the counts stay.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Raised by each change of the party and by the cancellation: the SEQUENCE of its calendar event.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A resubmitted form or API call carries the same key: the constraint makes it one booking.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    # A digest of the request the key was first used with: the same key with another request is refused.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)

    slot: Mapped[Slot] = relationship(Slot)
    # A class's school in the directory (its name for the factory; the booking keeps only the UAI).
    school: Mapped[School | None] = relationship(
        School, primaryjoin="foreign(Booking.uai) == School.uai", viewonly=True
    )

    # Not a column: services.book() sets it on a booking returned again for a replayed idempotency key.
    replayed = False

    @property
    def is_confirmed(self) -> bool:
        return self.status == BookingStatus.CONFIRMED

    @property
    def pupils(self) -> int:
        return self.total

    def __repr__(self) -> str:
        return f"<Booking {self.id} slot={self.slot_id} {self.kind} {self.party_size} {self.status}>"


class WaitlistEntry(PersonalData, HeadcountMixin, TimestampMixin, db.Model):
    """A party waiting for a full public slot; promoted in order of `created_at` (then id)."""

    __tablename__ = "waitlist_entries"
    __personal__ = ("name", "email", "phone")
    __not_personal__ = ("status",)
    __table_args__ = (
        headcount_check(),
        CheckConstraint("party_size > 0", name="party_size_positive"),
        CheckConstraint("female + male + unspecified = party_size", name="party_matches_headcount"),
        CheckConstraint(
            "status IN ('waiting', 'offered', 'promoted', 'cancelled', 'expired')", name="status_known"
        ),
        CheckConstraint("status != 'offered' OR offer_expires_at IS NOT NULL", name="offer_has_deadline"),
        Index("ix_waitlist_entries_slot_status", "slot_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    party_size: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=WaitlistStatus.WAITING)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    slot: Mapped[Slot] = relationship(Slot)
    booking: Mapped[Booking | None] = relationship(Booking)

    def __repr__(self) -> str:
        return f"<WaitlistEntry {self.id} slot={self.slot_id} {self.party_size} {self.status}>"


AGREEMENT = {1: "Pas du tout d'accord", 2: "Plutôt pas d'accord", 3: "Ni l'un ni l'autre", 4: "Plutôt d'accord",
             5: "Tout à fait d'accord"}  # fmt: skip
RESPONDENT_GENDERS = {"female": "Femme", "male": "Homme", "other": "Autre ou préfère ne pas dire"}
AGE_BANDS = {"under_15": "Moins de 15 ans", "15_17": "15-17 ans", "18_25": "18-25 ans", "26_40": "26-40 ans",
             "41_60": "41-60 ans", "over_60": "Plus de 60 ans"}  # fmt: skip


class SurveyAnswer(PersonalData, TimestampMixin, db.Model):
    """One party's (or one class's teacher's) answer to the survey after the visit: one per booking, updated
    while the survey is open. Only the satisfaction is required; the comment goes to the factory."""

    __tablename__ = "survey_answers"
    __personal__ = ("comment",)  # free text: may name someone
    __not_personal__ = ("respondent_gender", "age_band")
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_scale"),
        CheckConstraint("changed_view IS NULL OR changed_view BETWEEN 1 AND 5", name="changed_view_scale"),
        CheckConstraint(
            "could_work_before IS NULL OR could_work_before BETWEEN 1 AND 5", name="before_scale"
        ),
        CheckConstraint("could_work_now IS NULL OR could_work_now BETWEEN 1 AND 5", name="now_scale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    satisfaction: Mapped[int] = mapped_column(Integer)
    changed_view: Mapped[int | None] = mapped_column(Integer, nullable=True)
    could_work_before: Mapped[int | None] = mapped_column(Integer, nullable=True)
    could_work_now: Mapped[int | None] = mapped_column(Integer, nullable=True)
    respondent_gender: Mapped[str | None] = mapped_column(String(10), nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(10), nullable=True)
    comment: Mapped[str] = mapped_column(String(2000), default="")

    booking: Mapped[Booking] = relationship(Booking)


class InterestSubscription(PersonalData, TimestampMixin, db.Model):
    """ "Tell me when booking opens" for a region or a department: confirmed by a link e-mailed to the
    address (double opt-in), one e-mail per edition when its booking opens, unsubscribed in one click."""

    __tablename__ = "interest_subscriptions"
    __personal__ = ("email",)
    __not_personal__ = ("region", "department")
    __table_args__ = (
        CheckConstraint("(region IS NULL) != (department IS NULL)", name="one_area"),
        Index("ix_interest_subscriptions_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    region: Mapped[str | None] = mapped_column(String(3), nullable=True)
    department: Mapped[str | None] = mapped_column(String(3), nullable=True)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


def waitlist_position(entry: WaitlistEntry) -> int | None:
    """1 for the first waiting party of the slot; None once the entry is no longer waiting."""
    if entry.status != WaitlistStatus.WAITING:
        return None
    ahead = db.session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.slot_id == entry.slot_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
            (WaitlistEntry.created_at < entry.created_at)
            | ((WaitlistEntry.created_at == entry.created_at) & (WaitlistEntry.id < entry.id)),
        )
    )
    return (ahead or 0) + 1
