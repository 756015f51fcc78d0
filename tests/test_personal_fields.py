"""Every text column of a model holding a person's data is declared personal or not (core.models.PersonalData):
erasure, export and the edition purge are derived from that one declaration, so a column added without
a decision fails here instead of silently surviving an erasure."""

from __future__ import annotations

from sqlalchemy import String, Text

from core.extensions import db
from core.models import PersonalData


def person_models() -> list[type]:
    return sorted(
        (m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, PersonalData)),
        key=lambda model: model.__name__,
    )


def test_the_visitor_models_declare_their_personal_data(app):
    names = {model.__name__ for model in person_models()}
    assert {"Booking", "WaitlistEntry"} <= names


def test_every_text_column_is_declared_personal_or_not(app):
    for model in person_models():
        table = model.__table__
        text_columns = {c.name for c in table.columns if isinstance(c.type, String | Text)}
        declared = set(model.__personal__) | set(model.__not_personal__)
        assert text_columns - declared == set(), f"{model.__name__}: declare these columns"
        assert declared - set(table.columns.keys()) == set(), f"{model.__name__}: no such columns"
        assert not set(model.__personal__) & set(model.__not_personal__)


def test_blanking_respects_each_column(app):
    from jou.bookings.models import Booking

    assert Booking.blanked() == {
        "name": "", "email": "", "phone": None, "idempotency_key": None, "idempotency_fingerprint": None,
    }  # fmt: skip
