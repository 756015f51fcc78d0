"""Rate limits (Flask-Limiter) on sign-in, sign-up, password reset and bookings: a French page or the
API's JSON error with Retry-After; per client address, behind a proxy too; memory or a Redis shared by
several app servers. The suite's own app has them off (thousands of sign-ins from 127.0.0.1): these
tests build apps with them on."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable

import pytest
from flask import Flask

REDIS = ("127.0.0.1", 6379)
WRONG = {"email": "nobody@example.org", "password": "wrong-password"}


@pytest.fixture
def limited(other_app) -> Callable[..., Flask]:
    def build(**overrides) -> Flask:
        settings = {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_LOGIN": "3 per minute",
            "RATELIMIT_SIGNUP": "2 per minute",
            "RATELIMIT_PASSWORD_RESET": "2 per minute",
            "RATELIMIT_BOOKING": "2 per minute",
            "LOGIN_LOCKOUT_ATTEMPTS": 0,
        }
        return other_app(**{**settings, **overrides})

    return build


def test_the_suite_app_has_no_limits(client):
    # More sign-ins than RATELIMIT_LOGIN's default allows a minute, from one address (each on its own
    # e-mail: the lockout per address is on in the suite).
    statuses = {
        client.post(
            "/connexion", data={**WRONG, "email": f"n{i}-{uuid.uuid4().hex[:6]}@example.org"}
        ).status_code
        for i in range(11)
    }
    assert statuses == {422}


def test_sign_in_page_is_limited_with_a_french_page(limited):
    client = limited().test_client()
    assert [client.post("/connexion", data=WRONG).status_code for _ in range(3)] == [422, 422, 422]
    response = client.post("/connexion", data=WRONG)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text and '<html lang="fr">' in response.text
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert client.get("/connexion").status_code == 200  # reading the form is never limited


def test_api_answers_429_in_the_documented_error_format(limited):
    client = limited().test_client()
    for _ in range(3):
        assert client.post("/api/v1/auth/token", json=WRONG).status_code == 401
    response = client.post("/api/v1/auth/token", json=WRONG)
    assert response.status_code == 429
    assert response.get_json() == {
        "error": {
            "code": "too_many_requests",
            "message": "Trop de requêtes, réessayez dans un instant.",
            "fields": {},
        }
    }
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/inscription", {"name": "A", "email": "a@example.org", "password": "x", "password_confirm": "y"}),
        ("/mot-de-passe/oublie", {"email": "a@example.org"}),
        ("/inscription/renvoyer", {"email": "a@example.org"}),
        ("/creneaux/999999/reserver", {}),
        ("/creneaux/999999/liste-attente", {}),
    ],
)
def test_sign_up_password_reset_and_booking_pages_are_limited(limited, path, data):
    client = limited().test_client()
    statuses = [client.post(path, data=data).status_code for _ in range(3)]
    assert 429 not in statuses[:2] and statuses[2] == 429, statuses


@pytest.mark.parametrize("path", ["/api/v1/slots/999999/bookings", "/api/v1/slots/999999/waitlist"])
def test_booking_api_is_limited_before_any_work(limited, path):
    client = limited().test_client()
    first = [client.post(path, json={}).status_code for _ in range(2)]
    assert 429 not in first
    assert client.post(path, json={}).status_code == 429


def test_limits_are_per_client_address_and_proxies_are_trusted_only_when_configured(limited):
    direct = limited().test_client()
    for _ in range(3):
        direct.post("/connexion", data=WRONG)
    # A client cannot escape by claiming another address…
    spoofed = direct.post("/connexion", data=WRONG, headers={"X-Forwarded-For": "198.51.100.9"})
    assert spoofed.status_code == 429
    # …but another client is not punished for the first one.
    other = direct.post("/connexion", data=WRONG, environ_overrides={"REMOTE_ADDR": "198.51.100.2"})
    assert other.status_code == 422

    # Behind one proxy (TRUSTED_PROXIES=1) every request comes from the proxy: the forwarded address counts.
    proxied = limited(TRUSTED_PROXIES=1).test_client()
    for _ in range(3):
        assert (
            proxied.post("/connexion", data=WRONG, headers={"X-Forwarded-For": "203.0.113.1"}).status_code
            == 422
        )
    assert (
        proxied.post("/connexion", data=WRONG, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    )
    assert (
        proxied.post("/connexion", data=WRONG, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 422
    )


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_two_app_servers_share_their_counts_through_redis(limited):
    import redis

    prefix = f"soce-test-{uuid.uuid4().hex[:8]}"
    settings = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "RATELIMIT_KEY_PREFIX": prefix}
    first, second = limited(**settings).test_client(), limited(**settings).test_client()
    try:
        assert first.post("/connexion", data=WRONG).status_code == 422
        assert second.post("/connexion", data=WRONG).status_code == 422
        assert first.post("/connexion", data=WRONG).status_code == 422
        assert second.post("/connexion", data=WRONG).status_code == 429  # the fourth, counted across both
        keys = redis.Redis(*REDIS, db=15).keys(f"*{prefix}*")
        assert keys, "the counts live in Redis"
    finally:
        client = redis.Redis(*REDIS, db=15)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()


def test_an_unreachable_redis_falls_back_to_counting_in_memory(limited, caplog):
    client = limited(RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0").test_client()  # discard port: refused
    statuses = [client.post("/connexion", data=WRONG).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
