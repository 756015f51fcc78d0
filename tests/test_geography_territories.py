"""Regions, departments, seats, names and the default GR mapping: static data, no database needed."""

import pytest

from core.geography import (
    DEPARTMENTS,
    REGIONS,
    SEATS,
    department_from_postcode,
    department_name,
    region_name,
    region_of_department,
)
from core.geography.defaults import DEFAULT_REGIONAL_GROUPS
from core.geography.names import address_key, name_key
from core.geography.territories import default_department


def test_eighteen_regions_and_101_departments_with_seats():
    assert len(REGIONS) == 18 and len(DEPARTMENTS) == 101
    assert {"2A", "2B", "971", "976"} <= DEPARTMENTS.keys() and "20" not in DEPARTMENTS
    assert all(region_of_department(code) in REGIONS for code in DEPARTMENTS)
    assert SEATS.keys() == DEPARTMENTS.keys()
    # Every seat lies in France or its overseas departments (rough boxes).
    for code, seat in SEATS.items():
        if len(code) == 3:
            assert -22 < seat.lat < 17 and -62 < seat.lon < 56, code
        else:
            assert 41 < seat.lat < 51.5 and -5 < seat.lon < 10, code


@pytest.mark.parametrize(
    ("code", "name", "region"),
    [("75", "Paris", "11"), ("2A", "Corse-du-Sud", "94"), ("2B", "Haute-Corse", "94"),
     ("974", "La Réunion", "04"), ("69", "Rhône", "84"), ("31", "Haute-Garonne", "76")],
)  # fmt: skip
def test_department_names_and_regions(code, name, region):
    assert department_name(code) == name
    assert region_of_department(code) == region


def test_names_of_unknown_codes_fall_back_to_the_code():
    assert region_name("93") == "Provence-Alpes-Côte d'Azur"
    assert department_name("987") == "Polynésie française"
    assert department_name("XX") == "XX" and department_name(None) == ""
    assert region_of_department("987") is None


@pytest.mark.parametrize(
    ("postcode", "department"),
    [("75001", "75"), ("01000", "01"), ("69007", "69"), ("20000", "2A"), ("20167", "2A"), ("20100", "2A"),
     ("20200", "2B"), ("20600", "2B"), ("20290", "2B"), ("97110", "971"), ("97400", "974"), ("97600", "976"),
     ("98800", "988"), ("7500", None), ("75OO1", None), ("", None), (None, None)],
)  # fmt: skip
def test_department_from_postcode_without_gazetteer(postcode, department):
    assert default_department(postcode) == department


def test_department_from_postcode_by_commune(db_session):
    assert department_from_postcode("20000") == "2A"
    assert department_from_postcode("20200") == "2B"
    # Saint-Barthélemy and Saint-Martin use Guadeloupe's postcodes.
    assert department_from_postcode("97133") == "977"
    assert department_from_postcode("97150") == "978"
    assert department_from_postcode("97100") == "971"
    # 01200 serves communes of Ain and of Haute-Savoie: the city decides.
    assert department_from_postcode("01200") == "01"
    assert department_from_postcode("01200", "Valserhône") == "01"
    assert department_from_postcode("01200", "Éloise") == "74"


def test_default_gr_mapping_covers_every_department_once():
    departments = [d for *_, deps in DEFAULT_REGIONAL_GROUPS for d in deps]
    assert sorted(departments) == sorted(DEPARTMENTS)
    assert sum(1 for _, _, abroad, _ in DEFAULT_REGIONAL_GROUPS if not abroad) == 27
    assert all(not deps for _, _, abroad, deps in DEFAULT_REGIONAL_GROUPS if abroad)
    assert sum(1 for _, _, abroad, _ in DEFAULT_REGIONAL_GROUPS if abroad) == 3


@pytest.mark.parametrize(
    ("a", "b"),
    [("Saint-Étienne", "ST ETIENNE"), ("L'Haÿ-les-Roses", "l hay les roses"), ("Paris", "Paris 15e"),
     ("Paris", "PARIS 1ER"), ("Lyon", "Lyon 7ème"), ("Marseille", "Marseille 8e arrondissement"),
     ("Toulouse", "TOULOUSE CEDEX 9"), ("Le Havre", "Havre (Le)"), ("Sainte-Maxime", "Ste Maxime"),
     ("Œuilly", "Oeuilly")],
)  # fmt: skip
def test_name_keys_ignore_spelling(a, b):
    assert name_key(a) == name_key(b)


def test_name_keys_keep_different_communes_apart():
    assert name_key("Saint-Denis") != name_key("Sainte-Denise")
    assert name_key("Parisot") != name_key("Paris")
    assert address_key("10, rue de Rivoli", "75004", "PARIS") == address_key(
        "10 Rue de Rivoli", "75004", "Paris 4e"
    )
