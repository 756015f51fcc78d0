"""`POST /api/v1/auth/token` and bearer tokens."""

from core.auth.services import set_password
from tests.factories import PASSWORD, api_token, make_user


def test_token_for_unconfirmed_account_is_refused(client):
    user = make_user(confirmed=False)
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "email_unconfirmed"
    assert error["message"].startswith("Confirmez d'abord votre adresse e-mail")


def test_unconfirmed_status_is_not_revealed_without_the_password(client):
    user = make_user(confirmed=False)
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_token_wrong_password_and_unknown_email_answer_alike(client):
    user = make_user()
    wrong = client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password"})
    unknown = client.post(
        "/api/v1/auth/token", json={"email": "no@example.org", "password": "wrong-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_token_works_then_dies_with_a_password_change(client):
    user = make_user()
    headers = api_token(client, user.email)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    set_password(user, "a-brand-new-password")
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_bearer_tokens_are_read_per_request(client):
    first, second = make_user(), make_user()
    assert client.get("/api/v1/auth/me", headers=api_token(client, first.email)).get_json()["id"] == first.id
    assert client.get("/api/v1/auth/me").status_code == 401
    me = client.get("/api/v1/auth/me", headers=api_token(client, second.email)).get_json()
    assert me == {"id": second.id, "email": second.email, "name": second.name, "role": "factory"}


def test_tampered_token_is_refused(client):
    user = make_user()
    token = api_token(client, user.email)["Authorization"]
    # One character of the signed payload (the signature's last character may be only padding bits).
    scheme, _, value = token.partition(" ")
    tampered = f"{scheme} {'f' if value[0] != 'f' else 'g'}{value[1:]}"
    response = client.get("/api/v1/auth/me", headers={"Authorization": tampered})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"
