"""No cache keeps a page or a file about a person: every response is `Cache-Control: no-store` except the
public routes of core.security.CACHEABLE_ENDPOINTS asked anonymously, and static files.

The routes come from the app's URL map, built on the `world` of tests/plugins/access.py (one object of
every kind, as in tests/test_access_matrix.py): a new route is no-store unless it is listed as cacheable, and a listed one must be public.
"""

from __future__ import annotations

import pytest

from core.auth.models import Role
from core.security import CACHEABLE_ENDPOINTS
from jou.bookings import tokens
from tests.factories import PASSWORD, api_token
from tests.plugins.access import PUBLIC, sign_in

# Routes of a signed link: the booking's (manage token) and the ticket's.
TICKET_ROUTES = {"booking_files.ticket_png", "booking_files.ticket_svg", "checkin.ticket"}
# Query strings a route cannot answer without.
QUERIES = {"maps_api.near_sites": "?postcode=75001"}


def no_store(response) -> bool:  # noqa: ANN001
    return response.headers.get("Cache-Control") == "no-store"


def get_routes(objects: dict) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET route, signed links built with X's real tokens."""
    manage, ticket = tokens.manage_token(objects["x"]), tokens.ticket_token(objects["x"])
    routes = []
    for rule in objects["rules"]:
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        url = next(url for endpoint, _, url in objects["routes"] if endpoint == rule.endpoint)
        if "token" in rule.arguments and rule.endpoint.startswith(("booking", "checkin")):
            token = ticket if rule.endpoint in TICKET_ROUTES else manage
            url = rule.build({"token": token}, append_unknown=False)[1]
        routes.append((rule.endpoint, url + QUERIES.get(rule.endpoint, "")))
    return routes


def test_cacheable_routes_are_public_and_carry_no_signed_link(app):
    assert CACHEABLE_ENDPOINTS <= PUBLIC
    with_token = {rule.endpoint for rule in app.url_map.iter_rules() if "token" in rule.arguments}
    assert not CACHEABLE_ENDPOINTS & with_token


def test_anonymous_visitors_get_no_store_everywhere_but_the_public_routes(client, world):
    answered, cacheable = [], []
    for endpoint, url in get_routes(world):
        response = client.get(url)
        if endpoint in CACHEABLE_ENDPOINTS:
            cacheable.append(endpoint)
            assert response.status_code == 200, (url, response.status_code)
            assert "no-store" not in response.headers.get("Cache-Control", ""), url
        else:
            assert no_store(response), (url, response.status_code, response.headers.get("Cache-Control"))
            answered += [url] if response.status_code == 200 else []
    assert set(cacheable) == CACHEABLE_ENDPOINTS
    # The signed links were tried for real: each showed its booking or ticket.
    assert len([url for url in answered if "/reservations/" in url or "/billets/" in url]) >= 5
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_a_signed_in_account_gets_no_store_everywhere(client, world):
    """Even the public pages: a signed-in visitor's page shows their account (and the API its caller's)."""
    bearer = sign_in(client, world["users"][Role.ADMIN])
    stored = []
    for _, url in get_routes(world):
        response = client.get(url, headers=bearer if url.startswith("/api/") else None)
        if not no_store(response):
            stored.append((url, response.status_code, response.headers.get("Cache-Control")))
    assert stored == []


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("booker", "/reservations/{manage}"),
        ("booker", "/reservations/{manage}.ics"),
        ("booker", "/reservations/{manage}/donnees.json"),
        ("booker", "/billets/{ticket}.png"),
        ("booker", "/billets/{ticket}.svg"),
        ("booker", "/controle/{ticket}"),
        ("booker", "/api/v1/bookings/{manage}"),
        ("booker", "/api/v1/bookings/{manage}/personal-data"),
        ("factory", "/mes-sites/{site_id}/reservations"),
        ("factory", "/mes-sites/{site_id}/reservations.csv"),
        ("factory", "/api/v1/slots/{slot_id}/checkin-list"),
        ("organiser", "/pmi/transports/{transport_id}/manifeste"),
        ("organiser", "/pmi/transports/{transport_id}/manifeste.csv"),
        ("organiser", "/api/v1/transports/{transport_id}"),
        ("admin", "/admin/journal"),
        ("admin", "/admin/statistiques/export.csv"),
        ("admin", "/api/v1/stats/pmi?by=volunteer"),
        ("admin", "/compte"),
        ("admin", "/api/v1/auth/me"),
    ],
)
def test_pages_and_files_about_people_answer_no_store(client, world, who, path):
    """What the issue named: each answers 200 with the data, and no-store."""
    users = {"factory": world["factory_a"], "organiser": world["paris"], "admin": world["users"][Role.ADMIN]}
    headers = {}
    if who in users:
        client.post("/connexion", data={"email": users[who].email, "password": PASSWORD})
        headers = api_token(client, users[who].email)
    url = path.format(
        manage=tokens.manage_token(world["x"]), ticket=tokens.ticket_token(world["x"]),
        site_id=world["slot"].site_id, slot_id=world["slot"].id, transport_id=world["transport"].id,
    )  # fmt: skip
    response = client.get(url, headers=headers if url.startswith("/api/") else None)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Cache-Control"] == "no-store"
