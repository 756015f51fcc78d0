"""The public journey in Chromium: home page → list → filter by region → site page with its slots."""

from __future__ import annotations

import re
from datetime import time

import pytest
from playwright.sync_api import Page, expect

from core.auth.models import Role
from core.extensions import db
from jou import services
from tests.factories import make_edition, make_user
from tests.plugins.browser import PHONE
from tests.plugins.jou import site_data

pytestmark = pytest.mark.browser

SITES = [
    # name, postcode, city, sector
    ("Fonderie de Gerland", "69007", "Lyon", "metallurgy"),
    ("Conserverie de Chantepie", "35135", "Chantepie", "agrifood"),
    ("Atelier de Saint-Nazaire", "44600", "Saint-Nazaire", "shipbuilding"),
]


@pytest.fixture
def demo_sites(live_server, committed_db) -> list[int]:
    """Three published sites in three regions, committed so that the live server sees them."""
    edition = make_edition(2027)
    owner = make_user(Role.FACTORY, email="usine@example.org")
    admin = make_user(Role.ADMIN, email="staff@example.org")
    ids = []
    for name, postcode, city, sector in SITES:
        data = site_data(edition, name=name, postcode=postcode, city=city, sector=sector)
        data["slots"].append(
            {"day": edition.saturday, "start": time(9, 30), "end": time(10, 45), "audience": "public",
             "capacity": 12, "min_age": 10}
        )  # fmt: skip
        site = services.create_site(owner, edition, data)
        services.submit_site(owner, site)
        services.approve_site(admin, site)
        ids.append(site.id)
    db.session.commit()
    return ids


def test_public_finds_a_factory_and_its_slots(page: Page, live_server, demo_sites):
    page.goto(live_server("/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journées Usines Ouvertes 2027")
    expect(page.get_by_test_id("published-count")).to_have_text("3")

    page.get_by_role("link", name="Liste des usines").click()
    expect(page).to_have_url(re.compile(r"/usines$"))
    cards = page.get_by_test_id("site-cards").locator("li.card")
    expect(cards).to_have_count(3)

    page.get_by_label("Région").select_option(label="Auvergne-Rhône-Alpes")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"region=84"))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Fonderie de Gerland")
    expect(page.get_by_test_id("result-count")).to_contain_text("1 usine trouvée")

    # The site page on a phone: the slots table turns into one labelled card per slot.
    page.set_viewport_size(PHONE)
    cards.first.get_by_role("link", name="Fonderie de Gerland").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fonderie de Gerland")
    rows = page.get_by_test_id("slots").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("vendredi 19 mars 2027")
    expect(rows.nth(0)).to_contain_text("Scolaires")
    expect(page.get_by_test_id("slots")).to_contain_text("09h30 – 10h45")
    expect(page.get_by_test_id("slots")).to_contain_text("10 ans")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the site page scrolls sideways on a phone"
