"""Where a booking request spends its time: pyinstrument over N booking requests, in process.

    .venv/bin/python bench/rush_profile.py --database postgresql --requests 300   # uses the `rush` database
    .venv/bin/python bench/rush_profile.py --database sqlite --statements          # one request's SQL

Same fresh database and seed as bench_rush.py (MAIL_DELIVERY=worker); requests through Flask's test
client (no HTTP server), each with its own e-mail and Idempotency-Key. Prints the call tree, the CPU and
wall time per request; --statements prints the SQL of one request instead (the round trips, and which
of them run while the slot's row is locked: from the UPDATE of slots to the COMMIT).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import bench_rush  # beside this file: a script's own folder is first on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--pg-database", default="rush")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--statements", action="store_true")
    args = parser.parse_args()
    if args.pg_database in {"test", "postgres"}:
        parser.error("--pg-database: not the suite's database nor the maintenance one")

    workdir = Path(tempfile.mkdtemp(prefix="rush-profile-"))
    url = bench_rush.fresh_database(args.database, args.pg_database, workdir)
    env = bench_rush.app_env(url, workdir)
    bench_rush.migrate(env)
    slot_id = bench_rush.seed(env)["hot"][0]
    os.environ.update(env)
    from core import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()

    def book() -> None:
        body = {
            "party_size": 1,
            "name": "Profil",
            "email": f"{uuid.uuid4().hex}@rush.example.org",
            "consent": True,
        }
        response = client.post(
            f"/api/v1/slots/{slot_id}/bookings", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    for _ in range(50):  # warm: pool, prepared statements, SQLAlchemy's compiled cache
        book()

    if args.statements:
        from sqlalchemy import event

        from core.extensions import db

        with app.app_context():
            engine = db.engine
        seen: list[str] = []
        event.listen(engine, "begin", lambda conn: seen.append("BEGIN"))
        event.listen(engine, "commit", lambda conn: seen.append("COMMIT"))
        event.listen(
            engine, "before_cursor_execute", lambda conn, cur, statement, *rest: seen.append(statement[:100])
        )
        book()
        print("\n".join(line.replace("\n", " ") for line in seen))
        return

    from pyinstrument import Profiler

    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.requests):
        book()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.requests):
        book()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False))
    print(
        f"{args.database}: {cpu / args.requests * 1000:.2f} ms CPU, {wall / args.requests * 1000:.2f} ms wall "
        f"per booking request (unprofiled, {args.requests} requests)"
    )


if __name__ == "__main__":
    main()
