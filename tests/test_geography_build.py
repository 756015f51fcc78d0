"""scripts/build_gazetteer.py on small inputs: matching GeoNames places to communes, output, errors.

npm and the network are never used here: the functions are fed hand-made etalab and GeoNames entries.
"""

import csv
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_gazetteer.py"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_gazetteer", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def commune(code, name, dep, reg, population=1000, postcodes=("00000",)):
    return {"code": code, "nom": name, "departement": dep, "region": reg, "population": population,
            "codesPostaux": list(postcodes), "type": "commune-actuelle"}  # fmt: skip


_ids = iter(range(1, 10_000))


def place(name, region, lat, lon, population=1000):
    return {
        "id": next(_ids),
        "name": name,
        "region": region,
        "lat": lat,
        "lon": lon,
        "population": population,
    }


def test_unique_names_match_within_the_region_whatever_the_spelling(build):
    communes = [commune("42218", "Saint-Étienne", "42", "84", 170_000), commune("69123", "Lyon", "69", "84")]
    places = [place("St-Etienne", "84", 45.43, 4.39, 172_000), place("Lyon", "93", 43.0, 5.0)]
    assert build.match_coordinates(communes, places) == {"42218": (45.43, 4.39)}


def test_a_commune_takes_the_place_closest_in_population(build):
    communes = [commune("31555", "Toulouse", "31", "76", 500_000)]
    places = [place("Toulouse", "76", 43.9, 1.9, 300), place("Toulouse", "76", 43.60444, 1.44194, 470_000)]
    assert build.match_coordinates(communes, places) == {"31555": (43.60444, 1.44194)}


def test_namesakes_in_a_region_go_to_their_own_department(build):
    # Two "Beaumont" in one region, in departments far apart; other communes locate the departments.
    communes = [
        commune("63032", "Beaumont", "63", "84", 11_000), commune("74031", "Beaumont", "74", "84", 3_000),
        commune("63113", "Clermont-Ferrand", "63", "84"), commune("74010", "Annecy", "74", "84"),
    ]  # fmt: skip
    places = [
        place("Clermont-Ferrand", "84", 45.78, 3.08), place("Annecy", "84", 45.90, 6.13),
        # Populations alone would swap them; distance to the department decides.
        place("Beaumont", "84", 45.75, 3.08, 3_000), place("Beaumont", "84", 46.10, 6.10, 11_000),
    ]  # fmt: skip
    coordinates = build.match_coordinates(communes, places)
    assert coordinates["63032"] == (45.75, 3.08) and coordinates["74031"] == (46.10, 6.10)


def test_a_stray_match_far_outside_the_department_is_dropped(build):
    communes = [commune(f"290{i:02d}", f"Bourg {i}", "29", "53") for i in range(40)]
    communes.append(commune("29099", "Lanvéoc", "29", "53"))
    places = [place(f"Bourg {i}", "53", 48.2 + i / 100, -4.2 + i / 100) for i in range(40)]
    places.append(place("Lanveoc", "53", 47.0, -1.0))  # a namesake hamlet 250 km away
    coordinates = build.match_coordinates(communes, places)
    assert len(coordinates) == 40 and "29099" not in coordinates


def test_rows_and_csv_have_the_import_format_and_are_stable(build, tmp_path):
    communes = [commune("75056", "Paris", "75", "11", postcodes=("75001", "75002")),
                commune("2A004", "Ajaccio", "2A", "94", postcodes=("20000",)),
                commune("01001", "L'Abergement-Clémenciat", "01", "84", postcodes=("01400",))]  # fmt: skip
    rows = build.gazetteer_rows(communes, {"75056": (48.85661, 2.35222)})
    output = tmp_path / "var" / "gazetteer.csv"
    build.write_csv(rows, output)
    first = output.read_bytes()
    build.write_csv(rows, output)
    assert output.read_bytes() == first
    with output.open(encoding="utf-8") as handle:
        read = list(csv.DictReader(handle))
    assert list(read[0]) == ["insee", "nom", "codes_postaux", "dep", "reg", "lat", "lon"]
    assert [r["insee"] for r in read] == ["01001", "2A004", "75056"]
    assert read[2] == {"insee": "75056", "nom": "Paris", "codes_postaux": "75001 75002", "dep": "75",
                       "reg": "11", "lat": "48.85661", "lon": "2.35222"}  # fmt: skip
    assert (read[0]["lat"], read[0]["lon"]) == ("", "")
    assert build.coverage(communes, {"75056": (48.8, 2.3)}).startswith(
        "3 communes, 1 avec coordonnées (33.3%)"
    )


def test_the_output_loads_with_the_import_command(build, db_session, tmp_path):
    from core.geography import import_gazetteer, read_gazetteer

    output = tmp_path / "gazetteer.csv"
    build.write_csv(build.gazetteer_rows([commune("99009", "Essai", "99", "99")], {}), output)
    assert import_gazetteer(read_gazetteer(output)).inserted == 1


def test_missing_npm_fails_with_a_clear_message(build, monkeypatch):
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as info:
        build.fetch_communes()
    assert "npm est introuvable" in str(info.value.code)
