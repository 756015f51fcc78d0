"""`flask --app wsgi db upgrade` builds the schema from nothing, and back down, on the suite's database kind."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.dialects import postgresql
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


def booking_indexes(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        return {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("bookings")}
    finally:
        engine.dispose()


def test_0014_finds_bookings_by_email_and_status_and_goes_back(empty_database):
    assert flask_db(empty_database, "upgrade").returncode == 0
    indexes = booking_indexes(empty_database)
    assert indexes["ix_bookings_email_status"] == ["email", "status"]
    assert "ix_bookings_email" not in indexes
    result = flask_db(empty_database, "downgrade", "0013")
    assert result.returncode == 0, result.stderr
    indexes = booking_indexes(empty_database)
    assert indexes["ix_bookings_email"] == ["email"]
    assert "ix_bookings_email_status" not in indexes


# The rush's shape (bench/bench_rush.py): one edition, one site, 15 slots, 60,000 bookings each with its own
# address, 60 % on the hot slot. Never analysed, autovacuum off: the planner has default estimates only.
RUSH_BOOKINGS = """
ALTER TABLE bookings SET (autovacuum_enabled = false);
ALTER TABLE slots SET (autovacuum_enabled = false);
ALTER TABLE sites SET (autovacuum_enabled = false);
INSERT INTO users (email, password_hash, role, name, is_active_account, token_version, created_at, updated_at)
VALUES ('usine@rush.example.org', 'x', 'factory', 'Usine', true, 0, now(), now());
INSERT INTO editions (year, friday, saturday, registration_opens, registration_closes, booking_opens,
                      booking_closes, created_at, updated_at)
VALUES (2027, '2027-03-19', '2027-03-20', '2026-09-01', '2027-02-19', '2027-01-15', '2027-03-20', now(), now());
INSERT INTO sites (edition_id, owner_id, status, rejection_reason, company_name, siret, name, sector, description,
                   street, postcode, city, contact_name, contact_email, contact_phone, search_text, created_at,
                   updated_at)
SELECT e.id, u.id, 'approved', '', 'Rush SA', '73282932000074', 'Usine', 'aeronautique', '', '1 rue de la Paix',
       '75002', 'Paris', 'Camille', 'usine@rush.example.org', '0102030405', 'usine', now(), now()
FROM editions e, users u;
INSERT INTO slots (site_id, day, start, "end", audience, capacity, seats_taken, protective_equipment,
                   wheelchair_accessible)
SELECT s.id, '2027-03-20', make_time(8 + i / 6, mod(i, 6) * 10, 0), make_time(9 + i / 6, mod(i, 6) * 10, 0),
       'public', 100000, 0, '', false
FROM sites s, generate_series(0, 14) AS i;
INSERT INTO bookings (slot_id, kind, status, party_size, adults, female, male, unspecified, name, email,
                      consent_at, created_at, updated_at, idempotency_key, idempotency_fingerprint)
SELECT (SELECT min(id) FROM slots) + CASE WHEN mod(n, 10) < 6 THEN 1 ELSE mod(n, 15) END, 'public',
       CASE WHEN mod(n, 50) = 0 THEN 'cancelled' ELSE 'confirmed' END, 1, 0, 0, 0, 1, 'Client',
       'rush-' || n || '@example.org', now(), now(), now(), md5('k' || n), md5('f' || n) || md5('g' || n)
FROM generate_series(1, 60000) AS n;
"""


def plan_nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in plan_nodes(child))]


@pytest.mark.postgres
def test_postgres_checks_an_address_through_its_index_before_any_analyze(empty_database):
    """The per-address rules' query (jou.bookings.services._check_email) on a fresh database: with
    default estimates only, PostgreSQL used to walk the edition's slots and read every confirmed booking
    of each (ix_bookings_slot_status: milliseconds, growing with the bookings)."""
    from jou.bookings.models import Booking, BookingStatus
    from jou.models import Site, Slot

    if not empty_database.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    assert flask_db(empty_database, "upgrade").returncode == 0
    engine = create_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(RUSH_BOOKINGS)
            assert conn.scalar(text("SELECT count(*) FROM pg_stats WHERE tablename = 'bookings'")) == 0
            edition_id = conn.scalar(text("SELECT id FROM editions"))
        query = (
            select(Slot.day, Slot.start, Slot.end)
            .join(Booking, Booking.slot_id == Slot.id)
            .join(Site, Site.id == Slot.site_id)
            .where(Booking.email == "x", Booking.status == BookingStatus.CONFIRMED, Site.edition_id == 0)
        )
        statement = query.compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
        with engine.connect() as conn:
            conn.exec_driver_sql(f"PREPARE held AS {statement}")
            # psycopg prepares a statement run 5 times on a connection: its generic plan counts as much.
            for mode in ("force_custom_plan", "force_generic_plan"):
                conn.exec_driver_sql(f"SET plan_cache_mode = {mode}")
                explained = conn.exec_driver_sql(
                    f"EXPLAIN (FORMAT JSON) EXECUTE held('rush-31337@example.org', 'confirmed', {edition_id})"
                ).scalar()
                nodes = plan_nodes(explained[0]["Plan"])
                used = [node.get("Index Name") for node in nodes if node.get("Relation Name") == "bookings"]
                assert used == ["ix_bookings_email_status"], (mode, explained)
    finally:
        engine.dispose()
