"""Declarative base shared by every package, and the mixins that keep models uniform."""

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# One naming convention so Alembic names constraints identically on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(DateTime):
    """Aware UTC datetimes on both databases (SQLite forgets the offset, so we restore it)."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def result_processor(self, dialect, coltype):  # noqa: ANN001 - SQLAlchemy's signature
        parent = super().result_processor(dialect, coltype)

        def process(value):  # noqa: ANN001
            if parent is not None:
                value = parent(value)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return process


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class HeadcountMixin:
    """Girls/women, boys/men, unspecified: three non-negative counts, never persons."""

    female: Mapped[int] = mapped_column(Integer, default=0)
    male: Mapped[int] = mapped_column(Integer, default=0)
    unspecified: Mapped[int] = mapped_column(Integer, default=0)



def headcount_check() -> CheckConstraint:
    """Put in a headcount model's __table_args__: counts are never negative."""
    return CheckConstraint("female >= 0 AND male >= 0 AND unspecified >= 0", name="headcount_nonneg")
