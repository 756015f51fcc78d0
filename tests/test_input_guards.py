"""No input makes a 5xx: NUL bytes, lone surrogates, deep or huge JSON, odd digits, CR/LF in names,
database refusals, wrong methods. The cases a black-box probe found: each was a 500 (on PostgreSQL at
least), a 405 without `Allow`, or a mail that could not be built, before the guards (core.validation).
"""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy.exc import DataError, IntegrityError

from core.auth.models import Role
from core.mail import queue_mail
from pmi.transports import services as transport_services
from tests.factories import api_token, login, make_site, make_user, site_data
from tests.plugins.jou import open_edition, party, slots_of
from tests.plugins.pmi import make_school, make_transport, make_volunteer, organiser, stop_data

FRENCH = re.compile(r"[Cc]aractère|invalide|attendu|ligne|[Cc]e champ")


def assert_field_error(response, field: str, status: int = 422) -> None:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert field in error["fields"], error
    assert all(FRENCH.search(message) for message in error["fields"][field]), error


def assert_french_page(response, status: int = 400) -> None:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert f"Erreur {status}" in body and "Caractère non autorisé" in body, body


# ---- NUL bytes and lone surrogates --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/sites?q=%00", "q"),
        ("/api/v1/sites.geojson?q=a%00b", "q"),
        ("/api/v1/schools?q=%00", "q"),
        ("/api/v1/stats/pmi?gr=%00", "gr"),
        ("/api/v1/stats/jou?region=%00", "region"),
        ("/api/v1/stats/transports?gr=%00", "gr"),
        ("/api/v1/maps/sites?q=%00", "q"),
        ("/api/v1/schools/0750%00001A", "uai"),
        ("/api/v1/sites?%00=1", "%00"),
    ],
)
def test_a_nul_byte_in_the_query_or_path_is_a_field_error(client, url, field):
    response = client.get(url)
    assert_field_error(response, field.replace("%00", "\\x00"))


@pytest.mark.parametrize(
    "url", ["/usines?q=%00", "/carte?q=%00", "/chiffres?year=%00", "/carte/pmi?annee=%00"]
)
def test_a_nul_byte_in_a_page_query_is_a_french_400_page(client, url):
    assert_french_page(client.get(url))


def test_a_nul_byte_in_a_form_is_a_french_400_page(client):
    assert_french_page(client.post("/connexion", data={"email": "a\x00@example.org", "password": "x"}))


def test_a_lone_surrogate_in_a_json_string_is_a_field_error(client, db_session):
    public, _ = slots_of(capacity=10)
    # Flask's JSON encoder escapes the lone surrogate as \ud800, which json.loads gives back as is.
    response = client.post(f"/api/v1/slots/{public.id}/bookings", json=party(2, name="N\ud800"))
    assert_field_error(response, "name")
    nested = {"slots": [{"protective_equipment": "x\x00"}]}
    response = client.post(
        "/api/v1/sites", json=nested, headers=api_token(client, make_user(Role.FACTORY).email)
    )
    assert_field_error(response, "slots[0].protective_equipment")


def test_raw_surrogate_bytes_in_a_json_body_are_a_400(client, db_session):
    public, _ = slots_of(capacity=10)
    body = json.dumps(party(2, name="N")).replace('"N"', '"N\xed\xa0\x80"').encode("latin-1")
    response = client.post(f"/api/v1/slots/{public.id}/bookings", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_a_nul_byte_in_the_idempotency_key_is_a_field_error(client, db_session):
    public, _ = slots_of(capacity=10)
    response = client.post(
        f"/api/v1/slots/{public.id}/bookings", json=party(2), headers={"Idempotency-Key": "k\x00"}
    )
    assert_field_error(response, "Idempotency-Key")


def test_a_nul_byte_in_an_uploaded_csv_is_the_pages_field_error(client, db_session):
    user, _ = make_volunteer()
    school = make_school()
    login(client, user)
    header = "date;type;uai;niveaux;filles;garcons;non_precise;duree_minutes;notes\n"
    csv = header + f"03/02/2026;forum;{school.uai[:7]}\x00;3e;12;10;0;60;\n"  # 8 characters, as a UAI
    response = client.post("/pmi/interventions/import", data={"file": (io.BytesIO(csv.encode()), "a.csv")})
    assert response.status_code == 422 and "caractère nul" in response.get_data(as_text=True)


# ---- JSON shape and size ------------------------------------------------------------------------------


def test_json_nested_a_thousand_deep_is_a_400_not_a_recursion_error(client, db_session):
    public, _ = slots_of(capacity=10)
    body = "[" * 1000 + "]" * 1000
    response = client.post(f"/api/v1/slots/{public.id}/bookings", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "bad_request"
    shallow = {"name": {"a": [[[1]]]}}
    response = client.post(f"/api/v1/slots/{public.id}/bookings", json={**party(2), **shallow})
    assert response.status_code == 422


def test_an_integer_of_5000_digits_in_json_is_a_400(client, db_session):
    public, _ = slots_of(capacity=10)
    body = '{"party_size": ' + "9" * 5000 + "}"
    response = client.post(f"/api/v1/slots/{public.id}/bookings", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]


def test_a_body_beyond_the_content_limit_is_a_413_in_the_error_format(app, client, db_session):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert 2_000_000 <= limit <= 16_000_000
    response = client.post("/api/v1/auth/token", data=b" " * (limit + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


# ---- integers in query strings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["edition=²", "edition=99999999999", "min_seats=" + "9" * 400, "edition=٢٠٢٧"]
)
def test_odd_digits_in_the_map_filters_are_ignored(client, db_session, query):
    assert client.get(f"/carte?{query}").status_code == 200


@pytest.mark.parametrize("query", ["annee=²", "annee=" + "9" * 400])
def test_odd_digits_in_the_pmi_maps_year_are_ignored(client, db_session, query):
    assert client.get(f"/carte/pmi?{query}").status_code == 200
    assert client.get(f"/carte/transports?{query}").status_code == 200


@pytest.mark.parametrize("year", ["²", "99999999999", "0" * 400 + "2024"])
def test_the_public_figures_refuse_an_odd_year_beside_the_field(client, db_session, year):
    response = client.get("/chiffres", query_string={"year": year})
    assert response.status_code == 422
    assert "Année invalide" in response.get_data(as_text=True)


def test_my_sites_with_a_page_of_400_digits_shows_the_first_page(client, db_session):
    factory = make_user(Role.FACTORY)
    make_site(owner=factory, name="Atelier des digits")
    login(client, factory)
    for query in ("page=" + "9" * 400, "page=²", "edition=²", "edition=" + "9" * 30):
        response = client.get(f"/mes-sites?{query}")
        assert response.status_code == 200, query


@pytest.mark.parametrize("path", ["/pmi/groupe", "/pmi/transports", "/pmi/transports/chiffres"])
def test_the_organisers_pages_ignore_an_odd_year(client, db_session, path):
    login(client, organiser("paris"))
    for year in ("²", "9" * 400):
        assert client.get(path, query_string={"annee": year}).status_code == 200, (path, year)


def test_actual_counts_in_odd_digits_are_a_field_error(client, db_session):
    user = organiser("paris")
    transport = make_transport(user)
    stop = transport_services.add_stop(user, transport.id, stop_data(make_school()))
    login(client, user)
    response = client.post(f"/pmi/transports/{transport.id}/bilan", data={f"actual_female_{stop.id}": "²"})
    assert response.status_code == 422
    assert "Nombre entier entre 0 et 200" in response.get_data(as_text=True)


# ---- what the database would refuse --------------------------------------------------------------------


def test_a_transport_status_of_null_is_a_field_error(client, db_session):
    user = organiser("paris")
    transport = make_transport(user)
    response = client.patch(
        f"/api/v1/transports/{transport.id}", json={"status": None}, headers=api_token(client, user.email)
    )
    assert_field_error(response, "status")


@pytest.mark.parametrize(
    "error, status, code",
    [
        (
            IntegrityError("INSERT …", {}, Exception("duplicate key value violates unique constraint")),
            409,
            "conflict",
        ),
        (DataError("SELECT …", {}, Exception("invalid byte sequence")), 422, "invalid_input"),
    ],
)
def test_a_database_refusal_that_escapes_is_answered_not_a_500(
    client, db_session, monkeypatch, error, status, code
):
    def refuse(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise error

    monkeypatch.setattr("core.schools.api.search_schools", refuse)
    response = client.get("/api/v1/schools?q=lycee")
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    monkeypatch.setattr("jou.views.services.search_sites", refuse)
    page = client.get("/usines")
    assert page.status_code == status and "Erreur" in page.get_data(as_text=True)


# ---- methods -----------------------------------------------------------------------------------------------


def test_a_405_names_the_allowed_methods(client, db_session):
    response = client.delete("/api/v1/editions")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    page = client.put("/usines")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


# ---- one line where a mail header is made --------------------------------------------------------------


def test_a_line_break_in_a_site_name_is_a_field_error(client, db_session):
    open_edition()
    headers = api_token(client, make_user(Role.FACTORY).email)
    data = site_data(name="Atelier\r\nBcc: victim@example.org")
    body = json.loads(json.dumps(data, default=str))
    response = client.post("/api/v1/sites", json=body, headers=headers)
    assert_field_error(response, "name")


def test_a_line_break_in_a_transport_operator_is_a_field_error(client, db_session):
    user = organiser("paris")
    transport = make_transport(user)
    response = client.patch(
        f"/api/v1/transports/{transport.id}",
        json={"operator": "Cars\nRapides"},
        headers=api_token(client, user.email),
    )
    assert_field_error(response, "operator")


def test_a_mail_is_queued_whatever_its_subject_and_name_hold(app, db_session):
    """Names and subjects come from users; a CR/LF (or a NUL, a lone surrogate) in them must neither
    inject a header nor make the message impossible to build."""
    with app.test_request_context():
        mail = queue_mail(
            "alice@example.org",
            "Visite\r\nBcc: victim@example.org\x00 \ud800",
            "auth/password_changed",
            to_name="Alice\r\nMartin",
            name="Alice",
            reset_url="http://127.0.0.1/x",
        )
    message = mail.as_email()
    headers = mail.message.split(b"\r\n\r\n")[0].decode()
    assert "Bcc" not in message and not re.search(r"^Bcc:", headers, re.MULTILINE)
    assert message["Subject"].startswith("Visite Bcc: victim@example.org")
    assert message["To"].addresses[0].display_name == "Alice Martin"
