"""Test fixtures: geo (see conftest).

- `gazetteer` (session, autouse): every test sees the real communes, loaded and committed once before the
  per-test transactions; from ../shared/data/communes.csv.xz when present (full coordinates), else the
  project's own var/gazetteer.csv (`make gazetteer`). Tests that empty the tables for real
  (`committed_db`) get them back before the next test.
- `ban_server`: a local HTTP server replaying the recorded BAN answers of tests/data/ban/ (matched on the
  query); the app's BANFrance geocoder points at it for the test. `mode` switches it to failing (500) or
  slow (longer than the geocoder's timeout); `requests` counts the calls. `nominatim_server`: the same
  server as the app's Nominatim, answering what the test puts in `places`.
- `bare_site(edition, owner, **fields)`: a site row as an old version or a failed geocoder left it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.geography import import_gazetteer, read_gazetteer
from core.geography.groups import seed_default_groups
from core.geography.models import Commune, RegionalGroup
from core.geography.names import fold

ROOT = Path(__file__).resolve().parents[2]
SHARED_COMMUNES = ROOT.parent / "shared" / "data" / "communes.csv.xz"
BUILT_GAZETTEER = ROOT / "var" / "gazetteer.csv"
BAN_RECORDINGS = ROOT / "tests" / "data" / "ban"
EXPECTED_COMMUNES = 34_969


def gazetteer_file() -> Path | None:
    for path in (SHARED_COMMUNES, BUILT_GAZETTEER):
        if path.exists() and path.stat().st_size > 1000:
            return path
    return None


def _ensure_reference_data(app) -> None:  # noqa: ANN001
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(Commune)) < EXPECTED_COMMUNES:
            path = gazetteer_file()
            if path is not None:
                import_gazetteer(read_gazetteer(path))
        if db.session.scalar(select(func.count()).select_from(RegionalGroup)) == 0:
            seed_default_groups()
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="session", autouse=True)
def gazetteer(app) -> Path | None:  # noqa: ANN001
    """The gazetteer file loaded into the test database (None when neither source exists)."""
    _ensure_reference_data(app)
    return gazetteer_file()


@pytest.fixture(autouse=True)
def _reference_data_present(request: pytest.FixtureRequest, app, gazetteer) -> None:  # noqa: ANN001
    """After a test that committed and emptied every table, load the reference data again."""
    if "committed_db" in request.fixturenames:
        request.addfinalizer(lambda: _ensure_reference_data(app))


def bare_site(edition, owner, **kw):
    """A site row as an older version or a failed geocoder left it (not through the registration service)."""
    from jou.models import Site
    from tests.factories import siret

    values = dict(
        edition_id=edition.id, owner_id=owner.id, company_name="Usine", siret=siret(), name="Site",
        sector="metallurgy", street="2 Place du Capitole", postcode="31000", city="Toulouse",
        contact_name="A", contact_email="a@example.org", contact_phone="+33102030405",
    )  # fmt: skip
    values.update(kw)
    site = Site(**values)
    db.session.add(site)
    db.session.flush()
    return site


# --------------------------------------------------------------------------------------- BAN stub


@dataclass
class BanStub:
    port: int
    mode: str = "replay"  # replay | error | slow
    delay: float = 1.5
    requests: list[str] = field(default_factory=list)
    recordings: dict[str, dict] = field(default_factory=dict)
    # Nominatim answers (folded query → list of places), for the `nominatim_server` fixture.
    places: dict[str, list] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"


def _load_recordings() -> dict[str, dict]:
    recordings = {}
    for path in sorted(BAN_RECORDINGS.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        recordings[fold(body["query"])] = body
    return recordings


def _handler(stub: BanStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's hook
            url = urlsplit(self.path)
            query = parse_qs(url.query).get("q", [""])[0]
            stub.requests.append(query)
            if stub.mode == "slow":
                time.sleep(stub.delay)
            if stub.mode == "error":
                self._send(500, {"code": 500, "message": "Internal server error"})
                return
            if "format" in parse_qs(url.query):  # Nominatim asks for format=json
                self._send(200, stub.places.get(fold(query), []))
                return
            empty = {"type": "FeatureCollection", "version": "draft", "features": [], "query": query}
            self._send(200, stub.recordings.get(fold(query), empty))

        def _send(self, status: int, body: dict | list) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - keep test output quiet
            pass

    return Handler


@contextmanager
def _stub_server(app, monkeypatch, settings: Callable[[BanStub], dict]) -> Iterator[BanStub]:  # noqa: ANN001
    stub = BanStub(port=0, recordings=_load_recordings())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    for key, value in settings(stub).items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def ban_server(app, monkeypatch) -> Iterator[BanStub]:  # noqa: ANN001
    settings = {"GEOCODER": "ban", "GEOCODER_SCHEME": "http", "GEOCODER_TIMEOUT": 0.5}
    with _stub_server(
        app, monkeypatch, lambda stub: {**settings, "GEOCODER_BAN_DOMAIN": stub.domain}
    ) as stub:
        yield stub


@pytest.fixture
def nominatim_server(app, monkeypatch) -> Iterator[BanStub]:  # noqa: ANN001
    settings = {"GEOCODER": "nominatim", "GEOCODER_SCHEME": "http", "GEOCODER_TIMEOUT": 0.5}
    with _stub_server(
        app, monkeypatch, lambda stub: {**settings, "GEOCODER_NOMINATIM_DOMAIN": stub.domain}
    ) as stub:
        yield stub
