"""Security headers, the Content-Security-Policy and its nonces, cookies, CSRF on every form, and a
JSON API that never acts on the session cookie; in Chromium, pages run under the policy without a
single violation."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_wtf.csrf import CSRFError
from playwright.sync_api import expect

from core.auth.models import Role
from core.config import load_config
from core.extensions import db
from core.security import content_security_policy, tile_source
from tests.factories import PASSWORD, make_edition, make_site, make_user, slot_data
from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.plugins.pmi import log, make_school, make_volunteer

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def directives(response_or_policy) -> dict[str, str]:  # noqa: ANN001
    policy = getattr(response_or_policy, "headers", {}).get("Content-Security-Policy", response_or_policy)
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def log_in(client, email: str) -> None:  # noqa: ANN001
    response = client.post("/connexion", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text


def gate_slot() -> tuple[int, int, str]:
    """A factory's approved site with a public slot open for booking: (site id, slot id, owner e-mail)."""
    today = date.today()
    edition = make_edition(today.year + 1, booking_opens=today - timedelta(days=1))
    owner = make_user(Role.FACTORY)
    site = make_site(owner, edition, status="approved",
                     slots=[slot_data(day=edition.saturday, audience="public")])  # fmt: skip
    return site.id, site.slots[0].id, owner.email


def test_every_page_gets_the_security_headers(client):
    response = client.get("/")
    csp = directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"
    assert csp["frame-ancestors"] == "'self'"
    # Scripts from this site only: no host, no scheme, no wildcard, no eval, no blanket inline.
    scripts = csp["script-src"].split()
    assert scripts[0] == "'self'"
    assert not [s for s in scripts if not s.startswith("'")], scripts
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://soce.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(app, other_app):
    proxied = other_app(TRUSTED_PROXIES=1)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert "Strict-Transport-Security" in proxied.test_client().get("/", headers=forwarded).headers
    # Without TRUSTED_PROXIES a client cannot claim HTTPS (or another address) by itself.
    assert "Strict-Transport-Security" not in app.test_client().get("/", headers=forwarded).headers


def test_map_scripts_carry_this_response_nonce(client):
    first, second = client.get("/carte"), client.get("/carte")
    assert first.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", directives(first)["script-src"]).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", first.text)
    assert len(inline) >= 2  # folium's header script and the map's own
    assert all(f'nonce="{nonce}"' in attributes for attributes in inline)
    assert nonce not in second.text and nonce not in directives(second)["script-src"]


def test_a_page_without_inline_script_names_no_nonce(client):
    assert "'nonce-" not in directives(client.get("/connexion"))["script-src"]


def test_no_page_allows_inline_scripts_not_even_the_transport_route_map(app):
    with app.test_request_context():
        for endpoint in ("transports.transport_map", "maps.factory_map"):
            scripts = directives(content_security_policy(endpoint, "n"))["script-src"]
            assert "'unsafe-inline'" not in scripts and "'nonce-n'" in scripts, endpoint


def test_tiles_are_the_only_outside_images():
    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://tile.openstreetmap.org"
    assert tile_source("https://{s}.tiles.example.org/{z}/{x}/{y}.png") == "https://*.tiles.example.org"
    assert tile_source("/tuiles/{z}/{x}/{y}.png") is None


def test_no_template_has_an_inline_event_handler_or_a_script_without_the_nonce():
    """The policy allows no inline handler: a page action is a data-confirm / data-print attribute
    (static/js/actions.js), and the only inline <script> is the map macro's, which carries the nonce."""
    for path in TEMPLATES.rglob("*.html"):
        if "mail" in path.relative_to(TEMPLATES).parts:
            continue  # e-mails, never served as pages
        text = path.read_text(encoding="utf-8")
        assert not re.findall(r'\son[a-z]+="', text), f"{path}: inline event handler"
        for attributes in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            assert "csp_nonce()" in attributes, f"{path}: inline <script> without the CSP nonce"


def test_only_the_gate_scanner_may_use_the_camera(client, db_session):
    site_id, slot_id, email = gate_slot()
    log_in(client, email)
    scanner = client.get(f"/mes-sites/{site_id}/creneaux/{slot_id}/controle")
    assert scanner.status_code == 200
    assert "camera=(self)" in scanner.headers["Permissions-Policy"]
    assert "camera=()" in client.get(f"/mes-sites/{site_id}/controle").headers["Permissions-Policy"]


def test_session_cookie_is_httponly_lax_and_secure_in_production(client, db_session, monkeypatch, app):
    user = make_user(Role.FACTORY)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD}, base_url="https://soce.example"
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


@pytest.mark.parametrize(("env", "secure"), [("production", True), ("staging", True), ("development", False)])
def test_cookies_are_secure_unless_on_a_laptop(monkeypatch, env, secure):
    monkeypatch.setenv("APP_ENV", env)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = load_config()
    assert config["SESSION_COOKIE_SECURE"] is secure and config["REMEMBER_COOKIE_SECURE"] is secure
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"


# RFC 8058 one-click unsubscription: a mail client POSTs to the List-Unsubscribe URL without any form
# token; the signed link in the URL is the only authority (a bad one answers 404), as in the API.
ONE_CLICK = {"/prevenez-moi/<token>/desinscription"}


def test_every_state_changing_page_route_demands_a_csrf_token(other_app):
    """Walks the URL map: each page route taking POST/PUT/PATCH/DELETE refuses a request without the
    token (the form-level checks come after). The API is exempt: see the next test."""
    protected = other_app(WTF_CSRF_ENABLED=True)
    refused = []
    protected.register_error_handler(CSRFError, lambda e: (refused.append(e.description) or "csrf", 419))
    client = protected.test_client()
    checked = 0
    for rule in protected.url_map.iter_rules():
        methods = rule.methods & UNSAFE_METHODS
        if not methods:
            continue
        url = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "1", rule.rule)
        for method in methods:
            status = client.open(url, method=method, data={}).status_code
            if rule.rule.startswith("/api/") or rule.rule in ONE_CLICK:
                assert status != 419, f"{method} {rule.rule}"
            else:
                assert status == 419, f"{method} {rule.rule} answered {status} without a CSRF token"
                checked += 1
    assert checked >= 20  # the walk really covered the forms


def test_the_api_never_acts_on_the_session_cookie(client, db_session):
    """Why the API may skip CSRF: a browser's cookie is no credential there, only the bearer token."""
    admin = make_user(Role.ADMIN)
    log_in(client, admin.email)
    assert client.get("/compte").status_code == 200  # the session works on pages
    assert client.get("/api/v1/auth/me").status_code == 401
    site = make_site(make_user(Role.FACTORY), status="submitted")
    response = client.post(f"/api/v1/sites/{site.id}/approve", json={})
    assert response.status_code == 401, response.get_json()
    assert site.status == "submitted"


# --- In Chromium: the policy as the browser applies it -------------------------------------------------

CATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.mark.browser
def test_pages_run_under_the_policy_without_violations(playwright, live_server, committed_db):
    site_id, slot_id, email = gate_slot()
    volunteer, _ = make_volunteer()
    intervention = log(volunteer, make_school())
    db.session.commit()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris")
        context.add_init_script(CATCH_VIOLATIONS)
        # Tiles would come from the internet: answer them locally, the policy is what is tested.
        context.route(re.compile(r"^https://tile\.openstreetmap\.org/"), lambda route: route.abort())
        page = context.new_page()
        console = []
        page.on("console", lambda msg: console.append(msg.text))

        def visit(path: str) -> None:
            page.goto(live_server(path))
            page.wait_for_load_state("networkidle")
            violations = page.evaluate("window.__csp")
            assert violations == [], f"{path}: {violations}"

        visit("/")
        visit("/carte")
        expect(page.locator(".leaflet-container")).to_have_count(1)  # the nonce'd map script ran
        visit("/carte/pmi")
        expect(page.locator(".leaflet-container")).to_have_count(1)
        visit(f"/creneaux/{slot_id}/reserver")
        for login in (email, volunteer.email):
            page.context.clear_cookies()
            visit("/connexion")
            page.get_by_label("Adresse e-mail").fill(login)
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_label("Mot de passe").press("Enter")
            page.wait_for_load_state()
            if login == email:
                visit(f"/mes-sites/{site_id}/creneaux/{slot_id}/controle")
                visit(f"/mes-sites/{site_id}/reservations")
        # The delete form's data-confirm (static/js/actions.js) asks first; dismissed, nothing is sent.
        visit(f"/pmi/interventions/{intervention.id}/modifier")
        dialogs = []
        page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.get_by_role("button", name="Supprimer l'intervention").click()
        page.wait_for_timeout(300)
        assert dialogs == ["Supprimer cette intervention ?"]
        assert page.url.endswith(f"/pmi/interventions/{intervention.id}/modifier")
        assert page.evaluate("window.__csp") == []
        assert not [m for m in console if "Content Security Policy" in m], console
    finally:
        browser.close()
