"""Test fixtures: access (see conftest).

`world` builds real objects of every kind, owned by "A" accounts, and every route of the app's URL map on
them: tests/test_access_matrix.py tries each against the roles that must not use it, and
tests/test_cache_control.py reads its answers. `PUBLIC` lists the endpoints reachable without an account;
`sign_in` opens a session and returns the bearer header for the API.
"""

from __future__ import annotations

import pytest

from core.auth.models import Role
from core.extensions import db
from jou.bookings import services as booking_services
from jou.bookings import tokens
from jou.checkin import services as checkin_services
from jou.checkin import walk_ins
from pmi.transports import services as transport_services
from tests.factories import PASSWORD, api_token, make_site, make_user
from tests.plugins.jou import party, slots_of
from tests.plugins.pmi import log, make_school, make_transport, make_volunteer, organiser, stop_data

# Reachable without an account, by design: the public site, sign-in pages, booking by the public
# (signed links carry their own authority), public API reads, feeds.
PUBLIC = {
    "static", "core.healthz", "core.ping", "api-docs.openapi_json",
    "jou.home", "jou.site_list", "jou.site_detail",
    "auth.login", "auth.signup", "auth.check_email", "auth.confirm_email", "auth.forgot_password",
    "auth.resend_confirmation", "auth.reset_password",
    "auth_api.create_token",
    "bookings.book", "bookings.join_waitlist", "bookings.manage", "bookings.change", "bookings.cancel",
    "bookings.personal_data", "bookings.erase",
    "bookings_api.get_personal_data", "bookings_api.erase_personal_data",
    # An address's data: the request is open to anyone (always 202, a link e-mailed to the address);
    # the link itself is the authority (tests/test_privacy_visitor.py).
    "privacy.request_link", "privacy.address", "privacy.download", "privacy.lost_ticket", "bookings_api.resend_links",
    # A waiting party's signed link (rank, accept the offer, leave): a bad token answers 401/404.
    "bookings.waitlist_entry", "bookings.accept_offer", "bookings.leave_waitlist",
    # The interest list: a form open to all, its e-mailed links signed (a bad token answers 404).
    "privacy.interest_form", "privacy.interest_confirm", "privacy.interest_unsubscribe",
    "bookings_api.subscribe_interest",
    # The survey after the visit: its signed link; its figures, never with fewer than 5 respondents.
    "bookings.survey_page", "bookings_api.get_survey", "bookings_api.answer_survey", "stats_api.survey_figures",
    "bookings_api.get_waitlist_entry", "bookings_api.leave_waitlist", "bookings_api.accept_waitlist_offer",
    "bookings_api.request_privacy_link", "bookings_api.get_address_data", "bookings_api.erase_address",
    "booking_files.booking_ics", "booking_files.site_feed", "booking_files.region_feed",
    "booking_files.ticket_png", "booking_files.ticket_svg", "booking_files.ticket_pdf",
    "bookings_api.create_booking", "bookings_api.join_waitlist", "bookings_api.get_booking",
    "bookings_api.change_booking", "bookings_api.cancel_booking",
    "editions_api.list_editions", "sites_api.list_sites", "sites_api.get_site", "sites_api.sites_geojson",
    "schools_api.list_schools", "schools_api.school_detail",
    "checkin.ticket",
    "maps.factory_map", "maps.site_popup", "maps.pmi_map", "maps.transports_map", "maps_api.transports_data",
    "maps_api.site_data", "maps_api.near_sites", "maps_api.pmi_territories",
    "stats.summary",  # totals and regions only: tests/test_stats_pages.py checks no name shows
    # Aggregated counts, published by the association; `by=volunteer` / `volunteer=` (names) are for
    # staff: 401/403 otherwise (tests/test_stats_api.py).
    "stats_api.programme_stats",
}  # fmt: skip


@pytest.fixture
def world(app, db_session):
    """Real objects of every kind, owned by "A" accounts; the routes are built on them."""
    owner = make_user(Role.FACTORY)
    site = make_site(owner=owner, status="draft")
    # Factory A's published site with bookings X and Y, so booking, gate and attendance routes have data.
    public, school = slots_of(capacity=20)
    booking_x = booking_services.book(public.id, party(2, email="x@example.org"))
    booking_y = booking_services.book(public.id, party(3, email="y@example.org"))
    users = {role: make_user(role) for role in (Role.FACTORY, Role.VOLUNTEER, Role.ORGANISER, Role.ADMIN)}
    # An organiser of another GR than the transport's: GR Y against GR X.
    users[Role.ORGANISER] = organiser("alsace", "Organisateur Alsace")
    volunteer_a, _ = make_volunteer("paris", name="Alice")
    intervention = log(volunteer_a, make_school())
    # A real transport of another GR with a stop, so its routes are tried on an object that exists.
    paris = organiser("paris")
    transport = make_transport(paris)
    stop = transport_services.add_stop(paris, transport.id, stop_data(make_school()))
    # Factory A's gate has let Y's party and a walk-in in: the undo routes are tried on them.
    gate_a = public.site.owner
    checkin = checkin_services.check_in(gate_a, public, tokens.ticket_token(booking_y)).checkin
    walk_in = walk_ins.admit_walk_in(gate_a, public, {"female": 1})
    db.session.flush()
    args = {"site_id": public.site_id, "slot_id": public.id, "token": "x", "code": "11", "filename": "x",
            "uai": stop.school_uai, "intervention_id": intervention.id, "transport_id": transport.id,
            "stop_id": stop.id, "programme": "jou", "checkin_id": checkin.id, "walk_in_id": walk_in.id}  # fmt: skip
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            url = rule.build({k: args[k] for k in rule.arguments}, append_unknown=False)[1]
            routes.append((rule.endpoint, method, url))
    ticket = tokens.ticket_token(booking_x)
    return {"owner": owner, "site": site, "users": users, "routes": routes, "rules": list(app.url_map.iter_rules()),
            "factory_a": public.site.owner, "slot": public, "school_slot": school, "x": booking_x, "y": booking_y,
            "ticket": ticket, "volunteer_a": volunteer_a, "intervention": intervention, "transport": transport,
            "stop": stop, "paris": paris}  # fmt: skip


def sign_in(client, user) -> dict:  # noqa: ANN001
    """The session cookie for the pages, and the bearer header for the API."""
    client.post("/deconnexion")
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    return api_token(client, user.email)
