"""Never one seat too many on the bus: two organisers (and the Soce team) adding and enlarging stops at
the same time, with real commits, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from sqlalchemy import func, select

from core.auth.models import Role
from core.extensions import db
from pmi.transports import services
from pmi.transports.models import Transport, TransportStop
from tests.factories import api_token, make_user
from tests.test_pmi_interventions import make_school, make_volunteer
from tests.test_transports import transport_data

REQUESTS = 40


def _setup(committed_db, seats: int) -> tuple[int, list[str], list[str]]:
    first, _ = make_volunteer("paris", Role.ORGANISER, name="Organisatrice Une")
    second, _ = make_volunteer("paris", Role.ORGANISER, name="Organisateur Deux")
    admin = make_user(Role.ADMIN)
    transport = services.create_transport(first, transport_data(seats=seats))
    schools = [make_school(name=f"Lycée Concurrent {i}").uai for i in range(4)]
    committed_db.commit()
    return transport.id, [first.email, second.email, admin.email], schools


def _run(app, calls) -> list[tuple[int, str | None]]:  # noqa: ANN001
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def one(call) -> None:  # noqa: ANN001
        client = app.test_client()
        barrier.wait()
        response = call(client)
        body = response.get_json() or {}
        with lock:
            results.append((response.status_code, body.get("error", {}).get("code")))

    threads = [threading.Thread(target=one, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _seats_on_board(transport_id: int) -> tuple[int, int, int]:
    db.session.remove()
    transport = db.session.get(Transport, transport_id)
    used = db.session.scalar(
        select(
            func.coalesce(
                func.sum(
                    TransportStop.female
                    + TransportStop.male
                    + TransportStop.unspecified
                    + TransportStop.teachers
                ),
                0,
            )
        ).where(TransportStop.transport_id == transport_id)  # fmt: skip
    )
    return transport.seats, transport.seats_taken, used


def test_concurrent_stops_from_two_organisers_never_overfill(app, committed_db):
    transport_id, emails, schools = _setup(committed_db, seats=50)
    client = app.test_client()
    tokens = [api_token(client, email) for email in emails]

    def add(i: int):  # noqa: ANN202
        return lambda c: c.post(
            f"/api/v1/transports/{transport_id}/stops",
            json={
                "school_uai": schools[i % 4],
                "pickup_time": "07:30",
                "female": 2,
                "male": 2,
                "teachers": 1,
            },
            headers=tokens[i % len(tokens)],
        )

    results = _run(app, [add(i) for i in range(REQUESTS)])
    seats, taken, used = _seats_on_board(transport_id)
    statuses = Counter(status for status, _ in results)
    print(f"\n[{db.engine.dialect.name}] add-stop requests={REQUESTS} created={statuses[201]} "
          f"refused={REQUESTS - statuses[201]} seats={seats} taken={taken} on_board={used}")  # fmt: skip
    assert statuses[201] == 10
    assert taken == used == seats == 50
    assert all(status == 409 and code == "bus_full" for status, code in results if status != 201)


def test_concurrent_enlargements_of_stops_never_overfill(app, committed_db):
    transport_id, emails, schools = _setup(committed_db, seats=60)
    first = db.session.scalar(select(Transport).where(Transport.id == transport_id)).created_by
    stops = [services.add_stop(first, transport_id, {"school_uai": uai, "pickup_time": dt.time(7, 30),
                                                     "female": 5, "male": 5, "teachers": 0}).id
             for uai in schools]  # fmt: skip
    committed_db.commit()
    client = app.test_client()
    tokens = [api_token(client, email) for email in emails]

    # Four stops of 10 (40 taken, 20 left); each request asks +5 on one stop: at most 4 can pass.
    def grow(i: int):  # noqa: ANN202
        stop_id = stops[i % 4]
        return lambda c: c.patch(
            f"/api/v1/transports/{transport_id}/stops/{stop_id}",
            json={"female": 5 + 5 * (1 + i // 4)},
            headers=tokens[i % len(tokens)],
        )

    results = _run(app, [grow(i) for i in range(24)])
    seats, taken, used = _seats_on_board(transport_id)
    statuses = Counter(status for status, _ in results)
    print(f"\n[{db.engine.dialect.name}] patch requests=24 ok={statuses[200]} statuses={dict(statuses)} "
          f"seats={seats} taken={taken} on_board={used}")  # fmt: skip
    assert taken == used <= seats
    assert statuses[200] >= 1
    assert all(status in {200, 409} for status, _ in results)
