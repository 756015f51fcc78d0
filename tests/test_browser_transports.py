"""Planning a transport on a phone in Chromium: sign in → new transport → two pickup stops (school
autocomplete) → the seats taken and the route diagram are shown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.auth.models import Role
from core.extensions import db
from pmi.transports.models import Transport
from tests.factories import PASSWORD
from tests.plugins.browser import PHONE
from tests.plugins.pmi import SOON, make_school, make_volunteer

pytestmark = pytest.mark.browser


@pytest.fixture
def organiser_email(live_server, committed_db) -> str:
    user, _ = make_volunteer("paris", Role.ORGANISER, name="Olivia Organisatrice")
    make_school(name="Lycée Arago", city="Paris", kind="lycee_gt")
    make_school(name="Lycée Voltaire", city="Paris", kind="lycee_gt")
    db.session.commit()
    return user.email


def add_stop(page: Page, typed: str, name: str, time: str, girls: str, boys: str, teachers: str) -> None:
    search = page.get_by_role("combobox", name=re.compile("Établissement"))
    search.press_sequentially(typed, delay=30)
    page.get_by_role("option", name=re.compile(name)).click()
    expect(search).to_have_value(re.compile(name))
    page.get_by_label("Heure de ramassage").fill(time)
    page.get_by_role("spinbutton", name="Filles").fill(girls)
    page.get_by_role("spinbutton", name="Garçons").fill(boys)
    page.get_by_role("spinbutton", name="Enseignants accompagnateurs").fill(teachers)
    page.get_by_role("button", name="Ajouter l'arrêt").click()
    expect(page.get_by_text(f"Arrêt ajouté : {name}.")).to_be_visible()


def test_organiser_plans_a_transport_with_two_stops_on_a_phone(page: Page, live_server, organiser_email):
    page.set_viewport_size(PHONE)
    page.goto(live_server("/connexion"))
    page.get_by_label("E-mail", exact=False).fill(organiser_email)
    page.get_by_label("Mot de passe", exact=False).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.I)).click()

    page.goto(live_server("/pmi/transports/nouveau"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau transport")
    page.get_by_label("Campus").select_option("angers")
    page.get_by_label("Date").fill(SOON.isoformat())
    page.get_by_label("Départ").fill("07:30")
    page.get_by_label("Retour").fill("18:30")
    page.get_by_label("Transporteur").fill("Cars de l'Ouest")
    page.get_by_label("Places dans le car").fill("50")
    page.get_by_label("Coût (euros)").fill("920.50")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Transport vers le Campus Arts et Métiers d'Angers"
    )
    add_stop(page, "arago", "Lycée Arago", "07:40", "12", "10", "2")
    add_stop(page, "voltai", "Lycée Voltaire", "08:05", "9", "11", "1")

    expect(page.locator("[data-seats]")).to_have_text("45 / 50 places occupées")
    expect(page.locator("[data-stop]")).to_have_count(2)
    expect(page.locator("svg.route-map circle")).to_have_count(3)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"scrolls sideways on a phone ({width}px)"

    db.session.rollback()
    transport = db.session.query(Transport).one()
    assert transport.campus == "angers" and transport.seats_taken == 45 and str(transport.cost) == "920.50"
    assert [s.school.name for s in transport.stops] == ["Lycée Arago", "Lycée Voltaire"]
