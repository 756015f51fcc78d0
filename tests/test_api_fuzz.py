"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis, in-process WSGI).

Every operation of /api/v1/openapi.json gets valid and invalid input, as an admin, a factory, a
volunteer, an organiser and without a token, on a database that holds a site, slots, bookings,
interventions and a transport (path parameters point at those real objects half of the time). No answer
may be a 5xx; every answer must be a documented status with the documented content type and body; every
4xx is our error format. Writes happen inside the test's rolled-back transaction (tests/conftest.py), so
nothing leaks.

Then the hostile cases of bench/fuzz.py (the same lists, in-process): a NUL byte, a lone surrogate, a
CR/LF, 400 digits and '²' in every parameter and body property of every operation, bodies 1,000 levels
deep, not UTF-8 or past MAX_CONTENT_LENGTH; and every page with the same values in its query string.
bench/fuzz.py runs far more of both through gunicorn on PostgreSQL (figures in bench/README.md).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.auth.models import Role
from core.schools.directory import find_school
from jou.bookings import services as booking_services
from jou.bookings import tokens
from pmi.transports import services as transport_services
from tests.factories import PASSWORD, api_token, make_user
from tests.plugins.jou import UAI, party, school_class, slots_of
from tests.plugins.pmi import log, make_school, make_transport, make_volunteer, organiser, stop_data

# Examples per operation and generation mode (valid, invalid), per identity: bounded to stay near a minute.
# Without a token most answers are a 401, and volunteers and organisers are refused most operations (403):
# fewer examples teach as much.
EXAMPLES = {"admin": 8, "factory": 8, "volunteer": 2, "organiser": 2, "anonymous": 3}
# Answers any operation may give, documented once as the `default` error (ErrorSchema): malformed JSON,
# no or a bad token, another's object, an unknown id, a wrong method. Any other status must be listed.
GENERIC = {400, 401, 403, 404, 405, 413}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Tally:
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int) -> None:
        self.calls += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _bench_fuzz():  # noqa: ANN202 - the module
    spec = importlib.util.spec_from_file_location(
        "bench_fuzz", Path(__file__).parents[1] / "bench" / "fuzz.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fuzz = _bench_fuzz()


def assert_error_format(response) -> None:  # noqa: ANN001 - a schemathesis Response
    """Every 4xx of the API is {"error": {"code", "message", "fields"?}}, as ErrorSchema documents."""
    content_type = response.headers.get("content-type", [""])[0]
    problem = fuzz.error_format_problem(response.status_code, content_type, response.content)
    assert problem is None, problem


def _summary(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {' | '.join(lines[:6])}"[:600]


@pytest.fixture
def data(app, client, db_session):
    """Some of everything the API serves, and the ids to aim the fuzzer's path parameters at."""
    public, school_slot = slots_of(capacity=40)
    site = public.site
    owner = site.owner
    booking = booking_services.book(public.id, party(2))
    booking_services.book(school_slot.id, school_class())
    volunteer, _ = make_volunteer("paris")
    intervention = log(volunteer, make_school())
    paris = organiser("paris")
    transport = make_transport(paris)
    stop = transport_services.add_stop(paris, transport.id, stop_data(find_school(UAI)))
    admin = make_user(Role.ADMIN)
    db_session.flush()
    users = {"admin": admin, "factory": owner, "volunteer": volunteer, "organiser": paris}
    path_ids = {
        "site_id": site.id, "slot_id": public.id, "token": tokens.manage_token(booking), "uai": UAI,
        "intervention_id": intervention.id, "transport_id": transport.id, "stop_id": stop.id,
    }  # fmt: skip
    return {
        "path_ids": path_ids,
        "users": users,
        "identities": {
            **{name: api_token(client, user.email) for name, user in users.items()},
            "anonymous": {},
        },
    }


@pytest.fixture
def schema(app, db_session):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _strategy(operation, path_ids: dict, mode: GenerationMode):  # noqa: ANN001, ANN202
    real = {p.name: path_ids[p.name] for p in operation.path_parameters if p.name in path_ids}
    generated = operation.as_strategy(generation_mode=mode)
    if not real:
        return generated
    return st.one_of(operation.as_strategy(generation_mode=mode, path_parameters=real), generated)


@pytest.mark.parametrize("identity", ["admin", "factory", "volunteer", "organiser", "anonymous"])
def test_the_api_never_fails_and_answers_as_documented(schema, data, identity, request):
    tally = Tally()
    problems: list[str] = []
    undocumented: set = set()
    headers = data["identities"][identity]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=_strategy(operation, data["path_ids"], mode))
            @settings(
                max_examples=EXAMPLES[identity],
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:  # noqa: ANN001
                # Failures are collected, not raised: one run lists every problem, unshrunk but reproducible.
                try:
                    response = case.call(headers=headers)
                    tally.add(response.status_code)
                    documented = set(case.operation.definition.raw.get("responses", {})) - {"default"}
                    if str(response.status_code) not in documented:
                        undocumented.add((case.method, case.path, response.status_code))
                    case.validate_response(response, checks=CHECKS, headers=headers)
                    assert_error_format(response)
                except (Exception, FailureGroup) as exc:  # noqa: BLE001 - an exception escaping the app is a 500
                    problems.append(f"{case.method} {case.path}: {_summary(exc)}\n  {case.as_curl_command()}")

            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid (no parameter, no body): the positive cases covered it.
                assert mode is GenerationMode.NEGATIVE
    print(f"\n{identity}: {tally.calls} calls, statuses {dict(sorted(tally.statuses.items()))}")
    beyond = sorted(u for u in undocumented if u[2] not in GENERIC)
    assert beyond == [], f"statuses answered but not documented: {beyond}"
    distinct = {p.split("\n")[0]: p for p in problems}  # one example of each problem
    assert problems == [], "\n".join(distinct.values())
    assert tally.calls >= len(operations) * EXAMPLES[identity]


# ---- regressions of what the fuzzer found ------------------------------------------------------------


def test_an_id_beyond_the_integer_columns_is_a_404_not_a_database_overflow(client, data):
    admin = data["identities"]["admin"]
    huge = 2**31
    for url in (f"/api/v1/sites/{huge}", f"/api/v1/transports/{huge}", f"/api/v1/interventions/{huge}",
                f"/api/v1/slots/{10**30}/attendance", f"/usines/{huge}"):  # fmt: skip
        response = client.get(url, headers=admin)
        assert response.status_code == 404, url
    spec = client.get("/api/v1/openapi.json").get_json()
    site_id = spec["paths"]["/api/v1/sites/{site_id}"]["parameters"][0]
    assert site_id["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


@pytest.mark.parametrize(
    "method, url, body, field",
    [
        ("POST", "/api/v1/checkins", {"token": "x", "slot_id": 2**40}, "slot_id"),
        ("POST", "/api/v1/checkins/offline", {"slot_id": 2**40, "entries": []}, "slot_id"),
        ("GET", f"/api/v1/interventions?volunteer={2**40}", None, "volunteer"),
        ("GET", f"/api/v1/sites?page={2**40}", None, "page"),
        ("GET", "/api/v1/sites?edition=99999999999", None, "edition"),
        ("GET", f"/api/v1/maps/sites?min_seats={2**40}", None, "min_seats"),
    ],
)
def test_a_number_beyond_the_integer_columns_is_a_422_by_field(client, data, method, url, body, field):
    response = client.open(url, method=method, json=body, headers=data["identities"]["admin"])
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_a_transport_cost_is_documented_as_it_is_sent_and_bounded_like_its_column(client, data):
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["Transport"]["properties"]["cost"]["type"] == "string"
    cost_in = spec["TransportInput"]["properties"]["cost"]
    assert cost_in["minimum"] == 0 and cost_in["maximum"] == 99999999.99
    url = f"/api/v1/transports/{data['path_ids']['transport_id']}"
    response = client.patch(url, json={"cost": 10**12}, headers=data["identities"]["admin"])
    assert response.status_code == 422 and "cost" in response.get_json()["error"]["fields"]
    assert client.get(url, headers=data["identities"]["admin"]).get_json()["cost"] == "850.00"


def test_answers_built_by_hand_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/slots/{slot_id}/checkin-list", "/api/v1/slots/{slot_id}/attendance",
                 "/api/v1/transports/stats"):  # fmt: skip
        assert "application/json" in paths[path]["get"]["responses"]["200"]["content"], path


# ---- hostile input: the cases of bench/fuzz.py, in-process ------------------------------------------------


def _send(client, case, headers: dict | None = None):  # noqa: ANN001, ANN202 - a HostileCase; a response
    url = case.path + (f"?{case.query}" if case.query else "")
    all_headers = {**(headers or {}), **case.headers}
    return client.open(
        url, method=case.method, data=case.body, headers=all_headers, content_type=case.content_type
    )


@pytest.mark.parametrize("identity", ["admin", "anonymous"])
def test_hostile_input_on_every_operation_is_refused_without_a_5xx(app, client, data, identity):
    spec = client.get("/api/v1/openapi.json").get_json()
    cases = fuzz.hostile_api_cases(spec, data["path_ids"], app.config["MAX_CONTENT_LENGTH"])
    assert len(cases) > 1000
    problems, statuses = [], {}
    for case in cases:
        response = _send(client, case, data["identities"][identity])
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            problems.append(f"{case.label} → {response.status_code}")
            continue
        problem = fuzz.error_format_problem(response.status_code, response.content_type or "", response.data)
        if problem:
            problems.append(f"{case.label}: {problem}")
        label = case.label.rsplit("=", 1)[-1]
        if response.status_code < 300 and label in fuzz.REFUSED_EVERYWHERE and case.method != "GET":
            problems.append(f"{case.label}: accepted ({response.status_code})")
    print(f"\n{identity}: {len(cases)} hostile cases, statuses {dict(sorted(statuses.items()))}")
    assert problems == [], "\n".join(problems[:40])


@pytest.mark.parametrize("identity", ["admin", "anonymous"])
def test_hostile_query_strings_on_every_page_never_get_a_5xx(app, client, data, identity):
    if identity != "anonymous":
        user = data["users"][identity]
        assert client.post("/connexion", data={"email": user.email, "password": PASSWORD}).status_code == 302
    routes = fuzz.page_routes(app, data["path_ids"])
    cases = [c for c in fuzz.hostile_page_cases(routes) if " all=" in c.label]  # every parameter at once
    assert len(routes) > 60 and len(cases) > 300
    failures = [case.label for case in cases if _send(client, case).status_code >= 500]
    assert failures == []
    nul_pages = [case for case in cases if case.label.endswith("all=nul") and case.query]
    for case in nul_pages:
        response = _send(client, case)
        assert response.status_code == 400 and "Caractère non autorisé" in response.get_data(as_text=True)
