"""Sign-in lockout: after LOGIN_LOCKOUT_ATTEMPTS failures an address is locked for a while, right
password included; an unknown address goes through exactly the same answers, and the password hash is
checked either way. Runs on the suite's app (lockout on, rate limits off); each test uses its own
addresses, the counters being kept for the whole session."""

from __future__ import annotations

import time
import uuid

import pytest
from argon2.exceptions import VerifyMismatchError

from core.auth import services
from core.auth.models import Role
from tests.factories import PASSWORD, make_user
from tests.plugins.mail import link_path

LOCKED = "Trop de tentatives de connexion avec cette adresse."
INVALID = "Adresse e-mail ou mot de passe incorrect."


def unknown_address() -> str:
    return f"nobody-{uuid.uuid4().hex[:10]}@example.org"


def page_attempt(client, email: str, password: str = "wrong-password"):  # noqa: ANN001, ANN201
    return client.post("/connexion", data={"email": email, "password": password})


@pytest.fixture
def attempts(app, monkeypatch) -> int:
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_MINUTES", 15)
    return 3


def test_an_account_locks_after_repeated_failures_even_for_the_right_password(client, db_session, attempts):
    user = make_user(Role.FACTORY)
    for _ in range(attempts):
        response = page_attempt(client, user.email)
        assert response.status_code == 422 and INVALID in response.text
    locked = page_attempt(client, user.email, PASSWORD)
    assert locked.status_code == 422
    assert LOCKED in locked.text and "15 minutes" in locked.text
    assert "réinitialisez votre mot de passe" in locked.text
    assert client.get("/compte").status_code == 302  # not signed in


def test_known_and_unknown_addresses_get_the_same_answers_at_every_step(client, db_session, attempts):
    user = make_user(Role.FACTORY)
    stranger = unknown_address()
    for _ in range(attempts + 2):
        known, unknown = page_attempt(client, user.email), page_attempt(client, stranger)
        assert known.status_code == unknown.status_code
        assert known.text.replace(user.email, "X") == unknown.text.replace(stranger, "X")
    assert LOCKED in known.text


def test_the_api_answers_429_with_retry_after_in_the_error_format(client, db_session, attempts):
    user = make_user(Role.FACTORY)
    for _ in range(attempts):
        assert (
            client.post("/api/v1/auth/token", json={"email": user.email, "password": "nope"}).status_code
            == 401
        )
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "login_locked" and error["message"].startswith(LOCKED)
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    # The same answer for an address without an account.
    stranger = unknown_address()
    for _ in range(attempts):
        client.post("/api/v1/auth/token", json={"email": stranger, "password": "nope"})
    other = client.post("/api/v1/auth/token", json={"email": stranger, "password": "nope"})
    assert other.status_code == 429 and other.get_json()["error"]["code"] == "login_locked"


def test_the_lock_counts_the_address_whatever_its_case(client, db_session, attempts):
    user = make_user(Role.FACTORY)
    for _ in range(attempts):
        page_attempt(client, user.email.upper())
    assert LOCKED in page_attempt(client, user.email, PASSWORD).text


def test_a_success_before_the_limit_starts_the_count_again(client, db_session, attempts):
    user = make_user(Role.FACTORY)
    for _ in range(attempts - 1):
        page_attempt(client, user.email)
    assert page_attempt(client, user.email, PASSWORD).status_code == 302
    client.post("/deconnexion")
    for _ in range(attempts - 1):
        page_attempt(client, user.email)
    assert page_attempt(client, user.email, PASSWORD).status_code == 302


def test_the_lock_lifts_when_its_window_ends(client, db_session, attempts, monkeypatch):
    user = make_user(Role.FACTORY)
    for _ in range(attempts):
        page_attempt(client, user.email)
    assert LOCKED in page_attempt(client, user.email, PASSWORD).text

    class Later:
        @staticmethod
        def time() -> float:
            return time.time() + 15 * 60 + 1

    monkeypatch.setattr("limits.storage.memory.time", Later)
    assert page_attempt(client, user.email, PASSWORD).status_code == 302


def test_a_completed_password_reset_lifts_the_lock(client, db_session, attempts, smtp_server):
    """Failed tries from elsewhere cannot keep the owner out: proving the mailbox lets them back in."""
    user = make_user(Role.FACTORY, email=unknown_address())
    for _ in range(attempts):
        page_attempt(client, user.email)
    assert LOCKED in page_attempt(client, user.email, PASSWORD).text

    client.post("/mot-de-passe/oublie", data={"email": user.email})
    path = link_path(smtp_server.to(user.email)[0], "/mot-de-passe/nouveau/")
    assert client.get(path).status_code == 200
    assert LOCKED in page_attempt(client, user.email, PASSWORD).text  # opening the link is not enough
    new = "another-long-password"
    assert client.post(path, data={"password": new, "password_confirm": new}).status_code == 302
    assert page_attempt(client, user.email, new).status_code == 302
    assert client.get("/compte").status_code == 200


def test_unknown_addresses_cost_a_password_check_too(db_session, app, attempts, monkeypatch):
    """Equal work whether or not the account exists: the hash is verified in both cases (timing)."""
    checked = []

    def verify(hash_: str, password: str) -> bool:
        checked.append(hash_)
        raise VerifyMismatchError

    monkeypatch.setattr(services._hasher, "verify", verify)
    user = make_user(Role.FACTORY)
    with app.test_request_context():
        for email in (user.email, unknown_address()):
            with pytest.raises(services.Unauthorized):
                services.authenticate(email, "wrong-password")
    assert checked == [user.password_hash, services._DUMMY_HASH]


def test_zero_attempts_turns_the_lockout_off(client, db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_ATTEMPTS", 0)
    user = make_user(Role.FACTORY)
    for _ in range(8):
        page_attempt(client, user.email)
    assert page_attempt(client, user.email, PASSWORD).status_code == 302
