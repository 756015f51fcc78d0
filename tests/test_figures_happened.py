"""Only what happened is counted as happened: a planned bus is not published as done (its pupils wait for
the counts taken on board), only under an explicit `measure=planned`; the report paragraph says how many
more are planned."""

from __future__ import annotations

import datetime as dt

from core.auth.models import Role
from core.formatting import paris_today
from pmi.transports import services as transport_services
from tests.factories import login, make_user
from tests.plugins.pmi import make_school, organiser, stop_data, transport_data


def test_a_planned_bus_is_not_published_as_done(client, db_session):
    paris = organiser("paris")
    school = make_school("75", "11")
    today = paris_today()
    past = today - dt.timedelta(days=1)  # both in this year but on 1 January and 31 December
    done = transport_services.create_transport(paris, transport_data(date=past), today=past)
    stop = transport_services.add_stop(paris, done.id, stop_data(school, female=20, male=20))
    transport_services.record_actuals(
        paris, done.id, {stop.id: {"actual_female": 21, "actual_male": 19, "actual_unspecified": 2}}
    )
    later = today + dt.timedelta(days=1)
    planned = transport_services.create_transport(paris, transport_data(date=later), today=today)
    transport_services.add_stop(paris, planned.id, stop_data(make_school("92", "11"), female=15, male=15))
    db_session.commit()
    years = {past.year, later.year}

    def api(**params) -> dict:  # noqa: ANN003
        return client.get("/api/v1/stats/transports", query_string=params).get_json()["totals"]

    happened = [api(year=y) for y in sorted(years)]
    assert sum(t["transports"] for t in happened) == 1 and sum(t["total"] for t in happened) == 42
    expected = [api(year=y, measure="planned") for y in sorted(years)]
    assert sum(t["transports"] for t in expected) == 2 and sum(t["total"] for t in expected) == 70
    if past.year == later.year:
        page = client.get(f"/chiffres?year={past.year}").text
        assert "1 transport organisé par les Groupes Régionaux a permis à 42 lycéens" in page
        assert "1 autre transport est prévu : il sera compté une fois les effectifs relevés à bord." in page


def test_an_intervention_before_the_programme_is_a_typo(client, db_session):
    from tests.factories import api_token
    from tests.plugins.pmi import make_volunteer

    user, _ = make_volunteer()
    school = make_school()
    body = {"date": "1990-01-01", "kind": "class_talk", "school_uai": school.uai, "female": 10,
            "duration_minutes": 60}  # fmt: skip
    response = client.post("/api/v1/interventions", json=body, headers=api_token(client, user.email))
    assert response.status_code == 422
    assert "trop ancienne" in response.get_json()["error"]["fields"]["date"][0]


def test_a_year_not_entered_yet_is_said_so_not_minus_100_percent(client, db_session):
    from stats import dashboard

    paris = organiser("paris")
    school = make_school("75", "11")
    today = paris_today()
    last_year = today.replace(year=today.year - 1, day=1)
    went = transport_services.create_transport(paris, transport_data(date=last_year), today=last_year)
    stop = transport_services.add_stop(paris, went.id, stop_data(school, female=20, male=20))
    transport_services.record_actuals(paris, went.id, {stop.id: {"actual_female": 20, "actual_male": 20}})
    this_year = transport_services.create_transport(paris, transport_data(date=today), today=today)
    transport_services.add_stop(paris, this_year.id, stop_data(school, female=20, male=20))
    view = dashboard.build_view(
        {"programme": "transports", "by": [], "measure": "attended", "year": today.year}
    )
    table = view.years.table(with_changes=True)
    assert [c.header for c in table.columns][-2:] == ["Évolution", "Chiffres saisis"]
    assert [row[-2:] for row in table.rows] == [[None, 1.0], ["pas encore saisi", 0.0]]
    assert view.change_from_last_year() == "pas encore saisi"
    admin = make_user(Role.ADMIN)
    db_session.commit()
    login(client, admin)
    page = client.get(f"/admin/statistiques?programme=transports&year={today.year}")
    assert page.status_code == 200 and "pas encore saisi" in page.text and "-100" not in page.text
