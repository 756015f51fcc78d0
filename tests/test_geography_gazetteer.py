"""The gazetteer in the database: import (file and CLI), lookups, postcode/city validation."""

import lzma

import pytest
from sqlalchemy import delete, func, select

from core.errors import ValidationFailed
from core.geography import import_gazetteer, read_gazetteer, validate_postcode_city
from core.geography.models import Commune, CommunePostcode
from tests.plugins.geo import EXPECTED_COMMUNES

HEADER = "insee,nom,codes_postaux,dep,reg,lat,lon\n"


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def test_the_whole_gazetteer_is_loaded(db_session, gazetteer):
    if gazetteer is None:
        pytest.skip("no gazetteer file (run `make gazetteer`)")
    assert count(db_session, Commune) == EXPECTED_COMMUNES
    paris = db_session.get(Commune, "75056")
    assert (paris.name, paris.department, paris.region) == ("Paris", "75", "11")
    assert paris.lat == pytest.approx(48.86, abs=0.05) and paris.lon == pytest.approx(2.34, abs=0.05)
    ajaccio = db_session.get(Commune, "2A004")
    assert (ajaccio.department, ajaccio.region, ajaccio.name_key) == ("2A", "94", "ajaccio")
    paris_codes = db_session.scalars(
        select(CommunePostcode.postcode).where(CommunePostcode.commune_insee == "75056")
    )
    assert {"75001", "75016", "75116", "75020"} <= set(paris_codes)
    located = db_session.scalar(select(func.count()).select_from(Commune).where(Commune.lat.is_not(None)))
    assert located / EXPECTED_COMMUNES > 0.4


def test_import_upserts_and_keeps_known_coordinates(db_session, tmp_path):
    path = tmp_path / "communes.csv"
    path.write_text(
        HEADER
        + "75056,Paris,75001 75002,75,11,,\n"  # no coordinates: keep the ones we have
        + "99001,Commune d'essai,99999,99,99,45.5,4.5\n"
        + "bad,,,,,,\n",
        encoding="utf-8",
    )
    before = db_session.get(Commune, "75056").lat
    summary = import_gazetteer(read_gazetteer(path))
    assert (summary.communes, summary.updated, summary.inserted, summary.skipped) == (2, 1, 1, 1)
    assert summary.with_coordinates == 1 and "2 communes importées" in str(summary)
    db_session.expire_all()
    assert db_session.get(Commune, "75056").lat == before
    codes = set(
        db_session.scalars(select(CommunePostcode.postcode).where(CommunePostcode.commune_insee == "75056"))
    )
    assert codes == {"75001", "75002"}  # a commune's postcodes are those of its latest row
    assert db_session.get(Commune, "99001").name_key == "commune d essai"
    again = import_gazetteer(read_gazetteer(path))
    assert (again.inserted, again.updated) == (0, 2)


def test_import_reads_xz_and_rejects_a_wrong_header(db_session, tmp_path):
    xz = tmp_path / "communes.csv.xz"
    with lzma.open(xz, "wt", encoding="utf-8") as handle:
        handle.write(HEADER + "99002,Essai-sur-Mer,99998,99,99,43.1,5.9\n")
    assert import_gazetteer(read_gazetteer(xz)).inserted == 1
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code,name\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="colonnes manquantes"):
        list(read_gazetteer(wrong))


def test_cli_import_prints_a_summary(app, db_session, tmp_path):
    path = tmp_path / "communes.csv"
    path.write_text(HEADER + "99003,Ville-Test,99997,99,99,,\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["geo", "import-gazetteer", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 communes importées (1 nouvelles, 0 mises à jour)" in result.output
    assert "0 avec coordonnées (0.0%)" in result.output
    assert db_session.get(Commune, "99003").name == "Ville-Test"
    bad = app.test_cli_runner().invoke(args=["geo", "import-gazetteer", str(tmp_path / "missing.csv")])
    assert bad.exit_code != 0


# ---------------------------------------------------------------------------- postcode and city


@pytest.mark.parametrize(
    ("postcode", "city", "insee"),
    [("75001", "Paris", "75056"), ("75015", "PARIS 15E", "75056"), ("75116", "paris", "75056"),
     ("69007", "Lyon", "69123"), ("69007", "Lyon 7ème", "69123"), ("13008", "Marseille 8e", "13055"),
     ("31000", "Toulouse", "31555"), ("31000", "TOULOUSE CEDEX 6", "31555"), ("31000", "Toulouze", "31555"),
     ("42000", "St-Etienne", "42218"), ("94240", "L HAY LES ROSES", "94038"), ("20000", "Ajaccio", "2A004"),
     ("20200", "Bastia", "2B033"), ("97400", "Saint-Denis", "97411"), ("76600", "Havre (Le)", "76351")],
)  # fmt: skip
def test_postcode_and_city_tolerant_matching(db_session, postcode, city, insee):
    match = validate_postcode_city(postcode, city)
    assert match.insee == insee
    assert match.department == db_session.get(Commune, insee).department


def test_match_gives_department_and_region(db_session):
    match = validate_postcode_city(" 20000 ", "ajaccio")
    assert (match.insee, match.name, match.department, match.region) == ("2A004", "Ajaccio", "2A", "94")


def errors_of(postcode, city) -> dict:
    with pytest.raises(ValidationFailed) as info:
        validate_postcode_city(postcode, city)
    return info.value.fields


def test_postcode_errors_in_french(db_session):
    assert errors_of("7500", "Paris") == {"postcode": ["Le code postal doit comporter 5 chiffres."]}
    assert errors_of("ABCDE", "Paris") == {"postcode": ["Le code postal doit comporter 5 chiffres."]}
    assert errors_of("00100", "Nulle-Part") == {"postcode": ["Code postal inconnu."]}
    assert errors_of("75099", "Paris") == {"postcode": ["Code postal inconnu."]}


def test_city_mismatch_lists_the_possible_communes(db_session):
    assert errors_of("75001", "Lyon") == {
        "city": ["Cette commune ne correspond pas au code postal 75001 (communes possibles : Paris)."]
    }
    message = errors_of("01200", "Paris")["city"][0]
    assert message.startswith("Cette commune ne correspond pas au code postal 01200 (communes possibles : ")
    assert "Valserhône" in message and "Éloise" in message
    assert errors_of("31000", "") == {"city": ["Indiquez la commune."]}


def test_without_gazetteer_only_the_postcode_is_checked(db_session):
    db_session.execute(delete(Commune))
    match = validate_postcode_city("20000", "N'importe où")
    assert (match.insee, match.name, match.department, match.region) == (None, "N'importe où", "2A", "94")
    assert errors_of("00100", "X") == {"postcode": ["Code postal inconnu."]}
