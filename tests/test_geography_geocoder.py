"""The geocoding chain: cache → BAN (a local server replaying recorded answers) → gazetteer → seat."""

import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from core.geography import SEATS, Location, apply_location, locate
from core.geography.models import Commune, GeocodeCache
from tests.factories import make_edition, make_user
from tests.plugins.geo import bare_site


def cache_size(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(GeocodeCache))


def test_offline_uses_the_commune_centroid(db_session):
    paris = db_session.get(Commune, "75056")
    location = locate("10 rue de Rivoli", "75004", "Paris")
    assert location == Location(paris.lat, paris.lon, "commune", "gazetteer", "75056", "75", "11")
    assert cache_size(db_session) == 0


def test_commune_without_coordinates_falls_back_to_the_department_seat(db_session):
    db_session.execute(update(Commune).where(Commune.insee == "2B033").values(lat=None, lon=None))
    location = locate("1 boulevard Paoli", "20200", "Bastia")
    seat = SEATS["2B"]
    assert (location.lat, location.lon) == (seat.lat, seat.lon)
    assert (location.precision, location.source, location.commune_insee) == (
        "department",
        "gazetteer",
        "2B033",
    )
    assert (location.department, location.region) == ("2B", "94")


def test_unknown_postcode_gives_no_point_but_the_department_when_known(db_session):
    location = locate("1 rue X", "00100", "Nulle-Part")
    assert (location.lat, location.precision, location.department) == (None, None, None)
    location = locate("1 rue X", "75099", "Paris")  # not a real postcode, but Paris's department
    assert (location.department, location.region, location.precision) == ("75", "11", "department")


def test_ban_answer_is_used_and_cached(db_session, ban_server):
    location = locate("10 Rue de Rivoli", "75004", "Paris")
    assert (location.lat, location.lon) == pytest.approx((48.855391, 2.358462))
    assert (location.precision, location.source) == ("address", "ban")
    # BAN answers with the arrondissement's code; the commune is Paris.
    assert (location.commune_insee, location.department, location.region) == ("75056", "75", "11")
    assert ban_server.requests == ["10 Rue de Rivoli, 75004 Paris"]

    again = locate("10, rue de Rivoli", "75004", "PARIS 4E")
    assert (again.lat, again.lon, again.precision, again.source) == (
        location.lat,
        location.lon,
        "address",
        "cache",
    )
    assert len(ban_server.requests) == 1  # the cache answered
    assert cache_size(db_session) == 1


@pytest.mark.parametrize(
    ("street", "postcode", "city", "precision", "insee"),
    [("12 Avenue Tony Garnier", "69007", "Lyon", "address", "69123"),
     ("2 Place du Capitole", "31000", "Toulouse", "address", "31555"),
     ("Rue Jean Jaurès", "29200", "Brest", "street", "29019"),
     ("Cours Napoléon", "20000", "Ajaccio", "street", "2A004")],
)  # fmt: skip
def test_ban_precisions(db_session, ban_server, street, postcode, city, precision, insee):
    location = locate(street, postcode, city)
    assert (location.source, location.precision, location.commune_insee) == ("ban", precision, insee)


@pytest.mark.parametrize(
    ("street", "postcode", "city"),
    [("1 Rue de la République", "69001", "Lyon"),  # confident, but in Marseille
     ("99 Chemin des Inconnus", "31000", "Toulouse"),  # right city, poor score
     ("5 Impasse Jamais Vue", "31000", "Toulouse")],  # no answer at all
)  # fmt: skip
def test_poor_or_inconsistent_answers_fall_back_and_are_not_cached(
    db_session, ban_server, street, postcode, city
):
    location = locate(street, postcode, city)
    assert (location.source, location.precision) == ("gazetteer", "commune")
    assert cache_size(db_session) == 0
    assert len(ban_server.requests) == 1


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_geocoder_down_or_slow_falls_back_without_raising(db_session, ban_server, caplog, monkeypatch, mode):
    # Alembic's fileConfig (migrations/env.py, run by the app fixture) disables loggers that existed then.
    monkeypatch.setattr(logging.getLogger("core.geography.geocoder"), "disabled", False)
    ban_server.mode = mode
    with caplog.at_level(logging.WARNING, logger="core.geography.geocoder"):
        location = locate("2 Place du Capitole", "31000", "Toulouse")
    toulouse = db_session.get(Commune, "31555")
    assert location == Location(toulouse.lat, toulouse.lon, "commune", "gazetteer", "31555", "31", "76")
    assert "Géocodeur ban indisponible" in caplog.text
    assert cache_size(db_session) == 0


def test_geocoder_unreachable_falls_back(db_session, ban_server, app, monkeypatch):
    monkeypatch.setitem(app.config, "GEOCODER_BAN_DOMAIN", "127.0.0.1:9")  # discard port: refused
    assert locate("2 Place du Capitole", "31000", "Toulouse").source == "gazetteer"


def test_apply_location_sets_what_the_object_has(db_session):
    target = SimpleNamespace(lat=None, lon=None, geo_precision=None, geo_source=None, geocoded_at=None,
                             commune_insee=None, department=None, region=None, regional_group=None)  # fmt: skip
    apply_location(target, Location(45.75, 4.84, "commune", "gazetteer", "69123", "69", "84"))
    assert (target.lat, target.lon, target.geo_precision, target.geo_source) == (
        45.75,
        4.84,
        "commune",
        "gazetteer",
    )
    assert (target.commune_insee, target.department, target.region) == ("69123", "69", "84")
    assert target.regional_group == "lyonnais" and target.geocoded_at is not None
    partial = SimpleNamespace(lat=None, lon=None)
    apply_location(partial, Location(1.0, 2.0, "commune", "gazetteer", None, None, None))
    assert vars(partial) == {"lat": 1.0, "lon": 2.0}


# ---------------------------------------------------------------------------- flask geo refresh


def test_refresh_geocodes_sites_and_never_worsens_them(app, db_session, ban_server):
    from core.geography.geocoder import locate as chain

    edition, owner = make_edition(), make_user()
    unlocated = bare_site(edition, owner)
    coarse = bare_site(edition, owner, street="12 Avenue Tony Garnier", postcode="69007", city="Lyon")
    apply_location(coarse, chain("12 Avenue Tony Garnier", "69007", "Lyon"))  # cached: "cache" next time
    coarse.geo_precision = "commune"
    pinned = bare_site(edition, owner, lat=43.0, lon=1.0, geo_precision="manual", geo_source="manual")
    ban_server.requests.clear()

    result = app.test_cli_runner().invoke(args=["geo", "refresh"])
    assert result.exit_code == 0, result.output
    assert "2 sites examinés : 2 mieux localisés, 0 inchangé ; déplacé de " in result.output
    assert "(géocodeur : ban)" in result.output
    db_session.expire_all()
    assert (unlocated.geo_precision, unlocated.geo_source, unlocated.department) == ("address", "ban", "31")
    assert (unlocated.region, unlocated.regional_group, unlocated.commune_insee) == (
        "76",
        "midi-pyrenees",
        "31555",
    )
    assert (coarse.geo_precision, coarse.geo_source) == ("address", "cache")
    assert (pinned.lat, pinned.geo_precision) == (43.0, "manual")

    ban_server.mode = "error"
    coarse.geo_precision = "street"
    db_session.execute(GeocodeCache.__table__.delete())
    result = app.test_cli_runner().invoke(args=["geo", "refresh"])
    assert "1 site examiné : 0 mieux localisé, 1 inchangé (géocodeur : ban)" in result.output
    db_session.expire_all()
    assert coarse.geo_precision == "street"  # the gazetteer's commune would have been worse


def test_offline_refresh_moves_sites_left_at_their_department_seat_to_their_commune(app, db_session):
    """After a richer commune file: a site placed at its department's seat (Lyon for a factory in
    Villeurbanne's postcode) moves to its commune with the gazetteer alone; a pin set by hand stays."""
    edition, owner = make_edition(), make_user()
    seat = bare_site(edition, owner, street="1 rue X", postcode="69100", city="Villeurbanne",
                     lat=45.75881, lon=4.83533, geo_precision="department", geo_source="gazetteer")  # fmt: skip
    pinned = bare_site(edition, owner, lat=45.0, lon=5.0, geo_precision="manual", geo_source="manual")
    result = app.test_cli_runner().invoke(args=["geo", "refresh"])
    assert result.exit_code == 0, result.output
    assert "1 site examiné : 1 mieux localisé, 0 inchangé ; déplacé de " in result.output
    assert "(géocodeur : hors ligne)" in result.output
    db_session.expire_all()
    assert seat.geo_precision == "commune" and (round(seat.lat, 2), round(seat.lon, 2)) != (45.76, 4.84)
    assert (pinned.lat, pinned.geo_precision) == (45.0, "manual")


def test_nominatim_answer_with_the_right_postcode_is_used(db_session, nominatim_server):
    nominatim_server.places["12 avenue tony garnier 69007 lyon"] = [
        {"place_id": 1, "lat": "45.7320", "lon": "4.8305", "display_name": "12, Avenue Tony Garnier, Lyon",
         "address": {"house_number": "12", "road": "Avenue Tony Garnier", "city": "Lyon", "postcode": "69007"}},
    ]  # fmt: skip
    nominatim_server.places["3 rue ailleurs 31000 toulouse"] = [
        {"place_id": 2, "lat": "48.1", "lon": "-1.6", "display_name": "3, Rue Ailleurs, Rennes",
         "address": {"house_number": "3", "road": "Rue Ailleurs", "city": "Rennes", "postcode": "35000"}},
    ]  # fmt: skip
    location = locate("12 Avenue Tony Garnier", "69007", "Lyon")
    assert (location.lat, location.lon, location.precision, location.source) == (
        45.732,
        4.8305,
        "address",
        "nominatim",
    )
    assert location.commune_insee == "69123"
    assert locate("3 rue Ailleurs", "31000", "Toulouse").source == "gazetteer"
    assert nominatim_server.requests == [
        "12 Avenue Tony Garnier, 69007 Lyon",
        "3 rue Ailleurs, 31000 Toulouse",
    ]
