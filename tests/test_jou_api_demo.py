"""The site list on the demo data: its schemas are built once per process (jou.api.SITE_PUBLIC and
SITE_PRIVATE), and every item is still exactly what a schema built for that site alone dumps."""

from __future__ import annotations

import pytest
from flask import jsonify
from marshmallow import Schema
from sqlalchemy import select

from core.auth.models import User
from core.auth.permissions import Permission, can
from core.extensions import db
from fixtures.loader import ADMIN_EMAIL, DEMO_PASSWORD, FACTORY_EMAIL
from jou.models import Site
from jou.schemas import SitePrivateSchema, SiteSchema
from tests.factories import api_token

QUERIES = (
    "per_page=100",
    "per_page=100&edition=2026",
    "per_page=100&edition=2025&page=2",
    "per_page=50&edition=2026&status=submitted",
    "per_page=100&edition=2026&q=usine",
    "mine=true&per_page=100",
    "mine=true&edition=2026&per_page=100",
)


@pytest.mark.parametrize("who", ["anonymous", "admin", "factory"])
def test_each_listed_site_is_what_a_schema_of_its_own_dumps(demo, app, who):
    client = app.test_client()
    email = {"admin": ADMIN_EMAIL, "factory": FACTORY_EMAIL}.get(who)
    headers = api_token(client, email, DEMO_PASSWORD) if email else {}
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    private_items = listed = 0
    for query in QUERIES:
        response = client.get(f"/api/v1/sites?{query}", headers=headers)
        if who == "anonymous" and "mine=true" in query:
            assert response.status_code == 401
            continue
        assert response.status_code == 200, response.get_json()
        items = response.get_json()["items"]
        sites = [db.session.get(Site, item["id"]) for item in items]
        expected = []
        for site in sites:
            private = can(user, Permission.MANAGE_SITE, site)
            private_items += private
            expected.append((SitePrivateSchema() if private else SiteSchema()).dump(site))
        # Through jsonify, as the answer was built: the same bytes.
        body = response.get_json()
        paging = {name: body[name] for name in ("total", "page", "per_page", "pages")}
        with app.test_request_context():
            assert response.get_data() == jsonify({"items": expected, **paging}).get_data()
        listed += len(items)
    assert listed > 100
    # Who sees contacts: the staff always, a factory its own sites (among the others' public ones).
    assert (private_items == 0) == (who == "anonymous")
    if who == "factory":
        assert 0 < private_items < listed


def test_a_page_of_sites_builds_no_schema_per_site(demo, app, monkeypatch):
    client = app.test_client()
    headers = api_token(client, ADMIN_EMAIL, DEMO_PASSWORD)
    built = []
    build = Schema.__init__

    def counted(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        built.append(type(self).__name__)
        build(self, *args, **kwargs)

    monkeypatch.setattr(Schema, "__init__", counted)
    response = client.get("/api/v1/sites?per_page=100&edition=2026", headers=headers)
    assert len(response.get_json()["items"]) == 100
    assert len(built) < 5, built
