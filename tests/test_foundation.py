"""The skeleton: migrations match the models, configuration, error format, OpenAPI, tokens."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core import create_app
from core.extensions import db
from tests.factories import api_token, make_edition, make_user


def test_migrations_build_exactly_the_models(app, db_session):
    context = MigrationContext.configure(db_session.connection(), opts={"compare_type": True})
    assert compare_metadata(context, db.metadata) == []


def test_secret_key_required_outside_development(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_rollback_isolation_part_1(db_session):
    from core.auth.services import find_user_by_email

    make_user(email="isolation@example.org")
    db_session.commit()  # released savepoint only
    # The outer transaction is still open (rolled back after the test), and the row is in it for now.
    assert db.engines[None].in_transaction()
    assert find_user_by_email("isolation@example.org") is not None


def test_rollback_isolation_part_2(db_session):
    from core.auth.services import find_user_by_email

    assert find_user_by_email("isolation@example.org") is None


def test_openapi_document_is_generated(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/editions" in spec["paths"]
    assert "/api/v1/auth/token" in spec["paths"]


def test_unknown_api_path_answers_json_error(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_token_validation_error_is_field_level_in_french(client):
    response = client.post("/api/v1/auth/token", json={"email": "pas-un-email"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"]["email"] == ["Adresse e-mail invalide."]
    assert error["fields"]["password"] == ["Ce champ est obligatoire."]


def test_token_with_wrong_password_is_401(client):
    user = make_user()
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_editions_listed_newest_first(client):
    make_edition(2025)
    make_edition(2026)
    user = make_user()
    headers = api_token(client, user.email)
    years = [e["year"] for e in client.get("/api/v1/editions", headers=headers).get_json()]
    assert years == [2026, 2025]
