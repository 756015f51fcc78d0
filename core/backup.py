"""Online backups of the database, taken while the app keeps serving.

SQLite: the sqlite3 backup API copies the whole file in one step, that is inside one read transaction,
so the copy is one consistent snapshot; in WAL mode readers do not block writers, so the app keeps
writing meanwhile. The copy is checked (`PRAGMA integrity_check`), switched out of WAL mode so it is a
single self-contained file, and renamed into place only when complete.
PostgreSQL: `pg_dump --format=custom` (restore with `pg_restore`), when pg_dump is on the PATH.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL

from core.config import PROJECT_ROOT

DEFAULT_DIR = PROJECT_ROOT / "var" / "backups"


class BackupError(Exception):
    pass


@dataclass
class BackupReport:
    path: Path
    size: int
    seconds: float
    detail: str

    def summary(self) -> str:
        size = f"{self.size / 1_000_000:.1f}".replace(".", ",")
        seconds = f"{self.seconds:.1f}".replace(".", ",")
        return f"Sauvegarde écrite : {self.path} ({size} Mo, {self.detail}) en {seconds} s."


def target_path(url: URL, output: Path | None, now: datetime | None = None) -> Path:
    """OUTPUT as given, or <name>-<timestamp>.<ext> in OUTPUT (a directory) or in var/backups/."""
    if output is not None and not output.is_dir():
        return output
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    if url.get_backend_name() == "sqlite":
        name = f"{Path(url.database or 'db').stem}-{stamp}.sqlite3"
    else:
        name = f"{url.database}-{stamp}.dump"
    return (output or DEFAULT_DIR) / name


def backup(url: URL, output: Path | None = None) -> BackupReport:
    dest = target_path(url, output)
    dest.parent.mkdir(parents=True, exist_ok=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("Base SQLite en mémoire : rien à sauvegarder.")
        return backup_sqlite(Path(url.database), dest)
    if backend == "postgresql":
        return backup_postgresql(url, dest)
    raise BackupError(f"Sauvegarde non prise en charge pour {backend}.")


def backup_sqlite(source: Path, dest: Path) -> BackupReport:
    if not source.is_file():
        raise BackupError(f"Base SQLite introuvable : {source}")
    started = time.monotonic()
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(partial)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        src.backup(dst)  # pages=-1: one step, one snapshot
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"La copie n'est pas intègre : {check}")
    partial.replace(dest)
    return BackupReport(dest, dest.stat().st_size, time.monotonic() - started, f"{pages} pages, intégrité ok")


def backup_postgresql(url: URL, dest: Path) -> BackupReport:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump est introuvable (paquet postgresql-client). Sauvegardez avec "
            "`pg_dump --format=custom --file=FICHIER BASE` : voir README, « Backup and restore »."
        )
    started = time.monotonic()
    partial = dest.with_name(dest.name + ".partial")
    # libpq's URL without the driver name; the password goes through the environment, not argv (ps).
    libpq_url = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    result = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={libpq_url}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump a échoué ({result.returncode}) : {result.stderr.strip()}")
    partial.replace(dest)
    return BackupReport(dest, dest.stat().st_size, time.monotonic() - started, "pg_dump, format custom")
