"""Web security set once for every response: headers (Content-Security-Policy and friends, and
Cache-Control on anything personal), the client address behind proxies, and rate limits on the forms a
robot would hammer.

The policy lets scripts come from this site only. The two kinds of inline script the pages have are
allowed one by one: folium's map scripts carry the request's nonce (`csp_nonce()` in templates); there is no
inline event handler (confirmations and printing are data-confirm / data-print, static/js/actions.js). No page
allows inline scripts (the transport route map, once a whole folium document, is embedded like the others).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from core.auth import lockout

# The gate scanner reads QR codes with the phone's camera; every other page is refused the camera.
CAMERA_ENDPOINTS = frozenset({"checkin.scanner"})

# Which views are rate limited, by which setting (see core/config.py), for which methods. Keyed by
# the client address, so a robot is slowed down whatever account or slot it aims at.
RATE_LIMITS: dict[str, str] = {
    "auth.login": "RATELIMIT_LOGIN",
    "auth_api.create_token": "RATELIMIT_LOGIN",
    "auth.signup": "RATELIMIT_SIGNUP",
    "auth.forgot_password": "RATELIMIT_PASSWORD_RESET",
    "auth.resend_confirmation": "RATELIMIT_PASSWORD_RESET",
    "bookings.book": "RATELIMIT_BOOKING",
    "bookings.join_waitlist": "RATELIMIT_BOOKING",
    "bookings_api.create_booking": "RATELIMIT_BOOKING",
    "bookings_api.join_waitlist": "RATELIMIT_BOOKING",
    "privacy.request_link": "RATELIMIT_PASSWORD_RESET",
    "bookings_api.request_privacy_link": "RATELIMIT_PASSWORD_RESET",
    "privacy.lost_ticket": "RATELIMIT_PASSWORD_RESET",
    "bookings_api.resend_links": "RATELIMIT_PASSWORD_RESET",
    "privacy.interest_form": "RATELIMIT_PASSWORD_RESET",
    "bookings_api.subscribe_interest": "RATELIMIT_PASSWORD_RESET",
}
LIMITED_METHODS = ["POST"]

# Caching. The rule: every response is `Cache-Control: no-store` (no browser disk, no proxy keeps a copy),
# whatever the view set, except
#   - static files (their own caching), and
#   - the endpoints below, public and the same for every visitor, when the request is anonymous: no
#     account session, no bearer token (a signed-in visitor's page shows their account).
# So a new route is private until someone lists it here, and a signed link (booking, ticket, personal
# data) or an account's page never lands in a cache. Listed: public pages, maps, figures and catalogues,
# none of which names a visitor or a volunteer (`by=volunteer` statistics require a bearer token).
CACHEABLE_ENDPOINTS = frozenset({
    "jou.home", "jou.site_list", "jou.site_detail",
    "maps.factory_map", "maps.site_popup", "maps.pmi_map", "maps.transports_map",
    "stats.summary",
    "booking_files.site_feed", "booking_files.region_feed",
    "api-docs.openapi_json",
    "editions_api.list_editions", "sites_api.list_sites", "sites_api.get_site", "sites_api.sites_geojson",
    "schools_api.list_schools", "schools_api.school_detail",
    "maps_api.site_data", "maps_api.near_sites", "maps_api.pmi_territories", "maps_api.transports_data",
    "stats_api.programme_stats",
})  # fmt: skip
NO_STORE = "no-store"

_NONCE_KEY = "soce.csp_nonce"
_SCRIPT_TAG = re.compile(r"<script(?![^>]*\bnonce=)", re.IGNORECASE)


def init_app(app: Flask) -> None:
    """After the blueprints are registered (limits attach to their views)."""
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    lockout.init_app(app)
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions["soce_limiter"] = limiter
    if limiter.enabled:
        _limit_views(app, limiter)
    unknown = CACHEABLE_ENDPOINTS - set(app.view_functions)
    if unknown:
        raise RuntimeError(f"Cacheable views that do not exist: {', '.join(sorted(unknown))}")
    app.after_request(security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonce_scripts"] = nonce_scripts


def _limit_views(app: Flask, limiter: Limiter) -> None:
    for endpoint, setting in RATE_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            raise RuntimeError(f"Rate limit on an unknown view: {endpoint}")

        def limit_value(setting: str = setting) -> str:
            return current_app.config[setting]

        app.view_functions[endpoint] = limiter.limit(limit_value, methods=LIMITED_METHODS)(view)


def limiter_of(app: Flask) -> Limiter:
    return app.extensions["soce_limiter"]


# --- Content-Security-Policy ---------------------------------------------------------------------


def csp_nonce() -> str:
    """This response's script nonce (made on first use; the header names it only then)."""
    # On the request, not on g: g outlives a request when an app context was pushed by hand.
    return request.environ.setdefault(_NONCE_KEY, secrets.token_urlsafe(18))


def nonce_scripts(html: str) -> Markup:
    """Give the request's nonce to the <script> elements of server-made HTML (folium's map header).
    Never for HTML that holds user input: a script injected there would be trusted too."""
    return Markup(_SCRIPT_TAG.sub(f'<script nonce="{csp_nonce()}"', str(html)))


def tile_source(url: str) -> str | None:
    """The origin the map tiles come from, as a CSP source ({s} subdomains become a wildcard)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None  # a relative URL: this site
    host = re.sub(r"\{[a-z]\}", "*", parts.netloc)
    return f"{parts.scheme}://{host}"


def content_security_policy(endpoint: str | None, nonce: str | None) -> str:
    # No inline handler: confirmations and printing are static/js/actions.js's (data-confirm, data-print).
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    tiles = tile_source(current_app.config.get("MAP_TILE_URL", ""))
    directives = {
        "default-src": "'self'",
        "script-src": scripts,
        # folium and Leaflet write <style> blocks and style attributes; styles cannot run code.
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:" + (f" {tiles}" if tiles else ""),
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def permissions_policy(endpoint: str | None) -> str:
    camera = "(self)" if endpoint in CAMERA_ENDPOINTS else "()"
    # Geolocation: the factory map's "près de chez moi".
    return f"camera={camera}, microphone=(), geolocation=(self), payment=(), usb=()"


def security_headers(response: Response) -> Response:
    endpoint = request.endpoint
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy", content_security_policy(endpoint, request.environ.get(_NONCE_KEY))
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    # Tokens travel in some URLs (tickets, reset links): other sites get the origin only.
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", permissions_policy(endpoint))
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    max_age = current_app.config.get("HSTS_MAX_AGE", 0)
    if request.is_secure and max_age:
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    cache_control(response)
    return response


# --- Cache-Control -------------------------------------------------------------------------------


def signed_in() -> bool:
    """The request speaks for an account: a bearer token, or (pages) a signed-in session."""
    if request.headers.get("Authorization"):
        return True
    if request.path.startswith("/api/"):
        return False  # the API never reads the session cookie
    user = g.get("_login_user")
    return bool(session.get("_user_id")) or bool(user is not None and user.is_authenticated)


def is_cacheable(endpoint: str | None) -> bool:
    """See CACHEABLE_ENDPOINTS for the rule."""
    return endpoint in CACHEABLE_ENDPOINTS and not signed_in()


def cache_control(response: Response) -> None:
    endpoint = request.endpoint
    if endpoint == "static" or is_cacheable(endpoint):
        return
    response.headers["Cache-Control"] = NO_STORE
