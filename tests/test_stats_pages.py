"""The statistics pages on the demo: the staff dashboard (filters and breakdowns in the URL, charts with
their tables, the report's paragraph, the map link), bad input as French messages beside the fields, a
year without records, and the public summary, which shows no person."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from core.auth.models import Role, User
from core.extensions import db
from fixtures.loader import ADMIN_EMAIL, DEMO_PASSWORD, FACTORY_EMAIL
from stats import charts
from stats.queries import compute

N = "\u202f"


@pytest.fixture
def admin(app, demo):
    client = app.test_client()
    client.post("/connexion", data={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
    return client


def page_text(response) -> str:  # noqa: ANN001
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|svg)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))  # keeps U+202F


def figure(response, label: str) -> str:  # noqa: ANN001
    """A key figure as shown: <dt>label</dt><dd>value</dd>."""
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", response.get_data(as_text=True))
    assert match, f"no key figure {label!r}"
    return match.group(1)


def test_the_dashboard_is_the_view_in_its_url(admin):
    url = "/admin/statistiques?programme=pmi&year=2024&by=region&by=kind"
    response = admin.get(url)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert figure(response, "Élèves") == f"14{N}236"
    assert figure(response, "Filles") == f"5{N}142"
    assert figure(response, "Interventions") == "324"
    assert figure(response, "Intervenants") == "363"
    # The form shows the view: the year chosen, the breakdowns ticked.
    assert '<option value="2024" selected>' in body
    assert re.search(r'value="region" checked', body) and re.search(r'value="kind" checked', body)
    assert not re.search(r'value="gr" checked', body)
    # The report's paragraph, the map of the same year, and exports of the same view.
    text = page_text(response)
    assert f"En 2024, 363 intervenants ont rencontré plus de 14{N}000 élèves, dont 5{N}142 filles" in text
    assert 'href="/carte/pmi?annee=2024"' in body
    assert "Voir sur la carte" in text
    exports = re.findall(r'href="(/admin/statistiques/export\.(?:xlsx|csv)\?[^"]+)"', body)
    assert exports and all("year=2024" in u and "by=region" in u and "by=kind" in u for u in exports)


def test_every_chart_is_an_image_with_a_title_and_its_table(admin):
    response = admin.get("/admin/statistiques?programme=pmi&year=2024&by=region")
    body = response.get_data(as_text=True)
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", body, flags=re.S)
    assert len(svgs) == 2  # year over year, and by region
    for svg in svgs:
        assert 'role="img"' in svg and 'aria-label="' in svg and "<title>" in svg
    by_region = next(s for s in svgs if 'aria-label="Élèves par région"' in s)
    # One bar per region with pupils, each region's total written beside its bar; the table says the same.
    rows = compute("pmi", by=["region"], filters={"year": 2024}).rows
    assert by_region.count('<g class="bar">') == len(rows) > 10
    for row in rows:
        label = str(escape(row.labels["region"]))
        assert f">{label}<" in by_region and f"<td>{label}</td>" in body
    assert "<caption" in body and "les chiffres du graphique" in body


def test_filters_narrow_every_figure(admin):
    response = admin.get("/admin/statistiques?programme=pmi&year=2024&region=53&by=department")
    assert response.status_code == 200
    brittany = compute("pmi", filters={"year": 2024, "region": "53"}).totals
    assert 0 < brittany.total < 14_236
    assert figure(response, "Élèves") == f"{brittany.total:,}".replace(",", N)
    text = page_text(response)
    assert "Région : Bretagne" in text
    body = response.get_data(as_text=True)
    assert "<td>Ille-et-Vilaine</td>" in body and "<td>Gironde</td>" not in body


def test_jou_by_day_and_measure(admin):
    response = admin.get("/admin/statistiques?programme=jou&year=2025&by=day&by=audience")
    assert response.status_code == 200
    assert figure(response, "Visiteurs") == f"20{N}000"
    assert figure(response, "Usines") == "226"
    text = page_text(response)
    assert "vendredi 4 avril 2025" in text and "samedi 5 avril 2025" in text
    assert "Scolaires" in text and "Grand public" in text
    assert 'href="/carte?edition=2025"' in response.get_data(as_text=True)
    booked = admin.get("/admin/statistiques?programme=jou&year=2025&measure=booked")
    assert booked.status_code == 200
    assert figure(booked, "Visiteurs") != f"20{N}000"  # what was booked is not who came


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("programme=pmi&by=colour", "Ventilations", "Ventilation inconnue pour ce programme : « colour »"),
        ("programme=transports&by=kind", "Ventilations", "Ventilation inconnue pour ce programme : « kind »"),
        (
            "programme=jou&school_year=2024-2025",
            "Année scolaire",
            "Ce filtre ne s'applique pas à ce programme",
        ),
        (
            "programme=transports&kind=forum",
            "Type d'intervention",
            "Ce filtre ne s'applique pas à ce programme",
        ),
        ("programme=pmi&year=abc", "Année", "Nombre entier attendu."),
        ("programme=pmi&region=99", "Région", "Région inconnue"),
        ("programme=pmi&school_year=2024-2026", "Année scolaire", "Année scolaire attendue sous la forme"),
        ("programme=velo", "Programme", "Programme inconnu"),
        ("programme=pmi&gr=nowhere", "Groupe régional", "Groupe régional inconnu."),
    ],
)
def test_bad_input_is_a_french_message_on_the_page(admin, query, field, message):
    response = admin.get(f"/admin/statistiques?{query}")
    assert response.status_code == 422
    text = page_text(response)
    assert f"{field} : {message}" in text
    assert "Statistiques" in text and "Afficher" in text  # the form is still there to correct the view


def test_an_error_page_still_offers_every_year_with_records(admin):
    """Correcting a bad view must not need a year the list lost (the demo's PMI years: 2024, 2025...)."""
    text = admin.get("/admin/statistiques?programme=pmi&by=colour").get_data(as_text=True)
    assert '<option value="2024"' in text
    # An unknown programme: the form still shows a programme's breakdowns to pick from.
    assert 'name="by"' in admin.get("/admin/statistiques?programme=velo").get_data(as_text=True)


def test_every_error_shows_at_once(admin):
    text = page_text(admin.get("/admin/statistiques?programme=jou&school_year=2024-2025&by=kind"))
    assert "Ventilations : Ventilation inconnue" in text
    assert "Année scolaire : Ce filtre ne s'applique pas" in text


def test_a_year_without_records_shows_zeros_and_dashes(admin):
    response = admin.get("/admin/statistiques?programme=pmi&year=2031&by=region")
    assert response.status_code == 200
    assert figure(response, "Élèves") == "0"
    assert figure(response, "Interventions") == "0"
    assert figure(response, "Part des filles (parmi les genres précisés)") == "—"
    text = page_text(response)
    assert "En 2031, aucune intervention n'a été enregistrée." in text
    assert "Aucune donnée." in text


def test_the_dashboard_is_for_staff_only(app, demo):
    anonymous = app.test_client()
    response = anonymous.get("/admin/statistiques?programme=pmi")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    factory = app.test_client()
    factory.post("/connexion", data={"email": FACTORY_EMAIL, "password": DEMO_PASSWORD})
    for url in ("/admin/statistiques", "/admin/statistiques/export.csv", "/admin/statistiques/export.xlsx"):
        assert factory.get(url).status_code == 403, url


def test_the_public_summary_shows_numbers_not_people(app, demo):
    response = app.test_client().get("/chiffres")
    assert response.status_code == 200
    text = page_text(response)
    # The last complete year of each programme, with the report's sentences: the demo's 2026 edition has
    # every slot's attendance, and its figures are its own (more factories than 2025, more visitors).
    assert "Journées Usines Ouvertes · 2026" in text
    jou_2026 = compute("jou", filters={"edition": 2026}).totals
    assert f"{jou_2026.counts['sites']} usines ont ouvert leurs portes à" in text
    assert jou_2026.counts["sites"] > 226 and jou_2026.total > 20_000
    assert "Interventions PMI · 2025" in text and "Transports vers les campus · 2025" in text
    assert "pas encore saisi" not in text and "-100" not in text
    assert f"226 usines ont ouvert leurs portes à 20{N}000 visiteurs" in page_text(
        app.test_client().get("/chiffres?year=2025")
    )
    assert text.count("Voir sur la carte") == 3
    people = db.session.scalars(select(User).where(User.role != Role.ADMIN)).all()
    assert len(people) > 300
    leaks = [u.name for u in people if u.name and len(u.name) > 5 and u.name in text]
    leaks += [u.email for u in people if u.email in text]
    assert leaks == []
    # Another year from its link; a year without records shows zeros; a bad year, a message.
    assert "plus de 14" in page_text(app.test_client().get("/chiffres?year=2024"))
    empty = app.test_client().get("/chiffres?year=2031")
    assert empty.status_code == 200 and "aucune intervention n'a été enregistrée" in page_text(empty)
    bad = app.test_client().get("/chiffres?year=deux-mille")
    assert bad.status_code == 422 and "Année invalide (ex. 2024)." in page_text(bad)


def test_charts_escape_labels_and_say_when_empty():
    svg = charts.hbars(
        "c1", "Élèves <par> région", [charts.Bar("<script>alert(1)</script>", (3, 2, 1))], ("F", "G", "NP")
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'aria-label="Élèves &lt;par&gt; région"' in svg
    assert svg.count("<rect") == 3 + 3  # three segments, three legend keys
    assert "Aucune donnée." in charts.hbars("c2", "Rien", [charts.Bar("Bretagne", (0, 0, 0))])
    assert "Aucune donnée." in charts.columns("c3", "Rien", [])


def test_every_figure_links_to_the_api_query_that_gives_it(app, admin):
    """On /chiffres and on the dashboard: each figure's « Données (API) » link answers the same totals."""
    client = app.test_client()
    for url, session in (
        ("/chiffres", client),
        ("/admin/statistiques?programme=jou&year=2025&by=region", admin),
    ):
        response = session.get(url)
        links = re.findall(r'<a class="muted" href="([^"]+)" data-api>', response.get_data(as_text=True))
        links += re.findall(r'<a href="([^"]+)" data-api>', response.get_data(as_text=True))
        assert len(links) >= 2, url
        text = page_text(response)
        for link in {html.unescape(link) for link in links}:
            answer = client.get(link)
            assert answer.status_code == 200, (link, answer.get_json())
            total = answer.get_json()["totals"]["total"]
            shown = f"{total:,}".replace(",", N)
            assert shown in text, (url, link, shown)
