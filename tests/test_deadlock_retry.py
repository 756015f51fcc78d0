"""A deadlock (or a lost serialization, or SQLite's "database is locked") runs the view once more, then
answers 409 `conflict` — never the 503 of an unreachable database (core.retry).

Simulated errors on the first and second attempts through real views; then real ones: a deadlock
between two PostgreSQL connections, and a SQLite writer that lost its snapshot to another one.
"""

from __future__ import annotations

import io
import sqlite3
import threading
import time

import psycopg
import pytest
from flask import g
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from core import locking, mail
from core.extensions import db
from core.retry import MESSAGE, is_conflict, retried_once
from pmi import interventions
from pmi.models import Intervention
from pmi.transports import services
from pmi.transports.models import Transport, TransportStop
from tests.factories import PASSWORD, api_token
from tests.plugins.pmi import log, make_school, make_transport, make_volunteer, organiser, stop_data

CONFLICT = {"error": {"code": "conflict", "message": MESSAGE, "fields": {}}}


def deadlock() -> OperationalError:
    return OperationalError("UPDATE transports …", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def sqlite_busy(code: int) -> OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = code
    return OperationalError("UPDATE transports …", {}, error)


class Losing:
    """Wraps a service: its first `losses` calls do their work, then lose as to a deadlock."""

    def __init__(self, service, losses: int, error=deadlock) -> None:  # noqa: ANN001
        self.service, self.losses, self.error, self.calls = service, losses, error, 0

    def __call__(self, *args, **kwargs):  # noqa: ANN204
        self.calls += 1
        result = self.service(*args, **kwargs)
        if self.calls <= self.losses:
            raise self.error()
        return result


@pytest.fixture
def bus(db_session):
    """A transport of an organiser's GR, a school, the organiser."""
    user = organiser("paris")
    return make_transport(user, seats=50), make_school(), user


def stops_and_seats(transport_id: int) -> tuple[int, int]:
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).where(TransportStop.transport_id == transport_id))
    return count, db.session.get(Transport, transport_id).seats_taken


def add_stop_json(school) -> dict:  # noqa: ANN001
    return {"school_uai": school.uai, "pickup_time": "07:45", "female": 10, "male": 12, "teachers": 2}


def test_conflicts_are_told_apart_from_a_lost_database():
    assert is_conflict(deadlock())
    assert is_conflict(
        OperationalError("COMMIT", {}, psycopg.errors.SerializationFailure("could not serialize"))
    )
    assert is_conflict(sqlite_busy(5)) and is_conflict(sqlite_busy(517))  # BUSY, BUSY_SNAPSHOT
    assert not is_conflict(
        OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection"))
    )
    assert not is_conflict(sqlite_busy(10))  # SQLITE_IOERR
    assert not is_conflict(ValueError("deadlock detected"))


@pytest.mark.parametrize("error", [deadlock, lambda: sqlite_busy(517)], ids=["deadlock", "sqlite-snapshot"])
def test_a_deadlock_on_the_first_attempt_is_retried_and_the_request_goes_through(
    client, bus, monkeypatch, error
):
    transport, school, user = bus
    losing = Losing(services.add_stop, losses=1, error=error)
    monkeypatch.setattr(services, "add_stop", losing)
    response = client.post(
        f"/api/v1/transports/{transport.id}/stops",
        json=add_stop_json(school),
        headers=api_token(client, user.email),
    )
    assert response.status_code == 201, response.get_json()
    # The first attempt's stop and seats were rolled back with it: one stop, its 24 seats once.
    assert losing.calls == 2 and stops_and_seats(transport.id) == (1, 24)


def test_a_second_deadlock_answers_409_conflict_and_leaves_nothing(client, bus, monkeypatch):
    transport, school, user = bus
    losing = Losing(services.add_stop, losses=2)
    monkeypatch.setattr(services, "add_stop", losing)
    response = client.post(
        f"/api/v1/transports/{transport.id}/stops",
        json=add_stop_json(school),
        headers=api_token(client, user.email),
    )
    assert response.status_code == 409 and response.get_json() == CONFLICT
    assert losing.calls == 2 and stops_and_seats(transport.id) == (0, 0)


@pytest.mark.parametrize(("losses", "status"), [(1, 302), (2, 409)])
def test_pages_are_retried_too_and_say_so_in_french(client, bus, monkeypatch, losses, status):
    transport, school, user = bus
    monkeypatch.setattr(services, "add_stop", Losing(services.add_stop, losses=losses))
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    response = client.post(
        f"/pmi/transports/{transport.id}",
        data={
            "school_uai": school.uai,
            "pickup_time": "07:45",
            "female": "10",
            "male": "12",
            "teachers": "2",
        },
    )
    assert response.status_code == status
    if status == 409:
        assert '<html lang="fr">' in response.text and MESSAGE in response.text
    assert stops_and_seats(transport.id) == ((1, 24) if status == 302 else (0, 0))


def test_a_lost_database_is_not_retried_and_stays_a_503(client, bus, monkeypatch):
    transport, school, user = bus

    def lost(*_args, **_kwargs):  # noqa: ANN202
        calls.append(1)
        raise OperationalError(
            "UPDATE transports …", {}, psycopg.OperationalError("server closed the connection")
        )

    calls: list[int] = []
    monkeypatch.setattr(services, "add_stop", lost)
    response = client.post(
        f"/api/v1/transports/{transport.id}/stops",
        json=add_stop_json(school),
        headers=api_token(client, user.email),
    )
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "unavailable"
    assert calls == [1]


def test_a_view_that_committed_writes_before_losing_is_not_run_again(app, committed_db, monkeypatch):
    """Running it again would do twice what was committed: 409 at once, the committed stop kept."""
    user = organiser("paris")
    transport = make_transport(user, seats=50)
    transport_id, school = transport.id, make_school()
    committed_db.commit()
    real = services.add_stop
    calls: list[int] = []

    def commits_then_loses(*args, **kwargs) -> None:
        calls.append(1)
        real(*args, **kwargs)
        db.session.commit()
        raise deadlock()

    monkeypatch.setattr(services, "add_stop", commits_then_loses)
    client = app.test_client()
    response = client.post(
        f"/api/v1/transports/{transport.id}/stops",
        json=add_stop_json(school),
        headers=api_token(client, user.email),
    )
    assert response.status_code == 409 and response.get_json() == CONFLICT
    assert calls == [1]
    db.session.remove()
    assert stops_and_seats(transport_id) == (1, 24)


def test_a_lost_attempt_forgets_its_mail_and_rewinds_the_upload(app, db_session):
    attempts: list[bytes] = []

    def view():  # noqa: ANN202
        from flask import request

        attempts.append(request.files["file"].read())
        mail.queue_mail("a@example.org", "Essai", "auth/password_changed", name="A", reset_url="x")
        if len(attempts) == 1:
            raise deadlock()
        return "ok"

    upload = {"file": (io.BytesIO(b"date;type\n"), "interventions.csv")}
    with app.test_request_context("/", method="POST", data=upload, content_type="multipart/form-data"):
        assert retried_once(view)() == "ok"
        assert attempts == [b"date;type\n", b"date;type\n"]
        assert len(g.get("_queued_mail_ids", [])) == 1  # the first attempt's message went with its rollback


# --- Real conflicts, with committed transactions -----------------------------------------------------


def _wait_for_lock_wait(engine, timeout: float = 10.0) -> None:  # noqa: ANN001
    """Until some backend of this database waits for a lock (the request is stuck on the held stop)."""
    deadline = time.monotonic() + timeout
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )  # fmt: skip
            )
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError("the request never waited for the lock")


@pytest.mark.postgres
def test_a_real_deadlock_between_two_connections_is_retried(app, committed_db, monkeypatch):
    """Another connection holds a stop, the request holds its transport and waits for the stop, the
    other connection then waits for the transport: PostgreSQL aborts the request (its deadlock check
    comes first), which runs again once the other one has committed, and answers 200."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    user = organiser("paris")
    transport = make_transport(user, seats=50)
    stop = services.add_stop(user, transport.id, stop_data(make_school()))  # 24 seats
    transport_id, stop_id = transport.id, stop.id
    committed_db.commit()
    client = app.test_client()
    headers = api_token(client, user.email)
    attempts = Losing(services.update_stop, losses=0)
    monkeypatch.setattr(services, "update_stop", attempts)
    deadlocks: list[str] = []

    def on_error(context) -> None:  # noqa: ANN001
        if is_conflict(context.sqlalchemy_exception):
            deadlocks.append(str(context.original_exception))

    event.listen(db.engine, "handle_error", on_error)
    responses = []
    other = db.engine.connect()
    try:
        with other.begin():
            # The request's check (after the default 1 s) finds the cycle before this one's.
            other.exec_driver_sql("SET LOCAL deadlock_timeout = '10s'")
            other.execute(
                text("UPDATE transport_stops SET teachers = teachers WHERE id = :id"), {"id": stop_id}
            )
            request = threading.Thread(
                target=lambda: responses.append(
                    app.test_client().patch(
                        f"/api/v1/transports/{transport_id}/stops/{stop_id}",
                        json={"female": 11},
                        headers=headers,
                    )
                )
            )
            request.start()
            _wait_for_lock_wait(db.engine)
            # Waits for the request's transport lock until PostgreSQL aborts the request.
            other.execute(
                text("UPDATE transports SET seats_taken = seats_taken WHERE id = :id"), {"id": transport_id}
            )
        request.join(timeout=30)
    finally:
        other.close()
        event.remove(db.engine, "handle_error", on_error)
    [response] = responses
    assert response.status_code == 200, response.get_json()
    assert attempts.calls == 2 and len(deadlocks) == 1 and "deadlock detected" in deadlocks[0]
    db.session.remove()
    assert db.session.get(TransportStop, stop_id).female == 11
    assert db.session.get(Transport, transport_id).seats_taken == 25


def test_a_sqlite_writer_that_lost_its_snapshot_is_retried(app, committed_db, sqlite_file, monkeypatch):
    """The request read the intervention; another connection wrote and committed before the request's
    first write: SQLite refuses it at once (SQLITE_BUSY_SNAPSHOT), which was a 503. It runs again."""
    user, _ = make_volunteer()
    intervention_id = log(user, make_school()).id
    committed_db.commit()
    real = interventions.update_intervention
    calls: list[int] = []

    def another_writer_first(*args, **kwargs):  # noqa: ANN202
        calls.append(1)
        if len(calls) == 1:
            other = sqlite3.connect(sqlite_file, isolation_level=None)
            other.execute(
                "UPDATE interventions SET notes = 'Autre écriture' WHERE id = ?", (intervention_id,)
            )
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(interventions, "update_intervention", another_writer_first)
    # The service takes the write lock before it reads (core.locking), which avoids exactly this: without
    # it, as in any code that reads and then writes, the retry is what saves the request.
    monkeypatch.setattr(locking, "begin_write", lambda: None)
    client = app.test_client()
    response = client.patch(
        f"/api/v1/interventions/{intervention_id}", json={"notes": "Notre écriture"},
        headers=api_token(client, user.email),
    )  # fmt: skip
    assert response.status_code == 200, response.get_json()
    assert calls == [1, 1]
    db.session.remove()
    assert db.session.get(Intervention, intervention_id).notes == "Notre écriture"
