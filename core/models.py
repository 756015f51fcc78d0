"""Declarative base shared by every package, and the mixins that keep models uniform."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from sqlalchemy import CheckConstraint, DateTime, Float, Integer, MetaData, TypeDecorator, case, cast, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement, Label

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


HEADCOUNT = ("female", "male", "unspecified")


def headcount_total(counts: Any) -> Any:  # noqa: ANN401 - numbers, or columns in a query
    """Everyone counted, of a record, of sums or in a query: the three counts added up."""
    return counts.female + counts.male + counts.unspecified


def share_of_girls(counts: Any) -> float | None:  # noqa: ANN401 - anything with female and male
    """The share of girls (women) among those whose gender is given, to 4 places as pages and the API
    publish it; None when nobody's gender is given (shown "—")."""
    specified = counts.female + counts.male
    return round(counts.female / specified, 4) if specified else None


class HeadcountMixin:
    """Girls/women, boys/men, unspecified: three non-negative counts, never persons. `total` and
    `girls_share` work on a record and in a query (`Model.total`)."""

    female: Mapped[int] = mapped_column(Integer, default=0)
    male: Mapped[int] = mapped_column(Integer, default=0)
    unspecified: Mapped[int] = mapped_column(Integer, default=0)

    @hybrid_property
    def total(self) -> int:
        return headcount_total(self)

    @hybrid_property
    def girls_share(self) -> float | None:
        return share_of_girls(self)

    @girls_share.inplace.expression
    @classmethod
    def _girls_share_sql(cls) -> ColumnElement[float | None]:
        # Unrounded: PostgreSQL, SQLite and Python round halves differently (1/32 = 0.03125), so the
        # published figures are rounded once, in Python.
        specified = cls.female + cls.male
        return case((specified > 0, cast(cls.female, Float) / specified), else_=None)


def headcount_sums(source: Any) -> list[Label[int]]:  # noqa: ANN401 - a model, columns or a mapping
    """The one way to sum headcounts in a query: SUM of each count (0 over no records), labelled female,
    male and unspecified, to select beside a GROUP BY and read back with `HeadcountSums.of(row)`.
    `source` has the three counts: a HeadcountMixin model, a subquery's `.c`, or a mapping of expressions
    (what a transport stop counts: pmi.transports.models.TransportStop.counted())."""
    columns = source if isinstance(source, Mapping) else {name: getattr(source, name) for name in HEADCOUNT}
    return [func.coalesce(func.sum(columns[name]), 0).label(name) for name in HEADCOUNT]


@dataclass
class HeadcountSums:
    """A headcount summed over records, with the total and girls' share a record has."""

    female: int = 0
    male: int = 0
    unspecified: int = 0

    total = property(headcount_total)
    girls_share = property(share_of_girls)

    @classmethod
    def of(cls, row: Any) -> Self:  # noqa: ANN401 - a result row with the columns of headcount_sums
        return cls(female=int(row.female), male=int(row.male), unspecified=int(row.unspecified))


def headcount_check() -> CheckConstraint:
    """Put in a headcount model's __table_args__: counts are never negative."""
    return CheckConstraint("female >= 0 AND male >= 0 AND unspecified >= 0", name="headcount_nonneg")
