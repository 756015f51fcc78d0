"""Downloads people open in a spreadsheet: CSV the way French Excel reads it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response

# Excel runs a cell starting with one of these as a formula: text typed by users must not.
FORMULA_STARTS = {"=", "+", "-", "@", "\t", "\r"}


def safe_cell(value: object) -> str:
    cell = "" if value is None else str(value)
    return "'" + cell if cell[:1] in FORMULA_STARTS else cell


def excel_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """UTF-8 with a BOM (without it French Excel assumes Windows-1252), ';' between columns (',' is the
    decimal separator there), and no cell Excel would run as a formula."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def attachment(body: str | bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
