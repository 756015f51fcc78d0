"""Never one seat too many on the bus, and no deadlock: two organisers (and the Soce team) adding,
enlarging and deleting stops, recording the actual counts, cutting the seats or deleting the whole
transport at the same time, with real commits, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from core.auth.models import Role
from core.extensions import db
from core.retry import is_conflict
from pmi.transports import services
from pmi.transports.models import Transport, TransportStop
from tests.factories import PASSWORD, api_token, make_user
from tests.plugins.pmi import (
    make_school,
    make_transport,
    make_volunteer,
    organiser,
    stop_data,
    transport_data,
)

REQUESTS = 40


def _setup(committed_db, seats: int) -> tuple[int, list[str], list[str]]:
    first, _ = make_volunteer("paris", Role.ORGANISER, name="Organisatrice Une")
    second, _ = make_volunteer("paris", Role.ORGANISER, name="Organisateur Deux")
    admin = make_user(Role.ADMIN)
    transport = services.create_transport(first, transport_data(seats=seats))
    # One school per request: a school is on a bus once (pmi.transports.services._check_stop).
    schools = [make_school(name=f"Lycée Concurrent {i}").uai for i in range(REQUESTS)]
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
        body = response.get_json(silent=True) or {}
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
                "school_uai": schools[i % REQUESTS],
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
             for uai in schools[:4]]  # fmt: skip
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


@contextmanager
def conflicts_seen() -> Iterator[list[str]]:
    """Deadlocks and lost snapshots the database reported meanwhile (core.retry would hide them behind a
    second attempt: the lock order must not need one)."""
    seen: list[str] = []

    def on_error(context) -> None:  # noqa: ANN001
        if is_conflict(context.sqlalchemy_exception):
            seen.append(str(context.original_exception).splitlines()[0])

    event.listen(db.engine, "handle_error", on_error)
    try:
        yield seen
    finally:
        event.remove(db.engine, "handle_error", on_error)


def _race(app, calls: list, label: str, transport_id: int | None = None):  # noqa: ANN001, ANN202
    """Fire the calls at once; the database must report no deadlock nor lost snapshot on the way.
    Returns the (status, code) answers, their count, and the transport's (seats, taken, on board)."""
    with conflicts_seen() as conflicts:
        results = _run(app, calls)
    statuses = Counter(status for status, _ in results)
    board = _seats_on_board(transport_id) if transport_id else None
    print(f"\n[{db.engine.dialect.name}] {label}: {dict(statuses)} conflicts={len(conflicts)}"
          + (f" seats, taken, on board={board}" if board else ""))  # fmt: skip
    assert conflicts == []
    return results, statuses, board


def _with_stops(committed_db, seats: int = 60) -> tuple[int, list[str], list[int], list[str]]:  # noqa: ANN001
    transport_id, emails, schools = _setup(committed_db, seats=seats)
    first = db.session.scalar(select(Transport).where(Transport.id == transport_id)).created_by
    stops = [services.add_stop(first, transport_id, {"school_uai": uai, "pickup_time": dt.time(7, 30),
                                                     "female": 5, "male": 5, "teachers": 0}).id
             for uai in schools[:4]]  # fmt: skip
    committed_db.commit()
    return transport_id, emails, stops, schools


def _signed_in(app, email: str):  # noqa: ANN001, ANN202
    """A page client with its session, made before the race (signing in is not what is raced)."""
    client = app.test_client()
    assert client.post("/connexion", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


@pytest.mark.parametrize("through", ["api", "page"])
def test_deleting_a_transport_while_its_stops_change_never_deadlocks(app, committed_db, through):
    """The probe's "delete racing stop edits deadlocked into a 503": the deletion removed the stops, then
    waited for the transport row an edit held while it waited for a stop. Both now lock the transport
    first: no deadlock, no 5xx, and nothing of the transport is left."""
    transport_id, emails, stops, schools = _with_stops(committed_db)
    client = app.test_client()
    tokens = [api_token(client, email) for email in emails]
    base = f"/api/v1/transports/{transport_id}"

    def edit(i: int):  # noqa: ANN202
        stop, headers = stops[i % 4], tokens[i % len(tokens)]
        if i % 4 == 3:
            return lambda c: c.delete(f"{base}/stops/{stop}", headers=headers)
        if i % 4 == 2:
            return lambda c: c.post(f"{base}/stops", headers=headers, json={
                "school_uai": schools[i % REQUESTS], "pickup_time": "07:45", "female": 1, "teachers": 1})  # fmt: skip
        return lambda c: c.patch(f"{base}/stops/{stop}", json={"female": 6 + i, "actual_male": i},
                                 headers=headers)  # fmt: skip

    page = _signed_in(app, emails[0])

    def delete(c):  # noqa: ANN001, ANN202
        if through == "api":
            return c.delete(base, headers=tokens[0])
        return page.post(f"/pmi/transports/{transport_id}/supprimer")

    calls = [edit(i) for i in range(8)] + [delete] + [edit(i) for i in range(8, 16)]
    results, statuses, _ = _race(app, calls, f"delete ({through}) among 16 stop changes")
    assert statuses[204 if through == "api" else 302] >= 1
    assert all(status < 500 and code != "conflict" for status, code in results), results
    db.session.remove()
    assert db.session.get(Transport, transport_id) is None
    assert db.session.scalar(select(func.count()).select_from(TransportStop)) == 0


def test_actual_counts_recorded_while_stops_change_keep_seats_and_stops_consistent(app, committed_db):
    """The page of actual counts (after the trip) racing edits, additions and deletions of stops: each
    change waits for the transport's lock, so seats taken stay the sum of the planned stops."""
    transport_id, emails, stops, schools = _with_stops(committed_db)
    client = app.test_client()
    tokens = [api_token(client, email) for email in emails]
    base = f"/api/v1/transports/{transport_id}"
    actuals = {f"{name}_{stop}": "3" for stop in stops for name in services.ACTUAL_FIELDS}

    pages = [_signed_in(app, emails[i % 2]) for i in range(4)]

    def record(i: int):  # noqa: ANN202
        return lambda _: pages[i].post(f"/pmi/transports/{transport_id}/bilan", data=actuals)

    def change(i: int):  # noqa: ANN202
        stop, headers = stops[i % 4], tokens[i % len(tokens)]
        if i == 5:
            return lambda c: c.delete(f"{base}/stops/{stop}", headers=headers)
        if i % 3 == 0:
            return lambda c: c.post(f"{base}/stops", headers=headers, json={
                "school_uai": schools[i % REQUESTS], "pickup_time": "08:00", "male": 2})  # fmt: skip
        return lambda c: c.patch(f"{base}/stops/{stop}", json={"male": 5 + i % 3}, headers=headers)

    calls = [record(i) for i in range(4)] + [change(i) for i in range(12)]
    results, statuses, (seats, taken, used) = _race(
        app, calls, "actuals x4 among 12 stop changes", transport_id
    )
    assert taken == used <= seats
    # A recording whose form no longer matches the stops (one added or deleted first) is refused whole.
    assert all(status in {200, 201, 204, 302, 404, 409, 422} for status, _ in results), results
    recorded = db.session.scalars(select(TransportStop).where(TransportStop.actual_female.is_not(None))).all()
    if statuses[302]:
        assert recorded and all(stop.actual_female == 3 for stop in recorded)
    else:  # every recording came after a change of the stops: none left half-written counts
        assert recorded == []


def test_cutting_the_seats_while_stops_are_added_never_overfills(app, committed_db):
    """Fewer seats (PATCH of the transport, 55 to 59) racing new stops of 3 (40 seats taken of 60): the
    conditional UPDATEs of both sides keep seats taken within the seats, whoever wins."""
    transport_id, emails, _stops, schools = _with_stops(committed_db, seats=60)  # 40 taken
    client = app.test_client()
    tokens = [api_token(client, email) for email in emails]
    base = f"/api/v1/transports/{transport_id}"

    def call(i: int):  # noqa: ANN202
        headers = tokens[i % len(tokens)]
        if i % 4 == 0:
            return lambda c: c.patch(base, json={"seats": 55 + i // 4}, headers=headers)
        return lambda c: c.post(f"{base}/stops", headers=headers, json={
            "school_uai": schools[i % REQUESTS], "pickup_time": "08:15", "female": 2, "male": 1})  # fmt: skip

    calls = [call(i) for i in range(20)]
    results, _, (seats, taken, used) = _race(app, calls, "seats cut x5 among 15 new stops", transport_id)
    assert taken == used <= seats
    assert all(status in {200, 201, 409, 422} for status, _ in results), results
    refused = [code for status, code in results if status == 422]
    assert all(code == "validation_error" for code in refused)


def test_a_stop_added_after_the_counts_page_opened_is_never_recorded_as_zero(client, db_session):
    """The form covers the stops it showed; a stop added since is refused as « changed », not counted 0."""
    user = organiser()
    transport = make_transport(user)
    services.add_stop(user, transport.id, stop_data(make_school()))
    shown = {f"{name}_{stop.id}": "3" for stop in transport.stops for name in services.ACTUAL_FIELDS}
    services.add_stop(user, transport.id, stop_data(make_school(), pickup_time=dt.time(8, 30)))
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    response = client.post(f"/pmi/transports/{transport.id}/bilan", data=shown)
    assert response.status_code == 422 and "ont changé" in response.get_data(as_text=True)
    assert (
        db_session.scalars(select(TransportStop).where(TransportStop.actual_female.is_not(None))).all() == []
    )
