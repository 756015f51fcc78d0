"""Account pages: sign-up with e-mailed confirmation, sign-in, password reset, the account page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from core.auth.models import Role
from core.auth.services import find_user_by_email, make_token, set_password
from tests.factories import PASSWORD, make_user
from tests.plugins.mail import html_body, link_path, text_body

NEW_PASSWORD = "another-long-password"


def sign_up(client, email: str = "alice@usine.example", password: str = PASSWORD, **extra):
    form = {"name": "Alice Martin", "email": email, "password": password, "password_confirm": password}
    return client.post("/inscription", data={**form, **extra})


def log_in(client, email: str, password: str = PASSWORD):
    return client.post("/connexion", data={"email": email, "password": password})


# --- Sign-up -----------------------------------------------------------------------------------


def test_signup_confirm_then_login(client, smtp_server):
    response = sign_up(client)
    assert response.status_code == 302
    assert "/verifiez-vos-emails" in response.location

    user = find_user_by_email("alice@usine.example")
    assert user.role == Role.FACTORY and user.email_confirmed_at is None
    [message] = smtp_server.to("alice@usine.example")
    assert message["Subject"] == "Confirmez votre adresse e-mail"
    assert "Bonjour Alice Martin" in text_body(message)
    assert "Confirmer mon adresse" in html_body(message)
    # Links point at the public address, whatever Host the request came with.
    assert "http://127.0.0.1:5000/inscription/confirmer/" in text_body(message)

    refused = log_in(client, "alice@usine.example")
    assert refused.status_code == 422
    assert "Confirmez d&#39;abord votre adresse e-mail" in refused.text
    assert "/inscription/renvoyer" in refused.text

    confirmed = client.get(link_path(message, "/inscription/confirmer/"))
    assert confirmed.status_code == 302 and confirmed.location.endswith("/connexion")
    assert user.email_confirmed_at is not None

    assert log_in(client, "alice@usine.example").status_code == 302
    assert client.get("/compte").status_code == 200


def test_signup_validation_errors_beside_fields(client, smtp_server):
    response = client.post(
        "/inscription",
        data={"name": " ", "email": "pas-un-email", "password": "court", "password_confirm": "court"},
    )
    assert response.status_code == 422
    page = response.text
    assert 'id="name-errors"' in page and "Ce champ est obligatoire." in page
    assert 'id="email-errors"' in page and "Adresse e-mail invalide." in page
    assert 'id="password-errors"' in page and "Au moins 10 caractères." in page
    assert 'value="court"' not in page  # passwords are never echoed back
    assert smtp_server.messages == []


def test_signup_passwords_must_match(client, smtp_server):
    response = sign_up(client, password_confirm="something-else-entirely")
    assert response.status_code == 422
    assert "Les deux mots de passe ne correspondent pas." in response.text
    assert find_user_by_email("alice@usine.example") is None


def test_signup_with_used_email_does_not_reveal_the_account(client, smtp_server):
    owner = make_user(email="taken@usine.example", name="Bob")
    fresh = sign_up(client, email="new@usine.example")
    again = sign_up(client, email="taken@usine.example", password="attacker-password-1")

    assert (again.status_code, again.location) == (fresh.status_code, fresh.location)
    assert client.get(again.location).text == client.get(fresh.location).text
    [warning] = smtp_server.to("taken@usine.example")
    assert warning["Subject"] == "Tentative d'inscription avec votre adresse"
    assert "/mot-de-passe/oublie" in text_body(warning)
    assert "/inscription/confirmer/" not in text_body(warning)
    # The account is untouched: the old password still works.
    assert log_in(client, owner.email).status_code == 302


def test_signup_again_while_unconfirmed_resends_the_link(client, smtp_server):
    sign_up(client)
    sign_up(client, password="a-different-password")
    messages = smtp_server.to("alice@usine.example")
    assert [m["Subject"] for m in messages] == ["Confirmez votre adresse e-mail"] * 2


def test_resend_confirmation(client, smtp_server):
    user = make_user(email="late@usine.example", confirmed=False)
    page = client.get("/inscription/renvoyer?email=late@usine.example")
    assert 'value="late@usine.example"' in page.text

    response = client.post("/inscription/renvoyer", data={"email": "late@usine.example"})
    unknown = client.post("/inscription/renvoyer", data={"email": "nobody@usine.example"})
    assert response.status_code == unknown.status_code == 302
    assert response.location == unknown.location
    [message] = smtp_server.messages
    client.get(link_path(message, "/inscription/confirmer/"))
    assert user.email_confirmed_at is not None


def test_confirmation_link_tampered_or_expired(client, app, smtp_server):
    user = make_user(confirmed=False)
    token = make_token(user, "confirm")
    tampered = client.get(f"/inscription/confirmer/{tamper(token)}")
    assert tampered.status_code == 400
    assert "Lien ou jeton invalide." in tampered.text
    assert user.email_confirmed_at is None

    # A reset token is not a confirmation token (each purpose has its own salt).
    assert client.get(f"/inscription/confirmer/{make_token(user, 'reset')}").status_code == 400

    old = _token_signed_in_the_past(app, user, "confirm", timedelta(days=3, minutes=1))
    expired = client.get(f"/inscription/confirmer/{old}")
    assert expired.status_code == 400 and "Ce lien a expiré." in expired.text


def tamper(token: str) -> str:
    """Change one character of the signed payload. (Changing the signature's last character can leave
    its bytes unchanged: that character may hold only base64 padding bits.)"""
    return ("f" if token[0] != "f" else "g") + token[1:]


def _token_signed_in_the_past(app, user, purpose: str, age: timedelta) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - int(age.total_seconds())

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=f"soce-{purpose}", signer=PastSigner)
    return serializer.dumps({"uid": user.id, "v": user.token_version})


# --- Sign-in and sign-out ----------------------------------------------------------------------


def test_login_wrong_password_and_unknown_email_look_the_same(client):
    user = make_user()
    wrong = log_in(client, user.email, "wrong-password")
    unknown = log_in(client, "nobody@example.org", "wrong-password")
    assert wrong.status_code == unknown.status_code == 422
    assert "Adresse e-mail ou mot de passe incorrect." in wrong.text
    assert wrong.text.replace(user.email, "X") == unknown.text.replace("nobody@example.org", "X")


def test_login_redirects_only_to_local_next(client):
    user = make_user()
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.location == "/"
    client.post("/deconnexion")
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD, "next": "/compte"})
    assert response.location == "/compte"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example", "/\t/evil.example", "javascript:alert(1)"]
)
def test_login_refuses_disguised_external_next(client, target):
    user = make_user()
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD, "next": target})
    assert response.location == "/"


def test_logout_is_a_post(client):
    user = make_user()
    log_in(client, user.email)
    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion").status_code == 302
    assert client.get("/compte").status_code == 302


def test_account_page_requires_login_and_shows_the_account(client):
    assert client.get("/compte").location.startswith("/connexion?next=")
    user = make_user(Role.VOLUNTEER, name="Chloé <b>Durand</b>")
    log_in(client, user.email)
    page = client.get("/compte").text
    assert user.email in page
    assert "Intervenant·e PMI" in page
    assert "Chloé &lt;b&gt;Durand&lt;/b&gt;" in page


# --- Password reset ----------------------------------------------------------------------------


def test_password_reset_end_to_end(client, smtp_server):
    user = make_user(email="reset@usine.example")
    response = client.post("/mot-de-passe/oublie", data={"email": "Reset@Usine.example "})
    assert response.status_code == 302
    [message] = smtp_server.to("reset@usine.example")
    path = link_path(message, "/mot-de-passe/nouveau/")
    assert "60 minutes" in text_body(message)

    assert client.get(path).status_code == 200
    mismatch = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": "nope-nope-nope"})
    assert mismatch.status_code == 422
    done = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.location.endswith("/connexion")

    assert log_in(client, user.email, PASSWORD).status_code == 422
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302
    notice = smtp_server.to("reset@usine.example")[-1]
    assert notice["Subject"] == "Votre mot de passe a été modifié"

    # Single use: the same link is refused afterwards.
    reused = client.post(path, data={"password": "third-password-x", "password_confirm": "third-password-x"})
    assert reused.status_code == 400
    assert "Lien ou jeton invalide." in reused.text
    assert client.get(path).status_code == 400


def test_reset_link_dies_when_the_password_changes_otherwise(client, smtp_server):
    user = make_user()
    client.post("/mot-de-passe/oublie", data={"email": user.email})
    path = link_path(smtp_server.to(user.email)[0], "/mot-de-passe/nouveau/")
    set_password(user, NEW_PASSWORD)
    assert client.get(path).status_code == 400
    response = client.post(
        path, data={"password": "third-password-x", "password_confirm": "third-password-x"}
    )
    assert response.status_code == 400
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302


def test_reset_link_tampered_or_expired(client, app):
    user = make_user()
    token = make_token(user, "reset")
    assert client.get(f"/mot-de-passe/nouveau/{tamper(token)}").status_code == 400
    assert client.get(f"/mot-de-passe/nouveau/{make_token(user, 'confirm')}").status_code == 400
    old = _token_signed_in_the_past(app, user, "reset", timedelta(hours=1, minutes=1))
    expired = client.get(f"/mot-de-passe/nouveau/{old}")
    assert expired.status_code == 400 and "Ce lien a expiré." in expired.text


def test_reset_request_does_not_reveal_accounts(client, smtp_server):
    make_user(email="known@usine.example")
    known = client.post("/mot-de-passe/oublie", data={"email": "known@usine.example"})
    unknown = client.post("/mot-de-passe/oublie", data={"email": "unknown@usine.example"})
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    # Each address gets one message, the same subject: a link for the account, a note for the other.
    link, note = smtp_server.messages
    assert [link["To"], note["To"]] == ["known@usine.example", "unknown@usine.example"]
    assert link["Subject"] == note["Subject"] == "Réinitialisation de votre mot de passe"
    assert "/mot-de-passe/nouveau/" in text_body(link)
    assert "/mot-de-passe/nouveau/" not in text_body(note) and "/mot-de-passe/nouveau/" not in html_body(note)
    assert "aucun compte actif ne l'utilise" in text_body(note)
    assert "http://127.0.0.1:5000/inscription" in text_body(note)


def test_reset_confirms_an_unconfirmed_address(client, smtp_server):
    user = make_user(confirmed=False)
    client.post("/mot-de-passe/oublie", data={"email": user.email})
    path = link_path(smtp_server.to(user.email)[0], "/mot-de-passe/nouveau/")
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert user.email_confirmed_at is not None
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302


# --- Changing the password, sessions -----------------------------------------------------------


def test_change_password_from_the_account_page(client, smtp_server):
    user = make_user()
    log_in(client, user.email)
    wrong = client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": "not-my-password",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422
    assert 'id="current_password-errors"' in wrong.text and "Mot de passe actuel incorrect." in wrong.text

    done = client.post(
        "/compte/mot-de-passe",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 302
    # This session goes on (it was renewed with the new token_version).
    assert client.get("/compte").status_code == 200
    assert smtp_server.to(user.email)[-1]["Subject"] == "Votre mot de passe a été modifié"


def test_a_password_change_elsewhere_ends_other_sessions(app, client, smtp_server):
    user = make_user()
    phone = app.test_client()
    log_in(client, user.email)
    log_in(phone, user.email)
    assert phone.get("/compte").status_code == 200

    client.post(
        "/compte/mot-de-passe",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert client.get("/compte").status_code == 200
    assert phone.get("/compte").location.startswith("/connexion")


def test_an_anonymous_client_is_not_taken_for_the_last_signed_in_one(app, client):
    user = make_user()
    log_in(client, user.email)
    assert client.get("/compte").status_code == 200
    assert app.test_client().get("/compte").status_code == 302


# --- CSRF --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/connexion", "/inscription", "/mot-de-passe/oublie"])
def test_forms_refuse_a_post_without_csrf_token(app, client, monkeypatch, path):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(path, data={"email": "x@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "Requête invalide." in response.text


def test_login_form_with_its_csrf_token_is_accepted(app, client, monkeypatch):
    import re

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user()
    page = client.get("/connexion").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_a_deactivated_account_loses_its_session(client, db_session):
    user = make_user()
    log_in(client, user.email)
    assert client.get("/compte").status_code == 200
    user.is_active_account = False
    db_session.commit()
    response = client.get("/compte")
    assert response.status_code == 302 and "/connexion" in response.location
