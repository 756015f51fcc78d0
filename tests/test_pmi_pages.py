"""PMI pages: profile, logging an intervention (defaults, errors beside the fields, nothing half-saved),
history with totals, edit/delete, CSV import, the GR's page."""

from __future__ import annotations

import datetime as dt
import io

from core.auth.models import Role
from core.formatting import paris_today
from pmi.models import Intervention, Volunteer
from tests.factories import PASSWORD, make_user
from tests.plugins.pmi import log, make_school, make_volunteer


def sign_in(client, user) -> None:  # noqa: ANN001
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def form(school, **overrides) -> dict:  # noqa: ANN001
    data = {
        "date": "2026-02-03", "kind": "class_talk", "place": "school", "school_uai": school.uai,
        "school_search": school.name, "levels": ["4e", "3e"], "female": "12", "male": "13", "unspecified": "",
        "duration_minutes": "60", "notes": "",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_a_new_volunteer_fills_the_profile_first(client, db_session):
    user = make_user(Role.VOLUNTEER)
    sign_in(client, user)
    response = client.get("/pmi/interventions/nouvelle")
    assert response.status_code == 302 and response.headers["Location"].endswith("/pmi/profil")
    bad = client.post("/pmi/profil", data={"name": "Lou", "promo": "x" * 21, "regional_group": "nowhere"})
    assert bad.status_code == 422 and "Au plus 20 caractères" in bad.text
    good = client.post("/pmi/profil", data={"name": "Lou", "promo": "Ch. 180", "regional_group": "paris"})
    assert good.status_code == 302
    volunteer = db_session.query(Volunteer).filter_by(user_id=user.id).one()
    assert (volunteer.promo, volunteer.regional_group_code, user.name) == ("Ch. 180", "paris", "Lou")


def test_logging_an_intervention_with_a_co_volunteer(client, db_session):
    user, volunteer = make_volunteer(name="Alice")
    _, co = make_volunteer(name="Bruno")
    make_volunteer("lyonnais", name="Chloé")
    school = make_school()
    sign_in(client, user)
    page = client.get("/pmi/interventions/nouvelle")
    assert page.status_code == 200
    # Today in Paris, the page's day (the machine's UTC date differs an hour a night).
    assert paris_today().isoformat() in page.text and "Bruno" in page.text and "Chloé" not in page.text
    response = client.post("/pmi/interventions/nouvelle", data=form(school, volunteer_ids=[str(co.id)]))
    assert response.status_code == 302, response.text
    intervention = db_session.query(Intervention).one()
    assert intervention.total == 25 and {v.id for v in intervention.volunteers} == {volunteer.id, co.id}
    history = client.get("/pmi/interventions")
    assert school.name in history.text and 'data-total="female">12<' in history.text
    assert 'data-total="female_share">48 %' in history.text


def test_errors_show_beside_the_fields_and_nothing_is_saved(client, db_session):
    user, _ = make_volunteer()
    school = make_school()
    sign_in(client, user)
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    response = client.post("/pmi/interventions/nouvelle", data=form(school, date=future, female="900"))
    assert response.status_code == 422
    assert 'id="date-errors"' in response.text and 'id="pupils-errors"' in response.text
    assert "futur" in response.text
    venue = form(school, place="venue", venue_name="", venue_postcode="7500", venue_city="Paris")
    response = client.post("/pmi/interventions/nouvelle", data=venue)
    assert response.status_code == 422 and 'id="venue_name-errors"' in response.text
    assert 'id="venue_postcode-errors"' in response.text
    assert db_session.query(Intervention).count() == 0


def test_a_uai_typed_without_javascript_is_enough(client, db_session):
    user, _ = make_volunteer()
    school = make_school()
    sign_in(client, user)
    data = form(school, school_uai="", school_search=f"{school.uai} {school.name}")
    assert client.post("/pmi/interventions/nouvelle", data=data).status_code == 302
    assert db_session.query(Intervention).one().school_id == school.id


def test_last_values_prefill_the_form(client, db_session):
    user, _ = make_volunteer()
    log(user, make_school(), kind="energy_game", duration_minutes=135, levels=["2nde"])
    sign_in(client, user)
    text = client.get("/pmi/interventions/nouvelle").text
    assert 'value="energy_game" selected' in text and 'value="135"' in text
    assert 'value="2nde" checked' in text


def test_edit_and_delete_own(client, db_session):
    user, _ = make_volunteer()
    intervention = log(user, make_school())
    sign_in(client, user)
    url = f"/pmi/interventions/{intervention.id}/modifier"
    assert client.get(url).status_code == 200
    response = client.post(url, data=form(intervention.school, female="30", male="0"))
    assert response.status_code == 302
    assert intervention.total == 30
    assert client.post(f"/pmi/interventions/{intervention.id}/supprimer").status_code == 302
    assert db_session.query(Intervention).count() == 0


def test_csv_import_page(client, db_session):
    user, _ = make_volunteer()
    school = make_school()
    sign_in(client, user)
    header = "date;type;uai;niveaux;filles;garcons;non_precise;duree_minutes;notes\n"
    bad = header + f"03/02/2026;forum;{school.uai};3e;12;10;0;60;\n04/02/2026;forum;{school.uai};3e;;;;60;\n"
    response = client.post("/pmi/interventions/import", data={"file": (io.BytesIO(bad.encode()), "a.csv")})
    assert response.status_code == 422 and "<td>3</td>" in response.text
    assert db_session.query(Intervention).count() == 0
    good = header + f"03/02/2026;forum;{school.uai};3e;12;10;0;60;\n"
    response = client.post("/pmi/interventions/import", data={"file": (io.BytesIO(good.encode()), "a.csv")})
    assert response.status_code == 302
    assert db_session.query(Intervention).count() == 1


def test_the_group_page_counts_per_volunteer(client, db_session):
    a, _ = make_volunteer(name="Alice")
    _, vb = make_volunteer(name="Bruno")
    c, _ = make_volunteer("lyonnais", name="Chloé")
    log(a, make_school(), volunteer_ids=[vb.id], female=10, male=10)
    log(c, make_school("69", "84"), female=5, male=5)
    organiser, _ = make_volunteer(role=Role.ORGANISER, name="Orga")
    sign_in(client, organiser)
    text = client.get("/pmi/groupe").text
    assert "Alice" in text and "Bruno" in text and "Chloé" not in text
    assert 'data-total="total">20<' in text and "2 intervenants distincts" in text
    client.post("/deconnexion")
    sign_in(client, make_user(Role.ADMIN))
    text = client.get("/pmi/groupe").text
    assert "Chloé" in text and "Par groupe régional" in text and 'data-total="total">30<' in text


def test_an_organiser_cannot_move_into_another_group(client, db_session):
    """The organiser's GR gives rights over the group's transports: staff assign it, not the organiser."""
    from pmi.volunteers import profile_of

    user, profile = make_volunteer("paris", Role.ORGANISER)
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    response = client.post(
        "/pmi/profil", data={"name": user.name, "promo": "Ch. 180", "regional_group": "lyonnais"}
    )
    assert response.status_code == 422
    assert "attribué par l" in response.get_data(as_text=True)
    assert profile_of(user).regional_group_code == "paris"


def test_staff_assign_a_group_from_the_cli(app, db_session):
    from pmi.volunteers import profile_of

    user, _ = make_volunteer("paris", Role.ORGANISER)
    result = app.test_cli_runner().invoke(
        args=["pmi", "set-group", "--email", user.email, "--gr", "lyonnais"]
    )
    assert result.exit_code == 0, result.output
    assert profile_of(user).regional_group_code == "lyonnais"
