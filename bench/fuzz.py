"""Fuzz every operation and every page through gunicorn on PostgreSQL: no input may get a 5xx, and every
answer of the API must be what /api/v1/openapi.json documents.

    .venv/bin/python bench/fuzz.py                      # 50,000 generated cases + the hostile ones
    .venv/bin/python bench/fuzz.py --cases 2000         # a quick look (a few minutes)

One run: a fresh PostgreSQL database (`fuzz`, dropped and created again; never `test`) migrated with
`flask db upgrade` and loaded with the demo (`flask fixtures load`); gunicorn on 127.0.0.1 with the
production settings, except that rate limits and the sign-in lockout are off (every request comes from
127.0.0.1) and mail is only queued; bearer tokens for the demo admin, factory, volunteer and organiser.
Then, each identity (those four and no token) in turn:

1. generated: schemathesis draws cases from the live document, valid and invalid (positive and negative
   modes), for every operation; path parameters name real objects of the demo half of the time. Rounds
   go on until --cases cases were sent. Each answer is checked: not a 5xx, a documented status, content
   type and body (schemathesis' conformance checks), and every 4xx in our error format.
2. hostile: for every operation, each parameter and each property of the JSON body in turn set to a NUL
   byte, a lone surrogate, a CR/LF, 400 digits, '²'; a body 1,000 levels deep, one that is not UTF-8, one
   number of 5,000 digits, one past MAX_CONTENT_LENGTH; for every page (GET, as each role through a
   signed-in session), each query parameter its module reads set to the same values, and forms of NUL.

Traffic goes to the local gunicorn only; the run stops by itself (after --cases, or --max-minutes).
Figures go to stdout and --output (bench/results-fuzz.json); the exit status is 1 on any 5xx.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-fuzz-not-a-secret"
DEMO_PASSWORD = "demo-password-2025"
ROLES = {
    "admin": "admin@demo.soce.fr",
    "factory": "usine@demo.soce.fr",
    "volunteer": "intervenant@demo.soce.fr",
    "organiser": "organisateur@demo.soce.fr",
}
IDENTITIES = ("anonymous", *ROLES)
# Answers any operation may give, documented once as the `default` error (ErrorSchema).
GENERIC = {400, 401, 403, 404, 405, 413}
FULLY_HANDLED_CODES = frozenset(range(200, 500))

# ---- hostile values --------------------------------------------------------------------------------------

NUL = "a\x00b"
SURROGATE = "N\ud800"
LINE_BREAK = "a\r\nBcc: x@example.org"
DIGITS_400 = "9" * 400
SUPERSCRIPT = "²"
TEXT_VALUES = {
    "nul": NUL,
    "surrogate": SURROGATE,
    "crlf": LINE_BREAK,
    "digits400": DIGITS_400,
    "sup2": SUPERSCRIPT,
}
# In a URL a lone surrogate cannot be written as text: its UTF-8 bytes are invalid, which werkzeug replaces.
URL_VALUES = {"nul": NUL, "surrogate_bytes": "%ED%A0%80", "digits400": DIGITS_400, "sup2": SUPERSCRIPT,
              "negative": "-1"}  # fmt: skip
REFUSED_EVERYWHERE = {"nul", "surrogate"}  # whatever the field, never accepted (2xx)


@dataclass
class HostileCase:
    label: str
    method: str
    path: str
    query: str = ""
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None


def _resolve(spec: dict, schema: dict | None) -> dict:
    while schema and "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema or {}


def _encode(value: str) -> str:
    return value if value.startswith("%") else urllib.parse.quote(value, safe="")


def _query(params: dict[str, str]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params.items())


def operations(spec: dict):  # noqa: ANN201 - (method, path template, parameters, body schema)
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            parameters = [*item.get("parameters", []), *op.get("parameters", [])]
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            yield method.upper(), template, parameters, _resolve(spec, content.get("schema"))


def hostile_api_cases(spec: dict, path_ids: dict, max_content_length: int) -> list[HostileCase]:
    """For every operation: each parameter, then each body property, set to each hostile value; then the
    bodies no parser should choke on."""
    cases: list[HostileCase] = []
    for method, template, parameters, body_schema in operations(spec):
        path_params = {p["name"]: str(path_ids.get(p["name"], 1)) for p in parameters if p["in"] == "path"}

        def path(overrides: dict | None = None, template: str = template, base: dict = path_params) -> str:
            values = {**base, **(overrides or {})}
            return re.sub(r"{(\w+)}", lambda m: _encode(values[m.group(1)]), template)

        for p in parameters:
            where, name = p["in"], p["name"]
            for label, value in URL_VALUES.items():
                tag = f"{method} {template} {where}:{name}={label}"
                if where == "path":
                    cases.append(HostileCase(tag, method, path({name: value})))
                elif where == "query":
                    cases.append(HostileCase(tag, method, path(), _query({name: value})))
                elif where == "header" and label in {"nul", "digits400", "sup2"}:
                    cases.append(HostileCase(tag, method, path(), headers={name: value}))
        if method in {"GET", "HEAD", "DELETE"} and not body_schema:
            continue
        properties = _body_properties(spec, body_schema)
        for name, prop in properties.items():
            for label, value in _values_for(prop).items():
                body = (
                    json.dumps({name: value}).encode()
                    if label != "int400"
                    else f'{{"{name}": {value}}}'.encode()
                )
                cases.append(HostileCase(f"{method} {template} body:{name}={label}", method, path(), body=body,
                                         content_type="application/json"))  # fmt: skip
        for label, body in _hostile_bodies(properties, max_content_length).items():
            cases.append(HostileCase(f"{method} {template} body={label}", method, path(), body=body,
                                     content_type="application/json"))  # fmt: skip
    return cases


def _body_properties(spec: dict, schema: dict) -> dict:
    """Top-level properties, and those of objects inside arrays as `name[0].inner` (a site's slots)."""
    out = {}
    for name, prop in _resolve(spec, schema).get("properties", {}).items():
        prop = _resolve(spec, prop)
        out[name] = prop
        items = _resolve(spec, prop.get("items")) if prop.get("type") == "array" else {}
        for inner, inner_prop in items.get("properties", {}).items():
            out[f"{name}[0].{inner}"] = _resolve(spec, inner_prop)
    return out


def _values_for(prop: dict) -> dict:
    if prop.get("type") in {"integer", "number"}:
        return {"int400": DIGITS_400, "int63": 2**63, "sup2": SUPERSCRIPT, "nul": NUL}
    return TEXT_VALUES


def _hostile_bodies(properties: dict, max_content_length: int) -> dict[str, bytes]:
    first = next(iter(properties), "x").split("[")[0]
    return {
        "deep1000": b"[" * 1000 + b"]" * 1000,
        "deep_object": (b'{"a":' * 1000) + b"1" + b"}" * 1000,
        "not_utf8": f'{{"{first}": "'.encode() + b"\xed\xa0\x80\xff" + b'"}',
        "int5000": f'{{"{first}": {"9" * 5000}}}'.encode(),
        "nul_key": json.dumps({"\x00": 1, first: "x"}).encode(),
        "array_root": b"[1, 2, 3]",
        "too_large": b" " * (max_content_length + 1),
    }


# ---- pages ------------------------------------------------------------------------------------------------

_ARG_READS = re.compile(
    r"""(?:args|form)\.get(?:list)?\(\s*["']([A-Za-z_]\w*)["']|query_int\(\s*["'](\w+)["']"""
)


def page_routes(app, path_ids: dict) -> list[dict]:  # noqa: ANN001 - a Flask app
    """Every page rule (not the API, not static files) with its arguments filled in, and the query
    parameters its module reads."""
    import inspect

    from stats.dashboard import DashboardQuery

    schema_names = {f.data_key or n for n, f in DashboardQuery().fields.items()}
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static")) or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        module = sys.modules.get(inspect.unwrap(view).__module__)
        source = inspect.getsource(module) if module else ""
        names = {a or b for a, b in _ARG_READS.findall(source)}
        if rule.endpoint.startswith("stats."):
            names |= schema_names
        values = {arg: path_ids.get(arg, 1) for arg in rule.arguments}
        try:
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **values)
        except Exception:  # noqa: BLE001 - a rule whose arguments are not ids (a token, a code): made up
            url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(path_ids.get(m.group(1), "x")), rule.rule)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        routes.append({"endpoint": rule.endpoint, "url": url, "methods": methods, "params": sorted(names)})
    return routes


def hostile_page_cases(routes: list[dict]) -> list[HostileCase]:
    cases = []
    for route in routes:
        if "GET" not in route["methods"]:
            continue
        for label, value in URL_VALUES.items():
            every = {name: value for name in route["params"]}
            cases.append(
                HostileCase(f"GET {route['endpoint']} all={label}", "GET", route["url"], _query(every))
            )
            for name in route["params"]:
                cases.append(HostileCase(f"GET {route['endpoint']} {name}={label}", "GET", route["url"],
                                         _query({name: value})))  # fmt: skip
    return cases


def hostile_form_cases(routes: list[dict]) -> list[HostileCase]:
    """A NUL in every field a page module reads, posted to every form (after the other cases: a form may
    sign out, or change what later pages show)."""
    cases = []
    for route in routes:
        if "POST" not in route["methods"] or "logout" in route["endpoint"] or "deconnexion" in route["url"]:
            continue
        names = [*route["params"], "name", "email", "subject", "body", "message", "q"]
        form = {name: NUL for name in names}
        cases.append(HostileCase(f"POST {route['endpoint']} form=nul", "POST", route["url"],
                                 body=urllib.parse.urlencode(form).encode(),
                                 content_type="application/x-www-form-urlencoded"))  # fmt: skip
    return cases


# ---- the run ----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    calls: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    undocumented: set = field(default_factory=set)
    accepted_nul: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    # gunicorn's own answers, before the app: 414 past its 4,094-byte request line, 400 for a NUL in a header
    refused_by_server: int = 0
    valid_refused_by_server: list[str] = field(default_factory=list)  # positive cases among them

    def add(self, status: int) -> None:
        self.calls += 1
        self.statuses[status] += 1

    def merge(self, other: dict) -> None:
        self.calls += other["calls"]
        self.statuses.update({int(k): v for k, v in other["statuses"].items()})
        self.refused_by_server += other["refused_by_server"]
        for name in (
            "server_errors",
            "violations",
            "accepted_nul",
            "transport_errors",
            "valid_refused_by_server",
        ):
            getattr(self, name).extend(other[name])
        self.undocumented |= {tuple(u) for u in other["undocumented"]}

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "statuses": dict(sorted(self.statuses.items())),
            "server_errors": self.server_errors,
            "violations": self.violations,
            "undocumented": sorted(self.undocumented),
            "accepted_nul": self.accepted_nul,
            "transport_errors": self.transport_errors,
            "refused_by_server": self.refused_by_server,
            "valid_refused_by_server": self.valid_refused_by_server,
        }


def answered_by_gunicorn(status: int, headers) -> bool:  # noqa: ANN001 - any mapping of headers
    """gunicorn refuses some requests itself (request line too long, a NUL in a header): the app, which adds
    a Content-Security-Policy to every answer, never saw them."""
    return status in {400, 414} and "content-security-policy" not in {k.lower() for k in headers}


def error_format_problem(status: int, content_type: str, body: bytes) -> str | None:
    """Every 4xx of the API is {"error": {"code", "message", "fields"?}}; None when it is."""
    if not 400 <= status < 500:
        return None
    if not content_type.startswith("application/json"):
        return f"{status} answered as {content_type or 'nothing'}"
    try:
        answer = json.loads(body)
        assert isinstance(answer, dict) and set(answer) == {"error"}
        error = answer["error"]
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]
        assert set(error) <= {"code", "message", "fields"}
        fields = error.get("fields", {})
        assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in fields.values())
    except (ValueError, KeyError, TypeError, AttributeError, AssertionError):
        return f"{status} not in the error format: {body[:200]!r}"
    return None


def _summary(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {' | '.join(lines[:4])}"[:400]


def run_generated(task: dict) -> dict:
    """One identity: every operation, positive then negative, max_examples each; in its own process."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
    base, headers, deadline = task["base"], task["headers"], task["deadline"]
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    session = requests.Session()
    tally = Tally()
    ids = task["path_ids"]
    state = {}
    for operation in (result.ok() for result in schema.get_all_operations()):
        real = {p.name: ids[p.name] for p in operation.path_parameters if p.name in ids}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            state["mode"] = mode
            if time.time() > deadline:
                return tally.as_dict()
            strategy = operation.as_strategy(generation_mode=mode)
            if real:
                strategy = st.one_of(
                    operation.as_strategy(generation_mode=mode, path_parameters=real), strategy
                )

            @given(case=strategy)
            @seed(task["seed"])
            @settings(max_examples=task["examples"], deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
            def run(case) -> None:  # noqa: ANN001
                try:
                    response = case.call(base_url=base, session=session, headers=headers, timeout=60,
                                         allow_redirects=False)  # fmt: skip
                except requests.RequestException as exc:
                    tally.transport_errors.append(f"{case.method} {case.path}: {_summary(exc)}")
                    return
                status = response.status_code
                tally.add(status)
                where = f"{case.method} {case.operation.path}"
                if status >= 500:
                    tally.server_errors.append(f"{where} → {status}\n  {case.as_curl_command(headers)}")
                    return
                if answered_by_gunicorn(status, response.headers):
                    tally.refused_by_server += 1
                    if state["mode"] is GenerationMode.POSITIVE:
                        tally.valid_refused_by_server.append(f"{where} → {status}")
                    return
                documented = set(case.operation.definition.raw.get("responses", {})) - {"default"}
                if str(status) not in documented and status not in GENERIC:
                    tally.undocumented.add((case.method, case.operation.path, status))
                try:
                    case.validate_response(response, checks=checks, headers=headers)
                except BaseException as exc:  # noqa: BLE001 - schemathesis' Failure and FailureGroup
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    tally.violations.append(f"{where} {status}: {_summary(exc)}")
                content_type = (response.headers.get("content-type") or [""])[0]  # schemathesis: lists
                problem = error_format_problem(status, content_type, response.content)
                if problem:
                    tally.violations.append(f"{where}: {problem}")

            with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: positive cases covered it
                run()
    return tally.as_dict()


def send(session, base: str, case: HostileCase, headers: dict):  # noqa: ANN001, ANN201 - requests objects
    url = f"{base}{case.path}" + (f"?{case.query}" if case.query else "")
    all_headers = {**headers, **case.headers}
    if case.content_type:
        all_headers["Content-Type"] = case.content_type
    return session.request(case.method, url, data=case.body, headers=all_headers, timeout=60,
                           allow_redirects=False)  # fmt: skip


def run_hostile(base: str, cases: list[HostileCase], identity: str, session, headers: dict, tally: Tally,
                deadline: float, *, api: bool) -> None:  # fmt: skip
    import requests

    for case in cases:
        if time.time() > deadline:
            return
        try:
            response = send(session, base, case, headers)
        except requests.RequestException as exc:
            tally.transport_errors.append(f"{identity} {case.label}: {_summary(exc)}")
            continue
        status = response.status_code
        tally.add(status)
        if status >= 500:
            tally.server_errors.append(f"{identity} {case.label} → {status}")
            continue
        content_type = response.headers.get("content-type", "")
        if answered_by_gunicorn(status, response.headers):
            tally.refused_by_server += 1
            continue
        label = case.label.rsplit("=", 1)[-1]
        if 200 <= status < 300 and label in REFUSED_EVERYWHERE and case.method != "GET":
            tally.accepted_nul.append(f"{identity} {case.label} → {status}")
        if api:
            problem = error_format_problem(status, content_type, response.content)
            if problem:
                tally.violations.append(f"{identity} {case.label}: {problem}")


# ---- set-up -------------------------------------------------------------------------------------------------


def app_env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "MAIL_DELIVERY": "worker",
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        "RATELIMIT_ENABLED": "0",
        "LOGIN_LOCKOUT_ATTEMPTS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "GEOCODER": "offline",
    }


def flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                   env={**env, "APP_ENV": "development"}, check=True, capture_output=True, text=True)  # fmt: skip


def demo_objects(env: dict[str, str]):  # noqa: ANN201 - (app, path ids)
    """Ids of real objects of the demo, for path parameters (and booking manage tokens)."""
    os.environ.update({k: env[k] for k in ("APP_ENV", "SECRET_KEY", "DATABASE_URL")})
    from sqlalchemy import select

    from core import create_app
    from core.extensions import db
    from core.schools import School
    from jou.bookings import tokens
    from jou.bookings.models import Booking
    from jou.models import Site, Slot
    from pmi.models import Intervention
    from pmi.transports.models import TransportStop as Stop

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    with app.app_context():
        stop = db.session.scalars(select(Stop).order_by(Stop.id)).first()
        booking = db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()
        ids = {
            "site_id": db.session.scalar(select(Site.id).where(Site.status == "approved").order_by(Site.id)),
            "slot_id": db.session.scalar(select(Slot.id).order_by(Slot.id)),
            "intervention_id": db.session.scalar(select(Intervention.id).order_by(Intervention.id)),
            "uai": db.session.scalar(select(School.uai).order_by(School.uai)),
            "transport_id": stop.transport_id if stop else 1,
            "stop_id": stop.id if stop else 1,
            "token": tokens.manage_token(booking) if booking else "x",
        }
        db.engine.dispose()
    return app, {k: v for k, v in ids.items() if v is not None}


def bearer(base: str, email: str) -> dict:
    import requests

    response = requests.post(f"{base}/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD},
                             timeout=30)  # fmt: skip
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def page_session(base: str, email: str | None):  # noqa: ANN201 - (requests.Session, CSRF token)
    import requests

    session = requests.Session()
    form = session.get(f"{base}/connexion", timeout=30).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    csrf = match.group(1) if match else ""
    if email:
        response = session.post(f"{base}/connexion", data={"email": email, "password": DEMO_PASSWORD,
                                "csrf_token": csrf}, allow_redirects=False, timeout=30)  # fmt: skip
        if response.status_code != 302:
            raise RuntimeError(f"sign-in of {email} refused: {response.status_code}")
    return session, csrf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50_000, help="generated cases at least (default 50,000)")
    parser.add_argument("--pg-database", default="fuzz", help="dropped and created again (never `test`)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--jobs", type=int, default=2, help="processes drawing the generated cases")
    parser.add_argument("--max-minutes", type=float, default=180, help="stop generating after this long")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results-fuzz.json")
    args = parser.parse_args()

    import multiprocessing

    import requests
    from bench_rush import Gunicorn, fresh_database  # bench/ is the script's directory

    started = time.time()
    deadline = started + args.max_minutes * 60
    workdir = Path(tempfile.mkdtemp(prefix="soce-fuzz-"))
    if args.pg_database in {"test", "postgres"}:
        raise SystemExit(f"refusing to drop the database {args.pg_database!r}")
    url = fresh_database("postgresql", args.pg_database, workdir)
    env = app_env(url, workdir)
    print(f"database {args.pg_database}: migrating and loading the demo…", flush=True)
    flask(env, "db", "upgrade")
    flask(env, "fixtures", "load")
    app, path_ids = demo_objects(env)
    log = workdir / "gunicorn.log"
    server = Gunicorn(env, args.workers, "sync", 1, log)
    report: dict = {"database": "postgresql", "gunicorn_workers": args.workers, "path_ids": {
        k: v for k, v in path_ids.items() if k != "token"}}  # fmt: skip
    try:
        base = server.base
        spec = requests.get(f"{base}/api/v1/openapi.json", timeout=30).json()
        n_operations = sum(1 for _ in operations(spec))
        identities = {"anonymous": {}, **{role: bearer(base, email) for role, email in ROLES.items()}}
        print(f"gunicorn {base}, {n_operations} operations, identities: {', '.join(identities)}", flush=True)

        # 1. generated, in rounds (another seed each) until --cases were sent
        generated = Tally()
        runs_per_round = n_operations * 2 * len(identities)
        examples = max(1, math.ceil(args.cases / runs_per_round))
        rounds, examples_per_round = 0, []
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            while generated.calls < args.cases and time.time() < deadline:
                tasks = [{"base": base, "headers": headers, "path_ids": path_ids, "examples": examples,
                          "seed": rounds * 1000 + i, "deadline": deadline}
                         for i, headers in enumerate(identities.values())]  # fmt: skip
                before = generated.calls
                examples_per_round.append(examples)
                for result in pool.imap_unordered(run_generated, tasks):
                    generated.merge(result)
                    print(
                        f"    {generated.calls} generated cases ({time.time() - started:.0f} s)", flush=True
                    )
                rounds += 1
                # Operations with few possible inputs run out early: size the next round on this one's yield.
                per_example = max(generated.calls - before, 1) / (examples * runs_per_round)
                examples = max(1, math.ceil((args.cases - generated.calls) / (runs_per_round * per_example)))
                print(f"  round {rounds}: {generated.calls} generated cases, "
                      f"{len(generated.server_errors)} 5xx, {len(generated.violations)} violations "
                      f"({time.time() - started:.0f} s)", flush=True)  # fmt: skip
        generated_seconds = time.time() - started

        # 2. hostile: every operation as each identity, then every page as each role
        hostile = Tally()
        limit = app.config.get("MAX_CONTENT_LENGTH") or 4 * 1024 * 1024
        api_cases = hostile_api_cases(spec, path_ids, limit)
        routes = page_routes(app, path_ids)
        page_cases = hostile_page_cases(routes)
        form_cases = hostile_form_cases(routes)
        session = requests.Session()
        for identity, headers in identities.items():
            run_hostile(base, api_cases, identity, session, headers, hostile, deadline + 3600, api=True)
        for identity in IDENTITIES:
            pages, csrf = page_session(base, ROLES.get(identity))
            run_hostile(base, page_cases, identity, pages, {}, hostile, deadline + 3600, api=False)
            with_token = [HostileCase(c.label, c.method, c.path, body=c.body + f"&csrf_token={csrf}".encode(),
                                      content_type=c.content_type) for c in form_cases]  # fmt: skip
            run_hostile(base, with_token, identity, pages, {}, hostile, deadline + 3600, api=False)
        print(f"  hostile: {hostile.calls} cases, {len(hostile.server_errors)} 5xx", flush=True)
    finally:
        server.stop()
    duration = time.time() - started
    report.update({
        "cases": {"generated": generated.calls, "hostile": hostile.calls, "total": generated.calls + hostile.calls},
        "operations": n_operations,
        "page_routes": len(routes),
        "identities": list(identities),
        "rounds": rounds,
        "examples_per_round": examples_per_round,  # max_examples of each (operation, mode, identity)
        "server_errors": len(generated.server_errors) + len(hostile.server_errors),
        "refused_by_gunicorn": generated.refused_by_server + hostile.refused_by_server,
        "valid_refused_by_gunicorn": generated.valid_refused_by_server,
        "schema_violations": len(generated.violations) + len(hostile.violations),
        "undocumented_statuses": sorted(generated.undocumented),
        "accepted_nul": len(hostile.accepted_nul),
        "transport_errors": len(generated.transport_errors) + len(hostile.transport_errors),
        "duration_s": round(duration),
        "generated_duration_s": round(generated_seconds),
        "generated": generated.as_dict(),
        "hostile": hostile.as_dict(),
    })  # fmt: skip
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print(summary(report))
    sys.exit(1 if report["server_errors"] else 0)


def summary(report: dict) -> str:
    cases = report["cases"]
    lines = [
        f"cases: {cases['total']:,} ({cases['generated']:,} generated, {cases['hostile']:,} hostile)",
        f"operations: {report['operations']}, page routes: {report['page_routes']}, "
        f"identities: {', '.join(report['identities'])}",
        f"5xx: {report['server_errors']}",
        f"schema violations: {report['schema_violations']}, undocumented statuses: "
        f"{len(report['undocumented_statuses'])}, NUL accepted: {report['accepted_nul']}, "
        f"transport errors: {report['transport_errors']}",
        f"refused by gunicorn before the app (414 request line > 4,094 bytes, 400 NUL in a header): "
        f"{report['refused_by_gunicorn']}, of which valid by the document: "
        f"{len(report['valid_refused_by_gunicorn'])}",
        f"duration: {report['duration_s']} s (generated {report['generated_duration_s']} s)",
    ]
    for kind in ("generated", "hostile"):
        for line in dict.fromkeys(p.split("\n")[0] for p in report[kind]["server_errors"]):
            lines.append(f"  5xx {kind}: {line}")
        for line in list(dict.fromkeys(report[kind]["violations"]))[:30]:
            lines.append(f"  violation {kind}: {line}")
    for line in sorted(set(report["valid_refused_by_gunicorn"])):
        lines.append(f"  valid but refused by gunicorn: {line}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
