"""Statistics pages: the staff dashboard (any programme, filters and breakdowns in the URL), its CSV and
XLSX exports, and the public summary /chiffres (totals and regions only: no names, no personal data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, render_template, request
from marshmallow import ValidationError

from core.auth.access import requires
from core.auth.permissions import Permission
from core.errors import ValidationFailed
from core.exports import attachment, excel_csv
from core.formatting import paris_today
from core.validation import MAX_YEAR, MIN_YEAR, query_int
from stats import charts, dashboard, exports, records, report
from stats.dashboard import Breakdown, DashboardView
from stats.dimensions import DIMENSIONS, FILTERS
from stats.result import PROGRAMMES
from stats.surveys import survey_stats

bp = Blueprint("stats", __name__)
T = TypeVar("T")


@bp.context_processor
def labels() -> dict:
    return {
        "PROGRAMME_LABELS": dashboard.PROGRAMME_LABELS,
        "DIMENSION_LABELS": dashboard.DIMENSION_LABELS,
        "FILTER_LABELS": dashboard.FILTER_LABELS,
        "PEOPLE": dashboard.PEOPLE,
        "PROGRAMME_MEASURES": dashboard.PROGRAMME_MEASURES,
        "DIMENSIONS": DIMENSIONS,
        "FILTERS": FILTERS,
        "change": dashboard.change,
    }


def _parsed(build: Callable[[dict], T]) -> tuple[T | None, dict, dict[str, list[str]]]:
    """(what `build` makes of the query string, the query as loaded, field errors): bad input is shown
    beside its field, never a 500."""
    try:
        query = dashboard.parse_query(request.args)
        return build(query), query, {}
    except ValidationError as exc:
        messages = exc.normalized_messages()
        return None, {}, {str(k): list(v) if isinstance(v, list) else [str(v)] for k, v in messages.items()}
    except ValidationFailed as exc:
        return None, {}, exc.fields or {"_form": [exc.message]}


def _view() -> tuple[DashboardView | None, dict, dict[str, list[str]]]:
    return _parsed(dashboard.build_view)


def _records() -> tuple[records.Records | None, dict, dict[str, list[str]]]:
    """The records behind a view's figures: its filters and measure (its breakdowns do not matter)."""

    def build(query: dict) -> records.Records:
        filters = {name: query[name] for name in dashboard.FILTER_NAMES if name in query}
        return records.records(query["programme"], filters, query["measure"])

    return _parsed(build)


def chart_of(breakdown: Breakdown, chart_id: str) -> str:
    """Stacked girls / boys / unspecified bars: one per value (horizontal), or per year (columns)."""
    girls, boys = dashboard.GENDERS[breakdown.result.programme]
    bars = [charts.Bar(breakdown.row_label(r), (r.female, r.male, r.unspecified)) for r in breakdown.rows]
    title = f"{dashboard.PEOPLE[breakdown.result.programme]} {breakdown.title.lower()}"
    year_over_year = breakdown.dims[0] == dashboard.canonical(breakdown.result.programme, "year")
    draw = charts.columns if year_over_year else charts.hbars
    return draw(chart_id, title, bars, (girls, boys, "Non précisé"))


@bp.route("/admin/statistiques")
@requires(Permission.SEE_STATISTICS)
def dashboard_page():
    view, query, errors = _view()
    programme = view.programme if view else request.args.get("programme", "pmi")
    if programme not in PROGRAMMES:
        programme = "pmi"  # the form still offers a programme's filters while the error is shown
    paragraph, paragraph_year = None, None
    if view is not None and view.report_year:
        paragraph_year = view.report_year
        paragraph = (
            report.jou_paragraph(paragraph_year, view.measure)
            if view.programme == "jou"
            else report.pmi_paragraph(paragraph_year)
        )
    return render_template(
        "stats/dashboard.html",
        view=view,
        args=request.args,
        errors=errors,
        programme=programme,
        filter_values=dashboard.filter_labels(view.filters) if view else {},
        choices=dashboard.filter_choices(programme),
        years=view.known_years if view else dashboard.years_with_records(programme),
        paragraph=paragraph,
        paragraph_year=paragraph_year,
        # JOU: what the visitors said of that edition, beside who came (stats.surveys).
        surveys=survey_stats(view.year)
        if view is not None and view.programme == "jou" and view.year
        else None,
        chart_of=chart_of,
        this_year=paris_today().year,
    ), (422 if errors else 200)


@bp.route("/admin/statistiques/export.csv")
@requires(Permission.SEE_STATISTICS)
def export_csv():
    """One table of the view (`table` = a breakdown's key, "year"/"edition" for year over year), or without
    `table` every table of the view, each under its title."""
    view, _query, errors = _view()
    if view is None:
        raise _export_refused(errors)
    key = request.args.get("table")
    if not key:
        return attachment(exports.every_table_csv(view), "text/csv", exports.filename(view, "csv"))
    _title, table = exports.find_table(view, key)
    return attachment(exports.to_csv(table), "text/csv", exports.filename(view, "csv", key))


@bp.route("/admin/statistiques/export.xlsx")
@requires(Permission.SEE_STATISTICS)
def export_xlsx():
    view, _query, errors = _view()
    if view is None:
        raise _export_refused(errors)
    body = exports.to_xlsx(view, dashboard.filter_labels(view.filters))
    return attachment(body, exports.XLSX_MIMETYPE, exports.filename(view, "xlsx"))


@bp.route("/admin/statistiques/donnees")
@requires(Permission.SEE_STATISTICS)
def records_page():
    """The records behind the figures of a view (the same filters and measure), with their counts."""
    found, query, errors = _records()
    return render_template(
        "stats/records.html",
        found=found,
        shown=found.rows[: records.PAGE_ROWS] if found else [],
        query=query,
        errors=errors,
        filter_values=dashboard.filter_labels(found.filters) if found else {},
        args=request.args,
        RECORD_NOUNS=records.RECORD_NOUNS,
        GENDER_WORDS={p: tuple(w.lower() for w in words) for p, words in dashboard.GENDERS.items()},
    ), (422 if errors else 200)


@bp.route("/admin/statistiques/donnees.csv")
@requires(Permission.SEE_STATISTICS)
def records_csv():
    found, _query, errors = _records()
    if found is None:
        raise _export_refused(errors)
    filename = f"donnees-{found.programme}-{paris_today().isoformat()}.csv"
    return attachment(excel_csv(found.header, found.rows), "text/csv", filename)


def _export_refused(errors: dict[str, list[str]]) -> ValidationFailed:
    """A file cannot hold field errors: the error page says them all."""
    return ValidationFailed(" ".join(m for messages in errors.values() for m in messages), fields=errors)


# --- public ----------------------------------------------------------------------------------------------


@bp.route("/chiffres")
def summary():
    """Each programme's latest year with figures (or the year asked for): totals, the report's paragraph
    and the regions. Only counts are published: no breakdown names a person."""
    asked = request.args.get("year", "").strip()
    errors: dict[str, list[str]] = {}
    year = None
    try:
        year = query_int(
            "year", min=MIN_YEAR, max=MAX_YEAR, strict=True, message="Année invalide (ex. 2024)."
        )
    except ValidationFailed as exc:
        errors = exc.fields
    sections = [] if errors else [_public_section(programme, year) for programme in PROGRAMMES]
    return render_template(
        "stats/summary.html", sections=sections, year=year, errors=errors, asked=asked, chart_of=chart_of
    ), (422 if errors else 200)


def _public_section(programme: str, year: int | None) -> dict:
    ydim = dashboard.canonical(programme, "year")
    if year is None:
        year = (
            dashboard.default_year(programme, dashboard.year_over_year(programme, {})) or paris_today().year
        )
    view = dashboard.build_view({"programme": programme, "by": ["region"], "measure": "attended", ydim: year})
    paragraph = None
    if programme == "jou":
        paragraph = report.jou_paragraph(year)
    elif programme == "pmi":
        paragraph = report.pmi_paragraph(year)
    return {
        "programme": programme,
        "year": year,
        "years": view.known_years,
        "view": view,
        "paragraph": paragraph,
    }
