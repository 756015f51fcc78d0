"""The schools directory, from the Annuaire de l'éducation."""

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
    """One establishment of the Annuaire de l'éducation, upserted by UAI (core.schools.directory.import_schools)."""

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
