"""Every route of the app, from its URL map, against the roles that must not use it.

A new route that is neither declared public here nor protected fails this test, so it cannot be forgotten.
"""

import pytest

from core.auth.models import Role
from pmi.transports import services as transport_services
from tests.factories import PASSWORD, api_token, make_site, make_user
from tests.test_pmi_interventions import make_school
from tests.test_transports import make_transport, organiser, stop_data

# Reachable without an account, by design: the public site, sign-in pages, booking by the public
# (signed links carry their own authority), public API reads, feeds.
PUBLIC = {
    "static", "core.healthz", "api-docs.openapi_json",
    "jou.home", "jou.site_list", "jou.site_detail",
    "auth.login", "auth.signup", "auth.check_email", "auth.confirm_email", "auth.forgot_password",
    "auth.resend_confirmation", "auth.reset_password",
    "auth_api.create_token",
    "bookings.book", "bookings.join_waitlist", "bookings.manage", "bookings.change", "bookings.cancel",
    "booking_files.booking_ics", "booking_files.site_feed", "booking_files.region_feed",
    "booking_files.ticket_png", "booking_files.ticket_svg",
    "bookings_api.create_booking", "bookings_api.join_waitlist", "bookings_api.get_booking",
    "bookings_api.change_booking", "bookings_api.cancel_booking",
    "editions_api.list_editions", "sites_api.list_sites", "sites_api.get_site", "sites_api.sites_geojson",
    "schools_api.list_schools", "schools_api.school_detail",
    "checkin.ticket",
    "maps.factory_map", "maps.site_popup", "maps.pmi_map", "maps.transports_map", "maps_api.transports_data",
    "maps_api.site_data", "maps_api.near_sites", "maps_api.pmi_territories",
}  # fmt: skip
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


@pytest.fixture
def world(app, db_session):
    owner = make_user(Role.FACTORY)
    site = make_site(owner=owner, status="draft")
    users = {role: make_user(role) for role in (Role.FACTORY, Role.VOLUNTEER, Role.ORGANISER, Role.ADMIN)}
    # A real transport of another GR with a stop, so its routes are tried on an object that exists.
    paris = organiser("paris")
    transport = make_transport(paris)
    stop = transport_services.add_stop(paris, transport.id, stop_data(make_school()))
    args = {"site_id": site.id, "slot_id": site.slots[0].id, "token": "x", "code": "11", "filename": "x",
            "uai": "0350774B", "intervention_id": 1, "transport_id": transport.id, "stop_id": stop.id}  # fmt: skip
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            url = rule.build({k: args[k] for k in rule.arguments}, append_unknown=False)[1]
            routes.append((rule.endpoint, method, url))
    return {"owner": owner, "site": site, "users": users, "routes": routes}


def call(client, method: str, url: str, headers: dict | None = None):
    kwargs = {"headers": headers or {}}
    if method in {"POST", "PUT", "PATCH"}:
        kwargs["json" if url.startswith("/api/") else "data"] = {}
    return client.open(url, method=method, **kwargs)


def refused(response, url: str, *, signed_in: bool) -> bool:
    if url.startswith("/api/"):
        return response.status_code in ({403, 404} if signed_in else {401})
    if signed_in:
        return response.status_code in {403, 404}
    return response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_every_route_is_declared(world):
    endpoints = {endpoint for endpoint, _, _ in world["routes"]}
    undeclared = endpoints - PUBLIC - ANY_ACCOUNT - ADMIN_ONLY - PMI_MEMBERS - TRANSPORTS
    # The rest belong to a site's factory (and staff).
    owner_routes = {e for e in undeclared if e.startswith(("jou.", "bookings.", "sites_api.", "checkin"))}
    assert undeclared == owner_routes, f"routes without a declared access rule: {undeclared - owner_routes}"


def test_anonymous_is_refused_everywhere_but_public_routes(client, world):
    leaks = []
    for endpoint, method, url in world["routes"]:
        if endpoint in PUBLIC:
            continue
        response = call(client, method, url)
        if not refused(response, url, signed_in=False):
            leaks.append((method, url, response.status_code))
    assert leaks == [], leaks


@pytest.mark.parametrize("role", [Role.FACTORY, Role.VOLUNTEER, Role.ORGANISER])
def test_other_accounts_cannot_touch_a_factory_site_or_staff_routes(client, world, role):
    """Another factory, a volunteer and an organiser, on the page (session) and API (bearer) routes
    about the owner's draft site, on staff-only routes and on the other programme's: 0 reads, 0 writes."""
    user = world["users"][role]
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    bearer = api_token(client, user.email)
    leaks = []
    for endpoint, method, url in world["routes"]:
        if endpoint in PUBLIC or endpoint in ANY_ACCOUNT:
            continue
        if endpoint in ROLE_OWN[role]:
            continue
        response = call(client, method, url, bearer if url.startswith("/api/") else None)
        if not refused(response, url, signed_in=True):
            leaks.append((method, url, response.status_code))
    assert leaks == [], leaks


def test_the_owner_reaches_its_own_site_routes(client, world):
    owner = world["owner"]
    client.post("/connexion", data={"email": owner.email, "password": PASSWORD})
    site_id = world["site"].id
    for url in (f"/mes-sites/{site_id}/modifier", f"/mes-sites/{site_id}/position", "/mes-sites"):
        assert client.get(url).status_code == 200, url
    headers = api_token(client, owner.email)
    assert client.get(f"/api/v1/sites/{site_id}", headers=headers).status_code == 200
