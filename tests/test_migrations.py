"""`flask --app wsgi db upgrade` builds the schema from nothing, and back down, on the suite's database kind."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def empty_database(app, tmp_path):
    """A brand-new empty database of the same kind as the suite's (SQLite file or PostgreSQL database)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield str(url.set(database=str(tmp_path / "fresh.db")))
        return
    name = f"soce_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def flask_db(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "testing"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_flask_db_upgrade_from_nothing_and_back(empty_database):
    result = flask_db(empty_database, "upgrade")
    assert result.returncode == 0, result.stderr
    engine = create_engine(empty_database)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"users", "editions", "sites", "slots", "alembic_version"} <= tables
        result = flask_db(empty_database, "downgrade", "base")
        assert result.returncode == 0, result.stderr
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
