"""Campus transports: permissions, stops within the seats, bad input, documents (manifest, CSV, .ics,
route), actual counts and numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from icalendar import Calendar
from sqlalchemy import select

from core.auth.models import Role
from core.errors import ValidationFailed
from core.extensions import db
from pmi.interventions import paris_today
from pmi.transports import services
from pmi.transports.campuses import CAMPUSES
from pmi.transports.models import Transport, TransportStop
from tests.factories import api_token, make_user
from tests.plugins.pmi import (
    SOON,
    make_school,
    make_transport,
    make_volunteer,
    new_uai,
    organiser,
    stop_data,
    transport_data,
)


def transport_json(**overrides) -> dict:
    data = {
        "campus": "paris",
        "date": SOON.isoformat(),
        "departure_time": "07:30",
        "return_time": "18:00",
        "operator": "Cars Dupont",
        "seats": 50,
        "cost": 850,
    }
    data.update(overrides)
    return data


@pytest.fixture
def paris_org(db_session):
    return organiser("paris")


@pytest.fixture
def headers(client, paris_org):
    return api_token(client, paris_org.email)


# ---- campuses ----------------------------------------------------------------------------------------


def test_eleven_campuses_and_institutes_with_coordinates_in_france():
    assert len(CAMPUSES) == 11
    names = {c.name for c in CAMPUSES}
    assert {"Lille", "Châlons-en-Champagne", "Cluny", "Aix-en-Provence", "Angers", "Bordeaux-Talence", "Metz",
            "Paris", "Bastia", "Chambéry", "Laval"} == names  # fmt: skip
    assert all(41 < c.lat < 51.2 and -5 < c.lon < 9.6 for c in CAMPUSES)
    paris = next(c for c in CAMPUSES if c.code == "paris")
    assert paris.address == "151 boulevard de l'Hôpital, 75013 Paris"


# ---- services: seats and stops -----------------------------------------------------------------------


def test_stops_take_seats_in_order_and_give_them_back(paris_org):
    transport = make_transport(paris_org, seats=30)
    a, b = make_school(name="Lycée A"), make_school(name="Lycée B")
    services.add_stop(paris_org, transport.id, stop_data(a, female=10, male=8, teachers=2))
    second = services.add_stop(paris_org, transport.id, stop_data(b, female=4, male=3, unspecified=1))
    assert [s.school.name for s in transport.stops] == ["Lycée A", "Lycée B"]
    assert [s.position for s in transport.stops] == [1, 2]
    assert transport.seats_taken == 30
    services.delete_stop(paris_org, transport.id, transport.stops[0].id)
    db.session.refresh(transport)
    assert transport.seats_taken == 10 and second.position == 1


def test_a_stop_that_would_overfill_the_bus_is_refused_and_nothing_is_saved(paris_org):
    from core.errors import Conflict

    transport = make_transport(paris_org, seats=20)
    school = make_school()
    services.add_stop(paris_org, transport.id, stop_data(school, female=10, male=5, teachers=1))
    with pytest.raises(Conflict) as caught:
        services.add_stop(paris_org, transport.id, stop_data(make_school(), female=3, male=1, teachers=1))
    assert "il reste 4 places" in caught.value.message
    db.session.refresh(transport)
    assert transport.seats_taken == 16 and len(transport.stops) == 1


def test_a_stop_within_the_trip_and_a_school_once_per_bus(paris_org):
    transport = make_transport(paris_org)  # 07:30 → 18:00
    school, other = make_school(), make_school()
    with pytest.raises(ValidationFailed) as early:
        services.add_stop(paris_org, transport.id, stop_data(school, pickup_time=dt.time(5, 0)))
    assert "ne peut pas précéder le départ du car (07:30)" in early.value.fields["pickup_time"][0]
    with pytest.raises(ValidationFailed) as late:
        services.add_stop(paris_org, transport.id, stop_data(school, pickup_time=dt.time(18, 30)))
    assert "avant le retour du car (18:00)" in late.value.fields["pickup_time"][0]
    first = services.add_stop(paris_org, transport.id, stop_data(school))
    with pytest.raises(ValidationFailed) as twice:
        services.add_stop(paris_org, transport.id, stop_data(school, female=1, male=1))
    assert "déjà l'arrêt n° 1 de ce car" in twice.value.fields["school_uai"][0]
    second = services.add_stop(paris_org, transport.id, stop_data(other, pickup_time=dt.time(8, 0)))
    with pytest.raises(ValidationFailed):  # moving the second stop onto the first's school
        services.update_stop(paris_org, transport.id, second.id, {"school_uai": school.uai})
    with pytest.raises(ValidationFailed):
        services.update_stop(paris_org, transport.id, first.id, {"pickup_time": dt.time(6, 0)})
    db.session.refresh(transport)
    assert transport.seats_taken == 48 and len(transport.stops) == 2


def test_more_on_board_than_seats_needs_a_reason_that_the_log_keeps(paris_org):
    from core.audit import AuditEvent

    past = paris_today() - dt.timedelta(days=2)
    transport = services.create_transport(paris_org, transport_data(date=past, seats=55), today=past)
    a = services.add_stop(paris_org, transport.id, stop_data(make_school(), female=20, male=20, teachers=2))
    b = services.add_stop(paris_org, transport.id, stop_data(make_school(), female=5, male=5, teachers=1))
    counts = {a.id: {"actual_female": 30, "actual_male": 30, "actual_teachers": 4},
              b.id: {"actual_female": 5, "actual_male": 4, "actual_teachers": 1}}  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        services.record_actuals(paris_org, transport.id, counts)
    assert "74 personnes relevées pour 55 places" in refused.value.fields["actual_female"][0]
    services.record_actuals(
        paris_org, transport.id, counts, over_capacity_reason="Deux classes en plus, car de 63 places"
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "transport.over_capacity"))
    assert (
        event.actor_id == paris_org.id
        and "74 personnes pour 55 places : Deux classes en plus" in event.summary
    )
    # A stop's own actual counts, through the API's path: the same rule.
    with pytest.raises(ValidationFailed):
        services.update_stop(paris_org, transport.id, b.id, {"actual_female": 10})
    services.update_stop(paris_org, transport.id, b.id, {"actual_female": 4, "over_capacity_reason": "Idem"})


def test_a_school_can_be_on_several_transports(paris_org):
    school = make_school()
    for _ in range(2):
        services.add_stop(paris_org, make_transport(paris_org).id, stop_data(school))
    assert db.session.query(TransportStop).filter_by(school_id=school.id).count() == 2


def test_changing_a_stop_takes_only_the_difference(paris_org):
    transport = make_transport(paris_org, seats=30)
    stop = services.add_stop(
        paris_org, transport.id, stop_data(make_school(), female=10, male=10, teachers=2)
    )
    services.update_stop(paris_org, transport.id, stop.id, {"female": 14})
    assert transport.seats_taken == 26
    from core.errors import Conflict

    with pytest.raises(Conflict):
        services.update_stop(paris_org, transport.id, stop.id, {"male": 20})


def test_fewer_seats_than_taken_is_refused(paris_org):
    from core.errors import ValidationFailed

    transport = make_transport(paris_org, seats=30)
    services.add_stop(paris_org, transport.id, stop_data(make_school(), female=10, male=10, teachers=2))
    with pytest.raises(ValidationFailed) as caught:
        services.update_transport(paris_org, transport, {"seats": 20})
    assert "22 places occupées" in caught.value.fields["seats"][0]
    services.update_transport(paris_org, transport, {"seats": 22})
    assert transport.seats == 22


# ---- API: permissions --------------------------------------------------------------------------------


def test_organiser_creates_for_own_group_and_lists_only_it(client, headers, paris_org):
    response = client.post("/api/v1/transports", json=transport_json(), headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["regional_group"] == "paris" and body["cost"] == "850.00" and body["seats_left"] == 50
    make_transport(organiser("alsace", "Autre GR"))
    listed = client.get("/api/v1/transports", headers=headers).get_json()
    assert [t["id"] for t in listed] == [body["id"]]


def test_other_group_gets_404_and_other_roles_403(client, paris_org):
    transport = make_transport(paris_org)
    other = organiser("alsace", "Autre Organisateur")
    volunteer, _ = make_volunteer("paris", Role.VOLUNTEER, name="Simple Bénévole")
    factory = make_user(Role.FACTORY)
    admin = make_user(Role.ADMIN)
    url = f"/api/v1/transports/{transport.id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=api_token(client, other.email)).status_code == 404
    assert client.patch(url, json={"seats": 40}, headers=api_token(client, other.email)).status_code == 404
    assert client.post(f"{url}/stops", json={}, headers=api_token(client, other.email)).status_code in {
        404,
        422,
    }
    for user in (volunteer, factory):
        assert client.get(url, headers=api_token(client, user.email)).status_code == 403
        assert client.get("/api/v1/transports", headers=api_token(client, user.email)).status_code == 403
    assert client.get(url, headers=api_token(client, admin.email)).status_code == 200
    assert client.get(url, headers=api_token(client, paris_org.email)).status_code == 200


def test_organiser_cannot_create_for_another_group_admin_must_name_one(client, headers):
    response = client.post(
        "/api/v1/transports", json=transport_json(regional_group="alsace"), headers=headers
    )
    assert response.status_code == 403
    admin = make_user(Role.ADMIN)
    admin_headers = api_token(client, admin.email)
    response = client.post("/api/v1/transports", json=transport_json(), headers=admin_headers)
    assert response.status_code == 422 and "regional_group" in response.get_json()["error"]["fields"]
    response = client.post(
        "/api/v1/transports", json=transport_json(regional_group="alsace"), headers=admin_headers
    )
    assert response.status_code == 201 and response.get_json()["regional_group"] == "alsace"


# ---- API: bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"return_time": "07:00"}, "return_time", "après le départ"),
        ({"date": (paris_today() - dt.timedelta(days=1)).isoformat()}, "date", "passée"),
        ({"seats": 0}, "seats", "entre 1 et 200"),
        ({"seats": -3}, "seats", "entre 1 et 200"),
        ({"campus": "toulouse"}, "campus", "Campus inconnu"),
        ({"cost": "beaucoup"}, "cost", "Montant"),
    ],
)
def test_bad_transport_input_is_refused_in_french(client, headers, overrides, field, words):
    response = client.post("/api/v1/transports", json=transport_json(**overrides), headers=headers)
    assert response.status_code == 422, response.get_json()
    messages = response.get_json()["error"]["fields"][field]
    assert any(words in m for m in messages), messages
    assert db.session.scalar(select(Transport.id)) is None


def test_bad_stops_are_refused_and_nothing_is_half_saved(client, headers, paris_org):
    transport = make_transport(paris_org, seats=10)
    school = make_school()
    url = f"/api/v1/transports/{transport.id}/stops"
    unknown = client.post(url, json={"school_uai": new_uai(), "pickup_time": "07:45", "female": 2},
                          headers=headers)  # fmt: skip
    assert unknown.status_code == 422
    assert "inconnu" in unknown.get_json()["error"]["fields"]["school_uai"][0]
    nobody = client.post(url, json={"school_uai": school.uai, "pickup_time": "07:45"}, headers=headers)
    assert nobody.status_code == 422 and "pupils" in nobody.get_json()["error"]["fields"]
    full = client.post(url, json={"school_uai": school.uai, "pickup_time": "07:45", "female": 9, "teachers": 2},
                       headers=headers)  # fmt: skip
    assert full.status_code == 409
    body = full.get_json()["error"]
    assert body["code"] == "bus_full" and "il reste 10 places" in body["message"]
    ok = client.post(url, json={"school_uai": school.uai, "pickup_time": "07:45", "female": 8, "teachers": 2},
                     headers=headers)  # fmt: skip
    assert ok.status_code == 201
    got = client.get(f"/api/v1/transports/{transport.id}", headers=headers).get_json()
    assert got["seats_taken"] == 10 and len(got["stops"]) == 1


def test_stop_api_patch_records_actual_counts_and_delete_frees_seats(client, headers, paris_org):
    transport = make_transport(paris_org, seats=40)
    url = f"/api/v1/transports/{transport.id}/stops"
    stop = client.post(url, json={"school_uai": make_school().uai, "pickup_time": "08:10", "female": 12,
                                  "male": 10, "teachers": 2}, headers=headers).get_json()  # fmt: skip
    actuals = {"actual_female": 11, "actual_male": 9}
    # Before the trip, actual counts cannot be entered: they would count as happened.
    early = client.patch(f"{url}/{stop['id']}", json=actuals, headers=headers)
    assert (
        early.status_code == 422
        and "pas encore eu lieu" in early.get_json()["error"]["fields"]["actual_female"][0]
    )
    transport.date = paris_today() - dt.timedelta(days=1)  # the trip is over
    db.session.commit()
    response = client.patch(f"{url}/{stop['id']}", json=actuals, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert db.session.get(Transport, transport.id).status == "done"
    body = response.get_json()
    assert (body["female"], body["actual_female"], body["actual_teachers"], body["actual_pupils"]) == (
        12,
        11,
        0,
        20,
    )
    assert [s["id"] for s in client.get(url, headers=headers).get_json()] == [stop["id"]]
    assert client.delete(f"{url}/{stop['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/transports/{transport.id}", headers=headers).get_json()["seats_taken"] == 0
    assert client.delete(f"/api/v1/transports/{transport.id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/transports/{transport.id}", headers=headers).status_code == 404


# ---- documents ---------------------------------------------------------------------------------------


@pytest.fixture
def trip(paris_org):
    transport = make_transport(paris_org, seats=60, operator="Cars Dupont")
    a = make_school(name="Lycée Arago", city="Paris", street="4 place de la Nation", postcode="75012")
    b = make_school(name="Lycée Voltaire", city="Paris")
    b.lat, b.lon = 48.86, 2.38
    services.add_stop(paris_org, transport.id, stop_data(a, pickup_time=dt.time(7, 40), female=11, male=13,
                                                         teachers=2, contact_name="M. Prof",
                                                         contact_phone="+33142000001"))  # fmt: skip
    services.add_stop(paris_org, transport.id, stop_data(b, pickup_time=dt.time(8, 5), female=9, male=7,
                                                         unspecified=1, teachers=1))  # fmt: skip
    db.session.flush()
    return transport


def login(client, user) -> None:  # noqa: ANN001
    from tests.factories import PASSWORD

    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in {302, 303}


def test_manifest_lists_stops_times_counts_and_contacts(client, paris_org, trip):
    login(client, paris_org)
    html = client.get(f"/pmi/transports/{trip.id}/manifeste").get_data(as_text=True)
    assert "@media print" in html
    assert "Lycée Arago" in html and "Lycée Voltaire" in html
    assert html.index("Lycée Arago") < html.index("Lycée Voltaire")
    assert "07h40" in html and "08h05" in html and "M. Prof" in html and "+33142000001" in html
    assert "151 boulevard de l&#39;Hôpital" in html or "151 boulevard de l'Hôpital" in html
    assert 'data-total="pupils">41<' in html and 'data-total="teachers">3<' in html
    assert "<svg" in html and "cdn" not in html.lower()


def test_manifest_csv_is_for_french_excel(client, paris_org, trip):
    login(client, paris_org)
    response = client.get(f"/pmi/transports/{trip.id}/manifeste.csv")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:4] == ["Ordre", "Heure de ramassage", "UAI", "Établissement"]
    assert rows[1][1] == "07:40" and rows[1][3] == "Lycée Arago" and rows[1][9] == "24" and rows[1][10] == "2"
    assert rows[2][3] == "Lycée Voltaire" and rows[2][9] == "17"
    assert rows[-1][3] == "Campus Arts et Métiers de Paris" and rows[-1][9] == "41"


def test_ics_parses_back_with_paris_times(client, paris_org, trip):
    login(client, paris_org)
    response = client.get(f"/pmi/transports/{trip.id}/transport.ics")
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.get_data())
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1 and len(cal.walk("VTIMEZONE")) == 1
    event = events[0]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert (start.date(), start.hour, start.minute) == (SOON, 7, 30)
    assert str(start.tzinfo) in {"Europe/Paris"} or event["dtstart"].params["TZID"] == "Europe/Paris"
    assert (end.hour, end.minute) == (18, 0)
    assert "Paris" in str(event["location"]) and "Lycée Arago" in str(event["description"])
    assert str(event["uid"]).startswith(f"transport-{trip.id}@")


def test_route_diagram_goes_through_the_stops_to_the_campus(client, paris_org, trip):
    login(client, paris_org)
    response = client.get(f"/pmi/transports/{trip.id}/itineraire.svg")
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.count("<circle") == 3 and "<polyline" in svg
    assert (
        svg.index("Lycée Arago") < svg.index("Lycée Voltaire") < svg.rindex("Campus Arts et Métiers de Paris")
    )


def test_documents_of_another_group_are_not_found(client, trip):
    other = organiser("alsace", "Autre")
    login(client, other)
    for suffix in ("", "/manifeste", "/manifeste.csv", "/transport.ics", "/itineraire.svg", "/bilan"):
        assert client.get(f"/pmi/transports/{trip.id}{suffix}").status_code == 404


# ---- pages -------------------------------------------------------------------------------------------


def test_pages_create_a_transport_add_a_stop_and_show_field_errors(client, paris_org):
    login(client, paris_org)
    assert client.get("/pmi/transports/nouveau").status_code == 200
    past = client.post("/pmi/transports/nouveau", data={"campus": "lille", "date": "2020-01-01",
                       "departure_time": "08:00", "return_time": "07:00", "seats": "0"})  # fmt: skip
    assert past.status_code == 422
    html = past.get_data(as_text=True)
    assert "La date du transport ne peut pas être passée." in html or "entre 1 et 200" in html
    created = client.post("/pmi/transports/nouveau", data={"campus": "lille", "date": SOON.isoformat(),
                          "departure_time": "08:00", "return_time": "17:30", "seats": "45",
                          "cost": "1 250,50 €", "status": "planned"})  # fmt: skip
    assert created.status_code == 302
    transport = db.session.scalar(select(Transport))
    assert transport.cost == Decimal("1250.50")  # typed the French way
    assert "1\u202f250,50\u00a0€" in client.get(f"/pmi/transports/{transport.id}").get_data(as_text=True)
    school = make_school(name="Lycée Faidherbe", city="Lille", department="59", region="32")
    added = client.post(f"/pmi/transports/{transport.id}", data={"school_search": f"Lycée Faidherbe {school.uai}",
                        "pickup_time": "08:15", "female": "20", "male": "18", "teachers": "3"})  # fmt: skip
    assert added.status_code == 302, added.get_data(as_text=True)
    over = client.post(f"/pmi/transports/{transport.id}", data={"school_uai": make_school().uai,
                       "pickup_time": "08:20", "female": "5"})  # fmt: skip
    assert over.status_code == 422 and "Il reste 4 places" in over.get_data(as_text=True)
    page = client.get(f"/pmi/transports/{transport.id}").get_data(as_text=True)
    assert "Lycée Faidherbe" in page and "41 / 45 places" in page
    assert client.get("/pmi/transports").status_code == 200
    assert client.get("/pmi/transports/chiffres").status_code == 200


def test_actual_counts_page_keeps_planned_counts(client, paris_org, trip):
    login(client, paris_org)
    first, second = trip.stops
    data = {
        f"{name}_{first.id}": value
        for name, value in [
            ("actual_female", 10),
            ("actual_male", 13),
            ("actual_unspecified", 0),
            ("actual_teachers", 2),
        ]
    }
    data |= {f"{name}_{second.id}": 0 for name in services.ACTUAL_FIELDS}
    early = client.post(f"/pmi/transports/{trip.id}/bilan", data=data)
    assert early.status_code == 422 and "pas encore eu lieu" in early.text  # the trip is to come
    trip.date = paris_today() - dt.timedelta(days=1)
    db.session.commit()
    response = client.post(f"/pmi/transports/{trip.id}/bilan", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert (first.female, first.actual_female, first.actual_pupils) == (11, 10, 23)
    assert trip.status == "done"


def test_volunteer_and_factory_pages_are_forbidden(client):
    for user in (make_volunteer("paris", name="Vol")[0], make_user(Role.FACTORY)):
        login(client, user)
        assert client.get("/pmi/transports").status_code == 403
        client.post("/deconnexion")


# ---- numbers -----------------------------------------------------------------------------------------


def test_stats_group_by_gr_campus_and_region(client, paris_org):
    admin = make_user(Role.ADMIN)
    alsace = organiser("alsace", "Org Alsace")
    paris_school = make_school(department="75", region="11")
    strasbourg = make_school(department="67", region="44", city="Strasbourg")
    t1 = make_transport(paris_org, campus="paris", seats=50, cost=Decimal("500"))
    services.add_stop(
        paris_org, t1.id, stop_data(paris_school, female=10, male=10, unspecified=0, teachers=5)
    )
    t2 = make_transport(alsace, campus="metz", seats=45, cost=Decimal("600"))
    services.add_stop(alsace, t2.id, stop_data(strasbourg, female=12, male=18, unspecified=0, teachers=2))
    stop = services.add_stop(
        alsace, t2.id, stop_data(paris_school, female=5, male=5, unspecified=0, teachers=0)
    )
    services.update_stop(alsace, t2.id, stop.id, {"actual_female": 3, "actual_male": 5}, today=SOON)
    cancelled = make_transport(paris_org, campus="lille", seats=30, cost=Decimal("999"))
    services.update_transport(paris_org, cancelled, {"status": "cancelled"})

    headers = api_token(client, admin.email)
    body = client.get("/api/v1/transports/stats?by=gr", headers=headers).get_json()
    total = body["total"]
    assert total["transports"] == 2 and total["pupils"] == 20 + 30 + 8
    assert (total["female"], total["male"], total["teachers"]) == (25, 33, 7)
    assert total["seats"] == 95 and total["fill_rate"] == round((58 + 7) / 95, 4)
    assert total["cost_per_pupil"] == round(1100 / 58, 2) and total["schools"] == 2
    by_gr = {r["key"]: r for r in body["rows"]}
    assert by_gr["paris"]["pupils"] == 20 and by_gr["alsace"]["pupils"] == 38
    assert by_gr["alsace"]["cost_per_pupil"] == round(600 / 38, 2)
    by_campus = {
        r["key"]: r
        for r in client.get("/api/v1/transports/stats?by=campus", headers=headers).get_json()["rows"]
    }
    assert set(by_campus) == {"paris", "metz"} and by_campus["metz"]["fill_rate"] == round(40 / 45, 4)
    by_region = {
        r["key"]: r
        for r in client.get("/api/v1/transports/stats?by=region", headers=headers).get_json()["rows"]
    }
    assert by_region["11"]["pupils"] == 28 and by_region["11"]["transports"] == 2
    assert by_region["44"]["pupils"] == 30 and by_region["44"]["fill_rate"] is None
    # An organiser's numbers cover their GR only.
    own = client.get("/api/v1/transports/stats", headers=api_token(client, paris_org.email)).get_json()
    assert own["total"]["transports"] == 1 and own["total"]["pupils"] == 20
    volunteer = make_volunteer("paris", name="Vol")[0]
    assert (
        client.get("/api/v1/transports/stats", headers=api_token(client, volunteer.email)).status_code == 403
    )


def test_route_map_draws_the_stops_to_the_campus_with_local_assets_only(client, paris_org, trip):
    login(client, paris_org)
    response = client.get(f"/pmi/transports/{trip.id}/carte")
    html = response.get_data(as_text=True)
    assert "L.polyline" in html
    assert "Lycée Arago" in html and "Lycée Voltaire" in html
    # In the site's layout: a title, a way back, the legend, the stops in order with their times; its
    # scripts carry the request's nonce (no inline script allowed on any page).
    assert "<h1>Itinéraire vers" in html and "← Le transport" in html and "arrêts dans l'ordre" in html
    assert re.search(r"<li>\d\dh\d\d · 1\. Lycée", html)
    assert (
        "'unsafe-inline'"
        not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    # Every script and stylesheet comes from the app's static folder; tiles are the configured server.
    for url in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html):
        assert url.startswith("/static/"), url


def test_a_school_on_two_buses_of_a_group_counts_once_in_its_row(client, paris_org):
    school = make_school(department="75", region="11")
    for _ in range(2):
        transport = make_transport(paris_org, campus="paris", seats=50)
        services.add_stop(paris_org, transport.id, stop_data(school, female=5, male=5, teachers=1))
    for by in ("gr", "campus"):
        result = services.stats(make_user(Role.ADMIN), by)
        assert result["total"]["schools"] == 1
        assert [r["schools"] for r in result["rows"]] == [1], by
