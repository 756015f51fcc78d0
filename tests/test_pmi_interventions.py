"""Interventions: validation, who sees and edits what, pupils counted once, numbers, CSV import, API."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth.models import Role
from core.errors import Forbidden, NotFound, ValidationFailed
from core.extensions import db
from pmi import interventions as services
from pmi.models import Intervention
from pmi.schemas import InterventionInputSchema
from tests.factories import api_token, make_user
from tests.plugins.pmi import TODAY, log, make_school, make_volunteer, new_uai


def field_errors(exc_info) -> dict:  # noqa: ANN001
    return exc_info.value.fields


# ---- validation ------------------------------------------------------------------------------------


def test_an_intervention_takes_its_place_from_the_school(db_session):
    user, volunteer = make_volunteer()
    school = make_school(department="69", region="84")
    intervention = log(user, school)
    assert (intervention.department, intervention.region, intervention.regional_group) == (
        "69",
        "84",
        "lyonnais",
    )
    assert intervention.volunteers == [volunteer]
    assert intervention.level_list == ["4e", "3e"] and intervention.levels == ",4e,3e,"


def test_a_venue_is_located_and_its_gr_derived(db_session, gazetteer):
    user, _ = make_volunteer()
    venue = {"name": "Salon Studyrama", "street": "", "postcode": "69001", "city": "Lyon"}
    intervention = log(user, None, kind="orientation_fair", venue=venue, female=400, male=500)
    assert intervention.school is None and intervention.venue_name == "Salon Studyrama"
    assert (intervention.department, intervention.regional_group) == ("69", "lyonnais")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date": dt.date(2026, 3, 11)}, "date", "futur"),
        ({"female": 450, "male": 450}, "pupils", "au plus 200"),
        ({"female": 0, "male": 0, "unspecified": 0}, "pupils", "au moins un élève"),
        ({"school_uai": "0750001U"}, "school_uai", "inconnu"),
        ({"school_uai": "0750001A"}, "school_uai", "UAI invalide"),
        ({"volunteer_ids": [999_999]}, "volunteer_ids", "inconnu"),
    ],
)
def test_bad_input_is_refused_by_field(db_session, overrides, field, message):
    user, _ = make_volunteer()
    school = make_school()
    with pytest.raises(ValidationFailed) as exc_info:
        log(user, school, **overrides)
    assert message in " ".join(field_errors(exc_info)[field])
    assert db_session.query(Intervention).count() == 0


def test_a_forum_may_count_a_crowd_but_not_more_than_2000(db_session):
    user, _ = make_volunteer()
    school = make_school()
    assert log(user, school, kind="forum", female=800, male=900).total == 1700
    with pytest.raises(ValidationFailed):
        log(user, school, kind="forum", female=1000, male=1001)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"school_uai": "0750001A", "venue": {"name": "Salle", "postcode": "75001", "city": "Paris"}},
            "pas les deux",
        ),
        ({}, "établissement"),
    ],
)
def test_school_and_venue_both_or_neither_are_refused(payload, message):
    body = {"date": "2026-01-01", "kind": "forum", "female": 3, "duration_minutes": 60, **payload}
    with pytest.raises(Exception) as exc_info:
        InterventionInputSchema().load(body)
    assert message in " ".join(exc_info.value.messages["school_uai"])


def test_negative_counts_and_long_durations_are_refused_by_the_schema():
    body = {
        "date": "2026-01-01",
        "kind": "forum",
        "school_uai": "0750001A",
        "female": -1,
        "duration_minutes": 601,
    }
    with pytest.raises(Exception) as exc_info:
        InterventionInputSchema().load(body)
    assert set(exc_info.value.messages) == {"female", "duration_minutes"}


def test_last_values_are_the_defaults_of_the_next_intervention(db_session):
    user, volunteer = make_volunteer()
    assert services.last_values(volunteer) == {"kind": "class_talk", "levels": [], "duration_minutes": 60}
    log(
        user,
        make_school(),
        kind="energy_game",
        levels=["2nde"],
        duration_minutes=120,
        date=dt.date(2026, 1, 5),
    )
    log(user, make_school(), kind="forum", levels=["3e"], duration_minutes=45, date=dt.date(2025, 12, 1))
    assert services.last_values(volunteer) == {
        "kind": "energy_game",
        "levels": ["2nde"],
        "duration_minutes": 120,
    }


# ---- permissions -------------------------------------------------------------------------------------


@pytest.fixture
def people(db_session):
    a, va = make_volunteer("paris", name="Alice")
    b, vb = make_volunteer("paris", name="Bruno")
    c, vc = make_volunteer("lyonnais", name="Chloé")
    org_paris, _ = make_volunteer("paris", Role.ORGANISER, name="Organisatrice Paris")
    org_lyon, _ = make_volunteer("lyonnais", Role.ORGANISER, name="Organisateur Lyon")
    admin = make_user(Role.ADMIN)
    factory = make_user(Role.FACTORY)
    paris_school, lyon_school = make_school("75", "11"), make_school("69", "84")
    mine = log(a, paris_school)
    theirs = log(c, lyon_school)
    return locals()


def test_volunteers_see_and_edit_only_their_own(people):
    a, b, mine = people["a"], people["b"], people["mine"]
    assert services.load_intervention(a, mine.id, edit=True) is mine
    with pytest.raises(NotFound):
        services.load_intervention(b, mine.id)
    assert services.list_interventions(b) == []
    assert services.list_interventions(a) == [mine]


def test_organisers_read_their_gr_only(people):
    mine, theirs = people["mine"], people["theirs"]
    assert services.load_intervention(people["org_paris"], mine.id) is mine
    with pytest.raises(Forbidden):
        services.load_intervention(people["org_paris"], mine.id, edit=True)
    with pytest.raises(NotFound):
        services.load_intervention(people["org_paris"], theirs.id)
    assert services.list_interventions(people["org_lyon"]) == [theirs]


def test_admins_see_and_edit_all(people):
    admin = people["admin"]
    assert {i.id for i in services.list_interventions(admin)} == {people["mine"].id, people["theirs"].id}
    assert services.load_intervention(admin, people["theirs"].id, edit=True) is people["theirs"]


def test_a_co_volunteer_may_edit_the_intervention(people):
    shared = log(people["a"], people["paris_school"], volunteer_ids=[people["vb"].id])
    assert services.load_intervention(people["b"], shared.id, edit=True) is shared


def test_api_permissions_per_role(client, people):
    mine = people["mine"]
    url = f"/api/v1/interventions/{mine.id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=api_token(client, people["a"].email)).status_code == 200
    assert client.get(url, headers=api_token(client, people["b"].email)).status_code == 404
    org = api_token(client, people["org_paris"].email)
    assert client.get(url, headers=org).status_code == 200
    assert client.patch(url, json={"notes": "x"}, headers=org).status_code == 403
    assert client.get(url, headers=api_token(client, people["org_lyon"].email)).status_code == 404
    assert client.get(url, headers=api_token(client, people["factory"].email)).status_code == 403
    assert (
        client.get("/api/v1/interventions", headers=api_token(client, people["factory"].email)).status_code
        == 403
    )
    assert client.delete(url, headers=api_token(client, people["b"].email)).status_code == 404
    assert client.delete(url, headers=api_token(client, people["admin"].email)).status_code == 204
    assert db.session.get(Intervention, mine.id) is None


def test_pages_refuse_factories_and_other_volunteers(client, people):
    from tests.factories import PASSWORD

    client.post("/connexion", data={"email": people["factory"].email, "password": PASSWORD})
    for url in ("/pmi/interventions", "/pmi/interventions/nouvelle", "/pmi/groupe", "/pmi/profil"):
        assert client.get(url).status_code == 403, url
    client.post("/deconnexion")
    client.post("/connexion", data={"email": people["b"].email, "password": PASSWORD})
    assert client.get(f"/pmi/interventions/{people['mine'].id}/modifier").status_code == 404
    assert client.post(f"/pmi/interventions/{people['mine'].id}/supprimer").status_code == 404
    assert client.get("/pmi/groupe").status_code == 403


# ---- counting ----------------------------------------------------------------------------------------


def test_three_volunteers_count_their_pupils_once(db_session):
    a, va = make_volunteer("paris", name="Alice")
    b, vb = make_volunteer("paris", name="Bruno")
    c, vc = make_volunteer("lyonnais", name="Chloé")
    admin = make_user(Role.ADMIN)
    school, other = make_school("75", "11"), make_school("75", "11")
    log(a, school, volunteer_ids=[vb.id, vc.id], female=10, male=15, unspecified=5)  # 30 pupils, 3 volunteers
    log(a, other, female=20, male=0)  # Alice alone
    log(b, school, date=dt.date(2025, 5, 5), female=1, male=1)  # another year

    total = services.stats(admin, year=2026)["total"]
    assert (total["interventions"], total["total"], total["volunteers"], total["schools"]) == (2, 50, 3, 2)
    assert total["female_share"] == round(30 / 45, 4)

    per_volunteer = {row["label"]: row for row in services.stats(admin, "volunteer", year=2026)["rows"]}
    assert {name: row["interventions"] for name, row in per_volunteer.items()} == {
        "Alice": 2,
        "Bruno": 1,
        "Chloé": 1,
    }
    assert per_volunteer["Bruno"]["total"] == 30 and per_volunteer["Alice"]["total"] == 50

    per_gr = {row["key"]: row for row in services.stats(admin, "gr", year=2026)["rows"]}
    assert set(per_gr) == {"paris"}
    assert (per_gr["paris"]["interventions"], per_gr["paris"]["total"], per_gr["paris"]["volunteers"]) == (
        2,
        50,
        3,
    )

    everything = services.stats(admin, "gr")["total"]
    assert (everything["interventions"], everything["volunteers"], everything["total"]) == (3, 3, 52)


def test_the_stats_api(client, db_session):
    a, va = make_volunteer("paris", name="Alice")
    b, vb = make_volunteer("paris", name="Bruno")
    log(a, make_school(), volunteer_ids=[vb.id], female=10, male=10)
    org, _ = make_volunteer("paris", Role.ORGANISER, name="Orga")
    response = client.get("/api/v1/pmi/stats?by=volunteer&year=2026", headers=api_token(client, org.email))
    assert response.status_code == 200
    body = response.get_json()
    assert [row["label"] for row in body["rows"]] == ["Alice", "Bruno"]
    assert set(body["rows"][0]) == {"key", "label", "interventions", "female", "male", "unspecified", "total",
                                    "female_share", "schools", "volunteers"}  # fmt: skip
    assert body["total"]["volunteers"] == 2 and body["total"]["total"] == 20
    assert body["total"]["female_share"] == 0.5
    bad = client.get("/api/v1/pmi/stats?by=school", headers=api_token(client, org.email))
    assert bad.status_code == 422 and "by" in bad.get_json()["error"]["fields"]


# ---- API shapes --------------------------------------------------------------------------------------


def test_api_create_read_update_list(client, db_session):
    user, volunteer = make_volunteer()
    _, co = make_volunteer(name="Co")
    school = make_school("69", "84")
    headers = api_token(client, user.email)
    body = {
        "date": "2026-01-15", "kind": "class_talk", "school_uai": school.uai, "levels": ["3e"],
        "female": 11, "male": 13, "unspecified": 1, "volunteer_ids": [co.id], "duration_minutes": 55,
        "notes": "Classe de 3e B",
    }  # fmt: skip
    response = client.post("/api/v1/interventions", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["school_uai"] == school.uai and created["venue"] is None
    assert created["total"] == 25 and sorted(created["volunteer_ids"]) == sorted([volunteer.id, co.id])
    assert created["regional_group"] == "lyonnais" and created["levels"] == ["3e"]

    url = f"/api/v1/interventions/{created['id']}"
    venue = {"name": "Mairie", "street": "1 place de la Mairie", "postcode": "75001", "city": "Paris"}
    patched = client.patch(url, json={"venue": venue, "male": 20}, headers=headers)
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["school_uai"] is None and patched.get_json()["venue"]["name"] == "Mairie"
    assert patched.get_json()["total"] == 32 and patched.get_json()["department"] == "75"

    listed = client.get("/api/v1/interventions?year=2026&gr=paris", headers=headers).get_json()
    assert [i["id"] for i in listed] == [created["id"]]
    assert client.get("/api/v1/interventions?year=2025", headers=headers).get_json() == []
    assert (
        client.get(f"/api/v1/interventions?volunteer={co.id}", headers=headers).get_json()[0]["id"]
        == created["id"]
    )


def test_api_errors_are_by_field(client, db_session):
    user, _ = make_volunteer()
    headers = api_token(client, user.email)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    body = {
        "date": future,
        "kind": "class_talk",
        "school_uai": new_uai(),
        "female": 900,
        "duration_minutes": 60,
    }
    response = client.post("/api/v1/interventions", json=body, headers=headers)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"date", "pupils", "school_uai"}
    both = {**body, "venue": {"name": "X", "postcode": "75001", "city": "Paris"}}
    assert (
        "school_uai"
        in client.post("/api/v1/interventions", json=both, headers=headers).get_json()["error"]["fields"]
    )
    assert db_session.query(Intervention).count() == 0


# ---- CSV import ---------------------------------------------------------------------------------------

HEADER = "date;type;uai;niveaux;filles;garcons;non_precise;duree_minutes;notes\n"


def test_a_good_file_is_imported(db_session):
    user, volunteer = make_volunteer()
    s1, s2 = make_school(), make_school()
    text = HEADER + (
        f"03/02/2026;Intervention en classe;{s1.uai};4e, 3e;12;10;0;60;Très bonne classe\n"
        f"2026-02-10;forum;{s2.uai};Seconde+Terminale;150;170;20;180;\n"
    )
    summary = services.import_csv(user, text.encode(), today=TODAY)
    assert len(summary.created) == 2 and summary.encoding == "utf-8"
    first, second = summary.created
    assert first.level_list == ["4e", "3e"] and second.level_list == ["2nde", "tle"]
    assert second.kind == "forum" and second.total == 340 and second.volunteers == [volunteer]


def test_bad_rows_are_reported_and_nothing_is_imported(db_session):
    user, _ = make_volunteer()
    school = make_school()
    text = HEADER + (
        f"03/02/2026;forum;{school.uai};3e;12;10;0;60;\n"
        f"04/02/2026;Intervention en classe;{school.uai};3e;900;0;0;60;\n"
        f"01/01/2099;atelier;0750001A;CM2;1;1;0;;\n"
    )
    with pytest.raises(services.CsvRejected) as exc_info:
        services.import_csv(user, text.encode(), today=TODAY)
    found = {(e.line, e.column) for e in exc_info.value.rows}
    assert (3, "filles/garcons/non_precise") in found
    assert {(4, "type"), (4, "niveaux"), (4, "duree_minutes")} <= found
    assert db_session.query(Intervention).count() == 0


def test_latin1_files_are_read(db_session):
    user, _ = make_volunteer()
    school = make_school()
    text = "date;type;uai;niveaux;filles;garçons;non_précisé;durée_minutes;notes\n"
    text += f"03/02/2026;Salon de l'orientation;{school.uai};Première;5;5;0;60;Présentation réussie\n"
    summary = services.import_csv(user, text.encode("latin-1"), today=TODAY)
    assert summary.encoding == "latin-1"
    assert summary.created[0].notes == "Présentation réussie" and summary.created[0].level_list == ["1re"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,type,uai\n2026-01-01,forum,0750001A\n", "Séparateur inattendu"),
        ("date;type;uai\n2026-01-01;forum;0750001A\n", "Colonnes manquantes"),
        (HEADER, "aucune ligne"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(db_session, text, message):
    user, _ = make_volunteer()
    with pytest.raises(services.CsvRejected) as exc_info:
        services.import_csv(user, text.encode(), today=TODAY)
    assert message in exc_info.value.message


def test_the_cli_imports_a_spreadsheet_all_or_nothing(app, db_session, tmp_path):
    user, _ = make_volunteer()
    school = make_school()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(HEADER + f"03/02/2026;forum;{school.uai};3e;12;10;0;60;\n", encoding="utf-8")
    bad.write_text(HEADER + f"03/02/2026;forum;{school.uai};3e;0;0;0;60;\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pmi", "import-interventions", str(good), "--email", user.email])
    assert result.exit_code == 0, result.output
    assert "1 intervention importée (fichier utf-8)" in result.output
    result = runner.invoke(args=["pmi", "import-interventions", str(bad), "--email", user.email])
    assert result.exit_code == 1 and "ligne 2, filles/garcons/non_precise" in result.output
    assert db_session.query(Intervention).count() == 1
    # The same file again: nothing added, and the report says which lines it already had.
    result = runner.invoke(args=["pmi", "import-interventions", str(good), "--email", user.email])
    assert result.exit_code == 0, result.output
    assert "0 intervention importée, 1 ligne déjà importée (ligne 2)" in result.output
    assert db_session.query(Intervention).count() == 1
