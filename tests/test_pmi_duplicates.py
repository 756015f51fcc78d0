"""Nothing counted twice: an intervention identical to one already logged (same date, place, volunteers
and counts) is refused with the existing id unless it is declared another session; a spreadsheet imported
twice, or a row repeated in it, adds nothing and the report says so; two identical requests at once make
one record (real commits, both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from pmi.models import Intervention
from tests.factories import api_token, login
from tests.plugins.pmi import make_school, make_volunteer
from tests.plugins.races import race

HEADER = "date;type;uai;niveaux;filles;garcons;non_precise;duree_minutes;notes\n"


def body(school, **kw) -> dict:  # noqa: ANN001
    return {"date": "2026-01-15", "kind": "class_talk", "school_uai": school.uai, "levels": ["3e"],
            "female": 11, "male": 13, "unspecified": 1, "duration_minutes": 55, **kw}  # fmt: skip


def count() -> int:
    return db.session.scalar(select(func.count(Intervention.id)))


def test_the_same_intervention_twice_is_a_409_with_the_existing_id(client, db_session):
    user, _ = make_volunteer()
    school = make_school()
    headers = api_token(client, user.email)
    first = client.post("/api/v1/interventions", json=body(school), headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/interventions", json=body(school, notes="autre note"), headers=headers)
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "duplicate" and error["existing_id"] == first.get_json()["id"]
    assert "déjà enregistrée" in error["message"] and error["fields"]["second_session"]
    # Another session that day, declared: recorded.
    second = client.post("/api/v1/interventions", json=body(school, second_session=True), headers=headers)
    assert second.status_code == 201
    # Not the same record: other counts, another day, another volunteer.
    assert (
        client.post("/api/v1/interventions", json=body(school, male=12), headers=headers).status_code == 201
    )
    assert (
        client.post(
            "/api/v1/interventions", json=body(school, date="2026-01-16"), headers=headers
        ).status_code
        == 201
    )
    other, _ = make_volunteer(name="Bruno")
    assert (
        client.post(
            "/api/v1/interventions", json=body(school), headers=api_token(client, other.email)
        ).status_code
        == 201
    )
    assert count() == 5


def test_the_form_offers_to_declare_another_session(client, db_session):
    user, _ = make_volunteer()
    school = make_school()
    login(client, user)
    form = {"date": "2026-01-15", "kind": "class_talk", "place": "school", "school_uai": school.uai,
            "levels": "3e", "female": "11", "male": "13", "unspecified": "1", "duration_minutes": "55"}  # fmt: skip
    assert client.post("/pmi/interventions/nouvelle", data=form).status_code == 302
    refused = client.post("/pmi/interventions/nouvelle", data=form)
    assert (
        refused.status_code == 422
        and "autre séance" in refused.text
        and 'name="second_session"' in refused.text
    )
    assert client.post("/pmi/interventions/nouvelle", data={**form, "second_session": "1"}).status_code == 302
    assert count() == 2


def test_a_spreadsheet_imported_twice_adds_nothing(client, db_session):
    user, _ = make_volunteer()
    school, other = make_school(), make_school()
    rows = [f"15/01/2026;class_talk;{school.uai};3e;11;13;1;55;", f"16/01/2026;class_talk;{other.uai};3e;9;9;0;55;",
            f"15/01/2026;class_talk;{school.uai};3e;11;13;1;55;une note"]  # fmt: skip
    csv = (HEADER + "\n".join(rows) + "\n").encode()
    login(client, user)

    def upload():  # noqa: ANN202
        from io import BytesIO

        return client.post("/pmi/interventions/import", data={"file": (BytesIO(csv), "mes.csv")},
                           content_type="multipart/form-data", follow_redirects=True)  # fmt: skip

    first = upload()
    assert "2 interventions importées, 1 ligne déjà importée (ligne 4)" in first.text
    assert count() == 2
    second = upload()
    assert "0 intervention importée, 3 lignes déjà importées (lignes 2, 3, 4)" in second.text
    assert count() == 2


def test_two_identical_requests_at_once_make_one_record(app, committed_db):
    user, _ = make_volunteer()
    school = make_school()
    email, payload = user.email, body(school)
    committed_db.commit()
    auth = api_token(app.test_client(), email)
    answers = race(6, lambda i: app.test_client().post("/api/v1/interventions", json=payload, headers=auth))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 5, [r.get_json() for r in answers]
    ids = {r.get_json()["error"]["existing_id"] for r in answers if r.status_code == 409}
    assert ids == {next(r.get_json()["id"] for r in answers if r.status_code == 201)}
    db.session.remove()
    assert count() == 1
