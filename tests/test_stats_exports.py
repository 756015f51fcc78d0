"""Exports of a dashboard view: CSV for French Excel (one table) and XLSX (one sheet per table), read back
with openpyxl: typed numbers, percentages, header row, frozen panes, and text that never runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from fixtures.loader import ADMIN_EMAIL, DEMO_PASSWORD
from stats.dashboard import Breakdown, DashboardView
from stats.exports import sheet_title, to_csv, to_xlsx
from stats.result import Headcount, StatsResult

HEADER = ["Région", "Filles", "Garçons", "Non précisé", "Élèves", "Part des filles", "Interventions",
          "Intervenants", "Établissements"]  # fmt: skip


def row(dims: dict, labels: dict, female: int, male: int, unspecified: int, interventions: int) -> Headcount:
    counts = {"interventions": interventions, "volunteers": interventions + 1, "schools": interventions}
    return Headcount(
        dims=dims, female=female, male=male, unspecified=unspecified, counts=counts, labels=labels
    )


def hand_made_view() -> DashboardView:
    """PMI 2024 in two regions, one of them named by a hostile label, one with no gender given."""
    regions = [
        row({"region": "53"}, {"region": "Bretagne"}, 385, 615, 0, 12),
        row({"region": "xx"}, {"region": '=HYPERLINK("http://evil")'}, 0, 0, 40, 1),
    ]
    totals = row({}, {}, 385, 615, 40, 13)
    by_region = StatsResult("pmi", {"year": 2024}, ["region"], regions, totals)
    years = StatsResult("pmi", {}, ["year"], [row({"year": 2023}, {"year": "2023"}, 300, 500, 0, 10),
                                             row({"year": 2024}, {"year": "2024"}, 385, 615, 40, 13)], totals)  # fmt: skip
    return DashboardView(
        "pmi", {"year": 2024}, ["region"], "attended", StatsResult("pmi", {"year": 2024}, [], [], totals),
        Breakdown("year", ["year"], years), [Breakdown("region", ["region"], by_region)],
    )  # fmt: skip


def read_xlsx(body: bytes):  # noqa: ANN201
    return load_workbook(io.BytesIO(body))


def test_the_xlsx_has_a_typed_sheet_per_table():
    book = read_xlsx(to_xlsx(hand_made_view(), {"year": "2024"}))
    assert book.sheetnames == ["Synthèse", "Par année", "Par région"]
    sheet = book["Par région"]
    assert [c.value for c in sheet[1]] == HEADER
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    brittany = [c.value for c in sheet[2]]
    assert brittany == ["Bretagne", 385, 615, 0, 1000, 0.385, 12, 13, 12]
    assert all(type(v) is int for v in brittany[1:5] + brittany[6:])
    share = sheet.cell(row=2, column=6)
    assert isinstance(share.value, float) and share.number_format == "0.0%"
    assert sheet.cell(row=2, column=2).number_format == "#,##0"
    # A label typed by someone is text, not a formula; no gender given is an empty share, not a zero.
    hostile = sheet.cell(row=3, column=1)
    assert hostile.data_type == "s" and hostile.value == '=HYPERLINK("http://evil")'
    assert sheet.cell(row=3, column=6).value is None
    assert [c.value for c in sheet[4]][:5] == ["Total", 385, 615, 40, 1040]
    years = book["Par année"]
    assert [c.value for c in years[1]][-1] == "Évolution"
    assert years.cell(row=2, column=1).value == "2023"
    assert years.cell(row=3, column=10).value == pytest.approx(0.3)  # 800 → 1 040 pupils
    assert years.cell(row=3, column=10).number_format.startswith("+0.0%")
    summary = {r[0].value: r[1].value for r in book["Synthèse"].iter_rows(min_row=2)}
    assert summary["Programme"] == "Interventions PMI" and summary["Année"] == "2024"
    assert summary["Élèves"] == 1040 and summary["Interventions"] == 13
    assert summary["Part des filles (parmi les genres précisés)"] == 0.385


def test_the_csv_is_for_french_excel():
    view = hand_made_view()
    body = to_csv(view.breakdowns[0].table())
    assert body.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert lines[0] == HEADER[:5] + ["Part des filles (%)"] + HEADER[6:]
    assert lines[1] == ["Bretagne", "385", "615", "0", "1000", "38,5", "12", "13", "12"]
    assert lines[2][0] == '\'=HYPERLINK("http://evil")' and lines[2][5] == ""
    assert lines[3][:5] == ["Total", "385", "615", "40", "1040"]


def test_sheet_titles_follow_excel_rules():
    taken: set[str] = set()
    assert sheet_title("Par région et type d'intervention", taken) == "Par région et type d'interventi"
    assert sheet_title("Par région et type d'intervention", taken) == "Par région et type d'interve 2"
    assert sheet_title("A/B [x]: y?", taken) == "A-B -x-- y-"


# --- from the demo, through the routes ------------------------------------------------------------------


@pytest.fixture
def admin(app, demo):
    client = app.test_client()
    client.post("/connexion", data={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
    return client


def test_the_demo_view_as_xlsx(admin):
    response = admin.get(
        "/admin/statistiques/export.xlsx?programme=pmi&year=2024&by=region&by=kind&by=region,gr"
    )
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="statistiques-pmi-2024.xlsx"' in response.headers["Content-Disposition"]
    book = read_xlsx(response.data)
    assert book.sheetnames == [
        "Synthèse", "Par année", "Par région", "Par type d'intervention", "Par région et groupe régional",
    ]  # fmt: skip
    summary = {r[0].value: r[1].value for r in book["Synthèse"].iter_rows(min_row=2)}
    assert (summary["Élèves"], summary["Filles"], summary["Interventions"], summary["Intervenants"]) == (
        14_236, 5_142, 324, 363,
    )  # fmt: skip
    kinds = list(book["Par type d'intervention"].iter_rows(min_row=2, values_only=True))
    assert kinds[-1][0] == "Total" and kinds[-1][6] == 324
    assert sum(r[6] for r in kinds[:-1]) == 324 and sum(r[1] for r in kinds[:-1]) == 5_142
    crossed = book["Par région et groupe régional"]
    assert [c.value for c in crossed[1]][:3] == ["Région", "Groupe régional", "Filles"]
    assert all(type(v) is int for r in crossed.iter_rows(min_row=2, values_only=True) for v in r[2:6])


def test_the_demo_view_as_csv(admin):
    response = admin.get(
        "/admin/statistiques/export.csv?programme=transports&year=2024&by=campus&table=campus"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="statistiques-transports-2024-campus.csv"' in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:]), delimiter=";"))
    assert lines[0][0] == "Campus" and lines[0][4] == "Lycéens transportés"
    assert lines[-1][0] == "Total" and lines[-1][4] == "1200" and lines[-1][6] == "24"
    assert sum(int(line[6]) for line in lines[1:-1]) == 24


def test_an_export_of_a_bad_view_is_an_error_not_a_file(admin):
    response = admin.get("/admin/statistiques/export.xlsx?programme=pmi&by=colour")
    assert response.status_code == 422
    assert "Ventilation inconnue pour ce programme : « colour »" in response.get_data(as_text=True)


def test_the_csv_of_a_view_with_two_breakdowns_holds_every_table(admin):
    response = admin.get("/admin/statistiques/export.csv?programme=pmi&year=2024&by=region&by=kind")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffPar année\r\n") and text.count("\ufeff") == 1
    assert "\r\nPar région\r\n" in text and "\r\nPar type d'intervention\r\n" in text
    assert text.count("\r\nTotal;") == 3  # each table keeps its total row
