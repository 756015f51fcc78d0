"""The staff dashboard in Chromium: a filter changed in the form puts the view in the URL (to share it) and
the charts are drawn from the server, with nothing loaded from another host."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from core.auth.models import Role
from core.extensions import db
from tests.factories import PASSWORD, make_user
from tests.plugins.pmi import log, make_school, make_volunteer

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_email(live_server, committed_db) -> str:
    user, _ = make_volunteer()
    log(user, make_school(department="35", region="53"), female=12, male=14)
    log(user, make_school(department="75", region="11"), female=9, male=6)
    admin = make_user(Role.ADMIN, email="staff@example.org")
    db.session.commit()
    return admin.email


def test_a_filter_changes_the_url_and_the_charts(page: Page, live_server, staff_email):
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(live_server("/connexion"))
    page.get_by_label("E-mail", exact=False).fill(staff_email)
    page.get_by_label("Mot de passe", exact=False).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.I)).click()

    page.goto(live_server("/admin/statistiques?programme=pmi&by=region"))
    chart = page.get_by_role("img", name="Élèves par région")
    expect(chart).to_be_visible()
    expect(chart.locator("g.bar")).to_have_count(2)
    # Choosing a region submits the form by itself: the URL is the new view.
    page.get_by_role("combobox", name="Région", exact=True).select_option(label="Bretagne")
    page.wait_for_url(re.compile(r"region=53"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["region"] == ["53"] and query["programme"] == ["pmi"] and query["by"] == ["region"]
    expect(page.get_by_role("img", name="Élèves par région").locator("g.bar")).to_have_count(1)
    expect(page.locator(".stats-figures")).to_contain_text("26")
    page.reload()  # the shared link shows the same view
    expect(page.get_by_role("combobox", name="Région", exact=True)).to_have_value("53")
    assert hosts == {urlsplit(live_server.url).netloc}, hosts
