"""The demo's campus transports: 2024 as it happened (24 buses, 1,200 lycéens), 2025, idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.auth.models import User
from core.extensions import db
from fixtures.loader import ADMIN_EMAIL, DemoLoader
from pmi.transports import services
from pmi.transports.models import Transport, TransportStop


def test_demo_has_24_transports_and_1200_pupils_in_2024(demo):
    admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
    planned = db.session.scalar(
        select(func.sum(TransportStop.female + TransportStop.male + TransportStop.unspecified))
        .join(Transport)
        .where(Transport.date.between(date(2024, 1, 1), date(2024, 12, 31)))
    )
    assert planned == 1200
    numbers = services.stats(admin, "campus", year=2024)
    assert numbers["total"]["transports"] == 24
    assert numbers["total"]["pupils"] == 1200  # actual counts, as published
    assert len(numbers["rows"]) >= 3
    later = services.stats(admin, year=2025)["total"]
    assert later["transports"] == 6
    assert 6 * 50 - 12 <= later["pupils"] <= 6 * 50  # actual counts: a few absent
    assert all(t.status == "done" and t.seats_taken <= t.seats for t in db.session.scalars(select(Transport)))

    before = db.session.scalar(select(func.count(Transport.id)))
    loader = DemoLoader()
    loader.admin = admin
    loader.transports()
    assert db.session.scalar(select(func.count(Transport.id))) == before
