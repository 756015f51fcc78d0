"""Small builders: a test states only what matters to it."""

from __future__ import annotations

from datetime import date
from itertools import count

from sqlalchemy import select

from core.auth.models import Role, User
from core.auth.services import create_user
from core.extensions import db
from jou.models import Edition

_seq = count(1)
PASSWORD = "correct-horse-battery"


def make_user(
    role: Role | str = Role.FACTORY, email: str | None = None, password: str = PASSWORD, **kw
) -> User:
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


def login(client, user: User) -> None:  # noqa: ANN001
    """Signs the test client in to the pages (a session cookie)."""
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def siret(n: int | None = None) -> str:
    """A Luhn-valid SIRET, different on every call unless n is given."""
    from core.identifiers import luhn_complete

    return luhn_complete(f"{n if n is not None else next(_seq) + 10_000_000:013d}")


def site_data(edition: Edition | None = None, **overrides) -> dict:
    """Valid input for jou.services.create_site (as SiteInputSchema loads it): Paris 1er, one slot a day."""

    friday = edition.friday if edition else date(2027, 3, 19)
    saturday = edition.saturday if edition else date(2027, 3, 20)
    data = {
        "company_name": "Forges de Paris",
        "siret": siret(),
        "name": "Atelier du Louvre",
        "street": "1 rue de Rivoli",
        "postcode": "75001",
        "city": "Paris",
        "sector": "metallurgy",
        "description": "Forge et usinage de pièces pour l'aéronautique.",
        "contact_name": "Camille Martin",
        "contact_email": "camille.martin@example.org",
        "contact_phone": "+33142000000",
        "slots": [
            slot_data(day=friday, audience="schools"),
            slot_data(day=saturday, audience="public"),
        ],
    }
    data.update(overrides)
    return data


def slot_data(**overrides) -> dict:
    from datetime import time

    data = {
        "day": date(2027, 3, 19),
        "start": time(9, 0),
        "end": time(11, 0),
        "audience": "schools",
        "capacity": 30,
        "min_age": None,
        "protective_equipment": "",
        "wheelchair_accessible": False,
    }
    data.update(overrides)
    return data


def make_site(owner: User | None = None, edition: Edition | None = None, status: str = "draft", **overrides):
    """A site through the registration service (so it is validated and located like a real one), then
    moved to `status` directly."""
    from jou.models import SiteStatus
    from jou.services import create_site

    owner = owner or make_user(Role.FACTORY)
    edition = edition or db.session.scalar(select(Edition).where(Edition.year == 2027)) or make_edition()
    site = create_site(owner, edition, site_data(edition, **overrides), today=edition.registration_opens)
    site.status = SiteStatus(status)
    db.session.flush()
    return site
