"""Browsing during a booking rush: do the pages stay fast while 120 clients book, and do bookings keep pace?

    .venv/bin/python bench/bench_browse.py             # PostgreSQL, every design, 2 runs (~15 min)
    .venv/bin/python bench/bench_browse.py --quick     # shorter phases, one run, two designs (~3 min)
    .venv/bin/python bench/bench_browse.py --designs gthread-admission --runs 3

A fresh PostgreSQL database (`browse`, dropped and created again) is migrated and filled with the demo
(`flask fixtures load`: 2025's 226 sites and the open edition), then a public slot of 10,000,000 seats is added
to a published site of the open edition: the hot slot every booker wants. Per design (gunicorn's settings and
the admission control's, core/admission.py), three phases against a fresh gunicorn:

1. quiet: 4 visitors browse the pages in turn for --duration s, reading each for --think s (±50 %; 0 makes
   them machines fetching as fast as they are answered) → p50/p99 per page;
2. bookings alone: 120 clients book the hot slot in a closed loop (a 503 `busy` is sent again after its
   Retry-After, same Idempotency-Key) → confirmed bookings/s;
3. rush: the same 120 bookers and the same 4 visitors at once → both.

Bookers and visitors are two load-generator processes (bench/rush_load.py), so a visitor's latency is not
delayed by the bookers' event loop. After each booking phase the database is checked (oversold, lost) and
`flask doctor` recounts every slot at the end. Figures: bench/README.md, "Browsing during a rush".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import time as clock
from pathlib import Path

# Run as a script, bench/ is on sys.path: the rush benchmark's database, server and check helpers.
from bench_rush import (
    ROOT,
    Gunicorn,
    app_env,
    doctor,
    fresh_database,
    load_command,
    machine,
    migrate,
    verify,
)
from sqlalchemy import create_engine, select

BOOKERS = 120
VISITORS = 4
HOT_SEATS = 10_000_000  # never full, whatever the number of runs and designs
# Gunicorn settings and admission control (BOOKINGS_IN_FLIGHT, BOOKINGS_WAITING per process).
DESIGNS = {
    # Today's README: sync workers, one per core.
    "sync": {"workers": 2, "worker_class": "sync", "threads": 1, "in_flight": 0, "waiting": 0},
    # Threads alone: a booking waiting on the slot's row lock holds a thread, not the worker.
    "gthread": {"workers": 2, "worker_class": "gthread", "threads": 16, "in_flight": 0, "waiting": 0},
    # One pool, admission control: 4 bookings at once and 8 waiting per process, 4 threads left for pages.
    "gthread-admission": {"workers": 2, "worker_class": "gthread", "threads": 16, "in_flight": 4, "waiting": 8},
    # Two pools behind a proxy that routes the booking POSTs to one and everything else to the other (the
    # load generator plays the proxy: bookers and visitors are sent to their own pool). Bookings: one
    # threaded worker under admission control (8 at once, 16 waiting, 8 threads spare); pages: one sync worker.
    "split-pools": {"workers": 1, "worker_class": "gthread", "threads": 32, "in_flight": 8, "waiting": 16,
                    "pages_workers": 1},
    # The same split with a sync worker for the bookings too.
    "split-pools-sync": {"workers": 1, "worker_class": "sync", "threads": 1, "in_flight": 0, "waiting": 0,
                         "pages_workers": 1},
}  # fmt: skip


def load_demo(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "fixtures", "load"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)


def hot_slot_and_paths(env: dict[str, str]) -> tuple[int, list[str]]:
    """Adds the hot slot to a published site of the open edition; the pages the visitors read."""
    os.environ.update({k: env[k] for k in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "MAIL_DELIVERY")})
    from core import create_app
    from core.extensions import db
    from jou.models import Site, SiteStatus, Slot
    from jou.services import current_edition

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    with app.app_context():
        edition = current_edition()
        site = db.session.scalars(
            select(Site)
            .where(Site.edition_id == edition.id, Site.status == SiteStatus.APPROVED)
            .order_by(Site.id)
        ).first()
        slot = Slot(
            site=site, day=edition.saturday, start=clock(7, 0), end=clock(8, 0), audience="public",
            capacity=HOT_SEATS, seats_taken=0,
        )  # fmt: skip
        db.session.add(slot)
        db.session.commit()
        ids = slot.id, site.id
        db.engine.dispose()
    slot_id, site_id = ids
    paths = ["/", "/usines", "/carte", "/api/v1/maps/sites", f"/usines/{site_id}", "/api/v1/sites"]
    return slot_id, paths


def start_load(mode: str, base: str, **options) -> subprocess.Popen:
    return subprocess.Popen(load_command(mode, base, **options), cwd=ROOT, stdout=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> dict:
    out, _ = process.communicate()
    if process.returncode:
        raise RuntimeError(f"load generator failed ({process.returncode})")
    return json.loads(out)


def design_run(name: str, design: dict, env: dict, slot: int, paths: list[str], args, workdir: Path) -> dict:  # noqa: ANN001
    env = env | {"BOOKINGS_IN_FLIGHT": str(design["in_flight"]), "BOOKINGS_WAITING": str(design["waiting"])}
    engine = create_engine(env["DATABASE_URL"])
    servers = [
        Gunicorn(env, design["workers"], design["worker_class"], design["threads"], workdir / f"{name}.log")
    ]
    if design.get("pages_workers"):
        servers.append(Gunicorn(env, design["pages_workers"], "sync", 1, workdir / f"{name}-pages.log"))
    bookings_base, pages_base = servers[0].base, servers[-1].base
    report: dict = {"design": name, "settings": design, "machine_before": machine()}
    try:
        # Warm-up: every page once per worker, a few bookings (first requests load templates and code).
        finish(start_load("browse", pages_base, paths=paths, clients=4, duration=3))
        finish(start_load("closed", bookings_base, slots=[slot], clients=4, duration=2, tag=f"{name}-warm"))
        print(f"[{name}] quiet: {VISITORS} visitors, {args.duration:g} s", flush=True)
        report["quiet"] = finish(
            start_load(
                "browse", pages_base, paths=paths, clients=VISITORS, duration=args.duration, think=args.think
            )
        )
        print(f"[{name}] bookings alone: {BOOKERS} clients, {args.duration:g} s", flush=True)
        alone = finish(start_load("closed", bookings_base, slots=[slot], clients=BOOKERS, duration=args.duration,
                                  tag=f"{name}-alone"))  # fmt: skip
        report["bookings_alone"] = _without_created(alone) | {
            "check": verify(engine, [slot], alone["created"])
        }
        print(f"[{name}] rush: {BOOKERS} bookers and {VISITORS} visitors, {args.duration:g} s", flush=True)
        bookers = start_load("closed", bookings_base, slots=[slot], clients=BOOKERS, duration=args.duration,
                             tag=f"{name}-rush")  # fmt: skip
        time.sleep(1)  # the rush is on before the visitors come
        visitors = start_load(
            "browse", pages_base, paths=paths, clients=VISITORS, duration=args.duration - 1, think=args.think
        )
        report["rush_pages"] = finish(visitors)
        rush = finish(bookers)
        created = alone["created"] + rush["created"]
        report["rush_bookings"] = _without_created(rush) | {"check": verify(engine, [slot], created)}
    finally:
        for server in servers:
            server.stop()
        engine.dispose()
    report["machine_after"] = machine()
    report["pace_during_rush"] = round(
        report["rush_bookings"]["confirmed_per_s"] / max(report["bookings_alone"]["confirmed_per_s"], 0.1), 3
    )
    return report


def _without_created(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "created"}


def table(report: dict) -> str:
    rows = []
    for run in report["runs"]:
        rows.append(
            f"run {run['run']}  (load average before: {run['designs'][0]['machine_before']['load_average']})"
        )
        # "What the booking path alone reaches today": today's settings (sync), bookings alone, same run.
        today = next(
            (d["bookings_alone"]["confirmed_per_s"] for d in run["designs"] if d["design"] == "sync"), None
        )
        for d in run["designs"]:
            q, r = d["quiet"], d["rush_pages"]
            a, b = d["bookings_alone"], d["rush_bookings"]
            rows.append(
                f"  {d['design']:<20} pages quiet p50/p99 {q['latency_ms']['p50']}/{q['latency_ms']['p99']} ms"
                f" · during rush {r['latency_ms'].get('p50')}/{r['latency_ms'].get('p99')} ms"
                f" (5xx {sum(v for k, v in r['statuses'].items() if k.startswith('5'))})"
                f" · bookings/s alone {a['confirmed_per_s']}, in rush {b['confirmed_per_s']}"
                f" ({d['pace_during_rush']:.0%} of alone"
                + (f", {b['confirmed_per_s'] / today:.0%} of today's alone" if today else "")
                + f") · busy answers {b.get('busy_answers', 0)}"
                f" · oversold {b['check']['oversold']} lost {b['check']['lost']}"
            )
            worst = max(r["by_path"].items(), key=lambda item: item[1].get("p99", 0))
            rows.append(f"  {'':<20} slowest page in rush: {worst[0]} p99 {worst[1].get('p99')} ms")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-database", default="browse", help="dropped and created again (never `test`)")
    parser.add_argument("--designs", default=",".join(DESIGNS), help=f"among {', '.join(DESIGNS)}")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0, help="seconds a visitor reads a page")
    parser.add_argument("--duration", type=float, default=20, help="seconds per phase")
    parser.add_argument(
        "--quick", action="store_true", help="10 s phases, one run, sync and gthread-admission"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results-browse.json")
    args = parser.parse_args()
    if args.pg_database in {"test", "postgres"}:
        parser.error("--pg-database: not the suite's database nor the maintenance one")
    names = args.designs.split(",")
    if args.quick:
        args.duration, args.runs = 10, 1
        names = [n for n in names if n in {"sync", "split-pools"}] or names
    unknown = set(names) - set(DESIGNS)
    if unknown:
        parser.error(f"unknown designs: {', '.join(sorted(unknown))}")

    workdir = Path(tempfile.mkdtemp(prefix="browse-"))
    try:
        url = fresh_database("postgresql", args.pg_database, workdir)
        env = app_env(url, workdir)
        migrate(env)
        print("loading the demo …", flush=True)
        load_demo(env)
        slot, paths = hot_slot_and_paths(env)
        report = {"bookers": BOOKERS, "visitors": VISITORS, "paths": paths, "settings": vars(args) | {"output": str(args.output)},
                  "runs": []}  # fmt: skip
        for run in range(1, args.runs + 1):
            designs = [design_run(n, DESIGNS[n], env, slot, paths, args, workdir) for n in names]
            report["runs"].append({"run": run, "designs": designs})
        report["doctor"] = doctor(env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(table(report))
    print(f"flask doctor: {report['doctor']['output'].splitlines()[-1]}")
    print(f"→ {args.output}")


if __name__ == "__main__":
    main()
