"""The booking rush, measured: gunicorn + PostgreSQL (or SQLite) under 200 concurrent bookers.

    .venv/bin/pip install -e '.[bench]'          # aiohttp (load generator), pyinstrument (profiles)
    .venv/bin/python bench/bench_rush.py          # PostgreSQL then SQLite, ~3 min; bench/results-rush.json
    .venv/bin/python bench/bench_rush.py --database sqlite --clients 20 --duration 2 --quick

One run, per database: a fresh database (PostgreSQL: `rush`, dropped and created again; SQLite: a
temporary file) migrated with `flask db upgrade`, seeded with an edition open for booking, a published
site, a hot slot (30,000 seats), 30 slots for the open loop and small slots for the sell-out; gunicorn
serves the app (MAIL_DELIVERY=worker: requests only queue their mail; the rate limit is off, every
client comes from 127.0.0.1); bench/rush_load.py, a separate process, drives it:

1. closed loop: 200 clients book the hot slot for 20 s → confirmed bookings/s, p50/p95/p99;
2. open loop: 200 bookings/s on a fixed schedule over 30 slots for 20 s → p99 from the scheduled time;
3. sell-out: 200 clients book a 300-seat slot until each is told it is full → exactly full, never over;
4. the same gunicorn on GET /ping (a constant, no database);
5. PostgreSQL's ceiling: pgbench, the same UPDATE (conditional, one hot slot) + INSERT, as many clients
   as max_connections leaves (200 where the server allows it);
6. `flask mail worker` for 10 s: how fast the tickets the rush queued are composed and sent.

After each booking phase the database is checked: seats_taken == sum of confirmed party sizes ==
what the 201 answers announced; oversold seats (must be 0) and lost bookings (a 201 whose id is not in
the database; must be 0).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOT_SEATS = 30_000
OPEN_SLOTS = 30
OPEN_SEATS = 1_000
SELLOUT_SEATS = 300
PGBENCH_SEATS = 10_000_000
GOALS = {"confirmed_per_s": 300, "share_of_pg_ceiling": 0.30, "open_loop_p99_ms": 300}


# ---- database --------------------------------------------------------------------------------------


def fresh_database(kind: str, name: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'rush.db'}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))


def app_env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-rush-not-a-secret",
        "DATABASE_URL": url,
        "MAIL_DELIVERY": "worker",
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        "RATELIMIT_ENABLED": "0",
        "SESSION_COOKIE_SECURE": "0",
    }


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip


def doctor(env: dict[str, str]) -> dict:
    """`flask doctor` after the rush: every slot's counters recounted from its bookings."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "doctor"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    return {"exit_code": done.returncode, "output": done.stdout.strip()}


def open_site(email: str, password: str, owner_name: str, company: str, name: str, contact: str):  # noqa: ANN201
    """A factory account, an edition open for booking today (its Friday a month ahead) and the account's
    published site in Paris; not yet added to the session (call inside an app context)."""
    from core.auth.models import Role
    from core.auth.services import create_user
    from jou.models import Edition, Site, SiteStatus

    today = date.today()
    owner = create_user(email, password, Role.FACTORY, owner_name)
    friday = today + timedelta(days=30)
    edition = Edition(
        year=today.year + 1, friday=friday, saturday=friday + timedelta(days=1),
        registration_opens=today - timedelta(days=60), registration_closes=today - timedelta(days=1),
        booking_opens=today - timedelta(days=1), booking_closes=friday,
        max_party_size=6, max_bookings_per_email=3,
    )  # fmt: skip
    site = Site(
        edition=edition, owner_id=owner.id, status=SiteStatus.APPROVED, company_name=company,
        siret="73282932000074", name=name, sector="aeronautique", street="1 rue de la Paix",
        postcode="75002", city="Paris", department="75", region="11", contact_name=contact,
        contact_email=email, contact_phone="0102030405",
    )  # fmt: skip
    return edition, site


def seed(env: dict[str, str], sellout_seats: int = SELLOUT_SEATS) -> dict[str, list[int]]:
    """Edition open for booking today, one published site, the slots of every phase (ORM, one commit)."""
    os.environ.update({k: env[k] for k in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "MAIL_DELIVERY")})
    from core import create_app
    from core.extensions import db
    from jou.models import Slot

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    with app.app_context():
        edition, site = open_site(
            "usine@rush.example.org",
            "rush-password-2026",
            "Usine Rush",
            "Rush SA",
            "Usine de la ruée",
            "Camille Rush",
        )

        def slot(hour: int, minute: int, capacity: int) -> Slot:
            made = Slot(
                site=site, day=edition.saturday, start=clock(hour, minute), end=clock(hour + 1, minute),
                audience="public", capacity=capacity, seats_taken=0,
            )  # fmt: skip
            db.session.add(made)
            return made

        slots = {
            "warmup": [slot(8, 0, 5_000)],
            "hot": [slot(9, 0, HOT_SEATS)],
            "open": [slot(10 + i // 6, (i % 6) * 10, OPEN_SEATS) for i in range(OPEN_SLOTS)],
            "sellout": [slot(16, 0, sellout_seats)],
            "pgbench": [slot(17, 0, PGBENCH_SEATS)],
        }
        db.session.add_all([edition, site])
        db.session.commit()
        ids = {phase: [s.id for s in made] for phase, made in slots.items()}
        db.engine.dispose()
    return ids


def verify(engine: Engine, slot_ids: list[int], created: list[list[int]]) -> dict:
    """The database against the answers: oversold seats, seats vs party sizes, lost bookings."""
    from jou.bookings.models import Booking
    from jou.models import Slot

    with engine.connect() as conn:
        slots = conn.execute(
            select(Slot.id, Slot.capacity, Slot.seats_taken).where(Slot.id.in_(slot_ids))
        ).all()
        sums = dict(
            conn.execute(
                select(Booking.slot_id, func.sum(Booking.party_size))
                .where(Booking.slot_id.in_(slot_ids), Booking.status == "confirmed")
                .group_by(Booking.slot_id)
            ).all()
        )
        in_db = {row[0]: row[1] for row in conn.execute(
            select(Booking.id, Booking.party_size).where(Booking.slot_id.in_(slot_ids))
        )}  # fmt: skip
    announced = {booking_id: party for booking_id, _slot, party in created}
    seats_taken = sum(s.seats_taken for s in slots)
    return {
        "seats_taken": seats_taken,
        "sum_confirmed_party_sizes": sum(int(v or 0) for v in sums.values()),
        "sum_announced_party_sizes": sum(announced.values()),
        "bookings_in_db": len(in_db),
        "bookings_announced": len(announced),
        "oversold": sum(
            max(0, s.seats_taken - s.capacity, int(sums.get(s.id) or 0) - s.capacity) for s in slots
        ),
        "seat_mismatch": sum(abs(s.seats_taken - int(sums.get(s.id) or 0)) for s in slots),
        "lost": sum(1 for i, party in announced.items() if in_db.get(i) != party),
        # Committed but never announced (a client-side timeout): not lost, but counted.
        "unannounced": len(in_db.keys() - announced.keys()),
        "seats_left": sum(s.capacity - s.seats_taken for s in slots),
    }


# ---- processes -------------------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int, worker_class: str, threads: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.settings = {"workers": workers, "worker_class": worker_class, "threads": threads}
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn") if (ROOT / ".venv").exists() else "gunicorn",
            "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
            "--bind", f"127.0.0.1:{self.port}", "--backlog", "2048", "--timeout", "120",
            "--error-logfile", str(log), "wsgi:app",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/ping", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start, see {log}")

    def cpu_seconds(self) -> float:
        """CPU used so far by the master and its workers (Linux /proc): the app's cost per booking."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.process.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measured(server: Gunicorn, mode: str, **options) -> dict:
    """A load run with the CPU the app used (ms per answered request)."""
    before = server.cpu_seconds()
    result = load(mode, server.base, **options)
    answered = sum(result["statuses"].values())
    result["app_cpu_ms_per_request"] = round((server.cpu_seconds() - before) * 1000 / max(answered, 1), 2)
    return result


def load_command(mode: str, base: str, **options) -> list[str]:
    """The command line of one rush_load.py run (lists joined by commas)."""
    command = [sys.executable, str(ROOT / "bench" / "rush_load.py"), mode, "--base", base]
    for key, value in options.items():
        command += [f"--{key}", ",".join(map(str, value)) if isinstance(value, list) else str(value)]
    return command


def load(mode: str, base: str, **options) -> dict:
    done = subprocess.run(
        load_command(mode, base, **options), cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout)


def pgbench(url: str, slot_id: int, clients: int, seconds: int, workdir: Path) -> dict:
    """PostgreSQL's own ceiling for the seat-taking transaction: the conditional UPDATE of one hot slot
    and the INSERT of the booking, nothing else (no HTTP, no Python)."""
    script = workdir / "book.sql"
    script.write_text(
        f"\\set n random(1, 1000000000)\n"
        "BEGIN;\n"
        f"UPDATE slots SET seats_taken = seats_taken + 1 WHERE id = {slot_id} AND seats_taken + 1 <= capacity;\n"
        "INSERT INTO bookings (slot_id, kind, status, party_size, adults, female, male, unspecified, name, email,"
        " consent_at, created_at, updated_at)"
        f" VALUES ({slot_id}, 'public', 'confirmed', 1, 0, 0, 0, 1, 'pgbench', 'pg' || :n || '@rush.example.org',"
        " now(), now(), now());\n"
        "END;\n"
    )
    target = make_url(url)
    command = [
        "pgbench", "-h", target.host or "127.0.0.1", "-p", str(target.port or 5432), "-U", target.username or "postgres",
        "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script), target.database,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", done.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    return {
        "clients": clients,
        "seconds": seconds,
        "tps": round(tps, 1),
        "latency_avg_ms": latency,
        "failed": int(failed.group(1)) if failed else 0,
    }


def mail_worker(env: dict[str, str], engine: Engine, seconds: float) -> dict:
    """`flask mail worker` (outbox mode) for a while after the rush: composes each ticket (QR, .ics) and
    sends it; how fast the queue the rush left drains."""
    from core.mail import OutgoingMail

    def sent() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).where(OutgoingMail.sent_at.is_not(None))).scalar()

    with engine.connect() as conn:
        queued = conn.execute(select(func.count()).select_from(OutgoingMail)).scalar()
    before = sent()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--batch", "50"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(seconds)
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=60)
    done = sent() - before
    return {
        "queued": queued,
        "sent": done,
        "seconds": seconds,
        "mails_per_s": round(done / seconds, 1),
        "stopped_cleanly": worker.returncode == 0,
        "stderr_tail": err[-500:],
    }


def pg_free_connections(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        limit = int(conn.execute(text("SHOW max_connections")).scalar())
        used = int(conn.execute(text("SELECT count(*) FROM pg_stat_activity")).scalar())
    engine.dispose()
    return limit - used - 5  # superuser_reserved_connections (3) and a margin


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": sys.version.split()[0],
    }


# ---- one database ----------------------------------------------------------------------------------


def strip(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "created"}


def run(kind: str, args: argparse.Namespace, workdir: Path) -> dict:
    url = fresh_database(kind, args.pg_database, workdir)
    env = app_env(url, workdir)
    migrate(env)
    slots = seed(env, args.sellout_seats)
    engine = create_engine(url)
    workers = 1 if kind == "sqlite" else args.workers
    server = Gunicorn(env, workers, args.worker_class, args.threads, workdir / f"gunicorn-{kind}.log")
    report: dict = {"database": kind, "gunicorn": server.settings, "machine_before": machine()}
    try:
        short = args.quick
        if not short:
            load(
                "closed",
                server.base,
                slots=slots["warmup"],
                clients=min(20, args.clients),
                duration=3,
                tag="warmup",
            )
        print(
            f"[{kind}] closed loop: {args.clients} clients on the hot slot, {args.duration:g} s", flush=True
        )
        closed = measured(
            server, "closed", slots=slots["hot"], clients=args.clients, duration=args.duration, tag="hot"
        )
        report["closed"] = strip(closed) | {"check": verify(engine, slots["hot"], closed["created"])}

        if not short:
            print(
                f"[{kind}] open loop: {args.rate:g}/s over {OPEN_SLOTS} slots, {args.open_duration:g} s",
                flush=True,
            )
            opened = measured(
                server, "open", slots=slots["open"], rate=args.rate, duration=args.open_duration, tag="open"
            )
            report["open"] = strip(opened) | {"check": verify(engine, slots["open"], opened["created"])}

        print(f"[{kind}] sell-out: {args.clients} clients, {args.sellout_seats} seats", flush=True)
        sold = measured(server, "sellout", slots=slots["sellout"], clients=args.clients, tag="sellout")
        report["sellout"] = strip(sold) | {"check": verify(engine, slots["sellout"], sold["created"])}

        print(f"[{kind}] bare endpoint: GET /ping, {args.clients} clients", flush=True)
        report["ping"] = measured(
            server, "get", path="/ping", clients=args.clients, duration=2 if short else 10
        )
    finally:
        server.stop()
    if kind == "postgresql" and not args.quick:
        clients = min(args.clients, pg_free_connections(url))
        print(f"[{kind}] pgbench: UPDATE + INSERT on one hot slot, {clients} clients", flush=True)
        report["pgbench"] = pgbench(url, slots["pgbench"][0], clients, args.pgbench_seconds, workdir)
        report["pgbench"]["check"] = verify(engine, slots["pgbench"], [])
        report["share_of_pg_ceiling"] = round(
            report["closed"]["confirmed_per_s"] / report["pgbench"]["tps"], 3
        )
    if not args.quick and args.mail_seconds:
        print(f"[{kind}] mail worker: {args.mail_seconds:g} s", flush=True)
        report["mail_worker"] = mail_worker(env, engine, args.mail_seconds)
    if "pgbench" in report and "open" in report:
        report["goals_met"] = {
            "confirmed_per_s": report["closed"]["confirmed_per_s"] >= GOALS["confirmed_per_s"],
            "share_of_pg_ceiling": report["share_of_pg_ceiling"] >= GOALS["share_of_pg_ceiling"],
            "open_loop_p99_ms": report["open"]["latency_ms"]["p99"] < GOALS["open_loop_p99_ms"],
        }
    report["doctor"] = doctor(env)
    report["ping"]["bookings_share"] = round(
        report["closed"]["confirmed_per_s"] / report["ping"]["requests_per_s"], 3
    )
    engine.dispose()
    report["machine_after"] = machine()
    return report


def table(report: dict) -> str:
    rows = []
    for result in report["runs"]:
        name = f"{result['database']} ({result['gunicorn']['workers']}×{result['gunicorn']['worker_class']})"
        c = result["closed"]
        rows.append(f"{name}")
        rows.append(
            f"  hot slot, {c['clients']} clients closed loop: {c['confirmed_per_s']:>7} confirmed/s  "
            f"p50 {c['latency_ms']['p50']} ms  p95 {c['latency_ms']['p95']} ms  p99 {c['latency_ms']['p99']} ms  "
            f"oversold {c['check']['oversold']}  lost {c['check']['lost']}  errors {sum(c['errors'].values())}  "
            f"app CPU {c['app_cpu_ms_per_request']} ms/booking"
        )
        if "open" in result:
            o = result["open"]
            rows.append(
                f"  open loop {o['rate']:g}/s over {o['slots']} slots: p50 {o['latency_ms']['p50']} ms  "
                f"p99 {o['latency_ms']['p99']} ms  confirmed {o['confirmed']}/{o['scheduled']}  "
                f"oversold {o['check']['oversold']}  lost {o['check']['lost']}"
            )
        s = result["sellout"]
        rows.append(
            f"  sell-out {s['check']['seats_left'] + s['check']['seats_taken']} seats: seats left {s['check']['seats_left']}  oversold "
            f"{s['check']['oversold']}  lost {s['check']['lost']}  statuses {s['statuses']}"
        )
        if "pgbench" in result:
            p = result["pgbench"]
            rows.append(
                f"  pgbench UPDATE+INSERT, {p['clients']} clients: {p['tps']} tps  "
                f"→ bookings at {result['share_of_pg_ceiling']:.0%} of PostgreSQL's ceiling"
            )
        if "mail_worker" in result:
            m = result["mail_worker"]
            rows.append(
                f"  mail worker afterwards: {m['mails_per_s']} tickets composed and sent/s ({m['queued']} queued)"
            )
        g = result["ping"]
        rows.append(f"  GET /ping: {g['requests_per_s']} req/s  p99 {g['latency_ms'].get('p99')} ms")
        rows.append(f"  flask doctor afterwards: {result['doctor']['output'].splitlines()[-1]}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--pg-database", default="rush", help="dropped and created again (never `test`)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20, help="closed loop, seconds")
    parser.add_argument("--rate", type=float, default=200, help="open loop, bookings per second")
    parser.add_argument("--open-duration", type=float, default=20)
    parser.add_argument("--pgbench-seconds", type=int, default=5)
    # One sync worker per core: on 2 cores shared with PostgreSQL and the load generator, more workers
    # made a slot's lock holder wait for a core more often (bench/README.md: 5 workers ~250/s, 2 ~330/s).
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="PostgreSQL runs")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sellout-seats", type=int, default=SELLOUT_SEATS)
    parser.add_argument("--mail-seconds", type=float, default=10, help="mail worker after the rush (0: none)")
    parser.add_argument("--quick", action="store_true", help="closed loop, sell-out and /ping only")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results-rush.json")
    args = parser.parse_args()
    if args.pg_database in {"test", "postgres"}:
        parser.error("--pg-database: not the suite's database nor the maintenance one")

    kinds = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    report = {"goals": GOALS, "settings": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    for kind in kinds:
        workdir = Path(tempfile.mkdtemp(prefix=f"rush-{kind}-"))
        try:
            report["runs"].append(run(kind, args, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(table(report))
    print(f"→ {args.output}")


if __name__ == "__main__":
    main()
