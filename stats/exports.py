"""A dashboard view as files: CSV for French Excel (one table) and XLSX (every table, one sheet each,
numbers as numbers so a spreadsheet can add them up)."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from core.exports import excel_csv
from stats.dashboard import (
    FILTER_LABELS,
    PROGRAMME_LABELS,
    PROGRAMME_MEASURES,
    Breakdown,
    DashboardView,
    Table,
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS = {"int": "#,##0", "share": "0.0%", "change": "+0.0%;-0.0%;0.0%"}
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def tables(view: DashboardView) -> list[tuple[str, Table]]:
    """Every table of the view, titled: year over year, then each breakdown."""
    return [("Par année", view.years.table(with_changes=True))] + [
        (b.title, b.table()) for b in view.breakdowns
    ]


def find_table(view: DashboardView, key: str | None) -> tuple[str, Table]:
    """The breakdown named by its `by` key ("region", "region,kind", or the year one); the first by default."""
    if key == view.years.key:
        return "Par année", view.years.table(with_changes=True)
    chosen: Breakdown = next((b for b in view.breakdowns if b.key == key), view.breakdowns[0])
    return chosen.title, chosen.table()


def filename(view: DashboardView, extension: str, part: str = "") -> str:
    year = view.year or "toutes-annees"
    suffix = f"-{part}" if part else ""
    return f"statistiques-{view.programme}-{year}{suffix}.{extension}".replace(",", "-")


# --- CSV -------------------------------------------------------------------------------------------------


def csv_cell(value: Any, kind: str) -> str:
    """French Excel reads "38,5" as a number: shares are written as percentages with a decimal comma,
    in a column whose header says (%); no share (no denominator) is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):  # "pas encore saisi" in a change column
        return value
    if kind in ("share", "change"):
        return f"{value * 100:.1f}".replace(".", ",")
    return str(value)


def every_table_csv(view: DashboardView) -> str:
    """Every table of the view in one CSV (one sheet in Excel): each under its title line, a blank line
    between them."""
    parts = []
    for title, table in tables(view):
        body = to_csv(table).removeprefix("\ufeff")
        parts.append(f"{title}\r\n{body}")
    return "\ufeff" + "\r\n".join(parts)


def to_csv(table: Table) -> str:
    header = [c.header + (" (%)" if c.kind in ("share", "change") else "") for c in table.columns]
    rows = [*table.rows, *([table.total] if table.total else [])]
    return excel_csv(
        header, ([csv_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)] for row in rows)
    )


# --- XLSX ------------------------------------------------------------------------------------------------


def sheet_title(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = SHEET_TITLE_FORBIDDEN.sub("-", title)[:31]
    name, n = base, 2
    while name.lower() in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name.lower())
    return name


def _put(sheet: Worksheet, row: int, column: int, value: Any, kind: str = "text") -> None:
    cell = sheet.cell(row=row, column=column)
    if value is None or value == "":
        return
    if kind == "text":
        # A label typed by a user ("=HYPERLINK(…)") stays text: openpyxl would store it as a formula.
        cell.value = str(value)
        cell.data_type = "s"
    else:
        cell.value = value
        cell.number_format = NUMBER_FORMATS[kind]


def _write_table(sheet: Worksheet, table: Table) -> None:
    bold = Font(bold=True)
    for col, column in enumerate(table.columns, start=1):
        _put(sheet, 1, col, column.header)
        sheet.cell(row=1, column=col).font = bold
        widest = max([len(column.header)] + [len(str(r[col - 1] or "")) for r in table.rows[:200]])
        sheet.column_dimensions[get_column_letter(col)].width = min(max(widest + 2, 10), 50)
    rows = [*table.rows, *([table.total] if table.total else [])]
    for r, row in enumerate(rows, start=2):
        for col, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
            _put(sheet, r, col, value, column.kind)
    if table.total:
        for col in range(1, len(table.columns) + 1):
            sheet.cell(row=len(rows) + 1, column=col).font = bold
    sheet.freeze_panes = "A2"


def to_xlsx(view: DashboardView, filter_values: dict[str, str]) -> bytes:
    """Sheet "Synthèse" (the view's filters and key figures), then one sheet per table."""
    book = Workbook()
    summary = book.active
    taken: set[str] = set()
    summary.title = sheet_title("Synthèse", taken)
    _write_summary(summary, view, filter_values)
    for title, table in tables(view):
        _write_table(book.create_sheet(sheet_title(title, taken)), table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_summary(sheet: Worksheet, view: DashboardView, filter_values: dict[str, str]) -> None:
    bold = Font(bold=True)
    lines: list[tuple[str, Any, str]] = [("Programme", PROGRAMME_LABELS[view.programme], "text")]
    if view.programme in PROGRAMME_MEASURES:
        lines.append(("Mesure", PROGRAMME_MEASURES[view.programme][view.measure], "text"))
    lines += [(FILTER_LABELS.get(name, name), value, "text") for name, value in filter_values.items()]
    if not filter_values:
        lines.append(("Filtres", "aucun (toutes les données)", "text"))
    _put(sheet, 1, 1, "Statistiques")
    _put(sheet, 1, 2, "Valeur")
    sheet.cell(row=1, column=1).font = sheet.cell(row=1, column=2).font = bold
    for r, (label, value, kind) in enumerate([*lines, *view.key_figures()], start=2):
        _put(sheet, r, 1, label)
        _put(sheet, r, 2, value, kind)
    sheet.column_dimensions["A"].width = 45
    sheet.column_dimensions["B"].width = 40
    sheet.freeze_panes = "A2"
