"""Test app, database and isolation.

The schema is built by the Alembic migrations (a missing migration fails the tests). Each test runs in
an outer transaction that is rolled back; the app's session joins it through SAVEPOINTs
(../shared/RECIPES.md, "Test isolation"). `committed_db` gives real commits for concurrency tests.

DATABASE_URL selects the database: SQLite in a temporary file by default, PostgreSQL in CI's second run.
`other_app` builds more apps on that database with some settings changed (rate limits, proxies, CSRF).

Fixtures of a domain live in tests/plugins/ (registered below), helpers shared by test modules there too
or in tests/factories.py: a test module never imports another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import MetaData, create_engine, inspect, text

from core import create_app
from core.extensions import db

os.environ.setdefault("APP_ENV", "testing")
pytest_plugins = [
    "tests.plugins.geo",
    "tests.plugins.mail",
    "tests.plugins.browser",
    "tests.plugins.demo",
    "tests.plugins.access",
]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return (
            url.replace("postgresql://", "postgresql+psycopg://", 1)
            if url.startswith("postgresql://")
            else url
        )
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _drop_everything(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            meta = MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
            if inspect(conn).has_table("alembic_version"):
                conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory):
    url = _database_url(tmp_path_factory)
    _drop_everything(url)
    outbox = tmp_path_factory.mktemp("outbox")
    app = create_app(
        {
            "TESTING": True,
            "APP_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "MAIL_SERVER": "",
            "MAIL_OUTBOX_DIR": str(outbox),
            "GEOCODER": "offline",
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def other_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Builds other apps on the test database with some settings changed; closes their engines after."""
    made: list[Flask] = []

    def build(**overrides) -> Flask:
        new = create_app({**app.config, **overrides})
        made.append(new)
        return new

    yield build
    for new in made:
        with new.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 at its real cost (~0.5 s a hash here) would dominate the suite; the hashing
    library is not what the tests are about."""
    from argon2 import PasswordHasher

    class CheapHasher(PasswordHasher):
        def check_needs_rehash(self, hash: str) -> bool:  # keep hashes made at full cost as they are
            return False

    monkeypatch.setattr("core.auth.services._hasher", CheapHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def db_session(app, monkeypatch):
    """The app's session inside a transaction rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        monkeypatch.setitem(db.engines, None, connection)
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session.configure(join_transaction_mode="conditional_savepoint")
            outer.rollback()
            connection.close()


class CommittingClient(FlaskClient):
    """What a test wrote before a request is committed first (into the test's outer transaction, rolled
    back at the end), as it would be in production: the request's unit of work, which rolls back on a
    refusal, then undoes only its own work, never the test's set-up."""

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db_session):
    return CommittingClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def sqlite_file(app) -> Path:
    """The suite's SQLite database file; the test is skipped on PostgreSQL."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        return Path(db.engine.url.database)


@pytest.fixture
def committed_db(app):
    """Real commits (for concurrency tests); every table is emptied afterwards."""
    with app.app_context():
        yield db.session
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def use_admission(app):
    """Replaces this process's admission control (core/admission.py) for one test:
    `use_admission(in_flight=1, waiting=0, …)` returns the Admission now in force; the app's own comes back
    at the end of the test."""
    from core.admission import Admission

    saved = app.extensions["admission"]

    def use(in_flight: int, waiting: int = 0, wait_seconds: float = 0, retry_after: int = 1) -> Admission:
        app.extensions["admission"] = Admission(in_flight, waiting, wait_seconds, retry_after)
        return app.extensions["admission"]

    yield use
    app.extensions["admission"] = saved


@pytest.fixture
def without_admission(use_admission):
    """Admission control off, for tests of the guards behind it under more concurrent requests than it
    lets in at once (tests/test_admission.py tests the control itself)."""
    use_admission(in_flight=0)
