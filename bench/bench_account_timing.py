"""Do the forgotten-password and sign-up answers tell, by their timing, whether an address has an account?

    .venv/bin/python bench/bench_account_timing.py                          # throw-away SQLite, inline mail
    .venv/bin/python bench/bench_account_timing.py --delivery worker        # the production default
    .venv/bin/python bench/bench_account_timing.py --database postgresql+psycopg://postgres@127.0.0.1:5432/DB \\
        --reset                                                             # empties DB's schema first

One run migrates an empty database, creates one confirmed account, then posts, in a shuffled order, N
forgotten-password requests for that account's address and N for addresses without an account (a new one
each time), then the same for sign-up (M each: an address in use, or a new one). Each request is timed
through Flask's test client, in the process, with the real argon2 cost and the configured MAIL_DELIVERY
(`inline`: the request also writes its e-mail to the outbox; `worker`: it only queues it). CSRF and rate
limits are off: they cost the same either way.

For each form: median and p99 of the known and unknown addresses, and the accuracy of the best
one-threshold classifier ("slower than t: known", or faster), fitted on one half of the requests and scored
on the other — 50 % means the timing of one request says nothing. Figures: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "testing")

KNOWN = "owner@bench.example.org"
PASSWORD = "Dix-huit lapins sautent"
WARM_UP = 10


def build_app(database_url: str, reset: bool, delivery: str, outbox: str):  # noqa: ANN201
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
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "GEOCODER": "offline",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "MAIL_SERVER": "",
            "MAIL_OUTBOX_DIR": outbox,
            "MAIL_DELIVERY": delivery,
        }
    )
    with app.app_context():
        upgrade()
    return app


def seed(app) -> None:  # noqa: ANN001
    from core.auth.models import Role
    from core.auth.services import create_user
    from core.extensions import db

    with app.app_context():
        create_user(KNOWN, PASSWORD, Role.FACTORY, "Camille Bench")
        db.session.commit()


def fresh_address() -> str:
    return f"new-{uuid.uuid4().hex[:12]}@bench.example.org"


def forgot_form(known: bool) -> dict:
    return {"email": KNOWN if known else fresh_address()}


def signup_form(known: bool) -> dict:
    return {
        "name": "Camille Bench",
        "email": KNOWN if known else fresh_address(),
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }


FORMS = {"forgot_password": ("/mot-de-passe/oublie", forgot_form), "signup": ("/inscription", signup_form)}


def time_requests(app, form: str, count: int, rng: random.Random) -> list[tuple[bool, float]]:  # noqa: ANN001
    """(known, seconds) for count known and count unknown addresses, posted in a shuffled order."""
    path, make = FORMS[form]
    client = app.test_client()
    order = [True, False] * WARM_UP + rng.sample([True] * count + [False] * count, 2 * count)
    samples = []
    for known in order:
        data = make(known)
        start = time.perf_counter()
        response = client.post(path, data=data)
        elapsed = time.perf_counter() - start
        if response.status_code != 302:
            raise SystemExit(
                f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:500]}"
            )
        samples.append((known, elapsed))
    return samples[2 * WARM_UP :]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def fit_threshold(samples: list[tuple[bool, float]]) -> tuple[float, bool]:
    """The threshold t and direction (True: "slower than t is known") that classify samples best."""
    best = (0.0, 0.0, True)
    for _, t in samples:
        for slower_is_known in (True, False):
            right = sum((s > t) == (known if slower_is_known else not known) for known, s in samples)
            best = max(best, (right / len(samples), t, slower_is_known))
    return best[1], best[2]


def classifier_accuracy(samples: list[tuple[bool, float]]) -> float:
    """Fitted on the even-numbered requests, scored on the odd-numbered ones (the order was shuffled)."""
    train, test = samples[::2], samples[1::2]
    threshold, slower_is_known = fit_threshold(train)
    right = sum((s > threshold) == (known if slower_is_known else not known) for known, s in test)
    return right / len(test)


def summarise(samples: list[tuple[bool, float]]) -> dict:
    known = [s for k, s in samples if k]
    unknown = [s for k, s in samples if not k]
    return {
        "requests_each": len(known),
        "known_median_ms": round(statistics.median(known) * 1000, 2),
        "known_p99_ms": round(percentile(known, 0.99) * 1000, 2),
        "unknown_median_ms": round(statistics.median(unknown) * 1000, 2),
        "unknown_p99_ms": round(percentile(unknown, 0.99) * 1000, 2),
        "classifier_accuracy": round(classifier_accuracy(samples), 3),
    }


def run(
    database_url: str, requests: int, signups: int, delivery: str, reset: bool = False, seed_value: int = 7
) -> dict:
    rng = random.Random(seed_value)
    with tempfile.TemporaryDirectory() as outbox:
        app = build_app(database_url, reset, delivery, outbox)
        seed(app)
        results = {"delivery": delivery, "database": database_url.split(":", 1)[0]}
        for form, count in (("forgot_password", requests), ("signup", signups)):
            results[form] = summarise(time_requests(app, form, count, rng))
        with app.app_context():
            from core.extensions import db

            db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="forgotten-password requests of each kind")
    parser.add_argument(
        "--signups", type=int, default=60, help="sign-ups of each kind (argon2: ~0.25 s each)"
    )
    parser.add_argument("--delivery", choices=("inline", "worker"), default="inline")
    parser.add_argument("--database", help="a database URL (default: a throw-away SQLite file)")
    parser.add_argument("--reset", action="store_true", help="empty the PostgreSQL database's schema first")
    parser.add_argument("--output", help="write the figures there (JSON)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        results = run(url, args.requests, args.signups, args.delivery, args.reset)
    text = json.dumps(results, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
