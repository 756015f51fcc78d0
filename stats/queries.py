"""The one aggregation layer: headcounts of JOU, PMI and transports by one or two dimensions, computed by
GROUP BY in the database (never by loading records into Python).

`compute(programme, by=…, filters=…, measure=…)` answers a `StatsResult`: one `Headcount` per combination of
dimension values that has records, sorted (see stats.dimensions.sort_key) and labelled, and the totals.
With `by=[]` the rows are empty and only the totals are given. A filter or a year without records gives
zeros (and `female_share` None), never an error; a bad programme, dimension or filter raises
ValidationFailed with French messages keyed `programme`, `by`, `measure` or the filter's name.

What is counted (girls/women = `female`, boys/men = `male`, `unspecified`; totals are their sum):

- **pmi** — interventions (a school, forum, fair… on a date). Pupils are those of the intervention,
  counted once however many volunteers took part. `interventions`; `schools`: distinct schools (a school
  of two interventions counts once; a venue that is not a school counts none); `volunteers`: distinct
  volunteers linked to the interventions — the author, whom the service always links (unless staff log
  for others), and the co-volunteers. `year` is the calendar year, `school_year` runs September–August.
  Region, department and GR are those of the place; the académie is the school's (none for a venue).
  By `volunteer` each volunteer's row holds every intervention they took part in, and by `level` an
  intervention of two levels is in both rows: such rows overlap, the totals count each intervention once.
- **transports** — `measure="attended"` (the default): the campus buses that went (status done: their
  actual counts were recorded), pupils as counted on board; `measure="planned"`: the buses not cancelled,
  with their planned counts (what the organisers expect, never published as done). `transports`; `schools`:
  distinct schools picked up. `region` is the region of the schools: a bus through two regions is in both
  rows. Teachers are not pupils and are left out of the headcount.
- **jou** — the visit slots of the participating factories (approved sites). `measure="attended"` (the
  default) takes a slot's confirmed figures (the factory's attendance report) when there are some, else
  what the gate counted (checked-in tickets, each booking's breakdown scaled to the persons admitted,
  plus walk-ins — jou.checkin.attendance.slot_attendance), else, for a slot with no attendance yet, its
  bookings. `measure="booked"` takes the confirmed bookings. Accompanying adults and persons of unknown
  gender are `unspecified`. `visitors` is the number of persons (the headcount's total: the sum of the
  parties booked, or the persons who came); persons are not identified, so it is a sum, not a distinct
  count. `sites`: distinct participating sites with slots in the row; `bookings`: confirmed bookings
  (each belongs to one slot, so the sum per slot is a distinct count).

`volunteer` names people: stats.api restricts that breakdown and filter to staff; other callers must too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import case, func, literal, literal_column, null, select, union, union_all
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from core.errors import ValidationFailed
from core.extensions import db
from core.models import HEADCOUNT
from stats.dimensions import (
    ALL_DIMENSIONS,
    DIMENSIONS,
    FILTERS,
    MAX_DIMENSIONS,
    PROGRAMME_LABELS,
    REGISTRY,
    FiltersSchema,
    canonical,
    labeller,
    none_label,
    pmi_levels,
    school_year_name,
    sort_key,
    sql,
)
from stats.result import DISTINCT_COUNTS, PROGRAMMES, Headcount, StatsResult

__all__ = ["DIMENSIONS", "FILTERS", "MEASURES", "compute"]

MEASURES = ("attended", "booked", "planned")
# What each programme can measure: what happened (`attended`, the default), and for JOU the bookings, for
# the transports the buses planned (not cancelled) with their planned counts.
MEASURES_OF = {"jou": ("attended", "booked"), "pmi": ("attended",), "transports": ("attended", "planned")}
# Stateless, so built once: compute() runs for each chart of a page (a schema deep-copies its fields).
FILTERS_SCHEMA = FiltersSchema()


def compute(
    programme: str,
    *,
    by: Sequence[str] = (),
    filters: Mapping[str, Any] | None = None,
    measure: str = "attended",
) -> StatsResult:
    """Headcounts of `programme` split by `by` (at most two dimensions of DIMENSIONS[programme]; a string
    or items may hold several names separated by commas), over the records matching `filters`."""
    names, plan, echo = checked(programme, by, filters or {}, measure)
    dims = [canonical(programme, name) for name in names]
    grouped, total = plan.run(dims)
    rows = [_headcount(programme, dict(zip(names, key, strict=True)), sums) for key, sums in grouped.items()]
    _label_and_sort(rows, names, dims)
    return StatsResult(programme, echo, names, rows, _headcount(programme, {}, total),
                       measure if len(MEASURES_OF[programme]) > 1 else None)  # fmt: skip


# ---- input -----------------------------------------------------------------------------------------


def checked(
    programme: str, by: Sequence[str] | str, filters: Mapping[str, Any], measure: str
) -> tuple[list[str], Plan, dict[str, Any]]:
    """(the dimensions' names, the plan counting the filtered records, the filters as understood), or
    ValidationFailed with every refusal by field."""
    if programme not in PROGRAMMES:
        raise ValidationFailed.on(
            "programme", f"Programme inconnu : « {programme} » (possibles : jou, pmi, transports)."
        )
    errors: dict[str, list[str]] = {}
    names = _dimension_names(programme, by, errors)
    values, echo = _filter_values(programme, filters, errors)
    if measure not in MEASURES_OF[programme]:
        possible = ", ".join(MEASURES_OF[programme])
        what = "Mesure inconnue" if measure not in MEASURES else f"La mesure « {measure} » ne s'applique pas"
        errors.setdefault("measure", []).append(
            f"{what} aux chiffres {PROGRAMME_LABELS[programme]} (possibles : {possible})."
        )
    if errors:
        raise ValidationFailed(fields=errors)
    return names, PLANS[programme](values, measure), echo


def _dimension_names(programme: str, by: Sequence[str] | str, errors: dict[str, list[str]]) -> list[str]:
    items = [by] if isinstance(by, str) else list(by or ())
    names = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
    allowed = DIMENSIONS[programme]
    problems = []
    for name in names:
        if name not in ALL_DIMENSIONS:
            problems.append(f"Dimension inconnue : « {name} » (possibles : {', '.join(allowed)}).")
        elif name not in allowed:
            problems.append(
                f"« {name} » ne s'applique pas aux chiffres {PROGRAMME_LABELS[programme]} "
                f"(possibles : {', '.join(allowed)})."
            )
    if len(names) > MAX_DIMENSIONS:
        problems.append(f"Au plus {MAX_DIMENSIONS} dimensions à la fois ({len(names)} demandées).")
    seen: dict[str, str] = {}
    for name in names:
        key = canonical(programme, name)
        if key in seen:
            same = f"« {name} »" if seen[key] == name else f"« {seen[key]} » et « {name} » (la même chose)"
            problems.append(f"Dimension demandée deux fois : {same}.")
        seen.setdefault(key, name)
    if problems:
        errors["by"] = problems
    return names


def _filter_values(
    programme: str, filters: Mapping[str, Any], errors: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values by canonical name, for the queries; the filters as given, JSON-ready, for the answer)."""
    known = FILTERS_SCHEMA.fields
    given = {name: value for name, value in filters.items() if value is not None and value != ""}
    applicable = {}
    for name, value in given.items():
        if name not in known:
            errors.setdefault(name, []).append("Filtre inconnu.")
        elif name not in FILTERS[programme]:
            errors.setdefault(name, []).append(
                f"Ce filtre ne s'applique pas aux chiffres {PROGRAMME_LABELS[programme]}."
            )
        else:
            applicable[name] = value.isoformat() if isinstance(value, dt.date) else value
    try:
        loaded = FILTERS_SCHEMA.load(applicable)
    except ValidationError as exc:
        for name, messages in exc.normalized_messages().items():
            errors.setdefault(name, []).extend(messages if isinstance(messages, list) else [str(messages)])
        return {}, {}
    values: dict[str, Any] = {}
    for name, value in loaded.items():
        key = canonical(programme, name)
        if key in values and values[key] != value:
            other = next(n for n in loaded if n != name and canonical(programme, n) == key)
            errors.setdefault(name, []).append(
                f"Contredit le filtre « {other} » (la même chose pour ce programme)."
            )
        values[key] = value
    if "gr" in values and not _group_exists(values["gr"]):
        errors.setdefault("gr", []).append("Groupe régional inconnu.")
    echo = {
        name: value.isoformat() if isinstance(value, dt.date) else value for name, value in loaded.items()
    }
    return values, echo


def _group_exists(code: str) -> bool:
    from core.geography.models import RegionalGroup

    return db.session.scalar(select(RegionalGroup.code).where(RegionalGroup.code == code)) is not None


# ---- output ----------------------------------------------------------------------------------------


def _headcount(programme: str, dims: dict[str, Any], sums: dict[str, int]) -> Headcount:
    row = Headcount(dims=dims, **{k: sums.get(k, 0) for k in HEADCOUNT})
    for name in DISTINCT_COUNTS[programme]:
        row.counts[name] = row.total if name == "visitors" else sums.get(name, 0)
    if "school_year" in dims:
        dims["school_year"] = school_year_name(dims["school_year"])
    return row


def _label_and_sort(rows: list[Headcount], names: list[str], dims: list[str]) -> None:
    for name, dim in zip(names, dims, strict=True):
        label = labeller(dim, {row.dims[name] for row in rows})
        for row in rows:
            value = row.dims[name]
            row.labels[name] = none_label(dim) if value is None else label(value)
    rows.sort(
        key=lambda row: [sort_key(d, row.dims[n], row.labels[n]) for n, d in zip(names, dims, strict=True)]
    )


# ---- SQL -------------------------------------------------------------------------------------------
#
# One statement per kind of count, each answering the rows and the totals at once (column `grand`: 0 for
# a row, 1 for the totals):
# - sums (the headcount, and what adds up: interventions, bookings) grouped by the dimensions in a CTE,
#   the totals being the sum of its rows — unless a dimension repeats a record in several rows (a
#   volunteer, a level): then the totals are summed over the records themselves;
# - each distinct count from the distinct (dimension values, thing) pairs in a CTE: a row counts its
#   pairs, the totals count the distinct things among all the pairs. Deduplicating pairs is a hash
#   aggregate; COUNT(DISTINCT …) per group sorts every record (3–5× slower at a million records).

GRAND = "grand"


@dataclass
class Plan:
    """How one programme is counted, given its filters: the FROM/JOIN/WHERE, what is summed and what is
    counted distinctly. The dimensions' columns, the joins they need and their filters' WHERE are the
    registry's (stats.dimensions)."""

    programme: str
    source: Callable[[Select, set[str]], Select]  # adds FROM, the named joins and WHERE
    sums: dict[str, ColumnElement]  # name → per-record expression
    distinct: dict[str, tuple[ColumnElement, set[str]]]  # name → (thing, joins it needs)
    # The record a figure is made of (an intervention, a bus, a slot): stats.records lists them.
    record: ColumnElement | None = None
    exploding: frozenset[str] = frozenset()  # dimensions that put a record in several rows
    sum_joins: frozenset[str] = frozenset()

    def run(self, dims: list[str]) -> tuple[dict[tuple, dict[str, int]], dict[str, int]]:
        rows: dict[tuple, dict[str, int]] = {}
        total: dict[str, int] = {}
        for stmt in self.statements(dims):
            for row in db.session.execute(stmt).mappings():
                values = {k: int(v or 0) for k, v in row.items() if k != GRAND and not k.startswith("dim_")}
                if row[GRAND]:
                    total.update(values)
                else:
                    key = tuple(_plain(row[f"dim_{n}"]) for n in range(len(dims)))
                    rows.setdefault(key, {}).update(values)
        return rows, total

    def statements(self, dims: list[str]) -> list[Select]:
        columns = [sql(self.programme, d) for d in dims]
        keys = [column.column() for column in columns]
        labelled = [key.label(f"dim_{n}") for n, key in enumerate(keys)]
        joins = {column.join for column in columns if column.join}
        exploded = bool(self.exploding & set(dims))
        statements = []
        # The sums and the first distinct count that needs no join of its own: one scan, grouped by the
        # dimensions and that thing (a school, a site, a bus), then summed again per row and in total.
        folded, (thing, _) = next((n, d) for n, d in self.distinct.items() if not d[1])
        sums = [func.coalesce(func.sum(expr), 0).label(name) for name, expr in self.sums.items()]
        grouped = self.source(select(*labelled, thing.label("thing"), *sums), joins | self.sum_joins)
        grouped = grouped.group_by(*keys, thing).cte("grouped")
        resum = [func.coalesce(func.sum(grouped.c[name]), 0).label(name) for name in self.sums]
        things = _distinct_count(grouped.c.thing).label(folded)
        if exploded:
            # A record in several rows: the totals are summed over the records themselves.
            statements.append(
                self.source(select(literal_column("1").label(GRAND), *sums), set(self.sum_joins))
            )
            total = select(literal_column("1").label(GRAND), *_nulls(dims), things)
        else:
            total = select(literal_column("1").label(GRAND), *_nulls(dims), *resum, things)
        if dims:
            row_keys = [grouped.c[f"dim_{n}"] for n in range(len(dims))]
            rows = select(
                literal_column("0").label(GRAND), *row_keys, *resum, func.count(grouped.c.thing).label(folded)
            )
            rows = rows.group_by(*row_keys)
            statements += [rows, total] if exploded else [union_all(rows, total)]
        else:
            statements.append(total)
        # The other distinct counts, from the distinct (dimension values, thing) pairs.
        for name, (thing, needs) in self.distinct.items():
            if name == folded:
                continue
            pairs = self.source(select(*labelled, thing.label("thing")), joins | needs)
            pairs = pairs.where(thing.is_not(None)).distinct().cte(f"pairs_{name}")
            total = select(
                literal_column("1").label(GRAND), *_nulls(dims), _distinct_count(pairs.c.thing).label(name)
            )
            if dims:
                pair_keys = [pairs.c[f"dim_{n}"] for n in range(len(dims))]
                per_row = select(literal_column("0").label(GRAND), *pair_keys, func.count().label(name))
                statements.append(union_all(per_row.group_by(*pair_keys), total))
            else:
                statements.append(total)
        return statements


def _distinct_count(column: ColumnElement) -> ColumnElement[int]:
    """Distinct non-null values, deduplicated by a (hashable) DISTINCT rather than COUNT(DISTINCT)."""
    values = select(column).where(column.is_not(None)).distinct().subquery()
    return select(func.count()).select_from(values).scalar_subquery()


def _nulls(dims: list[str]) -> list[ColumnElement]:
    return [null().label(f"dim_{n}") for n in range(len(dims))]


def _plain(value: Any) -> Any:
    """JSON-ready dimension values: dates as ISO strings."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _filters(programme: str, values: dict[str, Any]) -> tuple[list[ColumnElement[bool]], set[str]]:
    """The WHERE of the filters (by canonical name) and the joins it needs."""
    where: list[ColumnElement[bool]] = []
    joins: set[str] = set()
    for name, value in values.items():
        clauses, needs = sql(programme, name).filter(value)
        where += clauses
        joins |= needs
    return where, joins


# -- pmi


def _pmi(values: dict[str, Any], _measure: str) -> Plan:
    from core.schools import School
    from pmi.models import Intervention, intervention_volunteers

    link = intervention_volunteers
    levels = pmi_levels()
    where, filter_joins = _filters("pmi", values)

    def source(stmt: Select, joins: set[str]) -> Select:
        joins = joins | filter_joins
        stmt = stmt.select_from(Intervention)
        if "links" in joins:
            stmt = stmt.join(link, link.c.intervention_id == Intervention.id)
        if "school" in joins:
            stmt = stmt.outerjoin(School, School.id == Intervention.school_id)
        if "levels" in joins:
            stmt = stmt.outerjoin(levels, Intervention.levels.contains(literal(",") + levels.c.level + ","))
        return stmt.where(*where)

    return Plan(
        programme="pmi",
        source=source,
        # An intervention is once in a group (volunteer and level are group keys when they repeat it):
        # its pupils count once there, and counting its rows counts interventions.
        sums={**{k: getattr(Intervention, k) for k in HEADCOUNT}, "interventions": literal_column("1")},
        # The volunteers are joined for their own count only: joined to the sums, they would repeat pupils.
        distinct={"schools": (Intervention.school_id, set()), "volunteers": (link.c.volunteer_id, {"links"})},
        record=Intervention.id,
        exploding=_multi_valued("pmi"),
    )


# -- transports


def _transports(values: dict[str, Any], measure: str) -> Plan:
    from core.schools import School
    from pmi.transports.models import Transport, TransportStatus, TransportStop

    stop = TransportStop
    where, filter_joins = _filters("transports", values)
    if measure == "planned":
        where.insert(0, Transport.status != TransportStatus.CANCELLED.value)
        sums = {name: getattr(stop, name) for name in HEADCOUNT}
    else:
        # What happened: the buses that went (actual counts recorded), with the counts taken on board.
        where.insert(0, Transport.status == TransportStatus.DONE.value)
        sums = {name: func.coalesce(getattr(stop, f"actual_{name}"), 0) for name in HEADCOUNT}

    def source(stmt: Select, joins: set[str]) -> Select:
        # Outer join: a bus without stops yet is still a transport (with no pupils).
        stmt = stmt.select_from(Transport).outerjoin(stop, stop.transport_id == Transport.id)
        if "school" in joins | filter_joins:
            stmt = stmt.outerjoin(School, School.id == stop.school_id)
        return stmt.where(*where)

    return Plan(
        programme="transports",
        source=source,
        sums=sums,
        distinct={"transports": (Transport.id, set()), "schools": (stop.school_id, set())},
        record=Transport.id,
        # A transport through two regions is in both rows, but what is summed is its stops, each in one
        # region: the sums still add up, only the distinct count of transports overlaps.
    )


def _multi_valued(programme: str) -> frozenset[str]:
    return frozenset(d.code for d in REGISTRY.values() if programme in d.multi_valued)


# -- jou


def _jou(values: dict[str, Any], measure: str) -> Plan:
    from jou.bookings.models import Booking, BookingStatus
    from jou.models import Edition, Site, SiteStatus, Slot

    confirmed = Booking.status == BookingStatus.CONFIRMED.value
    booked = (
        select(
            Booking.slot_id,
            func.sum(Booking.female).label("female"),
            func.sum(Booking.male).label("male"),
            func.sum(Booking.unspecified + Booking.adults).label("unspecified"),
            func.count(Booking.id).label("bookings"),
        )
        .where(confirmed)
        .group_by(Booking.slot_id)
        .subquery("booked")
    )
    where, _no_joins = _filters("jou", values)
    where.insert(0, Site.status == SiteStatus.APPROVED.value)
    joins = [(booked, booked.c.slot_id == Slot.id)]
    per_slot = {k: func.coalesce(booked.c[k], 0) for k in HEADCOUNT}

    if measure == "attended":
        attended_joins, per_slot = _jou_attended(confirmed, per_slot)
        joins += attended_joins

    def source(stmt: Select, needs: set[str]) -> Select:
        stmt = (
            stmt.select_from(Slot)
            .join(Site, Site.id == Slot.site_id)
            .join(Edition, Edition.id == Site.edition_id)
        )
        if "measure" in needs:
            for table, on in joins:
                stmt = stmt.outerjoin(table, on)
        return stmt.where(*where)

    return Plan(
        programme="jou",
        source=source,
        # A booking belongs to one slot, and a slot is in one row: the sum per slot is a distinct count.
        sums={**per_slot, "bookings": func.coalesce(booked.c.bookings, 0)},
        distinct={"sites": (Site.id, set())},
        record=Slot.id,
        sum_joins=frozenset({"measure"}),
    )


def _jou_attended(
    confirmed: ColumnElement[bool], booked: dict[str, ColumnElement]
) -> tuple[list[tuple[Any, ColumnElement[bool]]], dict[str, ColumnElement]]:
    """The joins and the per-slot headcount of the `attended` measure: a slot's attendance report when
    there is one, else what the gate counted, else its confirmed bookings (`booked`)."""
    from jou.bookings.models import Booking
    from jou.checkin.models import AttendanceReport, CheckIn, WalkIn
    from jou.models import Slot

    # What the gate counted: per booking, the women/men a steward tapped plus the rest of its persons
    # in proportion to the booking's breakdown (rounded down, the rest unspecified); then walk-ins
    # (adults unspecified). Undone events count for nothing.
    entries = CheckIn.direction == "entry", CheckIn.undone_at.is_(None), CheckIn.booking_id.is_not(None)
    per_booking = (
        select(
            CheckIn.booking_id,
            func.sum(CheckIn.admitted).label("admitted"),
            func.sum(case((CheckIn.female.is_(None), CheckIn.admitted), else_=0)).label("untapped"),
            func.sum(func.coalesce(CheckIn.female, 0)).label("female"),
            func.sum(func.coalesce(CheckIn.male, 0)).label("male"),
        )
        .where(*entries)
        .group_by(CheckIn.booking_id)
        .subquery("per_booking")
    )
    gate = (
        select(
            Booking.slot_id,
            func.sum(
                per_booking.c.female + Booking.female * per_booking.c.untapped // Booking.party_size
            ).label("female"),
            func.sum(per_booking.c.male + Booking.male * per_booking.c.untapped // Booking.party_size).label(
                "male"
            ),
            func.sum(per_booking.c.admitted).label("admitted"),
        )
        .join(per_booking, per_booking.c.booking_id == Booking.id)
        .where(confirmed)
        .group_by(Booking.slot_id)
        .subquery("gate")
    )
    walk_ins = (
        select(
            WalkIn.slot_id,
            func.sum(WalkIn.female).label("female"),
            func.sum(WalkIn.male).label("male"),
            func.sum(WalkIn.unspecified + WalkIn.adults).label("unspecified"),
        )
        .where(WalkIn.undone_at.is_(None))
        .group_by(WalkIn.slot_id)
        .subquery("walk_ins")
    )
    report = AttendanceReport.__table__
    joins = [
        (gate, gate.c.slot_id == Slot.id),
        (walk_ins, walk_ins.c.slot_id == Slot.id),
        (report, report.c.slot_id == Slot.id),
    ]
    counted = {
        "female": func.coalesce(gate.c.female, 0) + func.coalesce(walk_ins.c.female, 0),
        "male": func.coalesce(gate.c.male, 0) + func.coalesce(walk_ins.c.male, 0),
        "unspecified": func.coalesce(gate.c.admitted - gate.c.female - gate.c.male, 0)
        + func.coalesce(walk_ins.c.unspecified, 0),
    }
    at_gate = gate.c.slot_id.is_not(None) | walk_ins.c.slot_id.is_not(None)
    per_slot = {
        k: case((report.c.id.is_not(None), report.c[k]), (at_gate, counted[k]), else_=booked[k])
        for k in HEADCOUNT
    }
    return joins, per_slot


PLANS: dict[str, Callable[[dict[str, Any], str], Plan]] = {
    "pmi": _pmi,
    "transports": _transports,
    "jou": _jou,
}


# -- completeness


def reported(programme: str, measure: str = "attended") -> dict[int, tuple[int, int]]:
    """Per year, (records whose figures are entered, records expected): for JOU's attended measure the
    slots of participating sites with an attendance report or gate counts; for the transports that went,
    the buses not cancelled that are done. Empty for what is complete by nature (PMI interventions are
    logged once they happened; bookings and plans are what they are)."""
    if programme == "transports" and measure == "attended":
        from pmi.transports.models import Transport, TransportStatus

        year = func.extract("year", Transport.date)
        rows = db.session.execute(
            select(year, func.count(Transport.id), func.count(Transport.id).filter(
                Transport.status == TransportStatus.DONE.value))
            .where(Transport.status != TransportStatus.CANCELLED.value)
            .group_by(year)
        ).all()  # fmt: skip
        return {int(y): (int(done), int(n)) for y, n, done in rows}
    if programme == "jou" and measure == "attended":
        from jou.checkin.models import AttendanceReport, CheckIn, WalkIn
        from jou.models import Edition, Site, SiteStatus, Slot

        counted = union(
            select(AttendanceReport.slot_id.label("slot_id")),
            select(CheckIn.slot_id).where(CheckIn.undone_at.is_(None)),
            select(WalkIn.slot_id).where(WalkIn.undone_at.is_(None)),
        ).subquery()
        rows = db.session.execute(
            select(Edition.year, func.count(Slot.id), func.count(counted.c.slot_id))
            .join(Site, Site.id == Slot.site_id)
            .join(Edition, Edition.id == Site.edition_id)
            .outerjoin(counted, counted.c.slot_id == Slot.id)
            .where(Site.status == SiteStatus.APPROVED.value)
            .group_by(Edition.year)
        ).all()
        return {int(y): (int(done), int(n)) for y, n, done in rows}
    return {}
