"""PMI tables: the schools directory (from the Annuaire de l'éducation), volunteers and interventions."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import TimestampMixin


class SchoolKind(enum.StrEnum):
    COLLEGE = "college"
    LYCEE_GT = "lycee_gt"  # général et technologique, and polyvalent lycées
    LYCEE_PRO = "lycee_pro"
    POST_BAC = "post_bac"
    OTHER = "other"


KIND_LABELS = {
    SchoolKind.COLLEGE: "Collège",
    SchoolKind.LYCEE_GT: "Lycée général et technologique",
    SchoolKind.LYCEE_PRO: "Lycée professionnel",
    SchoolKind.POST_BAC: "Établissement post-bac",
    SchoolKind.OTHER: "Autre établissement",
}


class SchoolSector(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


SECTOR_LABELS = {SchoolSector.PUBLIC: "Public", SchoolSector.PRIVATE: "Privé"}


class School(TimestampMixin, db.Model):
    """One establishment of the Annuaire de l'éducation, upserted by UAI (pmi.schools.import_schools)."""

    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('college', 'lycee_gt', 'lycee_pro', 'post_bac', 'other')", name="kind_known"
        ),
        CheckConstraint("sector IN ('public', 'private')", name="sector_known"),
        CheckConstraint("pupils IS NULL OR pupils >= 0", name="pupils_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    sector: Mapped[str] = mapped_column(String(10))
    street: Mapped[str | None] = mapped_column(String(300), nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(5), nullable=True)
    city: Mapped[str] = mapped_column(String(100))
    commune_insee: Mapped[str | None] = mapped_column(String(5), nullable=True)
    department: Mapped[str] = mapped_column(String(3), index=True)
    academie_code: Mapped[str | None] = mapped_column(String(3), nullable=True, index=True)  # stats filter
    academie_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    region: Mapped[str | None] = mapped_column(String(3), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    pupils: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # core.geography.names.fold(name): what "starts with" ranking compares a typed query with.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    # fold(name) + fold(city) + lowercase UAI: every query word must occur in it (LIKE, both databases).
    search_key: Mapped[str] = mapped_column(String(320))

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def sector_label(self) -> str:
        return SECTOR_LABELS.get(self.sector, self.sector)


# --- volunteers and interventions ---

# Below the marker, pmi's second part; its imports stay here so the two parts can be edited apart.
import datetime as dt  # noqa: E402 - "date" is a column name here

from sqlalchemy import Column, Date, ForeignKey, Index, Table, Text  # noqa: E402
from sqlalchemy.orm import relationship  # noqa: E402

from core.models import HeadcountMixin, headcount_check  # noqa: E402


class InterventionKind(enum.StrEnum):
    CLASS_TALK = "class_talk"
    FORUM = "forum"
    ORIENTATION_FAIR = "orientation_fair"
    TNF_EXHIBITION = "tnf_exhibition"  # exposition « Technologie Nom Féminin »
    ENERGY_GAME = "energy_game"  # atelier « Jeu de l'Énergie »
    OTHER = "other"


INTERVENTION_KIND_LABELS = {
    InterventionKind.CLASS_TALK: "Intervention en classe",
    InterventionKind.FORUM: "Forum des métiers",
    InterventionKind.ORIENTATION_FAIR: "Salon de l'orientation",
    InterventionKind.TNF_EXHIBITION: "Exposition « Technologie Nom Féminin »",
    InterventionKind.ENERGY_GAME: "Atelier « Jeu de l'Énergie »",
    InterventionKind.OTHER: "Autre",
}

# Crowds: forums, fairs and exhibitions take whole year groups; a class or a workshop does not. Beyond
# these, a count is a typo (a class of 900), not an intervention.
CROWD_KINDS = frozenset(
    {InterventionKind.FORUM, InterventionKind.ORIENTATION_FAIR, InterventionKind.TNF_EXHIBITION}
)
MAX_PUPILS_CROWD = 2000
MAX_PUPILS_GROUP = 200

# School levels in order; stored as ",4e,3e," so that one level is found with LIKE '%,4e,%'.
LEVEL_LABELS = {
    "6e": "6e",
    "5e": "5e",
    "4e": "4e",
    "3e": "3e",
    "2nde": "2nde",
    "1re": "1re",
    "tle": "Terminale",
    "post_bac": "Post-bac",
}


def pack_levels(levels: list[str] | tuple[str, ...]) -> str:
    ordered = [code for code in LEVEL_LABELS if code in set(levels)]
    return f",{','.join(ordered)}," if ordered else ""


def unpack_levels(packed: str | None) -> list[str]:
    return [code for code in (packed or "").split(",") if code]


def max_pupils(kind: str) -> int:
    return MAX_PUPILS_CROWD if kind in CROWD_KINDS else MAX_PUPILS_GROUP


class Volunteer(TimestampMixin, db.Model):
    """The PMI profile of a volunteer's (or an organiser's) account: one per user; the name is the user's."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    promo: Mapped[str] = mapped_column(String(20), default="")
    regional_group_code: Mapped[str | None] = mapped_column(
        ForeignKey("regional_groups.code"), nullable=True, index=True
    )
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)

    user = relationship("User")
    regional_group = relationship("RegionalGroup")

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""


intervention_volunteers = Table(
    "intervention_volunteers",
    db.Model.metadata,
    Column("intervention_id", ForeignKey("interventions.id", ondelete="CASCADE"), primary_key=True),
    Column("volunteer_id", ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Intervention(HeadcountMixin, TimestampMixin, db.Model):
    """One intervention: its pupils are counted once, however many volunteers took part."""

    __tablename__ = "interventions"
    __table_args__ = (
        headcount_check(),
        CheckConstraint("female + male + unspecified > 0", name="pupils_positive"),
        CheckConstraint(f"female + male + unspecified <= {MAX_PUPILS_CROWD}", name="pupils_plausible"),
        CheckConstraint("duration_minutes >= 1 AND duration_minutes <= 600", name="duration_range"),
        CheckConstraint("(school_id IS NULL) <> (venue_name IS NULL)", name="school_or_venue"),
        CheckConstraint(
            "kind IN ('class_talk', 'forum', 'orientation_fair', 'tnf_exhibition', 'energy_game', 'other')",
            name="kind_known",
        ),
        Index("ix_interventions_date", "date"),
        Index("ix_interventions_regional_group", "regional_group"),
        Index("ix_interventions_region", "region"),
        Index("ix_interventions_department", "department"),  # stats filter (migration 0009)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), nullable=True, index=True)
    venue_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    venue_street: Mapped[str | None] = mapped_column(String(200), nullable=True)
    venue_postcode: Mapped[str | None] = mapped_column(String(5), nullable=True)
    venue_city: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # Derived from the school or the geocoded venue (core.geography.apply_location).
    commune_insee: Mapped[str | None] = mapped_column(String(5), nullable=True)
    department: Mapped[str | None] = mapped_column(String(3), nullable=True)
    region: Mapped[str | None] = mapped_column(String(3), nullable=True)
    regional_group: Mapped[str | None] = mapped_column(String(20), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    levels: Mapped[str] = mapped_column(String(60), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    school = relationship("School")
    created_by = relationship("User")
    volunteers: Mapped[list[Volunteer]] = relationship(
        secondary=intervention_volunteers, order_by="Volunteer.id"
    )

    @property
    def total(self) -> int:
        return self.female + self.male + self.unspecified

    @property
    def level_list(self) -> list[str]:
        return unpack_levels(self.levels)

    @property
    def kind_label(self) -> str:
        return INTERVENTION_KIND_LABELS.get(self.kind, self.kind)

    @property
    def school_uai(self) -> str | None:
        return self.school.uai if self.school else None

    @property
    def place_name(self) -> str:
        if self.school is not None:
            return f"{self.school.name} ({self.school.city})"
        return f"{self.venue_name} ({self.venue_city})" if self.venue_city else self.venue_name or ""
