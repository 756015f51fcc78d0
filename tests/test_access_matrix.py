"""Every route of the app, from its URL map, against the roles that must not use it.

A new route that is neither declared public (tests/plugins/access.py, with the `world` it is tried on) nor
protected here fails this test, so it cannot be forgotten.
"""

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from core.auth.models import Role
from core.extensions import db
from jou.bookings import tokens
from tests.factories import PASSWORD, api_token
from tests.plugins.access import PUBLIC, sign_in
from tests.plugins.pmi import make_volunteer, organiser

# Signed in, whatever the role: logout and one's own account.
ANY_ACCOUNT = {"auth.logout", "auth.account", "auth.change_password", "auth_api.me"}
# PMI volunteers, organisers and staff on their own interventions (others get 403/404, and factories 403:
# tests/test_pmi_interventions*.py); counted with ANY_ACCOUNT so that anonymous calls are still refused.
PMI_MEMBERS = {
    "pmi.profile", "pmi.my_interventions", "pmi.intervention_create", "pmi.intervention_edit",
    "pmi.intervention_delete", "pmi.intervention_import", "pmi.group",
    "interventions_api.list_interventions", "interventions_api.create_intervention",
    "interventions_api.get_intervention", "interventions_api.update_intervention",
    "interventions_api.delete_intervention", "pmi_stats_api.pmi_stats",
}  # fmt: skip
# Organisers of the transport's GR, and staff (tests/test_transports.py checks GR X against GR Y).
TRANSPORTS = {
    "transports.transport_list", "transports.transport_create", "transports.transport_detail",
    "transports.transport_edit", "transports.transport_delete", "transports.stop_delete",
    "transports.transport_actuals", "transports.transport_manifest", "transports.transport_manifest_csv",
    "transports.transport_calendar", "transports.transport_route", "transports.transport_map", "transports.transport_stats",
    "transports_api.list_transports", "transports_api.create_transport", "transports_api.transport_stats",
    "transports_api.get_transport", "transports_api.update_transport", "transports_api.delete_transport",
    "transports_api.list_stops", "transports_api.add_stop", "transports_api.update_stop",
    "transports_api.delete_stop",
}  # fmt: skip
ADMIN_ONLY = {
    "jou.moderation", "jou.moderation_approve", "jou.moderation_reject", "geo.regional_group_mapping",
    "sites_api.approve_site", "sites_api.reject_site", "maps.pmi_schools_map",
    "stats.dashboard_page", "stats.export_csv", "stats.export_xlsx", "stats.records_page", "stats.records_csv",
    "stats_api.programme_records",
    "audit.journal",
}  # fmt: skip

# What any factory may open (on its own data).
FACTORY_OWN = {
    "sites_api.create_site", "jou.my_sites", "jou.site_create",
    # the slot is in the body: another factory's slot answers 404 (tests/test_checkin_api.py)
    "checkin_api.create_checkin", "checkin_api.merge_offline",
}  # fmt: skip
# Routes a role may open on its own data (which data, is tested in the role's own modules).
ROLE_OWN = {
    Role.FACTORY: FACTORY_OWN,
    Role.VOLUNTEER: PMI_MEMBERS,
    # An organiser lists, counts and creates transports for their own GR (tests/test_transports.py).
    Role.ORGANISER: PMI_MEMBERS | {"transports.transport_list", "transports.transport_stats",
                                   "transports.transport_create", "transports_api.list_transports",
                                   "transports_api.transport_stats", "transports_api.create_transport"},
}  # fmt: skip


def snapshot() -> dict[str, list[str]]:
    """Every row of every table: a refused write must leave all of them as they were."""
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
    }


def changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def bodies(world) -> dict[str, dict]:  # noqa: ANN001
    """Well-formed input for the write routes, so that a missing check would show as a write (a refusal
    for a malformed body would prove nothing)."""
    slot_id, ticket = world["slot"].id, world["ticket"]
    stop = {"school_uai": world["stop"].school_uai, "pickup_time": "08:00", "female": 1}
    return {
        "sites_api.update_site": {"name": "Pris par B"},
        "sites_api.set_location": {"lat": 45.0, "lon": 5.0},
        "sites_api.reject_site": {"reason": "Pris par B"},
        "jou.site_edit": {"name": "Pris par B"},
        "jou.site_position": {"lat": "45.0", "lon": "5.0"},
        "bookings.message_bookers": {"subject": "Message de B", "body": "Texte de B."},
        "checkin.scan": {"token": ticket},
        "checkin.ticket_checkin": {},
        "checkin.walk_in": {"male": "1"},
        "checkin.sync": {"entries": [{"token": ticket}]},
        "checkin.confirm_attendance": {"female": "1", "male": "1", "unspecified": "0"},
        "checkin_api.create_checkin": {"token": ticket, "slot_id": slot_id},
        "checkin_api.merge_offline": {"slot_id": slot_id, "entries": [{"token": ticket}]},
        "checkin_api.create_walk_in": {"male": 1},
        "checkin_api.create_walk_out": {"persons": 1},
        "checkin.walk_in_json": {"male": 1},
        "checkin.walk_out": {"persons": 1},
        "checkin.breakdown": {"female": 1, "male": 0},
        "checkin_api.set_breakdown": {"female": 1, "male": 0},
        "interventions_api.update_intervention": {"notes": "Pris par B"},
        "pmi.intervention_edit": {"notes": "Pris par B"},
        "transports_api.update_transport": {"seats": 40},
        "transports_api.add_stop": stop,
        "transports_api.update_stop": {"female": 2},
        "transports.transport_edit": {"seats": "40"},
        "transports.transport_actuals": {"actual_female": "1"},
    }


def call(client, method: str, url: str, headers: dict | None = None, body: dict | None = None):
    kwargs = {"headers": headers or {}}
    if method in {"POST", "PUT", "PATCH"}:
        # The gate's scanner pages post JSON too.
        as_json = url.startswith("/api/") or "/controle/" in url
        kwargs["json" if as_json else "data"] = body or {}
    return client.open(url, method=method, **kwargs)


def refused(response, url: str, *, signed_in: bool) -> bool:
    if url.startswith("/api/"):
        return response.status_code in ({403, 404} if signed_in else {401})
    if signed_in:
        return response.status_code in {403, 404}
    if "/creneaux/" in url and "/controle/" in url:
        # The scanner's JSON calls answer in JSON (the page reads them), not with the login page.
        return response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    return response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_every_route_is_declared(world):
    endpoints = {endpoint for endpoint, _, _ in world["routes"]}
    undeclared = endpoints - PUBLIC - ANY_ACCOUNT - ADMIN_ONLY - PMI_MEMBERS - TRANSPORTS
    # The rest belong to a site's factory (and staff).
    owner_routes = {e for e in undeclared if e.startswith(("jou.", "bookings.", "sites_api.", "checkin"))}
    assert undeclared == owner_routes, f"routes without a declared access rule: {undeclared - owner_routes}"


# Cells of the matrix (role × route × method) each test must have tried: it cannot shrink unnoticed.
MIN_CELLS = {"anonymous": 85, "other role": 60, "factory B": 78, "PMI": 16, "booker": 95, "admin": 125}


def assert_size(row: str, cells: int) -> None:
    print(f"access matrix, {row}: {cells} role × route × method cells")  # shown with -s
    assert cells >= MIN_CELLS[row], (row, cells)


def try_refused(client, world, routes, headers: dict | None, *, signed_in: bool) -> tuple[list, int]:  # noqa: ANN001
    """Calls each route with well-formed input; returns the leaks (answered, or anything written)."""
    data = bodies(world)
    leaks, before = [], snapshot()
    for endpoint, method, url in routes:
        response = call(client, method, url, headers if url.startswith("/api/") else None, data.get(endpoint))
        if not refused(response, url, signed_in=signed_in):
            leaks.append((method, url, response.status_code))
    if changed(before, snapshot()):
        # Something was written: find which call (slow, so only on failure).
        for endpoint, method, url in routes:
            before = snapshot()
            call(client, method, url, headers if url.startswith("/api/") else None, data.get(endpoint))
            if changed(before, snapshot()):
                leaks.append((method, url, "wrote", changed(before, snapshot())))
    return leaks, len(routes)


def test_anonymous_is_refused_everywhere_but_public_routes(client, world):
    routes = [r for r in world["routes"] if r[0] not in PUBLIC]
    leaks, cells = try_refused(client, world, routes, None, signed_in=False)
    assert leaks == [], leaks
    assert_size("anonymous", cells)


@pytest.mark.parametrize("role", [Role.FACTORY, Role.VOLUNTEER, Role.ORGANISER])
def test_other_accounts_cannot_touch_a_factory_site_or_staff_routes(client, world, role):
    """Another factory (B against A's site, slots, bookings, gate), a volunteer and an organiser of GR Y
    (against GR X's transport), on the page (session) and API (bearer) routes, with well-formed input:
    0 reads, 0 writes (every table unchanged)."""
    bearer = sign_in(client, world["users"][role])
    routes = [r for r in world["routes"] if r[0] not in PUBLIC | ANY_ACCOUNT | ROLE_OWN[role]]
    if role is Role.FACTORY:
        # Open to any factory, but the slot in the body is A's: 404 (tests/test_checkin_api.py).
        routes += [
            r for r in world["routes"] if r[0] in {"checkin_api.create_checkin", "checkin_api.merge_offline"}
        ]
    leaks, cells = try_refused(client, world, routes, bearer, signed_in=True)
    assert leaks == [], leaks
    assert_size("factory B" if role is Role.FACTORY else "other role", cells)


def test_volunteers_and_organisers_cannot_touch_another_volunteers_intervention(client, world):
    """Volunteer B, and the organiser of another GR, on every route of A's intervention: 403/404 and the
    intervention unchanged; the organiser of A's GR may read it but not change or delete it."""
    routes = [
        r for r in world["routes"] if r[0] in PMI_MEMBERS and "intervention_id" in _arguments(world, r[0])
    ]
    volunteer_b, _ = make_volunteer("paris", name="Bruno")
    cells = 0
    for user, tried in ((volunteer_b, routes), (world["users"][Role.ORGANISER], routes),
                        (organiser("paris", "Organisatrice Paris"), [r for r in routes if r[1] != "GET"])):  # fmt: skip
        leaks, n = try_refused(client, world, tried, sign_in(client, user), signed_in=True)
        assert leaks == [], (user.email, leaks)
        cells += n
    assert_size("PMI", cells)


def _arguments(world, endpoint: str) -> set[str]:  # noqa: ANN001
    return {a for rule in world["rules"] if rule.endpoint == endpoint for a in rule.arguments}


def _bad_tokens(world) -> dict[str, str]:  # noqa: ANN001
    """Tokens that must open nothing: altered, of the other purpose, of another secret, and X's signature
    over Y's id."""
    x, y = world["x"], world["y"]
    manage, ticket = tokens.manage_token(x), tokens.ticket_token(x)
    forged = URLSafeSerializer("not-the-secret", salt=tokens.MANAGE_SALT).dumps([y.id])
    payload, signature = manage.split(".")
    swapped = tokens.manage_token(y).split(".")[0] + "." + signature
    altered = manage[:-3] + ("A" if manage[-3] != "A" else "B") + manage[-2:]
    assert payload != swapped.split(".")[0]
    return {"altered": altered, "ticket as manage": ticket, "manage as ticket": manage, "other secret": forged,
            "Y's id, X's signature": swapped, "truncated": manage[:-4]}  # fmt: skip


def test_a_booking_link_opens_its_booking_only_and_bad_links_open_nothing(client, world):
    """The public booker's authority is the signed link: X's token reads and changes X only; any other
    token on every token route (pages, files, API) is refused and writes nothing."""
    x, y = world["x"], world["y"]
    token_x = tokens.manage_token(x)
    got = client.get(f"/api/v1/bookings/{token_x}").get_json()
    assert got["id"] == x.id and got["email"] == "x@example.org"
    before = snapshot()
    assert client.patch(f"/api/v1/bookings/{token_x}", json={"party_size": 1}).status_code == 200
    after = snapshot()
    assert "bookings" in changed(before, after)
    db.session.expire_all()
    assert (x.party_size, y.party_size) == (1, 3)
    # Every route that takes a token, with each bad token: refused, nothing written.
    token_rules = [rule for rule in world["rules"] if "token" in rule.arguments]
    assert len(token_rules) >= 12
    ticket_routes = {
        "booking_files.ticket_png",
        "booking_files.ticket_svg",
        "booking_files.ticket_pdf",
        "checkin.ticket",
        "checkin.ticket_checkin",
    }
    bad = _bad_tokens(world)
    leaks, cells, before = [], 0, snapshot()
    for name, token in bad.items():
        for rule in token_rules:
            if name == "manage as ticket" and rule.endpoint not in ticket_routes:
                continue  # a manage token is the right one on the manage routes
            if name == "ticket as manage" and rule.endpoint in ticket_routes:
                continue
            url = rule.build({"token": token}, append_unknown=False)[1]
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                response = call(client, method, url, body={"party_size": 1} if method != "GET" else None)
                cells += 1
                if response.status_code < 300 and not url.startswith("/controle/"):
                    leaks.append((name, method, url, response.status_code))
                elif url.startswith("/controle/") and x.name in response.get_data(as_text=True):
                    leaks.append((name, method, url, "shows the booking"))
    assert changed(before, snapshot()) == []
    assert leaks == [], leaks
    assert_size("booker", cells)


def test_staff_reach_every_route(client, world):
    """The Soce team (admin) is refused nowhere: no 401/403, no sign-in redirect, and every page or API
    read of an existing object answers."""
    bearer = sign_in(client, world["users"][Role.ADMIN])
    data = bodies(world)
    blocked, cells = [], 0
    # Reads first, deletions last: the objects must still exist when they are read.
    ordered = sorted(world["routes"], key=lambda r: (r[1] != "GET", r[1] == "DELETE" or "delete" in r[0]))
    for endpoint, method, url in ordered:
        if (endpoint in PUBLIC and "token" in _arguments(world, endpoint)) or endpoint == "auth.logout":
            continue  # signed links are the booker's, not an account's; signing out ends the test
        response = call(client, method, url, bearer if url.startswith("/api/") else None, data.get(endpoint))
        cells += 1
        location = response.headers.get("Location", "")
        refused_here = response.status_code in {401, 403} or "/connexion" in location
        # A read of an existing object answers (a 422 only says a required filter is missing).
        if refused_here or (method == "GET" and endpoint != "static" and response.status_code in {404, 500}):
            blocked.append((method, url, response.status_code))
    assert blocked == [], blocked
    assert_size("admin", cells)


def test_the_owner_reaches_its_own_site_routes(client, world):
    owner = world["owner"]
    client.post("/connexion", data={"email": owner.email, "password": PASSWORD})
    site_id = world["site"].id
    for url in (f"/mes-sites/{site_id}/modifier", f"/mes-sites/{site_id}/position", "/mes-sites"):
        assert client.get(url).status_code == 200, url
    headers = api_token(client, owner.email)
    assert client.get(f"/api/v1/sites/{site_id}", headers=headers).status_code == 200
