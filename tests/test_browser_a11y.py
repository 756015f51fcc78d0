"""Accessibility of the public pages and the gate, as far as a machine can tell.

axe-core (npm, fetched by `make test`) runs on each page with its WCAG 2.0/2.1 A and AA rules; any serious
or critical violation fails with the rule, its help and the elements. Public pages are checked at phone
size (most visitors) and once at desktop size. Then the booking form and the gate's manual entry are
completed with the keyboard alone — Tab, typing, Space and Enter, no click — and the focused element must
show a visible focus ring.

If var/axe.min.js is missing the tests fail (they do not skip): CI runs `make test`, which builds it, so a
skip could only hide a broken install step.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from core.auth.models import Role
from core.extensions import db
from jou.bookings import services as booking_services
from jou.bookings.tokens import manage_token, ticket_token
from maps import cache
from tests.factories import PASSWORD, make_edition, make_site, make_user, slot_data
from tests.plugins.browser import DESKTOP, PHONE, assert_accessible

pytestmark = pytest.mark.browser

# Any path of the app: the map's tiles are 404s from the app, never a request elsewhere.
TILE_PATH = "/static/tiles/{z}/{x}/{y}.png"
MAX_TABS = 80


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args: dict) -> dict:
    """axe is added to the page as a <script> element, which the app's Content-Security-Policy would
    block: these tests (and only these) let Playwright bypass it."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def site(app, live_server, committed_db, monkeypatch) -> dict:
    """A published, located factory with a Friday class slot and a Saturday public slot open for booking,
    and one confirmed booking on the public slot."""
    monkeypatch.setitem(app.config, "MAP_TILE_URL", live_server(TILE_PATH))
    cache.clear()
    today = date.today()
    edition = make_edition(today.year + 1, booking_opens=today - timedelta(days=1))
    owner = make_user(Role.FACTORY, email="usine@example.org")
    site = make_site(
        owner,
        edition,
        status="approved",
        name="Fonderie de Gerland",
        postcode="69007",
        city="Lyon",
        slots=[
            slot_data(day=edition.friday, audience="schools"),
            slot_data(
                day=edition.saturday, audience="public", start=time(9, 30), end=time(10, 45), min_age=10
            ),
        ],
    )
    slot = next(s for s in site.slots if s.audience == "public")
    booking = booking_services.book(
        slot.id,
        {"party_size": 3, "name": "Famille Durand", "email": "durand@example.org", "consent": True,
         "ack_min_age": True},
    )  # fmt: skip
    db.session.commit()
    yield {
        "site_id": site.id,
        "slot_id": slot.id,
        "ticket": ticket_token(booking),
        "manage": manage_token(booking),
    }
    cache.clear()


def public_pages(site: dict) -> dict[str, str]:
    return {
        "accueil": "/",
        "liste": "/usines",
        "fiche": f"/usines/{site['site_id']}",
        "carte": "/carte",
        "réservation": f"/creneaux/{site['slot_id']}/reserver",
    }


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    if "/carte" in url:
        expect(page.locator("html")).to_have_attribute("data-markers-drawn", "1", timeout=10_000)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["téléphone", "bureau"])
@pytest.mark.parametrize("name", ["accueil", "liste", "fiche", "carte", "réservation"])
def test_public_page_has_no_serious_violation(page: Page, live_server, site, name, viewport):
    page.set_viewport_size(viewport)
    open_page(page, live_server(public_pages(site)[name]))
    assert_accessible(page)


def test_map_popup_and_list_alternative(page: Page, live_server, site):
    page.set_viewport_size(PHONE)
    open_page(page, live_server("/carte?region=84"))
    # The list alternative comes before the map and keeps the filters.
    link = page.get_by_role("link", name=re.compile("Voir la liste"))
    expect(link).to_have_attribute("href", re.compile(r"^/usines\?.*region=84"))
    # A marker is a focusable image named after its site; Enter opens its popup, loaded from the server.
    marker = page.get_by_role("button", name="Fonderie de Gerland")
    marker.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content .popup-slots")
    expect(popup.get_by_role("link", name="Réserver")).to_have_count(2)
    # Leaflet fades the popup in: axe would measure the contrast of half-transparent text.
    page.wait_for_function("() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    assert_accessible(page)
    link.click()
    expect(page.get_by_test_id("site-cards")).to_contain_text("Fonderie de Gerland")


def test_booking_error_state_confirmation_and_manage_link(page: Page, live_server, site):
    page.set_viewport_size(PHONE)
    page.goto(live_server(f"/creneaux/{site['slot_id']}/reserver"))
    form = page.get_by_test_id("booking-form")
    form.get_by_role("button", name="Réserver").click()
    expect(page.locator(".form-errors")).to_be_visible()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    assert_accessible(page)

    form.get_by_label("Nombre de places", exact=False).select_option("2")
    form.get_by_role("textbox", name="Nom").fill("Jeanne Dupont")
    form.get_by_role("textbox", name="E-mail").fill("jeanne.dupont@example.org")
    form.get_by_label(re.compile("au moins 10 ans")).check()
    form.get_by_label(re.compile("J'accepte")).check()
    form.get_by_role("button", name="Réserver").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre réservation est confirmée")
    assert_accessible(page)

    page.goto(live_server(f"/reservations/{site['manage']}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre réservation est confirmée")
    assert_accessible(page)
    page.get_by_role("link", name="Annuler ma réservation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler ma réservation ?")
    assert_accessible(page)


# --- keyboard alone ------------------------------------------------------------------------------


def tab_to(page: Page, target: Locator, backwards: bool = False) -> None:
    """Presses Tab (or Shift+Tab) until `target` has the focus, then checks the focus is visible."""
    handle = target.element_handle()
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("el => document.activeElement === el", handle):
            break
    else:
        pytest.fail(f"{target} is not reachable with the Tab key")
    assert_focus_visible(page)


def assert_focus_visible(page: Page) -> None:
    """The focused element shows the app's focus ring (:focus-visible), not a faint browser default."""
    style = page.evaluate(
        """() => {
            const el = document.activeElement, s = getComputedStyle(el);
            return {visible: el.matches(':focus-visible'), style: s.outlineStyle,
                    width: parseFloat(s.outlineWidth), tag: el.tagName + '#' + el.id};
        }"""
    )
    assert style["visible"] and style["style"] != "none" and style["width"] >= 2, style


def test_booking_form_with_the_keyboard_alone(page: Page, live_server, site):
    page.set_viewport_size(PHONE)
    page.goto(live_server(f"/creneaux/{site['slot_id']}/reserver"))

    # The first Tab reaches the skip link; Enter takes the focus past the navigation.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    assert_focus_visible(page)
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    form = page.get_by_test_id("booking-form")
    tab_to(page, form.get_by_label("Nombre de places", exact=False))
    page.keyboard.type("2")  # a closed <select> picks the option that starts with what is typed
    expect(form.get_by_label("Nombre de places", exact=False)).to_have_value("2")
    tab_to(page, form.get_by_role("textbox", name="Nom"))
    page.keyboard.type("Jeanne Dupont")
    page.keyboard.press("Tab")
    expect(form.get_by_role("textbox", name="E-mail")).to_be_focused()
    page.keyboard.type("jeanne.dupont@example.org")
    tab_to(page, form.get_by_role("spinbutton", name="Femmes"))
    page.keyboard.type("1")
    tab_to(page, form.get_by_label(re.compile("J'accepte")))
    page.keyboard.press("Space")
    # Back up to the age notice skipped on the way.
    tab_to(page, form.get_by_label(re.compile("au moins 10 ans")), backwards=True)
    page.keyboard.press("Space")
    tab_to(page, form.get_by_role("button", name="Réserver"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre réservation est confirmée")
    expect(page.get_by_test_id("party-size")).to_have_text("2")


def test_gate_manual_entry_with_the_keyboard_alone(page: Page, live_server, site):
    page.set_viewport_size(PHONE)
    page.goto(live_server("/connexion"))
    tab_to(page, page.get_by_label("Adresse e-mail"))
    page.keyboard.type("usine@example.org")
    tab_to(page, page.get_by_label("Mot de passe"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion" not in url)
    page.goto(live_server(f"/mes-sites/{site['site_id']}/creneaux/{site['slot_id']}/controle"))
    assert_accessible(page)

    tab_to(page, page.get_by_label("Code du billet", exact=False))
    page.keyboard.type(site["ticket"])
    tab_to(page, page.get_by_label("Personnes qui passent", exact=False))
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    answer = page.locator("[data-answer]")
    expect(answer).to_have_attribute("data-status", "valid")
    expect(answer).to_contain_text("Valide : 2 / 3 pers.")
    assert_accessible(page)

    # The same code for the last of the group, then once more: the orange "already in" answer,
    # checked for contrast too.
    for status in ("valid", "already_checked_in"):
        tab_to(page, page.get_by_label("Code du billet", exact=False))
        page.keyboard.type(site["ticket"])
        tab_to(page, page.get_by_role("button", name="Vérifier", exact=True))
        page.keyboard.press("Enter")
        expect(answer).to_have_attribute("data-status", status)
        if status == "valid":
            expect(answer).to_contain_text("Valide : 1 / 3 pers.")
    expect(answer).to_have_attribute("data-status", "already_checked_in")
    assert_accessible(page)

    # A code that is not a ticket: the red answer.
    tab_to(page, page.get_by_label("Code du billet", exact=False), backwards=True)
    page.keyboard.type("pas-un-billet")
    page.keyboard.press("Enter")
    expect(answer).to_have_attribute("data-status", "refused")
    assert_accessible(page)


def test_axe_does_report_a_serious_violation(page: Page):
    """The check can fail: an input without a label and a button without a name are caught."""
    page.set_content('<html lang="fr"><body><main><input id="x"><button></button></main></body></html>')
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(page)
    assert "[critical] label:" in str(failure.value)
    assert "[critical] button-name:" in str(failure.value)
    assert "#x" in str(failure.value)


def test_factory_pages_pin_map_and_attendance(page: Page, live_server, site):
    """The factory's own pages a person uses on a phone: the pin on its map, the attendance figures."""
    page.set_viewport_size(PHONE)
    page.goto(live_server("/connexion"))
    page.get_by_label("Adresse e-mail").fill("usine@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.wait_for_url(lambda url: "/connexion" not in url)
    for path in (
        f"/mes-sites/{site['site_id']}/position",
        f"/mes-sites/{site['site_id']}/frequentation",
        "/mes-sites",
    ):
        page.goto(live_server(path))
        assert_accessible(page)
