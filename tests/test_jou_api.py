"""JSON API of the JOU registry: /api/v1/sites and friends — statuses, error bodies, permissions."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.extensions import db
from jou.models import Site, Slot
from tests.factories import api_token, make_edition, make_site, make_user, siret, slot_data
from tests.plugins.jou import payload

CONTACT_FIELDS = {"contact_name", "contact_email", "contact_phone", "siret"}


@pytest.fixture
def edition(db_session):
    today = date.today()
    return make_edition(
        2027, registration_opens=today - timedelta(days=10), registration_closes=today + timedelta(days=10)
    )


@pytest.fixture
def people(client, edition) -> dict:
    """Who calls: bearer headers per role; "owner" owns the sites the tests make."""
    users = {
        "owner": make_user(Role.FACTORY),
        "other": make_user(Role.FACTORY),
        "volunteer": make_user(Role.VOLUNTEER),
        "admin": make_user(Role.ADMIN),
    }
    headers = {name: api_token(client, user.email) for name, user in users.items()}
    return {"anonymous": {}, **headers, "users": users}


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def slot_messages(body: dict, index: int, name: str) -> list[str]:
    """A slot's field messages, whether they come from the schema or from the service."""
    fields = body["error"]["fields"]
    found = list(fields.get(f"slots[{index}].{name}", []))
    prefix = f"{index}: {name}: "
    found += [m[len(prefix) :] for m in fields.get("slots", []) if m.startswith(prefix)]
    return found


# ---- create ------------------------------------------------------------------------------------------


def test_factory_registers_a_site_with_slots(client, people):
    response = client.post("/api/v1/sites", json=payload(), headers=people["owner"])
    assert response.status_code == 201, response.get_json()
    site = response.get_json()
    assert site["status"] == "draft"
    assert site["edition"] == 2027
    assert site["contact_email"] == "camille.martin@example.org"
    assert site["contact_phone"] == "+33142000000"
    assert site["department"] == "75" and site["region"] == "11"
    assert {"lat", "lon", "geo_precision", "regional_group"} <= set(site)
    friday, saturday = site["slots"]
    assert friday["seats_left"] == 25 and friday["audience"] == "schools"
    assert saturday == {
        "id": saturday["id"],
        "day": "2027-03-20",
        "start": "14:00:00",
        "end": "16:00:00",
        "audience": "public",
        "audience_label": "Grand public",
        "capacity": 40,
        "seats_left": 40,
        "min_age": 8,
        "protective_equipment": "Chaussures fermées",
        "wheelchair_accessible": True,
    }
    assert site["created_at"].endswith("+00:00")


def test_create_for_an_explicit_edition_or_none_open(client, people, edition):
    make_edition(2026)
    db.session.commit()  # a refused request rolls back what the test has not committed
    response = client.post("/api/v1/sites", json=payload(edition=2031), headers=people["owner"])
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["edition"] == ["Aucune édition 2031."]
    # 2026's registration is closed: a factory may not join it, an admin may.
    data = payload(
        edition=2026,
        slots=[{"day": "2026-03-20", "start": "09:00", "end": "10:00", "audience": "schools", "capacity": 5}],
    )
    response = client.post("/api/v1/sites", json=data, headers=people["owner"])
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "registration_closed"
    assert client.post("/api/v1/sites", json=data, headers=people["admin"]).status_code == 201


def test_no_edition_open_for_registration(client, people, edition):
    edition.registration_closes = edition.registration_opens = date.today() - timedelta(days=1)
    db.session.flush()
    response = client.post("/api/v1/sites", json=payload(), headers=people["owner"])
    assert response.status_code == 422
    assert "edition" in response.get_json()["error"]["fields"]


# ---- bad input: a field-level French message and no row behind ---------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"siret": "12345678901234"}, "siret", "SIRET invalide (la clé de contrôle ne correspond pas)."),
        ({"siret": "1234"}, "siret", "Le SIRET compte 14 chiffres."),
        ({"sector": "boulangerie"}, "sector", None),
        ({"postcode": "7500"}, "postcode", "Le code postal compte 5 chiffres."),
        ({"company_name": "x" * 201}, "company_name", "Au plus 200 caractères."),
        ({"description": "x" * 5001}, "description", "Au plus 5000 caractères."),
        ({"name": "   "}, "name", "Ce champ est obligatoire."),
        ({"contact_email": "pas-un-email"}, "contact_email", "Adresse e-mail invalide."),
        ({"contact_phone": "12"}, "contact_phone", "Numéro de téléphone invalide."),
        ({"colour": "red"}, "colour", "Champ inconnu."),
    ],
)
def test_bad_site_fields(client, people, overrides, field, message):
    response = client.post("/api/v1/sites", json=payload(**overrides), headers=people["owner"])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    if message:
        assert error["fields"][field] == [message]
    else:
        assert error["fields"][field][0].startswith("Valeur non autorisée")
    assert count(Site) == 0 and count(Slot) == 0


@pytest.mark.parametrize(
    ("slot", "field", "message"),
    [
        ({"start": "11:00", "end": "10:00"}, "end", "L'heure de fin doit suivre l'heure de début."),
        ({"start": "10:00", "end": "10:00"}, "end", "L'heure de fin doit suivre l'heure de début."),
        ({"capacity": 0}, "capacity", "Doit être entre 1 et 10000."),
        ({"capacity": -5}, "capacity", "Doit être entre 1 et 10000."),
        ({"capacity": 10**6}, "capacity", "Doit être entre 1 et 10000."),
        ({"min_age": 120}, "min_age", "Doit être entre 0 et 99."),
        ({"protective_equipment": "x" * 501}, "protective_equipment", "Au plus 500 caractères."),
        ({"start": "9h"}, "start", "Heure invalide (format HH:MM)."),
        (
            {"day": "2027-03-21"},
            "day",
            "Le créneau doit tomber le vendredi 19 mars 2027 ou le samedi 20 mars 2027.",
        ),
        ({"day": "2027-03-20"}, "audience", "Le samedi est ouvert au grand public."),
    ],
)
def test_bad_slots(client, people, slot, field, message):
    base = {"day": "2027-03-19", "start": "09:00", "end": "11:00", "audience": "schools", "capacity": 25}
    response = client.post("/api/v1/sites", json=payload(slots=[{**base, **slot}]), headers=people["owner"])
    assert response.status_code == 422
    assert slot_messages(response.get_json(), 0, field) == [message]
    assert count(Site) == 0 and count(Slot) == 0


def test_times_out_of_order_reported_with_other_errors(client, people):
    bad = {"day": "2027-03-19", "start": "11:00", "end": "10:00", "audience": "schools", "capacity": 0}
    response = client.post("/api/v1/sites", json=payload(slots=[bad]), headers=people["owner"])
    body = response.get_json()
    assert slot_messages(body, 0, "end") == ["L'heure de fin doit suivre l'heure de début."]
    assert slot_messages(body, 0, "capacity")


def test_admin_may_open_saturday_to_schools(client, people):
    slot = {"day": "2027-03-20", "start": "09:00", "end": "11:00", "audience": "schools", "capacity": 25}
    response = client.post("/api/v1/sites", json=payload(slots=[slot]), headers=people["admin"])
    assert response.status_code == 201


def test_postcode_city_mismatch(client, people):
    response = client.post(
        "/api/v1/sites", json=payload(postcode="69007", city="Paris"), headers=people["owner"]
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) & {"postcode", "city"}
    assert count(Site) == 0


def test_duplicate_siret_is_409_on_the_siret_field(client, people):
    number = siret()
    assert (
        client.post("/api/v1/sites", json=payload(siret=number), headers=people["owner"]).status_code == 201
    )
    response = client.post("/api/v1/sites", json=payload(siret=number), headers=people["other"])
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_siret"
    assert error["fields"]["siret"] == ["Ce SIRET est déjà inscrit à l'édition 2027."]
    assert count(Site) == 1


@pytest.mark.parametrize(
    "number",
    [
        "356 000 000 00010",  # La Poste: digit sum a multiple of 5, not Luhn-valid
        "356 000 000 00048",  # La Poste's head office: Luhn-valid, digit sum 26
    ],
)
def test_la_poste_siret_is_accepted(client, people, number):
    response = client.post("/api/v1/sites", json=payload(siret=number), headers=people["owner"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["siret"] == number.replace(" ", "")


def test_html_is_stored_as_typed_and_served_as_json_data(client, people):
    script = "<script>alert('x')</script> & <b>gras</b>"
    response = client.post(
        "/api/v1/sites", json=payload(name=script, description=script), headers=people["owner"]
    )
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    site_id = response.get_json()["id"]
    assert db.session.get(Site, site_id).name == script
    assert client.get(f"/api/v1/sites/{site_id}", headers=people["owner"]).get_json()["description"] == script


def test_malformed_json_and_wrong_types(client, people):
    response = client.post(
        "/api/v1/sites", data="{not json", content_type="application/json", headers=people["owner"]
    )
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()
    response = client.post("/api/v1/sites", json=payload(slots="lundi"), headers=people["owner"])
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["slots"] == ["Liste attendue."]


# ---- read, list, search, geojson ---------------------------------------------------------------------


def test_public_sees_published_sites_without_contact(client, people, edition):
    owner = people["users"]["owner"]
    published = make_site(owner, edition, status="approved")
    draft = make_site(owner, edition)
    body = client.get(f"/api/v1/sites/{published.id}").get_json()
    assert not CONTACT_FIELDS & set(body)
    assert body["slots"][0]["seats_left"] == 30
    assert client.get(f"/api/v1/sites/{draft.id}").status_code == 404
    assert client.get("/api/v1/sites/999999").status_code == 404
    assert set(client.get(f"/api/v1/sites/{draft.id}", headers=people["owner"]).get_json()) >= CONTACT_FIELDS
    other = client.get(f"/api/v1/sites/{published.id}", headers=people["other"]).get_json()
    assert not CONTACT_FIELDS & set(other)


def test_list_filters_and_pagination(client, people, edition):
    owner = people["users"]["owner"]
    for i in range(5):
        make_site(owner, edition, status="approved", name=f"Usine {i}")
    make_site(
        owner, edition, status="approved", name="Lyon", postcode="69007", city="Lyon", sector="chemicals"
    )
    make_site(
        owner,
        edition,
        status="approved",
        name="Samedi seul",
        slots=[slot_data(day=date(2027, 3, 20), audience="public")],
    )
    make_site(owner, edition, status="submitted", name="En attente")

    def names(query: str, headers: dict | None = None) -> list[str]:
        response = client.get(f"/api/v1/sites?{query}", headers=headers or {})
        assert response.status_code == 200, response.get_json()
        return [item["name"] for item in response.get_json()["items"]]

    assert len(names("per_page=100")) == 7
    assert names("department=69") == ["Lyon"]
    assert names("region=84") == ["Lyon"]
    assert names("sector=chemicals") == ["Lyon"]
    assert "Samedi seul" not in names("audience=schools")
    assert names("day=2027-03-20&q=samedi") == ["Samedi seul"]
    assert names("q=LYON") == ["Lyon"]
    assert names("edition=2027&q=usine 3") == ["Usine 3"]
    assert names("edition=2020") == []
    body = client.get("/api/v1/sites?per_page=2&page=2&q=usine").get_json()
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (5, 2, 2, 3)
    assert [i["name"] for i in body["items"]] == ["Usine 2", "Usine 3"]
    assert all(not CONTACT_FIELDS & set(item) for item in body["items"])
    # The staff see every status, with contacts; a factory sees its own with mine=true.
    assert "En attente" in names("per_page=100", people["admin"])
    assert names("status=submitted", people["admin"]) == ["En attente"]
    assert "En attente" not in names("per_page=100", people["owner"])
    assert names("mine=true&status=submitted", people["owner"]) == ["En attente"]
    assert names("mine=true", people["other"]) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("audience=everyone", "audience"),
        ("sector=nope", "sector"),
        ("day=demain", "day"),
        ("edition=deux", "edition"),
    ],
)
def test_bad_list_filters(client, edition, query, field):
    response = client.get(f"/api/v1/sites?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_geojson_has_published_located_sites_and_no_contact(client, people, edition):
    owner = people["users"]["owner"]
    published = make_site(owner, edition, status="approved", name="Publié")
    published.lat, published.lon = 48.86, 2.34
    hidden = make_site(owner, edition, status="submitted", name="Pas encore")
    hidden.lat, hidden.lon = 45.75, 4.84
    db.session.flush()
    response = client.get("/api/v1/sites.geojson", headers=people["admin"])
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    collection = response.get_json()
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [2.34, 48.86]}
    props = feature["properties"]
    assert props["id"] == published.id and props["name"] == "Publié"
    assert props["days"] == ["2027-03-19", "2027-03-20"]
    assert props["audiences"] == ["schools", "public"]
    assert props["seats_left"] == 60
    assert props["url"].endswith(str(published.id))
    text = response.get_data(as_text=True)
    for secret in ("camille", "+33", published.siret):
        assert secret not in text
    assert client.get("/api/v1/sites.geojson?sector=chemicals").get_json()["features"] == []


def test_openapi_documents_the_site_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/sites",
        "/api/v1/sites/{site_id}",
        "/api/v1/sites/{site_id}/submit",
        "/api/v1/sites/{site_id}/approve",
        "/api/v1/sites/{site_id}/reject",
        "/api/v1/sites.geojson",
    ):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert {"SiteInput", "SiteUpdate", "SitePage", "SitePrivate", "FeatureCollection"} <= set(schemas)
    assert "seats_left" in schemas["Slot"]["properties"]


# ---- workflow and edits ------------------------------------------------------------------------------


def test_workflow_through_the_api(client, people, edition):
    site_id = client.post("/api/v1/sites", json=payload(), headers=people["owner"]).get_json()["id"]
    response = client.post(f"/api/v1/sites/{site_id}/submit", headers=people["owner"])
    assert response.status_code == 200 and response.get_json()["status"] == "submitted"
    response = client.post(f"/api/v1/sites/{site_id}/submit", headers=people["owner"])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"

    response = client.post(f"/api/v1/sites/{site_id}/reject", json={}, headers=people["admin"])
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["reason"] == ["Ce champ est obligatoire."]
    response = client.post(
        f"/api/v1/sites/{site_id}/reject", json={"reason": "x" * 2001}, headers=people["admin"]
    )
    assert response.get_json()["error"]["fields"]["reason"] == ["Au plus 2000 caractères."]
    response = client.post(
        f"/api/v1/sites/{site_id}/reject", json={"reason": "Adresse à préciser."}, headers=people["admin"]
    )
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["rejection_reason"] == "Adresse à préciser."
    assert client.get(f"/api/v1/sites/{site_id}").status_code == 404

    response = client.patch(
        f"/api/v1/sites/{site_id}", json={"street": "3 rue de Rivoli"}, headers=people["owner"]
    )
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"
    assert client.post(f"/api/v1/sites/{site_id}/submit", headers=people["owner"]).status_code == 200
    response = client.post(f"/api/v1/sites/{site_id}/approve", headers=people["admin"])
    assert response.get_json()["status"] == "approved"
    assert client.post(f"/api/v1/sites/{site_id}/approve", headers=people["admin"]).status_code == 409
    assert (
        client.post(
            f"/api/v1/sites/{site_id}/reject", json={"reason": "Non"}, headers=people["admin"]
        ).status_code
        == 409
    )
    assert client.get(f"/api/v1/sites/{site_id}").status_code == 200


def test_submit_without_slots(client, people):
    site_id = client.post("/api/v1/sites", json=payload(slots=[]), headers=people["owner"]).get_json()["id"]
    response = client.post(f"/api/v1/sites/{site_id}/submit", headers=people["owner"])
    assert response.status_code == 422
    assert "slots" in response.get_json()["error"]["fields"]


def test_patch_is_partial_and_validated(client, people, edition):
    site = make_site(people["users"]["owner"], edition, status="approved")
    url = f"/api/v1/sites/{site.id}"
    response = client.patch(url, json={"description": "Nouvelle visite"}, headers=people["owner"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["description"] == "Nouvelle visite" and body["status"] == "approved"
    assert len(body["slots"]) == 2  # slots untouched when not sent
    response = client.patch(url, json={"sector": "nope", "company_name": ""}, headers=people["owner"])
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"sector", "company_name"}
    response = client.patch(url, json={"edition": 2026}, headers=people["owner"])
    assert response.get_json()["error"]["fields"] == {"edition": ["Champ inconnu."]}


def test_patch_slots_and_booked_slot_protection(client, people, edition):
    site = make_site(people["users"]["owner"], edition, status="approved")
    friday, saturday = site.slots
    saturday.seats_taken = 7
    db.session.commit()  # a refused request rolls back what the test has not committed
    url = f"/api/v1/sites/{site.id}"

    def slot_json(slot, **changes) -> dict:
        data = {
            "id": slot.id,
            "day": slot.day.isoformat(),
            "start": slot.start.strftime("%H:%M"),
            "end": slot.end.strftime("%H:%M"),
            "audience": slot.audience,
            "capacity": slot.capacity,
        }
        return {**data, **changes}

    for slots, words in (
        ([slot_json(friday)], "supprimé"),
        ([slot_json(friday), slot_json(saturday, start="10:00", end="12:00")], "horaire"),
        ([slot_json(friday), slot_json(saturday, capacity=6)], "capacité"),
    ):
        response = client.patch(url, json={"slots": slots}, headers=people["owner"])
        assert response.status_code == 409, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "slot_has_bookings"
        assert words in error["message"] and "7 places réservées" in error["message"]
        assert count(Slot) == 2

    new = {"day": "2027-03-20", "start": "14:00", "end": "15:00", "audience": "public", "capacity": 12}
    response = client.patch(
        url, json={"slots": [slot_json(saturday, capacity=7), new]}, headers=people["owner"]
    )
    assert response.status_code == 200, response.get_json()
    slots = response.get_json()["slots"]
    assert [(s["id"], s["seats_left"]) for s in slots] == [(saturday.id, 0), (slots[1]["id"], 12)]
    assert db.session.get(Slot, friday.id) is None


def test_patch_address_relocates(client, people, edition):
    site = make_site(people["users"]["owner"], edition, status="approved")
    response = client.patch(
        f"/api/v1/sites/{site.id}", json={"postcode": "69007", "city": "Lyon"}, headers=people["owner"]
    )
    assert response.status_code == 200
    assert (response.get_json()["department"], response.get_json()["region"]) == ("69", "84")


def test_set_location(client, people, edition):
    site = make_site(people["users"]["owner"], edition)
    url = f"/api/v1/sites/{site.id}/location"
    response = client.put(url, json={"lat": 48.85, "lon": 2.35}, headers=people["owner"])
    assert response.status_code == 200
    assert response.get_json()["geo_precision"] == "manual"
    assert client.put(url, json={"lat": 100, "lon": 2}, headers=people["owner"]).status_code == 422

    # Central Africa for a site in Paris: not in France, refused; La Réunion is France.
    outside = client.put(url, json={"lat": 10, "lon": 10}, headers=people["owner"])
    assert outside.status_code == 422 and "pas en France" in outside.get_json()["error"]["fields"]["lat"][0]
    assert client.put(url, json={"lat": -21.11, "lon": 55.53}, headers=people["owner"]).status_code == 200
    # In France but far from its commune (Lyon for Paris 1er): kept, and flagged.
    far = client.put(url, json={"lat": 45.76, "lon": 4.83}, headers=people["owner"]).get_json()
    assert far["lat"] == 45.76 and "km du centre de Paris" in far["location_warning"]
    near = client.put(url, json={"lat": 48.8605, "lon": 2.3444}, headers=people["owner"]).get_json()
    assert near["location_warning"] is None


# ---- permissions matrix ------------------------------------------------------------------------------

WHO = ("anonymous", "owner", "other", "volunteer", "admin")


@pytest.mark.parametrize(
    ("route", "status", "expected"),
    [
        ("get", "draft", (404, 200, 404, 404, 200)),
        ("get", "approved", (200, 200, 200, 200, 200)),
        ("patch", "draft", (401, 200, 404, 403, 200)),
        ("patch", "approved", (401, 200, 403, 403, 200)),
        ("location", "draft", (401, 200, 404, 403, 200)),
        ("submit", "draft", (401, 200, 404, 403, 200)),
        ("approve", "submitted", (401, 403, 403, 403, 200)),
        ("reject", "submitted", (401, 403, 403, 403, 200)),
        ("create", None, (401, 201, 201, 403, 201)),
        ("list_mine", None, (401, 200, 200, 403, 200)),
        ("list", None, (200, 200, 200, 200, 200)),
        ("geojson", None, (200, 200, 200, 200, 200)),
    ],
)
def test_permissions(client, people, edition, route, status, expected):
    got = []
    for who in WHO:
        site = make_site(people["users"]["owner"], edition, status=status) if status else None
        db.session.commit()
        response = call_route(client, route, f"/api/v1/sites/{site.id}" if site else "", people[who])
        got.append(response.status_code)
        if response.status_code >= 400:
            assert response.get_json()["error"]["code"]
    assert tuple(got) == expected


def call_route(client, route: str, url: str, headers: dict):
    if route == "get":
        return client.get(url, headers=headers)
    if route == "patch":
        return client.patch(url, json={"description": "Modifié"}, headers=headers)
    if route == "location":
        return client.put(f"{url}/location", json={"lat": 45.0, "lon": 5.0}, headers=headers)
    if route == "reject":
        return client.post(f"{url}/reject", json={"reason": "Incomplet"}, headers=headers)
    if route in ("submit", "approve"):
        return client.post(f"{url}/{route}", headers=headers)
    if route == "create":
        return client.post("/api/v1/sites", json=payload(), headers=headers)
    if route == "list_mine":
        return client.get("/api/v1/sites?mine=true", headers=headers)
    if route == "list":
        return client.get("/api/v1/sites", headers=headers)
    return client.get("/api/v1/sites.geojson", headers=headers)


def test_refused_write_leaves_nothing(client, people, edition):
    site = make_site(people["users"]["owner"], edition)
    response = client.patch(f"/api/v1/sites/{site.id}", json={"name": "Piraté"}, headers=people["other"])
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Site, site.id).name == "Atelier du Louvre"


def test_invalid_token_is_401(client, edition):
    response = client.post("/api/v1/sites", json=payload(), headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] in ("unauthorized", "invalid_token")
