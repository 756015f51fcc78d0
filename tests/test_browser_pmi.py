"""Logging an intervention on a phone in Chromium: sign in → new intervention → school autocomplete →
counts → saved → the history shows it with the totals."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from pmi.models import Intervention
from tests.factories import PASSWORD
from tests.plugins.browser import PHONE
from tests.plugins.pmi import make_school, make_volunteer

pytestmark = pytest.mark.browser


@pytest.fixture
def volunteer_email(live_server, committed_db) -> str:
    user, _ = make_volunteer(name="Alice Martin")
    make_school(name="Collège Jules Ferry", city="Paris")
    make_school(name="Lycée Gustave Eiffel", city="Paris", kind="lycee_gt")
    db.session.commit()
    return user.email


def test_volunteer_logs_an_intervention_on_a_phone(page: Page, live_server, volunteer_email):
    page.set_viewport_size(PHONE)
    page.goto(live_server("/connexion"))
    page.get_by_label("E-mail", exact=False).fill(volunteer_email)
    page.get_by_label("Mot de passe", exact=False).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.I)).click()

    page.goto(live_server("/pmi/interventions/nouvelle"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle intervention")
    search = page.get_by_role("combobox", name=re.compile("Établissement"))
    search.press_sequentially("jules fe", delay=30)
    option = page.get_by_role("option", name=re.compile("Collège Jules Ferry"))
    option.click()
    expect(search).to_have_value(re.compile("Collège Jules Ferry"))
    page.get_by_label("3e", exact=True).check()
    page.get_by_role("spinbutton", name="Filles").fill("14")
    page.get_by_role("spinbutton", name="Garçons").fill("11")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mes interventions")
    expect(page.get_by_text("Collège Jules Ferry (Paris)")).to_be_visible()
    expect(page.locator('[data-total="interventions"]')).to_have_text("1")
    expect(page.locator('[data-total="female"]')).to_have_text("14")
    expect(page.locator('[data-total="female_share"]')).to_have_text("56 %")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"scrolls sideways on a phone ({width}px)"

    db.session.rollback()
    intervention = db.session.query(Intervention).one()
    assert intervention.school.name == "Collège Jules Ferry" and intervention.total == 25
    assert intervention.level_list == ["3e"]
