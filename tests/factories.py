"""Small builders: a test states only what matters to it."""

from __future__ import annotations

from datetime import date
from itertools import count

from core.auth.models import Role, User
from core.auth.services import create_user
from core.extensions import db
from jou.models import Edition

_seq = count(1)
PASSWORD = "correct-horse-battery"


def make_user(role: Role | str = Role.FACTORY, email: str | None = None, password: str = PASSWORD, **kw) -> User:
    return create_user(email or f"user{next(_seq)}@example.org", password, role, kw.pop("name", "Test"), **kw)


def make_edition(year: int = 2027, **kw) -> Edition:
    fridays = {2025: date(2025, 4, 4), 2026: date(2026, 3, 20), 2027: date(2027, 3, 19)}
    friday = kw.pop("friday", fridays.get(year, date(year, 3, 19)))
    edition = Edition(
        year=year,
        friday=friday,
        saturday=kw.pop("saturday", date.fromordinal(friday.toordinal() + 1)),
        registration_opens=kw.pop("registration_opens", date(year - 1, 9, 1)),
        registration_closes=kw.pop("registration_closes", date(year, 2, 28)),
        booking_opens=kw.pop("booking_opens", date(year, 1, 15)),
        booking_closes=kw.pop("booking_closes", friday),
        **kw,
    )
    db.session.add(edition)
    db.session.flush()
    return edition


def api_token(client, user_email: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/auth/token", json={"email": user_email, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}
