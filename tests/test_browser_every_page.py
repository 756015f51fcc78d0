"""Every page of the app, on the demo, through axe-core: no serious or critical WCAG A/AA violation, and no
page wider than a phone's screen (a wide table scrolls inside its own box, which the keyboard can reach).

The pages are the app's URL map: every GET route that answers HTML, with its arguments taken from the demo
(the demo factory's site and slot, a booking's links, a transport, an intervention, a school…), opened by
the first of anonymous, factory, volunteer, organiser and staff that may open it. A route added later is
covered without touching this test; one that no demo account can open is reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import select

from core.auth.services import make_token
from core.extensions import db
from fixtures.accounts import (
    ADMIN_EMAIL,
    DEMO_PASSWORD,
    FACTORY_EMAIL,
    PMI_ORGANISER_EMAIL,
    PMI_VOLUNTEER_EMAIL,
)
from fixtures.loader import load_demo
from jou.bookings import interest, survey, tokens
from jou.bookings.models import Booking, WaitlistEntry
from jou.bookings.privacy import PrivacyAction, privacy_token
from jou.checkin.models import CheckIn, WalkIn
from jou.models import Site, SiteStatus, Slot
from pmi.models import Intervention, Volunteer
from pmi.transports.models import Transport
from tests.plugins.browser import PHONE, axe_violations

pytestmark = pytest.mark.browser

ROLES = {
    "anonyme": None,
    "usine": FACTORY_EMAIL,
    "intervenant": PMI_VOLUNTEER_EMAIL,
    "organisateur": PMI_ORGANISER_EMAIL,
    "équipe Soce": ADMIN_EMAIL,
}
# Pages a person does not read: their own checks live with them (the gate's camera page in
# tests/test_browser_checkin.py, the logout that would end the session of the next pages).
SKIPPED = {"auth.logout", "static"}


@pytest.fixture
def demo_world(app, live_server, committed_db) -> dict:
    """The demo, committed for the live server, and the ids of what its routes are opened on."""
    load_demo()
    db.session.commit()
    factory_site = db.session.scalar(
        select(Site).join(Site.owner).where(Site.owner.has(email=FACTORY_EMAIL)).order_by(Site.id.desc())
    )
    slot = db.session.scalar(select(Slot).where(Slot.site_id == factory_site.id).order_by(Slot.id))
    booking = db.session.scalar(
        select(Booking)
        .where(Booking.anonymised_at.is_(None), Booking.status == "confirmed")
        .order_by(Booking.id)
    )
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.user.has(email=PMI_VOLUNTEER_EMAIL)))
    intervention = db.session.scalar(
        select(Intervention).where(Intervention.volunteers.contains(volunteer)).order_by(Intervention.id)
    )
    transport = db.session.scalar(select(Transport).order_by(Transport.id))
    submitted = db.session.scalar(select(Site).where(Site.status == SiteStatus.SUBMITTED).order_by(Site.id))
    subscription = interest.subscribe("prevenez-moi@example.org", region="11")
    db.session.commit()
    return {
        "site_id": [factory_site.id, submitted.id],
        "slot_id": [slot.id, booking.slot_id],
        # A booking's links, an account's e-mailed links, a visitor's data link: each route takes its own.
        "token": [
            tokens.manage_token(booking),
            tokens.ticket_token(booking),
            make_token(volunteer.user, "reset"),
            privacy_token(booking.email, PrivacyAction.EXPORT),
            tokens.waitlist_token(db.session.scalar(select(WaitlistEntry).order_by(WaitlistEntry.id))),
            interest.token(subscription),
            survey.token(booking),
        ],  # fmt: skip
        "intervention_id": [intervention.id if intervention else 1],
        "transport_id": [transport.id],
        "stop_id": [transport.stops[0].id if transport.stops else 1],
        "uai": [transport.stops[0].school_uai if transport.stops else "0750001U"],
        "programme": ["jou", "pmi", "transports"],
        "code": ["11"],
        "checkin_id": [db.session.scalar(select(CheckIn.id)) or 1],
        "walk_in_id": [db.session.scalar(select(WalkIn.id)) or 1],
        "filename": ["x"],
    }


def candidate_urls(app, args: dict) -> Iterator[tuple[str, list[str]]]:  # noqa: ANN001
    """(endpoint, the URLs to try) for each GET route of the pages (not the JSON API)."""
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED or rule.rule.startswith("/api/"):
            continue
        if "." in rule.rule.rsplit("/", 1)[-1]:
            continue  # a file (.ics, .csv, .png…), downloaded, not read
        names = sorted(rule.arguments)
        urls = []
        for values in itertools.product(*(args.get(n, ["1"]) for n in names)):
            urls.append(rule.build(dict(zip(names, values, strict=True)), append_unknown=False)[1])
        yield rule.endpoint, urls


def signed_in(browser: Browser, base: str, email: str | None) -> BrowserContext:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", bypass_csp=True, viewport=PHONE)
    if email:
        page = context.new_page()
        page.goto(f"{base}/connexion")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
        page.close()
    return context


def test_every_page_passes_axe_and_fits_a_phone(app, browser: Browser, live_server, demo_world):
    base = live_server("")
    contexts = {role: signed_in(browser, base, email) for role, email in ROLES.items()}
    problems, checked, unreachable = [], [], []
    try:
        page_of = {role: context.new_page() for role, context in contexts.items()}
        for endpoint, urls in sorted(candidate_urls(app, demo_world)):
            opened = None
            for url, role in itertools.product(urls, ROLES):
                page = page_of[role]
                response = page.goto(base + url)
                if (
                    response is None
                    or response.status != 200
                    or "text/html" not in response.headers.get("content-type", "")
                ):
                    continue
                if page.url.rstrip("/").endswith("/connexion") and not url.startswith("/connexion"):
                    continue  # sent to the login page: not this role's
                opened = (url, role, page)
                break
            if opened is None:
                unreachable.append(endpoint)
                continue
            url, role, page = opened
            checked.append(endpoint)
            if page.locator(".leaflet-container").count():
                page.wait_for_timeout(300)  # the map draws its markers after load
            for violation in axe_violations(page):
                if violation["impact"] in ("serious", "critical"):
                    nodes = "; ".join(" ".join(map(str, n["target"])) for n in violation["nodes"][:3])
                    problems.append(f"{url} ({role}) : {violation['id']} — {violation['help']} — {nodes}")
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{url} ({role}) : la page déborde de {overflow} px à 390 px de large")
    finally:
        for context in contexts.values():
            context.close()
    assert len(checked) >= 40, checked
    assert not problems, "\n".join(problems)
    # Every page route opens for someone on the demo; those that need an object the demo lacks say so.
    surprising = sorted(set(unreachable) - EXPECTED_UNREACHABLE)
    assert not surprising, "aucun compte de la démo n'ouvre : " + ", ".join(surprising)


# Routes that answer no page of their own: JSON for the gate's phone and for probes, the map's popup (an
# HTML fragment put in the map: tests/test_browser_a11y.py checks it there), and the e-mail confirmation
# link, which confirms and sends to the login page (checked as itself).
EXPECTED_UNREACHABLE = {
    "checkin.offline_list", "checkin.presence", "checkin.search", "core.healthz", "core.ping", "maps.site_popup",
    "auth.confirm_email",
}  # fmt: skip
