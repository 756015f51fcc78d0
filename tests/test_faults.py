"""When things outside the code fail: the database refuses or drops mid-request (a French 503 page or
the API's JSON error, Retry-After, and nothing half-written), SQLite waits for a lock instead of failing,
two sign-ups race for one address, the geocoder is down or slow during a registration."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from core.auth import services as auth_services
from core.auth.models import Role, User
from core.extensions import db
from core.mail import OutgoingMail
from jou.bookings.models import Booking
from jou.models import Site, Slot
from tests.factories import api_token, make_edition, make_site, make_user, slot_data
from tests.plugins.jou import payload

REFUSING_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"  # discard port: refused
UNAVAILABLE = "Service momentanément indisponible, réessayez dans un instant."


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


# --- The database is unreachable ----------------------------------------------------------------------


def test_a_refusing_database_gives_a_french_503_page_with_retry_after(other_app):
    client = other_app(SQLALCHEMY_DATABASE_URI=REFUSING_DATABASE).test_client()
    response = client.post("/connexion", data={"email": "a@example.org", "password": "whatever-123"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert '<html lang="fr">' in response.text and "Service momentanément indisponible" in response.text
    assert "Rien n'a été enregistré" in response.text
    assert client.get("/").status_code == 503  # any page that reads


def test_a_refusing_database_gives_the_api_error_format(other_app):
    client = other_app(SQLALCHEMY_DATABASE_URI=REFUSING_DATABASE).test_client()
    response = client.post("/api/v1/auth/token", json={"email": "a@example.org", "password": "x"})
    assert response.status_code == 503
    assert response.get_json() == {"error": {"code": "unavailable", "message": UNAVAILABLE, "fields": {}}}
    assert int(response.headers["Retry-After"]) > 0


class DropOn:
    """Makes the database 'go away' on the first statement that starts with `prefix`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.upper()
        self.fired = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if not self.fired and statement.lstrip().upper().startswith(self.prefix):
            self.fired = True
            raise OperationalError(
                statement, parameters, Exception("server closed the connection unexpectedly")
            )


@pytest.fixture
def drop_on(committed_db):
    hooks = []

    def install(prefix: str) -> DropOn:
        hook = DropOn(prefix)
        event.listen(db.engine, "before_cursor_execute", hook)
        hooks.append(hook)
        return hook

    yield install
    for hook in hooks:
        event.remove(db.engine, "before_cursor_execute", hook)


def test_a_sign_up_cut_off_midway_leaves_no_account(app, committed_db, drop_on):
    client = app.test_client()
    hook = drop_on("INSERT INTO outgoing_mail")  # after the account's INSERT
    response = client.post(
        "/inscription",
        data={"name": "Camille", "email": "camille@example.org", "password": "long-enough-pw",
              "password_confirm": "long-enough-pw"},
    )  # fmt: skip
    assert hook.fired
    assert response.status_code == 503 and "Rien n'a été enregistré" in response.text
    db.session.remove()
    assert count(User) == 0 and count(OutgoingMail) == 0
    # The database is back: the same form goes through.
    again = client.post(
        "/inscription",
        data={"name": "Camille", "email": "camille@example.org", "password": "long-enough-pw",
              "password_confirm": "long-enough-pw"},
    )  # fmt: skip
    assert again.status_code == 302
    db.session.remove()
    assert count(User) == 1


def test_a_booking_cut_off_after_taking_seats_leaves_neither_booking_nor_seats(app, committed_db, drop_on):
    today = date.today()
    edition = make_edition(today.year + 1, booking_opens=today - timedelta(days=1))
    site = make_site(
        edition=edition, status="approved", slots=[slot_data(day=edition.saturday, audience="public")]
    )
    slot_id = site.slots[0].id
    db.session.commit()
    hook = drop_on("INSERT INTO outgoing_mail")  # booking row, seats UPDATE and audit are done by then
    response = app.test_client().post(
        f"/api/v1/slots/{slot_id}/bookings",
        json={"party_size": 3, "name": "Famille Durand", "email": "durand@example.org", "consent": True},
    )
    assert hook.fired
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "unavailable"
    db.session.remove()
    assert count(Booking) == 0
    assert db.session.get(Slot, slot_id).seats_taken == 0


# --- SQLite: WAL and a busy timeout ---------------------------------------------------------------------


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app, sqlite_file):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_writer_waits_for_another_writer_instead_of_failing(app, sqlite_file):
    other = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    letting_go = threading.Event()

    def let_go() -> None:
        letting_go.set()  # set while the lock is still held: an insert done before it did not wait
        other.rollback()

    release = threading.Timer(0.3, let_go)
    release.start()
    try:
        with app.app_context(), db.engine.connect() as conn, conn.begin() as transaction:
            # Would raise "database is locked" at once without busy_timeout.
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('busy-test')"))
            assert letting_go.is_set(), "the insert went through while the other writer held the lock"
            written = "SELECT count(*) FROM alembic_version WHERE version_num = 'busy-test'"
            assert conn.execute(text(written)).scalar() == 1
            transaction.rollback()
    finally:
        release.join()
        other.close()


# --- Two sign-ups for one address -------------------------------------------------------------------------


def test_create_user_losing_the_race_gets_a_french_conflict(db_session, monkeypatch):
    make_user(Role.FACTORY, email="twin@example.org")
    # Both requests passed the "already taken?" check before either inserted.
    monkeypatch.setattr(auth_services, "find_user_by_email", lambda email: None)
    with pytest.raises(auth_services.Conflict) as caught:
        auth_services.create_user("twin@example.org", "long-enough-pw", Role.FACTORY)
    assert caught.value.fields == {"email": ["Adresse déjà utilisée."]}
    assert caught.value.message == "Un compte existe déjà avec cette adresse."
    assert db_session.scalar(select(func.count()).select_from(User)) == 1  # the session goes on


def test_a_sign_up_losing_the_race_answers_like_any_taken_address(client, db_session, monkeypatch):
    make_user(Role.FACTORY, email="twin@example.org", confirmed=False)
    monkeypatch.setattr(auth_services, "find_user_by_email", lambda email: None)
    response = client.post(
        "/inscription",
        data={"name": "Twin", "email": "twin@example.org", "password": "long-enough-pw",
              "password_confirm": "long-enough-pw"},
    )  # fmt: skip
    assert response.status_code == 302 and "/verifiez-vos-emails" in response.headers["Location"]


def test_simultaneous_sign_ups_make_one_account_and_no_server_error(app, committed_db):
    form = {"name": "Twin", "email": "race@example.org", "password": "long-enough-pw",
            "password_confirm": "long-enough-pw"}  # fmt: skip
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def sign_up() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/inscription", data=form).status_code)

    threads = [threading.Thread(target=sign_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    # Each gets the "check your e-mail" page; on SQLite a writer that lost its snapshot may be told to retry.
    assert set(statuses) <= {302, 409, 503} and 500 not in statuses, statuses
    if db.engine.dialect.name == "postgresql":
        assert set(statuses) == {302}


# --- The geocoder is down or slow --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_registration_goes_through_when_the_geocoder_fails(client, db_session, ban_server, mode):
    today = date.today()
    make_edition(
        2027, registration_opens=today - timedelta(days=10), registration_closes=today + timedelta(days=10)
    )
    owner = make_user(Role.FACTORY)
    ban_server.mode = mode  # "slow": answers after 1.5 s, the geocoder gives up after GEOCODER_TIMEOUT=0.5 s
    data = payload(street="2 Place du Capitole", postcode="31000", city="Toulouse")
    response = client.post("/api/v1/sites", json=data, headers=api_token(client, owner.email))
    assert response.status_code == 201, response.get_json()
    assert ban_server.requests, "the online geocoder was asked"
    site = db_session.get(Site, response.get_json()["id"])
    assert site.geo_source == "gazetteer" and site.department == "31"
    assert site.lat is not None
