"""What the statistics may be split by and filtered on: one `Dimension` per name, in one registry. Each
says its French label, its SQL expression per programme, how its filter value is read (French messages),
how its values are labelled and sorted, whether it names people (staff only) and whether a record may be
in several of its rows. stats.queries, stats.dashboard, stats.api and the exports read it, nothing else.

`year` and `edition` are one dimension (and one filter) for JOU: an edition is named by its year.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from marshmallow import ValidationError, fields, validate
from sqlalchemy import (
    Integer,
    String,
    case,
    cast,
    exists,
    extract,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from core.extensions import db
from core.formatting import french_date
from core.geography.names import fold
from core.geography.territories import COLLECTIVITIES, DEPARTMENTS, REGIONS, department_name, region_name
from core.validation import MAX_INT, MAX_YEAR, MIN_YEAR, BaseSchema
from jou.models import AUDIENCE_LABELS, Audience
from jou.sectors import SECTORS, sector_label
from pmi.models import INTERVENTION_KIND_LABELS, LEVEL_LABELS, InterventionKind
from pmi.transports.campuses import CAMPUS_CODES, campus_label

PROGRAMME_LABELS = {"jou": "JOU", "pmi": "PMI", "transports": "transports vers les campus"}
MAX_DIMENSIONS = 2
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")

Labeller = Callable[[Any], str]


@dataclass(frozen=True)
class Sql:
    """A dimension's column for one programme, the join it needs (named by the programme's plan in
    stats.queries), and the WHERE of its filter when it is not `column == value` (a date range the index
    serves, a subquery that spares the join)."""

    column: Callable[[], ColumnElement]
    join: str | None = None
    where: Callable[[Any], list[ColumnElement[bool]]] | None = None

    def filter(self, value: Any) -> tuple[list[ColumnElement[bool]], set[str]]:
        """(the WHERE clauses of `dimension = value`, the joins they need)."""
        if self.where is not None:
            return self.where(value), set()
        return [self.column() == value], {self.join} if self.join else set()


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str  # French: a column header, a form label
    # How its filter value is read: a marshmallow field of FiltersSchema.
    filter: Callable[[], fields.Field]
    # Per programme: its SQL, or (a str) the name of the dimension it means there (JOU's year is its edition).
    sql: Mapping[str, Sql | str]
    # value → label; `names` looks the labels up in the database, once for all the values of a result.
    label_of: Labeller = str
    names: Callable[[set[Any]], dict[Any, str]] | None = None
    none_label: str = "Non renseigné"
    rank: Callable[[Any], Any] = lambda _value: 0  # sort order before the label (see sort_key)
    ordinal: bool = False  # its values have an order of their own: rows are not sorted by size
    period: bool = False  # a time span: the year-over-year table leaves its filter out
    staff_only: bool = False  # names people: stats.api restricts its breakdown and filter to staff
    # Per programme where a record may be in several of its rows: why the rows add up to more than the total.
    multi_valued: Mapping[str, str] = field(default_factory=dict)
    choices: Callable[[], list[tuple[str, str]]] | None = None  # a fixed list the dashboard's select offers

    def canonical(self, programme: str) -> str:
        target = self.sql.get(programme)
        return target if isinstance(target, str) else self.code

    def labeller(self, values: Iterable[Any]) -> Labeller:
        """The French label of a value; one query at most for the values of a result."""
        if self.names is None:
            return self.label_of
        known = {v for v in values if v is not None}
        names = self.names(known) if known else {}
        return lambda value: names.get(value, str(value))


# ---- SQL ----------------------------------------------------------------------------------------------


def year_of(column: ColumnElement) -> ColumnElement[int]:
    return cast(extract("year", column), Integer)


def school_year_of(column: ColumnElement) -> ColumnElement[int]:
    """The year a school year starts in (September). Literal numbers, not bound parameters: PostgreSQL
    must see the same expression in SELECT and GROUP BY."""
    year = year_of(column)
    return case((extract("month", column) >= literal_column("9"), year), else_=year - literal_column("1"))


def between(column: ColumnElement, start: date, end: date) -> list[ColumnElement[bool]]:
    """Half-open date range: the column's index serves it."""
    return [column >= start, column < end]


def in_year(column: ColumnElement, year: int) -> list[ColumnElement[bool]]:
    return between(column, date(year, 1, 1), date(year + 1, 1, 1))


@cache
def pmi_levels() -> Any:  # noqa: ANN401 - a subquery
    """One row per level: joined to an intervention, one row per level it names."""
    return union_all(*(select(literal(code, String).label("level")) for code in LEVEL_LABELS)).subquery(
        "levels"
    )


def _intervention() -> Any:  # noqa: ANN401
    from pmi.models import Intervention

    return Intervention


def _school() -> Any:  # noqa: ANN401
    from core.schools import School

    return School


def _links() -> Any:  # noqa: ANN401
    from pmi.models import intervention_volunteers

    return intervention_volunteers


def _transport() -> Any:  # noqa: ANN401
    from pmi.transports.models import Transport

    return Transport


def _jou(name: str) -> Any:  # noqa: ANN401
    from jou import models

    return getattr(models, name)


def _pmi_academie(code: str) -> list[ColumnElement[bool]]:
    school, intervention = _school(), _intervention()
    return [intervention.school_id.in_(select(school.id).where(school.academie_code == code))]


def _pmi_volunteer(volunteer_id: int) -> list[ColumnElement[bool]]:
    intervention, linked = _intervention(), _links().alias()
    return [
        exists()
        .where(linked.c.intervention_id == intervention.id, linked.c.volunteer_id == volunteer_id)
        .correlate(intervention)
    ]


def _pmi_school_year(name: str) -> list[ColumnElement[bool]]:
    start = school_year_start(name)
    return between(_intervention().date, date(start, 9, 1), date(start + 1, 9, 1))


# ---- filter values -------------------------------------------------------------------------------------


def _one_of(choices: Iterable[str], message: str) -> validate.OneOf:
    return validate.OneOf(list(choices), error=message)


def _year_field(description: str) -> Callable[[], fields.Field]:
    return lambda: fields.Integer(
        validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR), metadata={"description": description}
    )


def _check_school_year(value: str) -> None:
    match = SCHOOL_YEAR.match(value)
    if not match or int(match[2]) != int(match[1]) + 1 or not MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        raise ValidationError("Année scolaire attendue sous la forme 2024-2025.")


class Named(fields.Field):
    """A filter value given by its name or by its code (or id): read as the code. An unknown value is
    refused, never an empty answer; a name several share asks for the code."""

    def __init__(self, resolve: Callable[[str], dict[Any, str]], unknown: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resolve = resolve  # the typed text → {code: name} of what it designates
        self.unknown = unknown

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if not text or len(text) > MAX_NAME:
            raise ValidationError(self.unknown)
        found = self.resolve(text)
        if not found:
            raise ValidationError(self.unknown)
        if len(found) > 1:
            names = ", ".join(f"{name} ({code})" for code, name in sorted(found.items(), key=str))
            raise ValidationError(f"Plusieurs correspondent : {names}. Précisez par le code.")
        return next(iter(found))


MAX_NAME = 120


def _named(resolve: Callable[[str], dict[Any, str]], unknown: str, description: str) -> Callable[[], Named]:
    return lambda: Named(resolve, unknown, metadata={"description": description})


def _by_code_or_name(text: str, pairs: Iterable[tuple[Any, str]], noise: re.Pattern | None = None) -> dict:
    """What `text` designates among (code, name) pairs: the code itself, else the names equal to it with
    accents, case and an optional prefix (« Académie de ») ignored."""
    pairs = list(pairs)
    exact = {code: name for code, name in pairs if str(code).casefold() == text.casefold()}
    if exact:
        return exact

    def key(name: str) -> str:
        folded = fold(name)
        return noise.sub("", folded).strip() if noise else folded

    wanted = key(text)
    return {code: name for code, name in pairs if key(name) == wanted}


_ACADEMIE_PREFIX = re.compile(r"^academie\s+(de\s+|d\s*)?")


def _find_academie(text: str) -> dict[Any, str]:
    school = _school()
    pairs = db.session.execute(
        select(school.academie_code, school.academie_name)
        .where(school.academie_code.is_not(None), school.academie_name.is_not(None))
        .distinct()
    ).all()
    return _by_code_or_name(text, pairs, _ACADEMIE_PREFIX)


def _find_group(text: str) -> dict[Any, str]:
    from core.geography.groups import regional_groups

    return _by_code_or_name(text, ((g.code, g.name) for g in regional_groups()))


def _is_id(text: str) -> bool:
    """ASCII digits of an id that fits the column ("²" and "٣" are digits to str.isdigit)."""
    return re.fullmatch(r"[0-9]{1,10}", text) is not None and 0 < int(text) <= MAX_INT


def _find_site(text: str) -> dict[Any, str]:
    return _site_names({int(text)}) if _is_id(text) else {}


def _find_volunteer(text: str) -> dict[Any, str]:
    """Names people: stats.api lets only staff send it (401/403 before a name is looked up)."""
    from core.auth.models import User
    from pmi.models import Volunteer

    if text.isdecimal():
        return _volunteer_names({int(text)}) if _is_id(text) else {}
    pairs = db.session.execute(
        select(Volunteer.id, User.name).join(User, User.id == Volunteer.user_id).where(User.name.is_not(None))
    ).all()
    return _by_code_or_name(text, pairs)


def school_year_name(start: int | None) -> str | None:
    return None if start is None else f"{start}-{start + 1}"


def school_year_start(name: str) -> int:
    return int(name[:4])


# ---- labels and order ------------------------------------------------------------------------------


def _order(codes: Iterable[Any], unknown: int) -> Callable[[Any], int]:
    ranks = {code: n for n, code in enumerate(codes)}
    return lambda value: ranks.get(value, unknown)


def _same(value: Any) -> Any:  # noqa: ANN401
    return value


def _group_names(codes: set[str]) -> dict[Any, str]:
    from core.geography.models import RegionalGroup

    stmt = select(RegionalGroup.code, RegionalGroup.name).where(RegionalGroup.code.in_(codes))
    return dict(db.session.execute(stmt).all())


def _academie_names(codes: set[str]) -> dict[Any, str]:
    school = _school()
    stmt = (
        select(school.academie_code, school.academie_name)
        .where(school.academie_code.in_(codes), school.academie_name.is_not(None))
        .distinct()
    )
    return {
        code: name if fold(name).startswith("academie") else f"Académie {of(name)}"
        for code, name in db.session.execute(stmt)
    }


def _site_names(ids: set[int]) -> dict[Any, str]:
    site = _jou("Site")
    stmt = select(site.id, site.company_name, site.name).where(site.id.in_(ids))
    return {
        id_: company if fold(name) in {fold(company), ""} else f"{company} — {name}"
        for id_, company, name in db.session.execute(stmt)
    }


def _volunteer_names(ids: set[int]) -> dict[Any, str]:
    from core.auth.models import User
    from pmi.models import Volunteer

    stmt = (
        select(Volunteer.id, User.name).join(User, User.id == Volunteer.user_id).where(Volunteer.id.in_(ids))
    )
    return dict(db.session.execute(stmt).all())


def of(name: str) -> str:
    """« de Lyon », « d'Amiens »."""
    return f"d'{name}" if name[:1] in "AEIOUYÉÈaeiouyéè" else f"de {name}"


def _group_choices() -> list[tuple[str, str]]:
    from core.geography.groups import regional_groups

    return [(g.code, g.name) for g in regional_groups()]


def _campus_choices() -> list[tuple[str, str]]:
    from pmi.transports.campuses import CAMPUSES

    return [(c.code, c.label) for c in CAMPUSES]


# ---- the registry ------------------------------------------------------------------------------------

# In the order of the filters (forms, the exports' summary, the answers' `filters`).
REGISTRY: dict[str, Dimension] = {
    d.code: d
    for d in (
        Dimension(
            "year",
            "Année",
            _year_field("Année civile (JOU : édition)"),
            {
                "jou": "edition",
                "pmi": Sql(
                    lambda: year_of(_intervention().date), where=lambda v: in_year(_intervention().date, v)
                ),
                "transports": Sql(
                    lambda: year_of(_transport().date), where=lambda v: in_year(_transport().date, v)
                ),
            },
            rank=_same,
            ordinal=True,
            period=True,
        ),
        Dimension(
            "edition",
            "Édition",
            _year_field("JOU : année de l'édition"),
            {"jou": Sql(lambda: _jou("Edition").year)},
            rank=_same,
            ordinal=True,
            period=True,
        ),
        Dimension(
            "school_year",
            "Année scolaire",
            lambda: fields.String(
                validate=_check_school_year, metadata={"description": "PMI : année scolaire, ex. 2024-2025"}
            ),
            {"pmi": Sql(lambda: school_year_of(_intervention().date), where=_pmi_school_year)},
            rank=_same,
            period=True,
        ),
        Dimension(
            "region",
            "Région",
            lambda: fields.String(
                validate=_one_of([*REGIONS, *COLLECTIVITIES], "Région inconnue (code INSEE, ex. 11)."),
                metadata={"description": "Code INSEE de région (transports : région des établissements)"},
            ),
            {
                "jou": Sql(lambda: _jou("Site").region),
                "pmi": Sql(lambda: _intervention().region),
                # The region of the schools picked up.
                "transports": Sql(lambda: _school().region, join="school"),
            },
            label_of=region_name,
            none_label="Région inconnue",
            multi_valued={"transports": "un transport passant par deux régions est dans les deux"},
            choices=lambda: sorted(REGIONS.items(), key=lambda item: item[1]),
        ),
        Dimension(
            "department",
            "Département",
            lambda: fields.String(
                validate=_one_of(DEPARTMENTS, "Département inconnu (ex. 75, 2A, 971)."),
                metadata={"description": "Code du département"},
            ),
            {"jou": Sql(lambda: _jou("Site").department), "pmi": Sql(lambda: _intervention().department)},
            label_of=department_name,
            none_label="Département inconnu",
            rank=_order(DEPARTMENTS, 999),
            choices=lambda: [(code, f"{code} — {name}") for code, name in DEPARTMENTS.items()],
        ),
        Dimension(
            "academie",
            "Académie",
            _named(_find_academie, "Académie inconnue.", "PMI : académie, par son nom (Lyon) ou son code"),
            {"pmi": Sql(lambda: _school().academie_code, join="school", where=_pmi_academie)},
            names=_academie_names,
            none_label="Hors établissement (lieu sans académie)",
        ),
        Dimension(
            "gr",
            "Groupe régional",
            _named(_find_group, "Groupe régional inconnu.", "Groupe régional, par son nom ou son code"),
            {
                "jou": Sql(lambda: _jou("Site").regional_group),
                "pmi": Sql(lambda: _intervention().regional_group),
                "transports": Sql(lambda: _transport().regional_group_code),
            },
            names=_group_names,
            none_label="Sans groupe régional",
            choices=_group_choices,
        ),
        Dimension(
            "sector",
            "Secteur",
            lambda: fields.String(
                validate=_one_of(SECTORS, "Secteur inconnu."), metadata={"description": "JOU"}
            ),
            {"jou": Sql(lambda: _jou("Site").sector)},
            label_of=sector_label,
            none_label="Secteur inconnu",
            choices=lambda: sorted(SECTORS.items(), key=lambda item: item[1]),
        ),
        Dimension(
            "kind",
            "Type d'intervention",
            lambda: fields.String(
                validate=_one_of([k.value for k in InterventionKind], "Type d'intervention inconnu."),
                metadata={"description": "PMI : type d'intervention"},
            ),
            {"pmi": Sql(lambda: _intervention().kind)},
            label_of=lambda value: INTERVENTION_KIND_LABELS.get(value, value),
            rank=_order([k.value for k in InterventionKind], 99),
            choices=lambda: [(str(k), v) for k, v in INTERVENTION_KIND_LABELS.items()],
        ),
        Dimension(
            "level",
            "Niveau",
            lambda: fields.String(
                validate=_one_of(LEVEL_LABELS, f"Niveau inconnu (possibles : {', '.join(LEVEL_LABELS)})."),
                metadata={"description": "PMI : niveau scolaire"},
            ),
            {
                "pmi": Sql(
                    lambda: pmi_levels().c.level,
                    join="levels",
                    where=lambda v: [_intervention().levels.contains(f",{v},", autoescape=True)],
                )
            },
            label_of=lambda value: LEVEL_LABELS.get(value, value),
            none_label="Niveau non précisé",
            rank=_order(LEVEL_LABELS, 99),
            ordinal=True,
            multi_valued={"pmi": "une intervention de plusieurs niveaux est dans la ligne de chacun"},
            choices=lambda: list(LEVEL_LABELS.items()),
        ),
        Dimension(
            "campus",
            "Campus",
            lambda: fields.String(
                validate=_one_of(CAMPUS_CODES, "Campus inconnu."), metadata={"description": "Transports"}
            ),
            {"transports": Sql(lambda: _transport().campus)},
            label_of=campus_label,
            none_label="Campus inconnu",
            choices=_campus_choices,
        ),
        Dimension(
            "day",
            "Jour",
            lambda: fields.Date(metadata={"description": "JOU : jour (AAAA-MM-JJ)"}),
            {"jou": Sql(lambda: _jou("Slot").day)},
            label_of=lambda value: french_date(date.fromisoformat(value)),
            rank=_same,
            ordinal=True,
        ),
        Dimension(
            "audience",
            "Public",
            lambda: fields.String(
                validate=_one_of([a.value for a in Audience], "Public inconnu (schools ou public)."),
                metadata={"description": "JOU : schools (scolaires) ou public (grand public)"},
            ),
            {"jou": Sql(lambda: _jou("Slot").audience)},
            label_of=lambda value: AUDIENCE_LABELS.get(value, value),
            rank=_order([Audience.SCHOOLS.value, Audience.PUBLIC.value], 9),
            choices=lambda: [(str(k), v) for k, v in AUDIENCE_LABELS.items()],
        ),
        Dimension(
            "site",
            "Site",
            _named(_find_site, "Site inconnu.", "JOU : site (id)"),
            {"jou": Sql(lambda: _jou("Site").id)},
            names=_site_names,
        ),
        Dimension(
            "volunteer",
            "Intervenant",
            _named(
                _find_volunteer,
                "Intervenant inconnu.",
                "PMI : intervenant, par son nom ou son id — équipe Soce",
            ),
            {"pmi": Sql(lambda: _links().c.volunteer_id, join="links", where=_pmi_volunteer)},
            names=_volunteer_names,
            staff_only=True,
            multi_valued={"pmi": "une intervention à plusieurs est dans la ligne de chaque intervenant"},
        ),
    )
}

# The dimensions of each programme, in the order forms and messages list them; each is a filter too.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "jou": ("edition", "year", "day", "audience", "region", "department", "gr", "sector", "site"),
    "pmi": ("year", "school_year", "region", "department", "academie", "gr", "kind", "level", "volunteer"),
    "transports": ("year", "gr", "campus", "region"),
}
FILTERS = DIMENSIONS
assert all(set(codes) == {d.code for d in REGISTRY.values() if p in d.sql} for p, codes in DIMENSIONS.items())
ALL_DIMENSIONS = tuple(dict.fromkeys(d for dims in DIMENSIONS.values() for d in dims))
# Breakdowns and filters that name people: staff only (stats.api enforces it).
PERSONAL = frozenset(d.code for d in REGISTRY.values() if d.staff_only)
ORDINAL = frozenset(d.code for d in REGISTRY.values() if d.ordinal)
PERIODS = frozenset(d.code for d in REGISTRY.values() if d.period)

FiltersSchema = BaseSchema.from_dict({d.code: d.filter() for d in REGISTRY.values()}, name="FiltersSchema")
FiltersSchema.__doc__ = (
    "Every filter of every programme; which apply to which programme is `FILTERS`'s business."
)


def canonical(programme: str, name: str) -> str:
    """The one name of a dimension for a programme (a JOU `year` is its `edition`)."""
    dimension = REGISTRY.get(name)
    return dimension.canonical(programme) if dimension else name


def sql(programme: str, name: str) -> Sql:
    target = REGISTRY[name].sql[programme]
    return REGISTRY[target].sql[programme] if isinstance(target, str) else target  # type: ignore[return-value]


def labeller(dimension: str, values: set[Any]) -> Labeller:
    """A function giving the French label of a value; one query at most for the values of a result."""
    return REGISTRY[dimension].labeller(values)


def none_label(dimension: str) -> str:
    return REGISTRY[dimension].none_label


def sort_key(dimension: str, value: Any, label: str) -> tuple:
    """Chronological for times, the usual order for coded lists, by name for places and people;
    unknown (None) last."""
    if value is None:
        return (1, 0, "")
    return (0, REGISTRY[dimension].rank(value), fold(label))


def overlaps(programme: str, dims: Iterable[str]) -> str:
    """Why the rows may add up to more than the total: a record in several rows of a dimension."""
    # The last registered first: a volunteer's sentence before a level's.
    return next(
        (
            d.multi_valued[programme]
            for d in reversed(REGISTRY.values())
            if d.code in dims and programme in d.multi_valued
        ),
        "",
    )
