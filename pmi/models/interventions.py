"""Interventions in schools and elsewhere, their kinds and the school levels they reach."""

from __future__ import annotations

import datetime as dt  # "date" is a column name here
import enum

from sqlalchemy import CheckConstraint, Column, Date, Float, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import HeadcountMixin, TimestampMixin, headcount_check
from pmi.models.volunteers import Volunteer


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
