"""GET /api/v1/stats/<programme>: the answer's shape, `by` in both spellings, errors by field, the
volunteer breakdown for staff only, and the OpenAPI description."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth.models import Role
from tests.factories import api_token, make_user
from tests.plugins.pmi import log, make_school, make_volunteer


@pytest.fixture
def interventions(db_session):
    alice, va = make_volunteer("paris", name="Alice")
    bruno, vb = make_volunteer("lyonnais", name="Bruno")
    paris, lyon = make_school("75", "11"), make_school("69", "84")
    log(alice, paris, volunteer_ids=[vb.id], female=10, male=15, unspecified=5, date=dt.date(2024, 5, 2))
    log(alice, paris, female=6, male=4, date=dt.date(2024, 11, 8), kind="forum")
    log(bruno, lyon, female=3, male=0, date=dt.date(2024, 2, 1))
    return {"alice": va, "bruno": vb}


def test_the_answer_by_region_and_its_totals(client, interventions):
    response = client.get("/api/v1/stats/pmi?year=2024&by=region")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["programme"], body["by"], body["filters"]) == ("pmi", ["region"], {"year": 2024})
    assert "measure" not in body
    assert body["rows"] == [
        {"region": "84", "female": 3, "male": 0, "unspecified": 0, "total": 3, "female_share": 1.0,
         "interventions": 1, "volunteers": 1, "schools": 1, "labels": {"region": "Auvergne-Rhône-Alpes"}},
        {"region": "11", "female": 16, "male": 19, "unspecified": 5, "total": 40, "female_share": 0.4571,
         "interventions": 2, "volunteers": 2, "schools": 1, "labels": {"region": "Île-de-France"}},
    ]  # fmt: skip
    # Distinct over the whole set: Bruno took part in both regions and counts once (2 volunteers, not 3).
    assert body["totals"] == {"female": 19, "male": 19, "unspecified": 5, "total": 43, "female_share": 0.5,
                              "interventions": 3, "volunteers": 2, "schools": 2}  # fmt: skip


@pytest.mark.parametrize("query", ["by=kind&by=region", "by=kind,region", "by=kind%2C%20region"])
def test_two_dimensions_in_either_spelling(client, interventions, query):
    body = client.get(f"/api/v1/stats/pmi?{query}").get_json()
    assert body["by"] == ["kind", "region"]
    assert [(r["kind"], r["region"]) for r in body["rows"]] == [
        ("class_talk", "84"), ("class_talk", "11"), ("forum", "11"),
    ]  # fmt: skip


def test_a_year_without_data_and_a_share_without_genders(client, interventions):
    empty = client.get("/api/v1/stats/transports?year=2031&by=campus").get_json()
    assert empty["rows"] == [] and empty["totals"]["total"] == 0 and empty["totals"]["female_share"] is None
    jou = client.get("/api/v1/stats/jou?edition=2031").get_json()
    assert jou["measure"] == "attended" and jou["totals"]["visitors"] == 0


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/stats/bals", "programme"),
        ("/api/v1/stats/pmi?by=colour", "by"),
        ("/api/v1/stats/pmi?by=sector", "by"),
        ("/api/v1/stats/pmi?by=gr,region,year", "by"),
        ("/api/v1/stats/pmi?by=gr&by=gr", "by"),
        ("/api/v1/stats/jou?by=year,edition", "by"),
        ("/api/v1/stats/pmi?sector=energy", "sector"),
        ("/api/v1/stats/transports?day=2025-04-04", "day"),
        ("/api/v1/stats/pmi?year=deux", "year"),
        ("/api/v1/stats/pmi?region=99", "region"),
        ("/api/v1/stats/pmi?regoin=11", "regoin"),  # a typo is refused, never national totals
        ("/api/v1/stats/jou?year=2025&edition=2026", "edition"),
        ("/api/v1/stats/pmi?measure=booked", "measure"),
        ("/api/v1/stats/jou?measure=guessed", "measure"),
        ("/api/v1/stats/jou?site=99999999999999999999999", "site"),  # beyond the database's integers
    ],
)
def test_bad_input_is_a_422_by_field(client, db_session, url, field):
    response = client.get(url)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and field in error["fields"], error


def test_a_contradiction_names_the_other_filter(client, db_session):
    error = client.get("/api/v1/stats/jou?edition=2025&year=2024").get_json()["error"]
    (field, [message]), *_ = error["fields"].items()
    other = {"edition": "year", "year": "edition"}[field]
    assert f"« {other} »" in message


@pytest.mark.parametrize("query", ["by=volunteer", "by=region,volunteer", "volunteer=Alice"])
def test_volunteer_names_are_for_staff_only(client, interventions, query):
    url = f"/api/v1/stats/pmi?year=2024&{query}"
    assert client.get(url).status_code == 401
    for role in (Role.VOLUNTEER, Role.ORGANISER, Role.FACTORY):
        user = make_user(role)
        assert client.get(url, headers=api_token(client, user.email)).status_code == 403
    admin = make_user(Role.ADMIN)
    assert client.get(url, headers=api_token(client, admin.email)).status_code == 200


def test_staff_read_each_volunteer_by_name(client, interventions):
    admin = make_user(Role.ADMIN)
    body = client.get("/api/v1/stats/pmi?by=volunteer", headers=api_token(client, admin.email)).get_json()
    assert [(r["labels"]["volunteer"], r["interventions"], r["total"]) for r in body["rows"]] == [
        ("Alice", 2, 40), ("Bruno", 2, 33),
    ]  # fmt: skip
    assert body["totals"]["interventions"] == 3


def test_openapi_documents_the_endpoint(client, db_session):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/stats/{programme}"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"by", "measure", "year", "school_year", "region", "gr", "volunteer"} <= set(parameters)
    assert "by=region,gr" in parameters["by"]["description"]
    assert {"200", "401", "403", "422"} <= set(operation["responses"])


def test_rows_that_overlap_are_flagged_and_the_totals_count_each_record_once(client, db_session):
    alice, _ = make_volunteer("paris", name="Alice")
    school = make_school("75", "11")
    log(alice, school, female=10, male=10, levels=["3e", "2nde"], date=dt.date(2024, 5, 2))
    log(alice, school, female=5, male=5, levels=["3e"], date=dt.date(2024, 6, 2))
    body = client.get("/api/v1/stats/pmi?year=2024&by=level").get_json()
    assert body["overlapping"] is True and "plusieurs niveaux" in body["overlap_note"]
    assert sum(row["total"] for row in body["rows"]) == 50 and body["totals"]["total"] == 30
    plain = client.get("/api/v1/stats/pmi?year=2024&by=region").get_json()
    assert plain["overlapping"] is False and plain["overlap_note"] is None
    assert sum(row["total"] for row in plain["rows"]) == plain["totals"]["total"] == 30


def test_filters_take_names_and_refuse_what_does_not_exist(client, interventions):
    """A filter value that designates nothing is a 422 on its field, never an answer of zeros."""
    admin = api_token(client, make_user(Role.ADMIN).email)
    make_school("69", "84", academie_code="10", academie_name="Lyon")
    make_school("13", "93", academie_code="02", academie_name="Aix-Marseille")

    def get(query: str, **kw):  # noqa: ANN003
        return client.get(f"/api/v1/stats/pmi?{query}", **kw)

    by_code = get("volunteer=" + str(interventions["bruno"].id), headers=admin).get_json()
    by_name = get("volunteer=bruno", headers=admin).get_json()
    assert by_name["filters"] == by_code["filters"] == {"volunteer": interventions["bruno"].id}
    assert by_name["totals"] == by_code["totals"] and by_name["totals"]["interventions"] == 2
    for name in ("Lyon", "académie de lyon", "ACADEMIE DE LYON", "10"):
        assert get(f"academie={name}").get_json()["filters"] == {"academie": "10"}, name
    assert get("academie=Aix-Marseille").get_json()["filters"] == {"academie": "02"}
    assert get("gr=paris").get_json()["filters"]["gr"] == "paris"
    refused = {
        "academie=Atlantide": ("academie", "Académie inconnue."),
        "gr=nowhere": ("gr", "Groupe régional inconnu."),
        "volunteer=Personne%20Inconnue": ("volunteer", "Intervenant inconnu."),
        "volunteer=99999999": ("volunteer", "Intervenant inconnu."),
    }
    for query, (field, message) in refused.items():
        response = get(query, headers=admin)
        assert response.status_code == 422, query
        assert response.get_json()["error"]["fields"][field] == [message], query
    site = client.get("/api/v1/stats/jou?site=99999999")
    assert site.status_code == 422 and site.get_json()["error"]["fields"]["site"] == ["Site inconnu."]


def test_a_name_that_two_volunteers_share_asks_for_the_id(client, interventions):
    admin = api_token(client, make_user(Role.ADMIN).email)
    _, other = make_volunteer("lyonnais", name="Bruno")
    response = client.get("/api/v1/stats/pmi?volunteer=Bruno", headers=admin)
    [message] = response.get_json()["error"]["fields"]["volunteer"]
    assert response.status_code == 422 and "Plusieurs correspondent" in message
    assert f"({interventions['bruno'].id})" in message and f"({other.id})" in message


def test_a_volunteer_name_is_not_looked_up_for_the_public(client, interventions):
    """401 whether the name exists or not: the answer says nothing about who volunteers."""
    for name in ("Bruno", "Personne"):
        assert client.get(f"/api/v1/stats/pmi?volunteer={name}").status_code == 401
