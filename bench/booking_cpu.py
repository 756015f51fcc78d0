"""What one booking costs the app in CPU: N bookings of the hot slot through the WSGI app, in process.

    .venv/bin/python bench/booking_cpu.py                          # PostgreSQL then SQLite, 2,000 bookings
    .venv/bin/python bench/booking_cpu.py --database sqlite --bookings 500 --no-profile

Per database: the same fresh database, migration and seed as bench_rush.py (PostgreSQL: `h_bookcpu`, dropped
and created again; SQLite: a temporary file; APP_ENV=production, MAIL_DELIVERY=worker so a booking only
queues its mail, rate limit off), then POST /api/v1/slots/<hot>/bookings through `app.wsgi_app` — what
gunicorn calls, without HTTP — each with its own e-mail and Idempotency-Key. The WSGI environs are built
before the clock starts, so the figure is the app's CPU alone (getrusage: this process, user + system,
not the database server's): warm-up, then --repeat timed passes of --bookings each (median and
best), then one pass under cProfile (top entries by cumulative and by own time, in µs per booking), and the
SQL statements of one booking. Every answer must be a 201 and the slot's seats_taken must equal the
bookings made. The profile's clock is this process's CPU time too (waiting for the database counts for
nothing); cProfile's own overhead inflates every figure: compare them with each other, not with the passes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import bench_rush  # beside this file: a script's own folder is first on sys.path

ROOT = bench_rush.ROOT
# Where the time goes, as the issue counts it: cumulative µs per booking of these (file suffix, function).
LANDMARKS = [
    ("flask/app.py", "wsgi_app"),
    ("jou/bookings/api.py", "create_booking"),
    ("jou/bookings/services.py", "book"),
    ("jou/bookings/services.py", "bookable_slot"),
    ("jou/bookings/services.py", "booking_for_key"),
    ("jou/bookings/services.py", "_check_email"),
    ("core/locking.py", "lock_key"),
    ("jou/bookings/services.py", "_insert_booking"),
    ("jou/bookings/services.py", "_take_seats"),
    ("core/audit.py", "record"),
    ("jou/bookings/notify.py", "queue_confirmation"),
    ("sqlalchemy/orm/session.py", "flush"),
    ("sqlalchemy/orm/session.py", "commit"),
    ("jou/bookings/api.py", "booking_json"),
    ("core/inputs.py", "load_json"),
]


def environs(path: str, host: str, count: int, tag: str) -> list[dict]:
    """Ready WSGI environs (each usable once: its body is read), built outside the measured time."""
    from werkzeug.test import EnvironBuilder

    made = []
    for i in range(count):
        body = {
            "party_size": 1,
            "name": "Client Mesure",
            "email": f"{tag}-{i}-{uuid.uuid4().hex[:8]}@rush.example.org",
            "consent": True,
        }
        builder = EnvironBuilder(
            path=path,
            method="POST",
            json=body,
            base_url=host,
            headers={"Idempotency-Key": uuid.uuid4().hex},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        made.append(builder.get_environ())
        builder.close()
    return made


def run_pass(wsgi: Callable, batch: list[dict]) -> tuple[float, list[str]]:
    """CPU seconds of this process for the batch, and the statuses answered."""
    seconds, _system, statuses = timed_pass(wsgi, batch)
    return seconds, statuses


def timed_pass(wsgi: Callable, batch: list[dict]) -> tuple[float, float, list[str]]:
    """CPU seconds of this process for the batch (user + system), of which system, and the statuses."""
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> Callable:
        statuses.append(status)
        return lambda data: None

    before = resource.getrusage(resource.RUSAGE_SELF)
    for environ in batch:
        answer = wsgi(environ, start_response)
        try:
            for _chunk in answer:
                pass
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
    after = resource.getrusage(resource.RUSAGE_SELF)
    system = after.ru_stime - before.ru_stime
    return after.ru_utime - before.ru_utime + system, system, statuses


def _place(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def profile_rows(stats: pstats.Stats, key: str, top: int, per: int) -> list[dict]:
    """The top entries, µs per booking (cProfile's own overhead included: compare, don't add up)."""
    entries = stats.stats  # type: ignore[attr-defined]
    index = {"cumulative": 3, "tottime": 2}[key]
    ranked = sorted(entries.items(), key=lambda item: item[1][index], reverse=True)[:top]
    return [
        {
            "function": f"{_place(file)}:{line}({name})",
            "calls_per_booking": round(calls / per, 2),
            "own_us": round(own * 1e6 / per, 1),
            "cumulative_us": round(cumulative * 1e6 / per, 1),
        }
        for (file, line, name), (_prim, calls, own, cumulative, _callers) in ranked
    ]


def landmarks(stats: pstats.Stats, per: int) -> dict[str, float]:
    """Cumulative µs per booking of each landmark present (in the order of LANDMARKS)."""
    found: dict[str, float] = {
        f"{suffix.rsplit('/', 1)[-1][:-3]}.{function}": 0.0 for suffix, function in LANDMARKS
    }
    for (file, _line, name), (_prim, _calls, _own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for suffix, function in LANDMARKS:
            if name == function and file.endswith(suffix):
                label = f"{suffix.rsplit('/', 1)[-1][:-3]}.{function}"
                found[label] = round(found[label] + cumulative * 1e6 / per, 1)
    return {label: us for label, us in found.items() if us}


def statements_of_one(app, wsgi: Callable, batch: list[dict]) -> list[str]:  # noqa: ANN001 - a Flask app
    from sqlalchemy import event

    from core.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def on_begin(conn) -> None:  # noqa: ANN001
        seen.append("BEGIN")

    def on_commit(conn) -> None:  # noqa: ANN001
        seen.append("COMMIT")

    def on_execute(conn, cursor, statement, *rest) -> None:  # noqa: ANN001
        seen.append(" ".join(statement.split())[:110])

    listeners = [("begin", on_begin), ("commit", on_commit), ("before_cursor_execute", on_execute)]
    for name, function in listeners:
        event.listen(engine, name, function)
    try:
        _, statuses = run_pass(wsgi, batch)
    finally:
        for name, function in listeners:
            event.remove(engine, name, function)
    assert statuses == ["201 CREATED"], statuses
    return seen


def check(url: str, slot_id: int, expected: int) -> dict:
    from sqlalchemy import create_engine, func, select

    from jou.bookings.models import Booking
    from jou.models import Slot

    engine = create_engine(url)
    with engine.connect() as conn:
        taken = conn.execute(select(Slot.seats_taken).where(Slot.id == slot_id)).scalar()
        booked = conn.execute(
            select(func.count(), func.coalesce(func.sum(Booking.party_size), 0)).where(
                Booking.slot_id == slot_id
            )
        ).one()
    engine.dispose()
    return {"bookings": booked[0], "seats_taken": taken, "ok": taken == booked[1] == expected}


def run(kind: str, args: argparse.Namespace, workdir: Path) -> dict:
    url = bench_rush.fresh_database(kind, args.pg_database, workdir)
    env = bench_rush.app_env(url, workdir)
    bench_rush.migrate(env)
    slot_id = bench_rush.seed(env)["hot"][0]
    os.environ.update(env)
    from core import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    wsgi = app.wsgi_app
    path, host = f"/api/v1/slots/{slot_id}/bookings", app.config["PUBLIC_BASE_URL"]
    made = 0

    def measured(count: int, tag: str) -> tuple[float, float]:
        nonlocal made
        batch = environs(path, host, count, tag)
        seconds, system, statuses = timed_pass(wsgi, batch)
        refused = [s for s in statuses if not s.startswith("201")]
        if refused:
            raise SystemExit(f"[{kind}] {len(refused)} booking(s) not created: {refused[:3]}")
        made += count
        return seconds, system

    print(f"[{kind}] warm-up: {args.warmup} bookings", flush=True)
    measured(args.warmup, "warm")
    passes, systems = [], []
    for number in range(args.repeat):
        seconds, system = measured(args.bookings, f"pass{number}")
        passes.append(round(seconds * 1000 / args.bookings, 3))
        systems.append(round(system * 1000 / args.bookings, 3))
        print(
            f"[{kind}] pass {number + 1}: {passes[-1]:.3f} ms CPU per booking (system {systems[-1]:.3f})",
            flush=True,
        )
    report: dict = {
        "database": kind,
        "bookings_per_pass": args.bookings,
        "cpu_ms_per_booking": passes,
        "system_ms_per_booking": systems,
        "median_ms": round(statistics.median(passes), 3),
        "best_ms": min(passes),
    }
    if args.profile:
        batch = environs(path, host, args.bookings, "profile")
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting for the database
        profiler.enable()
        _, statuses = run_pass(wsgi, batch)
        profiler.disable()
        assert all(s.startswith("201") for s in statuses)
        made += args.bookings
        stats = pstats.Stats(profiler)
        report["profile"] = {
            "landmarks_us": landmarks(stats, args.bookings),
            "by_cumulative": profile_rows(stats, "cumulative", args.top, args.bookings),
            "by_tottime": profile_rows(stats, "tottime", args.top, args.bookings),
        }
        if args.save_profile:
            stats.dump_stats(str(args.save_profile.with_suffix(f".{kind}.prof")))
    report["statements"] = statements_of_one(app, wsgi, environs(path, host, 1, "sql"))
    made += 1
    report["check"] = check(url, slot_id, made)
    with app.app_context():
        from core.extensions import db

        db.engine.dispose()
    return report


def show(report: dict) -> str:
    lines = []
    for result in report["runs"]:
        lines.append(
            f"{result['database']}: {result['median_ms']:.3f} ms CPU per booking (median of "
            f"{len(result['cpu_ms_per_booking'])} × {result['bookings_per_pass']}; best {result['best_ms']:.3f}; "
            f"passes {result['cpu_ms_per_booking']}); {len(result['statements'])} statements; check {result['check']}"
        )
        profile = result.get("profile")
        if not profile:
            continue
        lines.append("  landmarks (cumulative µs per booking, under cProfile):")
        lines += [f"    {name:<32} {us:>8.1f}" for name, us in profile["landmarks_us"].items()]
        for key in ("by_cumulative", "by_tottime"):
            lines.append(
                f"  top {len(profile[key])} {key.replace('_', ' ')} (µs per booking: own, cumulative; calls):"
            )
            lines += [
                f"    {row['own_us']:>8.1f} {row['cumulative_us']:>8.1f} {row['calls_per_booking']:>6g}  {row['function']}"
                for row in profile[key]
            ]
        lines.append("  statements of one booking:")
        lines += [f"    {statement}" for statement in result["statements"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--pg-database", default="h_bookcpu", help="dropped and created again (never `test`)")
    parser.add_argument("--bookings", type=int, default=2000, help="per timed pass")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--save-profile", type=Path, help="also write the cProfile stats (PATH.<db>.prof)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results-booking-cpu.json")
    args = parser.parse_args()
    if args.pg_database in {"test", "postgres", "rush"}:
        parser.error("--pg-database: not the suite's, the maintenance or the rush bench's database")
    if (args.warmup + args.bookings * (args.repeat + args.profile) + 1) > bench_rush.HOT_SEATS:
        parser.error(f"more bookings than the hot slot's {bench_rush.HOT_SEATS} seats")

    kinds = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    report = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "machine": bench_rush.machine(),
        "runs": [],
    }
    for kind in kinds:
        workdir = Path(tempfile.mkdtemp(prefix=f"booking-cpu-{kind}-"))
        try:
            report["runs"].append(run(kind, args, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    report["machine_after"] = bench_rush.machine()
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(show(report))
    print(f"→ {args.output}")


if __name__ == "__main__":
    sys.exit(main())
