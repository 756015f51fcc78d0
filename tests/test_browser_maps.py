"""Maps in Chromium: markers drawn from the data endpoint, a popup's seats left, and no request to any host
other than the app (tiles included, MAP_TILE_URL pointing at the app)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.auth.models import Role, User
from core.extensions import db
from jou import services
from jou.models import Site
from maps import cache
from tests.factories import make_edition, make_user, site_data

pytestmark = pytest.mark.browser
# Any path of the app will do: a missing tile is a 404 from the app, never a request elsewhere.
TILE_PATH = "/static/tiles/{z}/{x}/{y}.png"


@pytest.fixture
def map_sites(app, live_server, committed_db, monkeypatch) -> list[int]:
    monkeypatch.setitem(app.config, "MAP_TILE_URL", live_server(TILE_PATH))
    cache.clear()
    edition = make_edition(2027)
    owner = make_user(Role.FACTORY, email="usine@example.org")
    admin = make_user(Role.ADMIN, email="staff@example.org")
    ids = []
    for name, postcode, city in (
        ("Fonderie de Gerland", "69007", "Lyon"),
        ("Atelier du Louvre", "75001", "Paris"),
    ):
        site = services.create_site(
            owner, edition, site_data(edition, name=name, postcode=postcode, city=city)
        )
        services.submit_site(owner, site)
        services.approve_site(admin, site)
        ids.append(site.id)
    site = services.get_site(ids[0])
    site.slots[0].seats_taken = 7
    db.session.commit()
    yield ids
    cache.clear()


def hosts_seen(page: Page) -> set[str]:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    return hosts


def test_the_factory_map_draws_markers_and_loads_nothing_from_elsewhere(page: Page, live_server, map_sites):
    hosts = hosts_seen(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/carte"))
    expect(page.locator("html")).to_have_attribute("data-markers-drawn", "2", timeout=10_000)
    expect(page.locator("#map-count")).to_contain_text("2 sites sur la carte")
    # Open the Lyon site's popup: its slots and seats left come from the server.
    page.evaluate("id => window.factoryMap.openSite(id)", map_sites[0])
    popup = page.locator(".leaflet-popup-content .popup-slots")
    expect(popup).to_contain_text("23 places")
    expect(popup.get_by_role("link", name="Réserver").first).to_have_attribute(
        "href", re.compile(r"/reserver$")
    )
    page.wait_for_load_state("networkidle")
    assert hosts == {urlsplit(live_server.url).netloc}, hosts


def test_the_pmi_map_loads_nothing_from_elsewhere(page: Page, live_server, map_sites):
    hosts = hosts_seen(page)
    page.goto(live_server("/carte/pmi"))
    expect(page.locator(".leaflet-container")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert hosts == {urlsplit(live_server.url).netloc}, hosts


def test_the_pin_is_set_by_a_click_on_the_map(page: Page, live_server, map_sites):
    """The factory clicks the map at its site's entrance: the coordinates follow, and are saved as a
    hand-set pin (the typed inputs stay, for the keyboard)."""
    from tests.factories import PASSWORD

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/connexion"))
    page.get_by_label("Adresse e-mail").fill("usine@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.wait_for_load_state()
    page.goto(live_server(f"/mes-sites/{map_sites[0]}/position"))
    before = page.get_by_label("Latitude").input_value(), page.get_by_label("Longitude").input_value()
    box = page.locator("#pin-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    expect(page.locator("#pin-map")).to_have_attribute("data-placed", "true")
    after = page.get_by_label("Latitude").input_value(), page.get_by_label("Longitude").input_value()
    assert after != before and all(re.fullmatch(r"-?\d+\.\d{6}", v) for v in after)
    page.get_by_role("button", name="Enregistrer la position").click()
    expect(page.get_by_text("Position corrigée.")).to_be_visible()
    db.session.remove()
    site = db.session.get(Site, map_sites[0])
    assert (f"{site.lat:.6f}", f"{site.lon:.6f}", site.geo_precision) == (*after, "manual")


def test_the_map_opens_on_the_metropole_the_overseas_one_click_away_and_follows_a_postcode(
    page: Page, live_server, map_sites
):
    """A site in La Réunion does not zoom the map out to the whole world: it opens on metropolitan France,
    « La Réunion » takes the map there, and a postcode search centres it on that postcode."""
    owner = db.session.scalar(select(User).where(User.email == "usine@example.org"))
    admin = db.session.scalar(select(User).where(User.email == "staff@example.org"))
    edition = services.get_site(map_sites[0]).edition
    site = services.create_site(owner, edition, site_data(edition, name="Usine de Saint-Denis", postcode="97400",
                                                          city="Saint-Denis"))  # fmt: skip
    services.submit_site(owner, site)
    services.approve_site(admin, site)
    db.session.commit()
    cache.clear()

    def center() -> tuple[float, float]:
        return tuple(page.evaluate("() => { const c = window[document.getElementById('factory-map-config')"
                                   ".dataset.map].getCenter(); return [c.lat, c.lng]; }"))  # fmt: skip

    page.goto(live_server("/carte"))
    expect(page.locator("html")).to_have_attribute("data-markers-drawn", "3", timeout=10_000)
    lat, lon = center()
    assert 41 < lat < 51.5 and -5.5 < lon < 10, (lat, lon)
    page.get_by_role("button", name="La Réunion").click()
    expect(page.locator("html")).to_have_attribute("data-map-area", "La Réunion")
    page.wait_for_function(
        "() => window[document.getElementById('factory-map-config').dataset.map].getCenter().lat < 0",
        timeout=5_000,
    )
    lat, lon = center()
    assert -21.5 < lat < -20.8 and 55.1 < lon < 56, (lat, lon)
    page.goto(live_server("/carte?cp=69007"))
    expect(page.locator("html")).to_have_attribute("data-markers-drawn", "3", timeout=10_000)
    lat, lon = center()
    assert abs(lat - 45.73) < 0.1 and abs(lon - 4.84) < 0.1, (lat, lon)
