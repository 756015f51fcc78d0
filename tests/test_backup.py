"""`flask backup`: a consistent online copy of SQLite (taken while another connection writes), restored as
the README says; PostgreSQL through pg_dump's custom format."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from core.backup import DEFAULT_DIR, BackupError, backup, backup_sqlite, target_path
from core.extensions import db


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_the_copy_is_one_consistent_snapshot_while_another_connection_writes(tmp_path):
    """The writer adds one row to each of two tables per transaction: a copy taken mid-way must hold
    as many rows in both (a torn copy would not), and the writer is never blocked."""
    source = tmp_path / "live.db"
    setup = sqlite3.connect(source, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, label TEXT)")
    setup.execute("CREATE TABLE lines (id INTEGER PRIMARY KEY, order_id INTEGER, padding TEXT)")
    setup.execute("BEGIN")
    setup.executemany("INSERT INTO orders (label) VALUES (?)", [(f"o{i}",) for i in range(2000)])
    setup.executemany(
        "INSERT INTO lines (order_id, padding) VALUES (?, ?)", [(i, "x" * 500) for i in range(2000)]
    )
    setup.execute("COMMIT")
    setup.close()

    stop = threading.Event()
    written: list[int] = []
    errors: list[Exception] = []

    def writer() -> None:
        conn = sqlite3.connect(source, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit: the copy, not durability, is tested
        try:
            while not stop.is_set():
                conn.execute("BEGIN")
                order = conn.execute("INSERT INTO orders (label) VALUES ('live')").lastrowid
                conn.execute("INSERT INTO lines (order_id, padding) VALUES (?, ?)", (order, "y" * 500))
                conn.execute("COMMIT")
                written.append(order)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 10:  # the writer is under way
            stop.wait(0.01)
        copies = [backup_sqlite(source, tmp_path / f"copy-{n}.sqlite3") for n in range(3)]
        written_during = len(written)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert written_during >= 10
    for report in copies:
        counts = table_counts(report.path)
        assert counts["orders"] == counts["lines"] >= 2000
        assert integrity(report.path) == "ok"
        assert "intégrité ok" in report.summary()
        # A single file: not in WAL mode, no -wal beside it.
        with sqlite3.connect(report.path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert not report.path.with_name(report.path.name + "-wal").exists()
        assert not report.path.with_name(report.path.name + ".partial").exists()
    assert table_counts(source)["orders"] == 2000 + len(written)


def test_default_name_and_place():
    url = make_url("sqlite:////srv/soce/instance/soce.db")
    when = datetime(2026, 3, 20, 7, 30, 5)
    assert target_path(url, None, when) == DEFAULT_DIR / "soce-20260320-073005.sqlite3"
    pg = make_url("postgresql+psycopg://app@db:5432/soce")
    assert target_path(pg, Path("/tmp"), when) == Path("/tmp/soce-20260320-073005.dump")
    assert target_path(pg, Path("/tmp/x.dump"), when) == Path("/tmp/x.dump")


def test_nothing_to_copy_is_an_error(tmp_path):
    with pytest.raises(BackupError):
        backup(make_url("sqlite://"), tmp_path)
    with pytest.raises(BackupError, match="introuvable"):
        backup(make_url(f"sqlite:///{tmp_path / 'missing.db'}"), tmp_path)


def test_flask_backup_then_restore_as_the_readme_says(app, sqlite_file, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Sauvegarde écrite" in result.output and "intégrité ok" in result.output
    (copy,) = tmp_path.glob("test-*.sqlite3")

    # README, "Backup and restore": stop the app, copy the file over the database, drop -wal and -shm.
    restored = tmp_path / "instance" / "soce.db"
    restored.parent.mkdir()
    restored.with_name("soce.db-wal").write_bytes(b"stale log of the database being replaced")
    shutil.copyfile(copy, restored)
    for suffix in ("-wal", "-shm"):
        restored.with_name(restored.name + suffix).unlink(missing_ok=True)

    assert integrity(restored) == "ok"
    live = table_counts(sqlite_file)
    assert table_counts(restored) == live
    assert live["geo_communes"] > 0 and "alembic_version" in live
    # The restored file is a database the app opens.
    engine = create_engine(f"sqlite:///{restored}")
    try:
        assert "users" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_flask_backup_reports_an_error_cleanly(app, sqlite_file, tmp_path, monkeypatch):
    monkeypatch.setattr("core.backup.backup_sqlite", lambda *a: (_ for _ in ()).throw(BackupError("panne")))
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path)])
    assert result.exit_code == 1 and "panne" in result.output


def test_postgresql_backup_is_a_pg_dump_archive(app, tmp_path):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only")
    if shutil.which("pg_restore") is None or shutil.which("pg_dump") is None:
        pytest.skip("pg_dump/pg_restore not installed")
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path / "soce.dump")])
    assert result.exit_code == 0, result.output
    listing = subprocess.run(
        ["pg_restore", "--list", str(tmp_path / "soce.dump")], capture_output=True, text=True, check=True
    ).stdout
    assert "TABLE DATA public users" in listing and "TABLE DATA public geo_communes" in listing
