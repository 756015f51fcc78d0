"""The records behind a figure, on the demo: the staff page, its CSV and the API list the interventions,
buses or slots a figure counts, under the same filters and measure, and they add up to the figure; the
dashboard links its totals and each row to them; nobody else sees them."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from core.auth.models import Role
from fixtures.loader import ADMIN_EMAIL, DEMO_PASSWORD, FACTORY_EMAIL
from stats.queries import compute
from stats.records import records
from tests.factories import api_token, make_user

N = "\u202f"


@pytest.fixture
def admin(app, demo):
    client = app.test_client()
    client.post("/connexion", data={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
    return client


@pytest.mark.parametrize(
    ("programme", "filters", "measure"),
    [
        ("pmi", {"year": 2024}, "attended"),
        ("pmi", {"school_year": "2024-2025", "region": "84"}, "attended"),
        ("pmi", {"year": 2024, "level": "2nde"}, "attended"),
        ("jou", {"edition": 2025}, "attended"),
        ("jou", {"edition": 2025, "audience": "schools"}, "booked"),
        ("transports", {"year": 2025}, "attended"),
        ("transports", {}, "planned"),
    ],
)
def test_the_records_add_up_to_the_figure(demo, programme, filters, measure):
    figure = compute(programme, filters=filters, measure=measure).totals
    found = records(programme, filters, measure)
    assert found.count > 0
    assert found.totals == {"female": figure.female, "male": figure.male, "unspecified": figure.unspecified,
                            "total": figure.total}  # fmt: skip
    counted = {"pmi": "interventions", "transports": "transports"}.get(programme)
    if counted:
        assert found.count == figure.counts[counted]
    assert len(set(found.ids)) == found.count


def test_the_page_lists_them_and_exports_them_all(admin):
    response = admin.get("/admin/statistiques/donnees?programme=pmi&year=2024")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    summary = re.sub(r"[ \t\r\n]+", " ", re.search(r'<p id="records-summary">(.*?)</p>', body, re.S).group(1))
    assert summary.startswith(f"324 interventions, 14{N}236 élèves (5{N}142 filles,")
    assert body.count("<tr>") == 1 + 324  # the header and every intervention (fewer than a page)
    assert 'tabindex="0"' in body  # the wide table scrolls in its box, by keyboard too

    exported = admin.get("/admin/statistiques/donnees.csv?programme=pmi&year=2024")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["N°", "Date", "Type", "Lieu"] and rows[0][-1] == "Total"
    assert len(rows) == 1 + 324 and sum(int(r[-1]) for r in rows[1:]) == 14_236


def test_the_jou_page_says_where_each_slots_figures_come_from(admin):
    body = admin.get("/admin/statistiques/donnees?programme=jou&edition=2025").get_data(as_text=True)
    assert "rapport de l&#39;usine" in body


def test_bad_filters_are_said_not_served(admin):
    response = admin.get("/admin/statistiques/donnees?programme=pmi&academie=Atlantide")
    assert response.status_code == 422
    assert "Académie inconnue." in response.get_data(as_text=True)
    assert admin.get("/admin/statistiques/donnees.csv?programme=pmi&academie=Atlantide").status_code == 422


def test_the_dashboard_links_each_figure_to_its_records(admin):
    body = admin.get("/admin/statistiques?programme=pmi&year=2024&by=region").get_data(as_text=True)
    links = [link.replace("&amp;", "&") for link in re.findall(r'<a href="([^"]+)" data-records', body)]
    assert links[0] == "/admin/statistiques/donnees?programme=pmi&year=2024"
    region_links = [link for link in links if "region=" in link]
    assert len(region_links) >= 10
    for link in region_links:
        args = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        row = compute("pmi", filters={"year": 2024, "region": args["region"]}).totals
        assert records("pmi", {"year": 2024, "region": args["region"]}).totals["total"] == row.total
    # The year-over-year rows link to their own year, whatever year the view is on.
    assert "/admin/statistiques/donnees?programme=pmi&year=2025" in links


def test_only_staff_see_the_records(app, demo):
    client = app.test_client()
    factory = app.test_client()
    factory.post("/connexion", data={"email": FACTORY_EMAIL, "password": DEMO_PASSWORD})
    for url in ("/admin/statistiques/donnees?programme=pmi", "/admin/statistiques/donnees.csv?programme=pmi"):
        assert factory.get(url).status_code == 403
        assert app.test_client().get(url).status_code == 302
    api = "/api/v1/stats/pmi/records?year=2024"
    assert client.get(api).status_code == 401
    assert client.get(api, headers=api_token(client, make_user(Role.ORGANISER).email)).status_code == 403
    body = client.get(api, headers=api_token(client, ADMIN_EMAIL, DEMO_PASSWORD)).get_json()
    assert body["count"] == 324 and body["totals"]["total"] == 14_236 and len(body["rows"]) == 324
    assert body["columns"][0] == "N°" and body["filters"] == {"year": 2024}
