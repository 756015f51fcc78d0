"""Maps: the factory map's data and filters, popups, near me, bad input, cache; PMI aggregates; routes."""

from __future__ import annotations

import datetime as dt
import re

import folium
import pytest

from core.auth.models import Role
from core.extensions import db
from maps import cache
from pmi.models import Intervention
from tests.factories import PASSWORD, make_edition, make_site, make_user, slot_data
from tests.plugins.pmi import make_school


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rolled-back tests reuse ids and timestamps: start every test from an empty cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def edition(db_session):
    return make_edition(2027)


def published(edition, **overrides):
    return make_site(edition=edition, status="approved", **overrides)


def rows(client, query: str = "") -> list[list]:
    response = client.get(f"/api/v1/maps/sites{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["sites"]


def page_count(client, query: str = "") -> int:
    html = client.get(f"/carte{query}").get_data(as_text=True)
    return int(re.search(r'id="map-count" data-count="(\d+)"', html).group(1))


def test_the_map_holds_every_published_located_site_and_the_filters_narrow_it(client, edition):
    paris = published(edition, sector="metallurgy")
    lyon = published(edition, sector="chemicals", postcode="69007", city="Lyon", street="1 rue de Marseille")
    make_site(edition=edition, status="draft")
    assert {row[0] for row in rows(client)} == {paris.id, lyon.id}
    assert page_count(client) == 2
    assert [row[0] for row in rows(client, "?sector=chemicals")] == [lyon.id]
    assert page_count(client, "?sector=chemicals") == 1
    assert [row[0] for row in rows(client, "?region=11")] == [paris.id]
    assert page_count(client, "?department=69") == 1


def test_seats_and_wheelchair_filters(client, edition):
    full = published(edition, slots=[slot_data(day=edition.friday, capacity=5)])
    accessible = published(
        edition, slots=[slot_data(day=edition.friday, capacity=30, wheelchair_accessible=True)]
    )
    full.slots[0].seats_taken = 5
    db.session.flush()
    assert [row[0] for row in rows(client, "?min_seats=10")] == [accessible.id]
    assert [row[0] for row in rows(client, "?wheelchair=true")] == [accessible.id]
    assert page_count(client, "?min_seats=10&wheelchair=1") == 1


def test_a_row_carries_the_public_fields_only(client, edition):
    site = published(edition)
    data = client.get("/api/v1/maps/sites").get_json()
    row = dict(zip(data["fields"], data["sites"][0], strict=True))
    assert row["id"] == site.id and row["days"] == 3 and row["seats_left"] == 60
    assert data["days"] == [edition.friday.isoformat(), edition.saturday.isoformat()]
    assert "camille" not in str(data).lower() and "+33" not in str(data)


def test_the_popup_shows_the_seats_left_of_each_slot_and_links_to_book(client, edition):
    site = published(edition)
    site.slots[0].seats_taken = 12
    db.session.flush()
    html = client.get(f"/carte/sites/{site.id}/fiche").get_data(as_text=True)
    seats = dict(re.findall(r'data-slot="(\d+)" data-seats-left="(\d+)"', html))
    assert seats == {str(site.slots[0].id): "18", str(site.slots[1].id): "30"}
    assert f"/creneaux/{site.slots[0].id}/reserver" in html
    assert "camille" not in html.lower()


def test_an_unpublished_site_has_no_popup(client, edition):
    draft = make_site(edition=edition, status="draft")
    assert client.get(f"/carte/sites/{draft.id}/fiche").status_code == 404


def test_a_site_without_coordinates_is_listed_but_never_drawn(client, edition):
    located = published(edition)
    pending = published(edition, name="Usine pas encore localisée")
    pending.lat = pending.lon = None
    db.session.flush()
    data = rows(client)
    assert [row[0] for row in data] == [located.id]
    assert all((row[1], row[2]) != (0, 0) for row in data)
    html = client.get("/carte").get_data(as_text=True)
    assert "Usine pas encore localisée" in html and "1 en attente de localisation" in html


def test_unknown_filters_are_ignored_on_the_page_and_refused_by_the_api(client, edition):
    published(edition)
    assert page_count(client, "?colour=blue&sector=nonsense&min_seats=abc") == 1
    response = client.get("/api/v1/maps/sites?colour=blue")
    assert response.status_code == 422
    assert "colour" in response.get_json()["error"]["fields"]


def test_near_a_postcode_sorts_by_distance(client, edition, gazetteer):
    if gazetteer is None:
        pytest.skip("no gazetteer")
    lyon = published(edition, postcode="69007", city="Lyon", street="1 rue de Marseille")
    paris = published(edition)
    body = client.get("/api/v1/maps/sites/near?postcode=69003").get_json()
    assert [s["id"] for s in body["sites"]] == [lyon.id, paris.id]
    assert body["sites"][0]["distance_km"] < 10 < body["sites"][1]["distance_km"]
    html = client.get("/carte?cp=69003").get_data(as_text=True)
    assert html.index(f"/usines/{lyon.id}") < html.index(f"/usines/{paris.id}")


def test_a_postcode_that_does_not_exist_gets_a_clear_message(client, edition, gazetteer):
    if gazetteer is None:
        pytest.skip("no gazetteer")
    published(edition)
    html = client.get("/carte?cp=99999").get_data(as_text=True)
    assert "Le code postal 99999 n&#39;existe pas" in html
    response = client.get("/api/v1/maps/sites/near?postcode=99999")
    assert response.status_code == 422
    assert "n'existe pas" in response.get_json()["error"]["fields"]["postcode"][0]
    assert client.get("/api/v1/maps/sites/near").status_code == 422


def test_the_data_is_cached_until_a_site_or_a_seat_changes(client, edition):
    site = published(edition)
    first = client.get("/api/v1/maps/sites")
    etag = first.headers["ETag"]
    assert client.get("/api/v1/maps/sites", headers={"If-None-Match": etag}).status_code == 304
    site.slots[0].seats_taken = 3
    db.session.flush()
    second = client.get("/api/v1/maps/sites", headers={"If-None-Match": etag})
    assert second.status_code == 200 and second.get_json()["sites"][0][7] == 57
    site.name = "Nouveau nom"
    site.updated_at = site.updated_at + dt.timedelta(seconds=1)
    db.session.flush()
    assert client.get("/api/v1/maps/sites").get_json()["sites"][0][3] == "Nouveau nom"


def test_map_pages_load_assets_from_the_app_only(client, app, edition, monkeypatch):
    published(edition)
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "/tuiles/{z}/{x}/{y}.png")
    for url in ("/carte", "/carte/pmi"):
        html = client.get(url).get_data(as_text=True)
        sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert sources and all(src.startswith("/static/") for src in sources), sources
        assert "/tuiles/{z}/{x}/{y}.png" in html


def test_the_empty_map_is_built_once_per_tile_setting_and_each_page_gets_its_own_nonce(
    client, app, edition, monkeypatch
):
    published(edition)
    tile_layers = []
    build_tile_layer = folium.TileLayer.__init__

    def counted(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        tile_layers.append(args[0] if args else kwargs.get("tiles"))
        build_tile_layer(self, *args, **kwargs)

    monkeypatch.setattr(folium.TileLayer, "__init__", counted)
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "/tuiles/{z}/{x}/{y}.png")
    pages = [client.get("/carte"), client.get("/carte?sector=chemicals"), client.get("/carte")]
    assert tile_layers == ["/tuiles/{z}/{x}/{y}.png"]
    nonces = [re.search(r"'nonce-([^']+)'", p.headers["Content-Security-Policy"]).group(1) for p in pages]
    assert len(set(nonces)) == 3
    for page, nonce in zip(pages, nonces, strict=True):
        html = page.get_data(as_text=True)
        assert set(re.findall(r'nonce="([^"]+)"', html)) == {nonce}
        assert re.search(rf'<script nonce="{nonce}">\s*var map_\w+ = L\.map\(', html)
    assert page_count(client) == 1

    monkeypatch.setitem(app.config, "MAP_TILE_URL", "/autres-tuiles/{z}/{x}/{y}.png")
    html = client.get("/carte").get_data(as_text=True)
    assert tile_layers == ["/tuiles/{z}/{x}/{y}.png", "/autres-tuiles/{z}/{x}/{y}.png"]
    assert "/autres-tuiles/{z}/{x}/{y}.png" in html and "/tuiles/{z}" not in html


# ---- PMI ---------------------------------------------------------------------------------------------


def intervention(school, female: int, male: int, unspecified: int = 0, **kw) -> Intervention:
    row = Intervention(
        date=kw.pop("date", dt.date(2026, 2, 3)), kind="class_talk", school_id=school.id,
        department=school.department, region=school.region, female=female, male=male,
        unspecified=unspecified, duration_minutes=60, notes="Note privée de l'intervenante", **kw,
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def pmi_data(db_session):
    paris, lyon = make_school("75", "11", name="Collège Secret"), make_school("69", "84", city="Lyon")
    intervention(paris, 10, 20)
    intervention(paris, 5, 5, 2)
    intervention(lyon, 30, 10, date=dt.date(2025, 5, 1))
    return paris, lyon


def test_pmi_aggregates_by_region_and_department_with_the_share_of_girls(client, pmi_data):
    body = client.get("/api/v1/maps/pmi/territories").get_json()
    by_code = {t["code"]: t for t in body["territories"]}
    assert by_code["11"]["interventions"] == 2 and by_code["11"]["pupils"] == 42
    assert by_code["11"]["female_share"] == pytest.approx(15 / 40, abs=1e-4)
    assert by_code["84"]["female_share"] == 0.75
    departments = client.get("/api/v1/maps/pmi/territories?level=department&year=2026").get_json()
    assert [t["code"] for t in departments["territories"]] == ["75"]
    assert client.get("/api/v1/maps/pmi/territories?level=commune").status_code == 422


def test_the_public_pmi_map_shows_counts_and_no_personal_data(client, pmi_data):
    html = client.get("/carte/pmi").get_data(as_text=True)
    assert html.count("pmi-territory") >= 2 and "Île-de-France" in html
    assert "Collège Secret" not in html and "Note privée" not in html
    assert "Paris" in client.get("/carte/pmi?niveau=departement").get_data(as_text=True)


def test_the_schools_map_is_for_the_staff(client, pmi_data):
    assert client.get("/carte/pmi/etablissements").status_code in (302, 401)
    volunteer = make_user(Role.VOLUNTEER)
    admin = make_user(Role.ADMIN)
    for user, status in ((volunteer, 403), (admin, 200)):
        client.post("/deconnexion")
        client.post("/connexion", data={"email": user.email, "password": PASSWORD})
        response = client.get("/carte/pmi/etablissements")
        assert response.status_code == status
    assert "Collège Secret" in response.get_data(as_text=True)


# ---- route map (for the transports) -----------------------------------------------------------------


def test_a_route_map_is_offline_and_draws_each_stop(app):
    from core.maps.assets import standalone_html
    from core.maps.routes import route_map

    with app.test_request_context():
        html = standalone_html(
            route_map([(48.85, 2.35, "Collège A"), (48.80, 2.30, "Lycée B")], (48.83, 2.36, "Campus"))
        )
    assert html.count("L.circleMarker") == 3 and "L.polyline" in html
    assert "cdn" not in html and "https://code.jquery" not in html
