"""Declarative base shared by every package, and the mixins that keep models uniform."""

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, DateTime, Integer, MetaData, TypeDecorator
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


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases: stored as UTC, read back aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001 - SQLAlchemy's signature
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PersonalData:
    """A model that holds a person's data declares, once, which of its text columns are personal (what the
    person may download, what erasure and purges blank, what the audit log never copies) and which are
    not. tests/test_personal_fields.py fails on a text column declared neither way, so a new column
    cannot silently survive an erasure."""

    __personal__: ClassVar[tuple[str, ...]] = ()
    __not_personal__: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def blanked(cls) -> dict[str, str | None]:
        """The values that erase the personal columns: "" where the column is NOT NULL, else NULL."""
        table = cls.__table__  # type: ignore[attr-defined]
        return {name: None if table.c[name].nullable else "" for name in cls.__personal__}


class HeadcountMixin:
    """Girls/women, boys/men, unspecified: three non-negative counts, never persons."""

    female: Mapped[int] = mapped_column(Integer, default=0)
    male: Mapped[int] = mapped_column(Integer, default=0)
    unspecified: Mapped[int] = mapped_column(Integer, default=0)


def headcount_check() -> CheckConstraint:
    """Put in a headcount model's __table_args__: counts are never negative."""
    return CheckConstraint("female >= 0 AND male >= 0 AND unspecified >= 0", name="headcount_nonneg")
