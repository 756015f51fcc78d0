"""Accounts under abuse: signing out ends the session on the server (a copied cookie dies with it),
guessable passwords are refused everywhere a password is set, and the forms that take an address do the
same work whether or not it has an account. (A reset lifting the sign-in lockout: test_login_lockout.py.)"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from core.auth import services
from core.auth.models import Role, UserSession
from core.auth.services import WEAK_PASSWORD, find_user_by_email, make_token
from core.extensions import db
from fixtures.loader import DEMO_PASSWORD
from tests.factories import PASSWORD, api_token, make_user
from tests.plugins.mail import text_body

NEW_PASSWORD = "another-long-password"
WEAK = ["aaaaaaaaaa", " " * 10, "1234567890", "password12"]
WEAK_SENTENCE = "Ce mot de passe est trop courant ou trop facile à deviner."


def address() -> str:
    return f"someone-{uuid.uuid4().hex[:10]}@usine.example"


def log_in(client, email: str, password: str = PASSWORD):  # noqa: ANN001, ANN201
    return client.post("/connexion", data={"email": email, "password": password})


def copy_of_cookie(app, client):  # noqa: ANN001, ANN201
    """Another browser holding the same session cookie (copied, stolen, or kept from before)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in(client) -> bool:  # noqa: ANN001
    response = client.get("/compte")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def sessions_of(user) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).where(UserSession.user_id == user.id))


# --- Sessions ------------------------------------------------------------------------------------


def test_a_copied_session_cookie_stops_working_after_logout(app, client):
    user = make_user()
    log_in(client, user.email)
    thief = copy_of_cookie(app, client)
    assert signed_in(thief)  # the same cookie, so far the same session

    client.post("/deconnexion")
    assert not signed_in(client)
    response = thief.get("/compte")
    assert response.status_code == 302 and response.location.startswith("/connexion")
    assert sessions_of(user) == 0


def test_signing_out_on_one_device_leaves_the_others_signed_in(app, client):
    user = make_user()
    phone = app.test_client()
    log_in(client, user.email)
    log_in(phone, user.email)
    assert sessions_of(user) == 2
    client.post("/deconnexion")
    assert signed_in(phone) and not signed_in(client)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client):
    user = make_user()
    phone = app.test_client()
    log_in(client, user.email)
    log_in(phone, user.email)
    copy = copy_of_cookie(app, phone)
    client.post(
        "/compte/mot-de-passe",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert signed_in(client)
    assert not signed_in(phone) and not signed_in(copy)
    assert sessions_of(user) == 1


def test_a_reset_ends_every_session_of_the_account(app, client):
    user = make_user()
    laptop = app.test_client()
    log_in(laptop, user.email)
    copy = copy_of_cookie(app, laptop)
    path = f"/mot-de-passe/nouveau/{make_token(user, 'reset')}"
    assert (
        client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code
        == 302
    )
    assert not signed_in(laptop) and not signed_in(copy)
    assert sessions_of(user) == 0


def test_deactivation_ends_sessions_and_api_tokens_for_good(app, client, db_session):
    user = make_user()
    log_in(client, user.email)
    bearer = api_token(client, user.email)
    copy = copy_of_cookie(app, client)
    services.deactivate_user(user)
    db_session.commit()
    assert sessions_of(user) == 0
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    user.is_active_account = True  # reactivated: what was issued before does not come back
    db_session.commit()
    assert not signed_in(client) and not signed_in(copy)
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_a_sign_in_lasts_at_most_the_session_lifetime(app, client, monkeypatch):
    user = make_user()
    log_in(client, user.email)
    assert signed_in(client)
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(days=31))
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    row.created_at -= timedelta(days=31, minutes=1)
    db.session.flush()
    assert not signed_in(client)
    log_in(client, user.email)  # a new sign-in takes the expired row away
    assert signed_in(client) and sessions_of(user) == 1


def test_a_forged_cookie_naming_a_user_without_a_session_is_anonymous(client):
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_soce_session"] = "made-up"
    assert not signed_in(client)


def test_sessions_are_stored_hashed(client):
    user = make_user()
    log_in(client, user.email)
    with client.session_transaction() as session:
        key = session["_soce_session"]
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert key not in row.key_hash and len(row.key_hash) == 64


# --- Password strength ---------------------------------------------------------------------------


def assert_weak_password_page(response) -> None:  # noqa: ANN001
    assert response.status_code == 422
    errors = re.search(r'id="password-errors"[^>]*>(.*?)</', response.text, re.S)
    assert errors and WEAK_SENTENCE in errors.group(1), response.text


@pytest.mark.parametrize("password", WEAK)
def test_guessable_passwords_are_refused_at_sign_up(client, password):
    email = address()
    form = {"name": "Alice Martin", "email": email, "password": password, "password_confirm": password}
    assert_weak_password_page(client.post("/inscription", data=form))
    assert find_user_by_email(email) is None


@pytest.mark.parametrize("password", WEAK)
def test_guessable_passwords_are_refused_at_reset(client, password):
    user = make_user()
    path = f"/mot-de-passe/nouveau/{make_token(user, 'reset')}"
    assert_weak_password_page(client.post(path, data={"password": password, "password_confirm": password}))
    assert client.get(path).status_code == 200  # the link still works: nothing was changed


@pytest.mark.parametrize("password", WEAK)
def test_guessable_passwords_are_refused_on_the_account_page(client, password):
    user = make_user()
    log_in(client, user.email)
    response = client.post(
        "/compte/mot-de-passe",
        data={"current_password": PASSWORD, "password": password, "password_confirm": password},
    )
    assert_weak_password_page(response)
    client.post("/deconnexion")
    assert log_in(client, user.email).status_code == 302  # the old password still holds


@pytest.mark.parametrize("password", WEAK)
def test_guessable_passwords_are_refused_by_flask_users_create(app, db_session, password):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "staff@soce.fr", "--password", password, "--role", "admin"]
    )
    assert result.exit_code == 1
    assert WEAK_SENTENCE in result.output
    assert find_user_by_email("staff@soce.fr") is None


def test_a_password_made_of_ones_own_address_or_name_is_refused(client):
    email = "jeanne.dupont@acierie.example"
    for password in (email, "jeanne.dupont", "JeanneDupont"):
        form = {"name": "Jeanne Dupont", "email": email, "password": password, "password_confirm": password}
        assert_weak_password_page(client.post("/inscription", data=form))


@pytest.mark.parametrize("password", [DEMO_PASSWORD, PASSWORD, NEW_PASSWORD, "Dix-huit lapins sautent"])
def test_passwords_nobody_would_guess_are_accepted(db_session, password):
    user = make_user(Role.ADMIN, email="admin@demo.soce.fr", password=password, name="Équipe Soce")
    assert services.authenticate(user.email, password) is user


def test_the_error_reaches_the_api_shape_too(db_session):
    with pytest.raises(services.ValidationFailed) as caught:
        services.check_password_strength("password12", "a@example.org")
    assert caught.value.fields == {"password": [WEAK_PASSWORD]}


# --- The same work for any address ---------------------------------------------------------------


class Work:
    """What one request did: its SQL statements (without their parameters; with MAIL_DELIVERY=inline,
    those of the delivery too), and its argon2 hashes and checks and zxcvbn strength checks."""

    def __init__(self, monkeypatch) -> None:  # noqa: ANN001
        self.statements: list[str] = []
        self.calls: Counter = Counter()
        for name, target in (("hash", services._hasher), ("verify", services._hasher)):
            monkeypatch.setattr(target, name, self._counting(name, getattr(target, name)))
        monkeypatch.setattr(services, "zxcvbn", self._counting("zxcvbn", services.zxcvbn))

    def _counting(self, name: str, function):  # noqa: ANN001, ANN202
        def counted(*args, **kwargs):  # noqa: ANN202
            self.calls[name] += 1
            return function(*args, **kwargs)

        return counted

    def record(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        # The suite's transactions are savepoints, opened lazily: when they start says nothing of the app.
        if "SAVEPOINT" not in statement:
            self.statements.append(" ".join(statement.split()))

    def of(self, request) -> tuple[list[str], Counter]:  # noqa: ANN001
        self.statements, self.calls = [], Counter()
        event.listen(db.engine, "before_cursor_execute", self.record)
        try:
            response = request()
        finally:
            event.remove(db.engine, "before_cursor_execute", self.record)
        assert response.status_code == 302, response.text
        return self.statements, self.calls


@pytest.fixture(params=["inline", "worker"])
def delivery(request, app, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", request.param)
    return request.param


def test_forgotten_password_does_the_same_work_for_any_address(client, monkeypatch, delivery):
    user = make_user(email=address())
    work = Work(monkeypatch)
    forgot = lambda email: lambda: client.post("/mot-de-passe/oublie", data={"email": email})  # noqa: E731
    work.of(forgot(address()))  # warm-up
    known = work.of(forgot(user.email))
    unknown = work.of(forgot(address()))
    assert known == unknown
    assert any(s.startswith("INSERT INTO outgoing_mail") for s in known[0])


@pytest.mark.parametrize("confirmed", [True, False])
def test_sign_up_does_the_same_work_for_a_taken_address(client, monkeypatch, delivery, confirmed):
    user = make_user(email=address(), confirmed=confirmed)
    work = Work(monkeypatch)

    def sign_up(email: str):  # noqa: ANN202
        form = {
            "name": "Alice Martin",
            "email": email,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        }
        return lambda: client.post("/inscription", data=form)

    work.of(sign_up(address()))  # warm-up
    taken = work.of(sign_up(user.email))
    new = work.of(sign_up(address()))
    assert taken == new
    assert taken[1] == Counter({"zxcvbn": 1, "hash": 1})
    assert any(s.startswith("INSERT INTO users") for s in taken[0])


def test_resend_confirmation_does_the_same_work_for_any_address(client, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", "worker")  # inline, a link goes out to one of them
    pending, confirmed = make_user(email=address(), confirmed=False), make_user(email=address())
    work = Work(monkeypatch)
    resend = lambda email: lambda: client.post("/inscription/renvoyer", data={"email": email})  # noqa: E731
    work.of(resend(address()))  # warm-up
    assert work.of(resend(pending.email)) == work.of(resend(confirmed.email)) == work.of(resend(address()))


def test_the_unknown_address_gets_a_note_and_the_inactive_account_no_link(client, smtp_server):
    user = make_user(email=address())
    user.is_active_account = False
    stranger = address()
    for email in (user.email, stranger):
        client.post("/mot-de-passe/oublie", data={"email": email})
        [note] = smtp_server.to(email)
        assert "aucun compte actif" in text_body(note) and "/mot-de-passe/nouveau/" not in text_body(note)


def test_mailed_links_ignore_the_host_the_request_came_with(client, smtp_server):
    user = make_user(email=address(), confirmed=False)
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    client.post("/mot-de-passe/oublie", data={"email": user.email}, headers=evil)
    client.post("/inscription/renvoyer", data={"email": user.email}, headers=evil)
    assert len(smtp_server.to(user.email)) == 2  # the reset link and the confirmation link, both checked
    for message in smtp_server.to(user.email):
        assert "evil.example" not in text_body(message)
        assert "http://127.0.0.1:5000/" in text_body(message)


def test_the_timing_bench_runs_on_a_small_size(app, tmp_path, monkeypatch):
    """bench/bench_account_timing.py, for correctness only (its figures are in bench/README.md)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "bench_account_timing.py"
    spec = importlib.util.spec_from_file_location("bench_account_timing", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(bench, "WARM_UP", 1)
    results = bench.run(f"sqlite:///{tmp_path / 'bench.db'}", requests=4, signups=2, delivery="worker")
    for form in ("forgot_password", "signup"):
        assert results[form]["requests_each"] == (4 if form == "forgot_password" else 2)
        assert 0 <= results[form]["classifier_accuracy"] <= 1
        assert results[form]["known_median_ms"] > 0 and results[form]["unknown_p99_ms"] > 0
