"""`flask users create`, through Flask's CLI runner."""

from core.auth.models import Role
from core.auth.services import authenticate, find_user_by_email
from tests.factories import make_user


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["users", "create", *args])


def test_create_user(app, db_session):
    result = invoke(app, "--email", "Staff@Soce.fr", "--password", "a-long-password", "--role", "admin")
    assert result.exit_code == 0, result.output
    assert "Compte créé : staff@soce.fr (admin)" in result.output
    user = find_user_by_email("staff@soce.fr")
    assert user.role == Role.ADMIN and user.email_confirmed_at is not None
    assert authenticate("staff@soce.fr", "a-long-password") is user


def test_create_user_duplicate_email(app, db_session):
    make_user(email="dup@soce.fr")
    result = invoke(app, "--email", "dup@soce.fr", "--password", "a-long-password", "--role", "factory")
    assert result.exit_code == 1
    assert "Un compte existe déjà avec cette adresse." in result.output


def test_create_user_bad_role(app, db_session):
    result = invoke(app, "--email", "x@soce.fr", "--password", "a-long-password", "--role", "king")
    assert result.exit_code == 2
    assert "'king' is not one of" in result.output or "king" in result.output
    assert find_user_by_email("x@soce.fr") is None


def test_create_user_short_password(app, db_session):
    result = invoke(app, "--email", "x@soce.fr", "--password", "short", "--role", "volunteer")
    assert result.exit_code == 1
    assert "password: Au moins 10 caractères." in result.output
    assert find_user_by_email("x@soce.fr") is None
