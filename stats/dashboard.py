"""What a dashboard view is: a programme, filters and breakdowns read from the query string (validated,
French messages), and the figures the page, the charts and the exports all show, computed once.

The URL is the view: /admin/statistiques?programme=pmi&year=2024&region=53&by=kind&by=gr — the same
query string gives the same page, CSV and XLSX, so a view can be shared by its link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from marshmallow import ValidationError, fields, validate, validates_schema

from core.formatting import french_percent, paris_today
from core.validation import Text, form_data
from stats import queries
from stats.dimensions import (
    DIMENSIONS,
    FILTERS,
    ORDINAL,
    PERIODS,
    REGISTRY,
    FiltersSchema,
    canonical,
    labeller,
    overlaps,
)
from stats.result import DISTINCT_COUNTS, PROGRAMMES, Headcount, StatsResult

# The registry's labels, by name, for the templates and the exports.
DIMENSION_LABELS = {code: dimension.label for code, dimension in REGISTRY.items()}
FILTER_LABELS = DIMENSION_LABELS
FILTER_NAMES = tuple(REGISTRY)
PROGRAMME_LABELS = {
    "jou": "Journées Usines Ouvertes",
    "pmi": "Interventions PMI",
    "transports": "Transports vers les campus",
}
# Who the headcounts count, per programme; JOU visitors are pupils on Friday and adults on Saturday.
PEOPLE = {"jou": "Visiteurs", "pmi": "Élèves", "transports": "Lycéens transportés"}
GENDERS = {
    "jou": ("Filles et femmes", "Garçons et hommes"),
    "pmi": ("Filles", "Garçons"),
    "transports": ("Filles", "Garçons"),
}
COUNT_LABELS = {
    "sites": "Usines",
    "bookings": "Réservations",
    "interventions": "Interventions",
    "volunteers": "Intervenants",
    "schools": "Établissements",
    "transports": "Transports",
}
# JOU's "visitors" is its headcount's total: shown once, as the total.
SHOWN_COUNTS = {p: tuple(c for c in counts if c in COUNT_LABELS) for p, counts in DISTINCT_COUNTS.items()}
MEASURES = {"attended": "Présents (chiffres confirmés)", "booked": "Inscrits (réservations)"}
# The measures a programme offers on the dashboard, with their labels (its default first).
PROGRAMME_MEASURES = {
    "jou": MEASURES,
    "transports": {
        "attended": "Effectués (effectifs relevés à bord)",
        "planned": "Prévus (effectifs annoncés)",
    },
}
ALL_MEASURES = {**MEASURES, **PROGRAMME_MEASURES["transports"]}
DEFAULT_BY = {"jou": ("region", "sector"), "pmi": ("region", "kind"), "transports": ("region", "campus")}
MAX_BREAKDOWNS = 6


class DashboardQuery(FiltersSchema):
    """The query string of a dashboard view: the filters (stats.dimensions checks their values), the
    programme, the measure, and `by`, which may repeat (one breakdown each; "region,kind" crosses two
    dimensions)."""

    programme = fields.String(
        load_default="pmi",
        validate=validate.OneOf(PROGRAMMES, error="Programme inconnu : choisissez jou, pmi ou transports."),
    )
    by = fields.List(Text(validate=validate.Length(max=60)), load_default=list)
    measure = fields.String(
        load_default="attended",
        validate=validate.OneOf(tuple(ALL_MEASURES), error="Mesure inconnue : présents, inscrits ou prévus."),
    )

    @validates_schema
    def breakdowns_fit(self, data: dict, **_kwargs) -> None:
        """Breakdowns and filters that fit the programme, checked before anything is computed so that all
        the page's errors show at once (stats.queries.compute checks them again for the API)."""
        errors = []
        if len(data.get("by", [])) > MAX_BREAKDOWNS:
            errors.append(f"Au plus {MAX_BREAKDOWNS} ventilations.")
        allowed = DIMENSIONS.get(data.get("programme"), ())
        for key in data.get("by", []):
            for dim in (d.strip() for d in key.split(",")):
                if allowed and dim and dim not in allowed:
                    names = ", ".join(DIMENSION_LABELS.get(d, d).lower() for d in allowed)
                    errors.append(
                        f"Ventilation inconnue pour ce programme : « {dim} » (possibles : {names})."
                    )
        fields_errors: dict[str, list[str]] = {"by": errors} if errors else {}
        for name in FILTER_NAMES:
            if name in data and allowed and name not in FILTERS[data["programme"]]:
                label = PROGRAMME_LABELS[data["programme"]]
                fields_errors[name] = [f"Ce filtre ne s'applique pas à ce programme ({label})."]
        if fields_errors:
            raise ValidationError(fields_errors)


DASHBOARD_QUERY = DashboardQuery()  # stateless, so built once (a schema deep-copies its fields)


def parse_query(args: Mapping) -> dict:  # noqa: ANN001 - a werkzeug MultiDict
    """The view asked for; raises marshmallow's ValidationError (field → French messages)."""
    data = DASHBOARD_QUERY.load(form_data(args, DASHBOARD_QUERY))
    # "by=region,kind" and "by=region&by=kind" are both accepted; empty or repeated ones are dropped.
    # One name per dimension: a JOU "year" is its edition.
    programme = data["programme"]
    keys = (",".join(canonical(programme, p.strip()) for p in key.split(",")) for key in data["by"] if key)
    data["by"] = list(dict.fromkeys(keys))
    return data


# --- the figures of a view -----------------------------------------------------------------------


@dataclass
class Column:
    header: str
    kind: str  # "text", "int", "share" (0–1, shown as %), "change" (relative, shown as ±%)


@dataclass
class Table:
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None
    # Per row, the page listing the records behind it (staff dashboard only; None: a row without a value).
    links: list[str | None] | None = None


@dataclass
class Breakdown:
    key: str  # the `by` value of the URL: "region" or "region,kind"
    dims: list[str]
    result: StatsResult
    # Year over year: per year, (records whose figures are entered, records expected) — see
    # stats.queries.reported; empty when the figures are complete by nature.
    reported: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return "Par " + " et ".join(DIMENSION_LABELS.get(d, d).lower() for d in self.dims)

    @property
    def rows(self) -> list[Headcount]:
        return self.result.rows

    @property
    def overlaps(self) -> str:
        """Why the rows may add up to more than the total (stats.queries counts each record once there)."""
        return overlaps(self.result.programme, self.dims)

    def label(self, row: Headcount, dim: str) -> str:
        value = row.dims.get(dim)
        if value is None or value == "":
            return "Non renseigné"
        return str(row.labels.get(dim) or value)

    def row_label(self, row: Headcount) -> str:
        return " · ".join(self.label(row, dim) for dim in self.dims)

    def table(self, with_changes: bool = False) -> Table:
        programme = self.result.programme
        girls, boys = GENDERS[programme]
        columns = [Column(DIMENSION_LABELS.get(d, d), "text") for d in self.dims]
        columns += [Column(girls, "int"), Column(boys, "int"), Column("Non précisé", "int"),
                    Column(PEOPLE[programme], "int"), Column("Part des filles", "share")]  # fmt: skip
        columns += [Column(COUNT_LABELS.get(c, c), "int") for c in SHOWN_COUNTS[programme]]
        if with_changes:
            columns.append(Column("Évolution", "change"))
            if self.reported:
                columns.append(Column("Chiffres saisis", "share"))

        def values(row: Headcount, labels: list[str]) -> list[Any]:
            counts = [row.counts.get(c, 0) for c in SHOWN_COUNTS[programme]]
            return [*labels, row.female, row.male, row.unspecified, row.total, row.female_share, *counts]

        rows, previous = [], None
        for row in self.rows:
            line = values(row, [self.label(row, d) for d in self.dims])
            if with_changes:
                line += self.year_change(row, previous)
                previous = row
            rows.append(line)
        total = values(self.result.totals, ["Total"] + [""] * (len(self.dims) - 1))
        if with_changes:
            total += [None] * (2 if self.reported else 1)
        return Table(columns, rows, total)

    def year_change(self, row: Headcount, previous: Headcount | None) -> list[Any]:
        """The change from the year before, and the share of the year's figures entered. A year whose
        figures are not entered yet (or the year before it) is "pas encore saisi", never a -100 %."""
        if not self.reported:
            return [change(row.total, previous.total) if previous is not None else None]
        done, expected = self.reported.get(row.dims.get(self.dims[0]), (0, 0))
        share = done / expected if expected else None
        before = (
            self.reported.get(previous.dims.get(self.dims[0]), (0, 0)) if previous is not None else (0, 0)
        )
        if expected and done < expected:
            shown: Any = f"pas encore saisi ({french_percent(share)} saisis)" if done else "pas encore saisi"
        elif previous is None or (before[1] and before[0] < before[1]):
            shown = None
        else:
            shown = change(row.total, previous.total)
        return [shown, share]


def change(current: int, previous: int) -> float | None:
    """Relative change; None when there is nothing to compare with (shown "—")."""
    return round((current - previous) / previous, 4) if previous else None


@dataclass
class DashboardView:
    programme: str
    filters: dict[str, Any]
    by: list[str]
    measure: str
    result: StatsResult  # the totals under the filters
    years: Breakdown  # year over year, under the other filters
    breakdowns: list[Breakdown] = field(default_factory=list)

    @property
    def year(self) -> int | None:
        return self.filters.get("year") or self.filters.get("edition")

    @property
    def totals(self) -> Headcount:
        return self.result.totals

    def change_from_last_year(self) -> Any:
        """The change shown beside the totals: as the year-over-year table says it."""
        dim = self.years.dims[0]
        current = next((r for r in self.years.rows if r.dims.get(dim) == self.year), None)
        if current is None or self.previous is None:
            return change(self.totals.total, self.previous.total if self.previous else 0)
        return self.years.year_change(current, self.previous)[0]

    @property
    def previous(self) -> Headcount | None:
        """Last year's totals under the same filters, when a year is chosen."""
        if self.year is None:
            return None
        dim = self.years.dims[0]
        return next((r for r in self.years.rows if r.dims.get(dim) == self.year - 1), Headcount())

    @property
    def report_year(self) -> int | None:
        """The year of the report's paragraph: the one asked for, else the last complete one."""
        return self.year or default_year(self.programme, self.years)

    @property
    def known_years(self) -> list[int]:
        years = {r.dims[self.years.dims[0]] for r in rows_with_records(self.years)}
        return sorted(years | ({self.year} if self.year else set()), reverse=True)

    def key_figures(self) -> list[tuple[str, Any, str]]:
        """(label, value, kind) of the view's totals, in the order the page and the exports show them."""
        return key_figures(self.programme, self.totals)

    def query_args(self, **overrides: Any) -> dict[str, Any]:
        """The view's query string (for links: exports, the other programmes, sharing)."""
        args: dict[str, Any] = {"programme": self.programme, **self.filters, "by": self.by}
        if self.programme in PROGRAMME_MEASURES and self.measure != "attended":
            args["measure"] = self.measure
        args.update(overrides)
        return {k: v for k, v in args.items() if v not in (None, "", [])}

    def api_url(self, dims: list[str] | None = None, *, every_year: bool = False) -> str:
        """The public API query that gives the same figures (every figure links to it, to be checked)."""
        filters = {k: v for k, v in self.filters.items() if not (every_year and k in PERIODS)}
        args: dict[str, Any] = {**filters, "by": ",".join(dims) if dims else None}
        if self.programme in PROGRAMME_MEASURES and self.measure != "attended":
            args["measure"] = self.measure
        clean = {
            k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in args.items() if v not in (None, "")
        }
        return url_for("stats_api.programme_stats", programme=self.programme, **clean)

    def records_url(self, dims: Mapping[str, Any] | None = None, *, every_year: bool = False) -> str | None:
        """The staff page of the records behind the figures, or behind one row (its values as filters)."""
        values = dict(dims or {})
        if any(v is None or v == "" for v in values.values()):
            return None  # "non renseigné" is no filter value
        filters = {k: v for k, v in self.filters.items() if not (every_year and k in PERIODS)}
        args: dict[str, Any] = {"programme": self.programme, **filters, **values}
        if self.programme in PROGRAMME_MEASURES and self.measure != "attended":
            args["measure"] = self.measure
        return url_for("stats.records_page", **args)

    def linked(self, breakdown: Breakdown, *, with_changes: bool = False) -> Table:
        """A breakdown's table, each row linked to its records."""
        table = breakdown.table(with_changes=with_changes)
        every_year = breakdown is self.years
        table.links = [self.records_url(row.dims, every_year=every_year) for row in breakdown.rows]
        return table

    def map_url(self) -> str:
        """The map showing the same programme and year."""
        if self.programme == "jou":
            keys = ("region", "department", "sector", "audience")
            return url_for("maps.factory_map", edition=self.year, **{k: self.filters.get(k) for k in keys})
        if self.programme == "pmi":
            by_department = "department" in self.filters or any("department" in k for k in self.by)
            return url_for("maps.pmi_map", annee=self.year, niveau="departement" if by_department else None)
        return url_for("maps.transports_map", annee=self.year)


def build_view(query: dict) -> DashboardView:
    """Every figure of a view; compute raises core.errors.ValidationFailed on filters it refuses."""
    programme, measure = query["programme"], query["measure"]
    filters = {name: query[name] for name in FILTER_NAMES if name in query}
    by = query["by"] or list(DEFAULT_BY[programme])
    kwargs = {"measure": measure} if programme in PROGRAMME_MEASURES else {}

    def run(dims: list[str]) -> StatsResult:
        return queries.compute(programme, by=dims, filters=filters, **kwargs)

    result = run([])
    years = year_over_year(programme, filters, measure)
    breakdowns = [Breakdown(key, key.split(","), sort_rows(run(key.split(",")))) for key in by]
    return DashboardView(programme, filters, by, measure, result, years, breakdowns)


def year_over_year(programme: str, filters: Mapping[str, Any], measure: str = "attended") -> Breakdown:
    """Every year under the filters other than the year's, with zeros for years between without records."""
    kwargs = {"measure": measure} if programme in PROGRAMME_MEASURES else {}
    others = {k: v for k, v in filters.items() if k not in PERIODS}
    ydim = canonical(programme, "year")
    asked = filters.get("year") or filters.get("edition")
    result = fill_years(queries.compute(programme, by=[ydim], filters=others, **kwargs), ydim, asked)
    return Breakdown(ydim, [ydim], result, queries.reported(programme, measure))


def rows_with_records(years: Breakdown) -> list[Headcount]:
    """The year-over-year rows that hold something (the zeros filling the gaps between years do not)."""
    return [r for r in years.rows if r.total or any(r.counts.values())]


def years_with_records(programme: str) -> list[int]:
    """The years to offer when the view itself could not be built (bad input): every year with records."""
    years = year_over_year(programme, {})
    return sorted({r.dims[years.dims[0]] for r in rows_with_records(years)}, reverse=True)


def fill_years(result: StatsResult, dim: str, year: int | None) -> StatsResult:
    """Years without data between the first and the last (and the one asked for) count zero."""
    rows = {r.dims.get(dim): r for r in result.rows if r.dims.get(dim) is not None}
    wanted = set(rows) | ({year} if year else set())
    if not wanted:
        return result
    full = [
        rows.get(y) or Headcount(dims={dim: y}, labels={dim: str(y)})
        for y in range(min(wanted), max(wanted) + 1)
    ]
    return StatsResult(result.programme, result.filters, result.by, full, result.totals, result.measure)


def sort_rows(result: StatsResult) -> StatsResult:
    """Largest first for a breakdown by a plain category (regions, sectors…), as the charts read best."""
    if len(result.by) == 1 and result.by[0] not in ORDINAL:
        result.rows = sorted(result.rows, key=lambda r: -r.total)
    return result


def filter_labels(filters: Mapping[str, Any]) -> dict[str, str]:
    """The filters of a view in words: {"region": "Bretagne", "year": "2024"}."""
    out = {}
    for name, value in filters.items():
        raw = value.isoformat() if hasattr(value, "isoformat") else value
        try:
            out[name] = str(labeller(name, {raw})(raw))
        except (KeyError, ValueError):
            out[name] = str(value)
    return out


def key_figures(programme: str, totals: Headcount) -> list[tuple[str, Any, str]]:
    girls, boys = GENDERS[programme]
    figures: list[tuple[str, Any, str]] = [
        (PEOPLE[programme], totals.total, "int"),
        (girls, totals.female, "int"),
        (boys, totals.male, "int"),
        ("Non précisé", totals.unspecified, "int"),
        ("Part des filles (parmi les genres précisés)", totals.female_share, "share"),
    ]
    return figures + [(COUNT_LABELS[c], totals.counts.get(c, 0), "int") for c in SHOWN_COUNTS[programme]]


def filter_choices(programme: str) -> dict[str, list[tuple[str, str]]]:
    """The values offered in the dashboard's selects, for the filters that have a fixed list; the others
    (académie, site, intervenant, jour, année scolaire) are typed."""
    return {
        code: dimension.choices()
        for code, dimension in REGISTRY.items()
        if dimension.choices is not None and code in FILTERS[programme]
    }


def default_year(programme: str, years: Breakdown) -> int | None:
    """The latest complete year with people counted (a past calendar year, an edition held), else the
    latest year with any record: what a report, or a visitor, expects by default."""
    from stats.report import upcoming

    dim = years.dims[0]
    with_data = rows_with_records(years)
    this_year = paris_today().year
    complete = [
        r.dims[dim]
        for r in with_data
        if r.total and (not upcoming(r.dims[dim]) if programme == "jou" else r.dims[dim] < this_year)
    ]
    if complete:
        return max(complete)
    return max((r.dims[dim] for r in with_data), default=None)
