"""The transports map and its GeoJSON: lines from schools to the campus, counts only."""

import re

from pmi.transports import services
from pmi.transports.campuses import BY_CODE
from tests.factories import PASSWORD
from tests.plugins.pmi import make_school, make_transport, organiser, stop_data


def make_trip(org, **overrides):  # noqa: ANN001, ANN201
    transport = make_transport(org, **overrides)
    school = make_school(name="Lycée Arago")
    school.lat, school.lon = 48.84, 2.39
    services.add_stop(org, transport.id, stop_data(school, female=11, male=13, unspecified=1,
                                                   contact_name="M. Prof", contact_phone="+33142000001"))  # fmt: skip
    return transport


def test_geojson_has_one_line_per_transport_ending_at_the_campus_and_no_contacts(client, db_session):
    org = organiser("paris")
    trip = make_trip(org)
    cancelled = make_trip(org)
    services.update_transport(org, cancelled, {"status": "cancelled"})
    response = client.get("/api/v1/maps/transports")
    assert response.status_code == 200
    features = response.get_json()["features"]
    assert [f["properties"]["id"] for f in features] == [trip.id]
    props, line = features[0]["properties"], features[0]["geometry"]["coordinates"]
    campus = BY_CODE[trip.campus]
    assert line[0] == [2.39, 48.84] and line[-1] == [campus.lon, campus.lat]
    assert (props["female"], props["male"], props["unspecified"], props["pupils"]) == (11, 13, 1, 25)
    assert "M. Prof" not in response.get_data(as_text=True) and "+3314" not in response.get_data(as_text=True)


def test_transports_map_page_draws_the_lines_offline(client, db_session):
    trip = make_trip(organiser("paris"))
    html = client.get("/carte/transports").get_data(as_text=True)
    assert "L.polyline" in html and "Lycée Arago" in html
    assert f'data-transport="{trip.id}"' in html
    assert "cdn" not in html.lower() and "M. Prof" not in html


def test_year_filter_and_bad_year(client, db_session):
    trip = make_trip(organiser("paris"))
    year = trip.date.year
    assert len(client.get(f"/api/v1/maps/transports?year={year}").get_json()["features"]) == 1
    assert client.get(f"/api/v1/maps/transports?year={year + 1}").get_json()["features"] == []
    assert client.get("/api/v1/maps/transports?year=abc").status_code == 422


def test_a_hostile_school_name_stays_text_in_the_map_script(client, db_session):
    org = organiser("paris")
    transport = make_transport(org)
    school = make_school(name="Lycée </script><img src=x onerror=alert(1)> `${alert(2)}`")
    school.lat, school.lon = 48.84, 2.39
    services.add_stop(org, transport.id, stop_data(school))
    for url in ("/carte/transports", f"/pmi/transports/{transport.id}/carte"):
        if url.startswith("/pmi"):
            client.post("/connexion", data={"email": org.email, "password": PASSWORD})
        html = client.get(url).get_data(as_text=True)
        assert "</script><img" not in html, url
        # Inside the map's scripts (JavaScript template literals) the name is neutralised; in the page's
        # HTML (the stops beside the route map) it is escaped text, where `${…}` is only characters.
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
        assert not any("${alert(2)}" in script for script in scripts), url
        assert "Lycée &lt;/script&gt;" in html, url
