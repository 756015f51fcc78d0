"""Statistics at scale: GET /api/v1/stats/pmi against hand-written SQL on the same tables, in one run.

    .venv/bin/python bench/bench_stats.py --rows 1000000                       # throw-away SQLite file
    .venv/bin/python bench/bench_stats.py --rows 1000000 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/DB --reset     # empties DB's schema first

Builds N interventions (the headcount records: girls, boys, unspecified) over 2018–2026 at 20,000 schools,
with 1 to 3 of 5,000 volunteers each, then times, for each query below, best of --repeats after a warm-up:

- **endpoint**: the whole request through Flask's test client (query-string validation, stats.queries
  .compute, labels, JSON);
- **same answer in SQL**: hand-written statements giving the same rows and totals (sums, interventions,
  distinct schools, distinct volunteers) the way stats.queries builds them, run on the DBAPI cursor;
- **COUNT(DISTINCT) SQL**: the same answer written the first way one thinks of (four statements);
- **bare GROUP BY**: sums and a row count per group on `interventions` alone, no distinct count, no
  totals — the floor.

The endpoint's figures are checked equal to the hand-written SQL's before anything is timed.
tests/test_stats_bench.py runs this on 2,000 rows for correctness; the figures are in bench/README.md."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "testing")

SCHOOLS = 20_000
VOLUNTEERS = 5_000
FIRST_DAY, DAYS = date(2018, 1, 1), 9 * 365
REPEATS = 3
# (label, query string): the whole table, one year by GR, a year by region and kind.
QUERIES = (
    ("by region, all years", "by=region"),
    ("2024 by GR", "year=2024&by=gr"),
    ("2024 by region × kind", "year=2024&by=region,kind"),
)


def build_app(database_url: str, reset: bool):  # noqa: ANN201
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, inspect, text

    from core import create_app

    engine = create_engine(database_url)
    with engine.begin() as conn:
        if inspect(conn).get_table_names():
            if not reset:
                raise SystemExit(
                    f"{database_url} is not empty: pass --reset to empty it (everything is lost)"
                )
            if conn.dialect.name != "postgresql":
                raise SystemExit("--reset empties PostgreSQL databases only; give SQLite a new file")
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": database_url,
                      "GEOCODER": "offline", "RATELIMIT_ENABLED": False})  # fmt: skip
    with app.app_context():
        upgrade()
    return app


def seed(app, rows: int, seed_value: int = 9) -> None:  # noqa: ANN001
    """Schools, volunteers (with their accounts), N interventions and their links, in bulk."""
    from sqlalchemy import select

    from core.extensions import db
    from core.geography.models import DepartmentGroup
    from core.geography.territories import DEPARTMENT_REGION
    from pmi.models import LEVEL_LABELS, InterventionKind

    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    with app.app_context():
        groups = dict(
            db.session.execute(select(DepartmentGroup.department, DepartmentGroup.regional_group_code)).all()
        )
        connection = db.session.connection()
        departments = sorted(DEPARTMENT_REGION)
        schools = []
        for n in range(1, SCHOOLS + 1):
            department = departments[n % len(departments)]
            schools.append((n, f"B{n:07d}", f"Collège {n}", "college", "public", "Ville", department,
                            f"{n % 30 + 1:02d}", f"Académie {n % 30 + 1}", DEPARTMENT_REGION[department], True,
                            f"college {n}", f"college {n} ville", now, now))  # fmt: skip
        _copy(connection, "schools", ("id", "uai", "name", "kind", "sector", "city", "department", "academie_code",
                                      "academie_name", "region", "open", "name_key", "search_key", "created_at",
                                      "updated_at"), schools)  # fmt: skip
        users = [(n, f"v{n}@bench.example.org", "x", "volunteer", f"Intervenant {n:05d}", True, 0, now, now)
                 for n in range(1, VOLUNTEERS + 1)]  # fmt: skip
        _copy(connection, "users", ("id", "email", "password_hash", "role", "name", "is_active_account",
                                    "token_version", "created_at", "updated_at"), users)  # fmt: skip
        _copy(connection, "volunteers", ("id", "user_id", "promo", "created_at", "updated_at"),
              [(n, n, "", now, now) for n in range(1, VOLUNTEERS + 1)])  # fmt: skip
        kinds = [k.value for k in InterventionKind]
        levels = list(LEVEL_LABELS)
        interventions, links = [], []
        for n in range(1, rows + 1):
            school = schools[rng.randrange(SCHOOLS)]
            pupils = rng.randint(12, 60)
            female = rng.randint(0, pupils)
            unspecified = rng.choice((0, 0, 0, rng.randint(0, pupils - female)))
            level = rng.randrange(len(levels) - 1)
            interventions.append((n, FIRST_DAY + timedelta(days=rng.randrange(DAYS)), rng.choice(kinds), school[0],
                                  school[6], school[9], groups.get(school[6]),
                                  f",{levels[level]},{levels[level + 1]},", 60, "",
                                  female, pupils - female - unspecified, unspecified, now, now))  # fmt: skip
            for volunteer in rng.sample(range(1, VOLUNTEERS + 1), rng.choice((1, 1, 2, 3))):
                links.append((n, volunteer))
            if len(interventions) == 50_000:
                _flush(connection, interventions, links)
        _flush(connection, interventions, links)
        db.session.commit()
        # Planner statistics, as after any bulk load (PostgreSQL's autovacuum would get there later;
        # without them SQLite walks a GROUP BY column's index instead of the date range's).
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def _flush(connection, interventions: list, links: list) -> None:  # noqa: ANN001
    _copy(connection, "interventions", ("id", "date", "kind", "school_id", "department", "region", "regional_group",
                                        "levels", "duration_minutes", "notes", "female", "male", "unspecified",
                                        "created_at", "updated_at"), interventions)  # fmt: skip
    _copy(connection, "intervention_volunteers", ("intervention_id", "volunteer_id"), links)
    interventions.clear()
    links.clear()


def _copy(connection, table: str, columns: tuple[str, ...], rows: list) -> None:  # noqa: ANN001
    """COPY on PostgreSQL, executemany on SQLite: the fastest bulk path of each."""
    cursor = connection.connection.driver_connection.cursor()
    if connection.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                           [tuple(_sqlite(v) for v in row) for row in rows])  # fmt: skip


def _sqlite(value):  # noqa: ANN001, ANN202
    """What SQLAlchemy itself stores in SQLite for dates and times (strings)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat() if isinstance(value, date) else value


# ---- the hand-written SQL ------------------------------------------------------------------------------

_COLUMN = {"region": "i.region", "gr": "i.regional_group", "kind": "i.kind"}


def _parse(query: str) -> tuple[list[str], str]:
    """(dimension columns, WHERE clause) of a query string."""
    params = dict(part.split("=") for part in query.split("&"))
    where = "WHERE 1 = 1"
    if "year" in params:
        year = int(params["year"])
        where += f" AND i.date >= '{year}-01-01' AND i.date < '{year + 1}-01-01'"
    return [_COLUMN[d] for d in params["by"].split(",")], where


def hand_written(query: str) -> list[str]:
    """The same answer as the endpoint, written by hand the same way: one scan for the sums and the
    distinct schools (grouped by dimensions and school), one for the distinct (dimensions, volunteer)
    pairs; each statement gives the rows (grand = 0) and the totals (grand = 1)."""
    dims, where = _parse(query)
    keys = ", ".join(f"{d} AS d{n}" for n, d in enumerate(dims))
    names = ", ".join(f"d{n}" for n in range(len(dims)))
    nulls = ", ".join("NULL" for _ in dims)
    sums = f"""WITH g AS (SELECT {keys}, i.school_id AS s, SUM(i.female) AS f, SUM(i.male) AS m,
                                SUM(i.unspecified) AS u, COUNT(*) AS n
                         FROM interventions i {where} GROUP BY {", ".join(dims)}, i.school_id)
        SELECT 0, {names}, SUM(f), SUM(m), SUM(u), SUM(n), COUNT(s) FROM g GROUP BY {names}
        UNION ALL
        SELECT 1, {nulls}, SUM(f), SUM(m), SUM(u), SUM(n),
               (SELECT COUNT(*) FROM (SELECT DISTINCT s FROM g WHERE s IS NOT NULL) AS x) FROM g"""
    volunteers = f"""WITH p AS (SELECT DISTINCT {keys}, l.volunteer_id AS v FROM interventions i
                                JOIN intervention_volunteers l ON l.intervention_id = i.id {where})
        SELECT 0, {names}, COUNT(*) FROM p GROUP BY {names}
        UNION ALL
        SELECT 1, {nulls}, (SELECT COUNT(*) FROM (SELECT DISTINCT v FROM p) AS y)"""
    return [sums, volunteers]


def naive(query: str) -> list[str]:
    """The same answer the first way one writes it: COUNT(DISTINCT …) per group, then again for the totals."""
    dims, where = _parse(query)
    keys = ", ".join(dims)
    sums = f"SUM(i.female), SUM(i.male), SUM(i.unspecified), COUNT(*), COUNT(DISTINCT i.school_id) FROM interventions i {where}"
    volunteers = f"COUNT(DISTINCT l.volunteer_id) FROM interventions i JOIN intervention_volunteers l ON l.intervention_id = i.id {where}"
    return [f"SELECT {keys}, {sums} GROUP BY {keys}", f"SELECT {keys}, {volunteers} GROUP BY {keys}",
            f"SELECT {sums}", f"SELECT {volunteers}"]  # fmt: skip


def bare(query: str) -> str:
    """The floor: sums and a count per group, no distinct count, no totals."""
    dims, where = _parse(query)
    keys = ", ".join(dims)
    return f"SELECT {keys}, SUM(i.female), SUM(i.male), SUM(i.unspecified), COUNT(*) FROM interventions i {where} GROUP BY {keys}"  # noqa: E501


def run_sql(connection, statements: list[str]) -> tuple[dict, tuple]:  # noqa: ANN001
    """Rows {dims: (female, male, unspecified, interventions, schools, volunteers)} and the totals, from
    the hand-written statements."""
    cursor = connection.cursor()
    cursor.execute(statements[0])
    rows, total = {}, None
    for grand, *values in cursor.fetchall():
        if grand:
            total = [int(v or 0) for v in values[-5:]]
        else:
            rows[tuple(values[:-5])] = [int(v or 0) for v in values[-5:]]
    cursor.execute(statements[1])
    for grand, *values in cursor.fetchall():
        (total if grand else rows[tuple(values[:-1])]).append(int(values[-1] or 0))
    return {k: tuple(v) for k, v in rows.items()}, tuple(total)


def run_all(connection, statements: list[str]) -> None:  # noqa: ANN001
    cursor = connection.cursor()
    for statement in statements:
        cursor.execute(statement)
        cursor.fetchall()


def best(action, repeats: int) -> float:  # noqa: ANN001
    action()  # warm-up: caches, plans
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def run(rows: int, database_url: str | None = None, reset: bool = False, repeats: int | None = None) -> dict:
    from core.extensions import db

    repeats = repeats or REPEATS
    workdir = None
    if database_url is None:
        workdir = tempfile.mkdtemp(prefix="bench_stats_")
        database_url = f"sqlite:///{workdir}/bench.db"
    app = build_app(database_url, reset)
    started = time.perf_counter()
    seed(app, rows)
    results: dict = {"rows": rows, "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0],
                     "seed_seconds": round(time.perf_counter() - started, 1), "repeats": repeats,
                     "queries": []}  # fmt: skip
    client = app.test_client()
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            links = raw.cursor()
            links.execute("SELECT COUNT(*) FROM intervention_volunteers")
            results["links"] = links.fetchone()[0]
            for label, query in QUERIES:
                body = client.get(f"/api/v1/stats/pmi?{query}").get_json()
                dims = body["by"]
                ours = {tuple(r[d] for d in dims): (r["female"], r["male"], r["unspecified"], r["interventions"],
                                                    r["schools"], r["volunteers"]) for r in body["rows"]}  # fmt: skip
                t = body["totals"]
                ours_total = (
                    t["female"],
                    t["male"],
                    t["unspecified"],
                    t["interventions"],
                    t["schools"],
                    t["volunteers"],
                )
                theirs, theirs_total = run_sql(raw, hand_written(query))
                assert (ours, ours_total) == (theirs, theirs_total), f"{query}: the endpoint and SQL disagree"
                endpoint = best(lambda q=query: client.get(f"/api/v1/stats/pmi?{q}"), repeats)
                same = best(lambda q=query: run_sql(raw, hand_written(q)), repeats)
                first_way = best(lambda q=query: run_all(raw, naive(q)), repeats)
                floor = best(lambda q=query: run_all(raw, [bare(q)]), repeats)
                results["queries"].append({
                    "query": label, "url": f"/api/v1/stats/pmi?{query}", "groups": len(ours),
                    "endpoint_s": round(endpoint, 4), "same_answer_sql_s": round(same, 4),
                    "count_distinct_sql_s": round(first_way, 4), "bare_group_by_s": round(floor, 4),
                    "endpoint_over_same_answer_sql": round(endpoint / same, 2),
                    "endpoint_over_bare_group_by": round(endpoint / floor, 2),
                })  # fmt: skip
        finally:
            raw.close()
        db.engine.dispose()
    results["load_average"] = os.getloadavg()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--database", help="SQLAlchemy URL of an empty database (default: a SQLite temp file)"
    )
    parser.add_argument("--reset", action="store_true", help="empty the PostgreSQL database's schema first")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--output", help="write the figures there (JSON)")
    args = parser.parse_args()
    results = run(args.rows, args.database, args.reset, args.repeats)
    text = json.dumps(results, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
