"""The schools directory: Annuaire de l'éducation import (CLI and service), search, API, demo sample.

tests/data/schools/annuaire_small.csv holds four real rows of the Annuaire (Ille-et-Vilaine, full
69-column header), four bad rows (lines 6–9: check letter, name, coordinates, department) and two made-up
rows in Corse-du-Sud and Guadeloupe.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.identifiers import uai_is_valid
from fixtures.loader import SCHOOLS_FILE
from pmi.models import School
from pmi.schools import (
    get_school,
    import_schools_file,
    normalise_department,
    read_annuaire,
    school_kind,
    search_schools,
)
from tests.conftest import SHARED_DATA

SMALL = Path(__file__).parent / "data" / "schools" / "annuaire_small.csv"
SAMPLE = SHARED_DATA / "schools-sample.csv"
ALL_REGIONS = {
    "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94", "01", "02", "03", "04", "06",
}  # fmt: skip


def school_count() -> int:
    return db.session.scalar(select(func.count()).select_from(School))


def run_cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["pmi", "import-schools", *map(str, args)])


# ---- import --------------------------------------------------------------------------------------------


def test_real_sample_imports_every_row(db_session):
    if not SAMPLE.is_file():
        pytest.skip("../shared/data/schools-sample.csv absent")
    summary = import_schools_file(SAMPLE)
    # Three establishments span two lines each (etablissement_multi_lignes): 140 schools from 143 lines.
    assert (summary.read, summary.created, summary.merged, len(summary.rejected)) == (143, 140, 3, 0)
    schools = db.session.scalars(select(School)).all()
    assert len(schools) == 140
    assert {(s.department, s.region, s.academie_code, s.academie_name) for s in schools} == {
        ("35", "53", "14", "Rennes")
    }
    kinds = Counter(s.kind for s in schools)
    assert kinds["college"] == 79 and kinds["lycee_gt"] + kinds["lycee_pro"] == 61
    assert all(s.lat and s.lon and s.open and uai_is_valid(s.uai) for s in schools)
    redon = get_school("0350774b")
    assert (redon.name, redon.kind, redon.sector, redon.city, redon.postcode, redon.pupils) == (
        "Lycée Saint-Sauveur", "lycee_gt", "private", "Redon", "35603", 910,
    )  # fmt: skip
    assert redon.commune_insee == "35236" and redon.street == "16 place Saint Sauveur"


def test_small_file_imports_good_rows_and_reports_bad_ones_by_line(db_session):
    summary = import_schools_file(SMALL)
    assert (summary.read, summary.created, summary.updated, summary.unchanged) == (10, 6, 0, 0)
    assert [(r.line, r.reason) for r in summary.rejected] == [
        (6, "UAI invalide (lettre de contrôle)"),
        (7, "nom manquant"),
        (8, "coordonnées invalides"),
        (9, "département inconnu (099)"),
    ]
    assert school_count() == 6
    lp = get_school("0350050P")
    assert (lp.kind, lp.sector, lp.city) == ("lycee_pro", "public", "Tinténiac")
    assert get_school("0353067U").pupils is None
    ajaccio, abymes = get_school("6200005L"), get_school("9710006E")
    assert (ajaccio.department, ajaccio.region, ajaccio.academie_name) == ("2A", "94", "Corse")
    assert (abymes.department, abymes.region, abymes.kind) == ("971", "01", "lycee_gt")


def test_second_run_changes_nothing_and_a_change_is_an_update(db_session, tmp_path):
    import_schools_file(SMALL)
    stamp = get_school("0350774B").updated_at
    again = import_schools_file(SMALL)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert get_school("0350774B").updated_at == stamp

    changed = tmp_path / "changed.csv"
    changed.write_text(
        SMALL.read_text(encoding="utf-8").replace("Lycée Saint-Sauveur", "Lycée Saint Sauveur")
    )
    summary = import_schools_file(changed)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 5)
    assert get_school("0350774B").name == "Lycée Saint Sauveur"


def test_cli_prints_rejections_and_summary_and_writes_the_report(app, db_session, tmp_path):
    report = tmp_path / "rejets.csv"
    result = run_cli(app, SMALL, "--report", report)
    assert result.exit_code == 0, result.output
    assert "ligne 6 (0350001B) : UAI invalide (lettre de contrôle)" in result.output
    assert result.output.strip().splitlines()[-1] == (
        "10 lignes lues : 6 établissements créés, 0 mis à jour, 0 inchangés, 4 lignes rejetées."
    )
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "ligne;uai;motif" and lines[2] == "7;0350002M;nom manquant" and len(lines) == 5
    again = run_cli(app, SMALL)
    assert "0 établissements créés, 0 mis à jour, 6 inchangés" in again.output


def test_bom_and_latin1_files_are_read_with_their_accents(db_session, tmp_path):
    text = SMALL.read_text(encoding="utf-8")
    bom, latin1 = tmp_path / "bom.csv", tmp_path / "latin1.csv"
    bom.write_text(text, encoding="utf-8-sig")
    latin1.write_text(text, encoding="latin-1")
    assert read_annuaire(bom)[0] == "utf-8"
    assert import_schools_file(bom).created == 6
    summary = import_schools_file(latin1)
    assert summary.encoding == "cp1252" and summary.unchanged == 6
    assert get_school("0350050P").city == "Tinténiac"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            lambda text: text.replace(";", ","),
            "Séparateur inattendu : l'Annuaire de l'éducation sépare ses colonnes par « ; » (« , » trouvé).",
        ),
        (
            lambda text: text.replace("Nom_etablissement", "Nom").replace("Code postal", "CP"),
            "Colonnes manquantes : Nom_etablissement, Code_postal.",
        ),
    ],
    ids=["comma-separated", "missing-columns"],
)
def test_wrong_separator_or_missing_columns_are_refused_before_any_import(
    app, db_session, tmp_path, content, message
):
    bad = tmp_path / "bad.csv"
    bad.write_text(content(SMALL.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_schools_file(bad)
    assert caught.value.message == message
    result = run_cli(app, bad)
    assert result.exit_code == 1 and message in result.output
    assert school_count() == 0


def test_department_codes_and_kinds():
    assert [normalise_department(c) for c in ("035", "02A", "02b", "971", "75")] == [
        "35",
        "2A",
        "2B",
        "971",
        "75",
    ]
    assert school_kind({"Type_etablissement": "Collège"}) == "college"
    assert (
        school_kind({"Type_etablissement": "Lycée", "code_nature": "306", "Voie_generale": "1"}) == "lycee_gt"
    )
    assert school_kind({"Type_etablissement": "Lycée", "Voie_professionnelle": "1"}) == "lycee_pro"
    assert school_kind({"Type_etablissement": "Lycée", "code_nature": "334"}) == "lycee_pro"
    assert school_kind({"Type_etablissement": "Autre", "Post_BAC": "1"}) == "post_bac"
    assert school_kind({"Type_etablissement": "Ecole"}) == "other"


# ---- search and API -------------------------------------------------------------------------------------


@pytest.fixture
def directory(db_session):
    import_schools_file(SMALL)


def uais(schools) -> list[str]:  # noqa: ANN001
    return [s.uai for s in schools]


def test_search_by_accentless_name_city_and_uai(directory):
    assert uais(search_schools("lycee saint sauveur")) == ["0350774B"]
    assert uais(search_schools("TINTENIAC")) == ["0350050P"]
    assert uais(search_schools("évariste")) == ["0352247C"]
    assert uais(search_schools("0352247c")) == ["0352247C"]
    assert set(uais(search_schools("035"))) == {"0350774B", "0350050P", "0352247C", "0353067U"}
    assert search_schools("") == [] and search_schools("zzz") == []


def test_search_ranks_exact_uai_then_name_prefix_and_filters_by_department(directory):
    assert uais(search_schools("0350774B")) == ["0350774B"]
    # Names starting with "l" (the lycées, alphabetically) before names merely containing an "l".
    found = uais(search_schools("l"))
    assert found[:3] == ["9710006E", "0350050P", "0350774B"] and len(found) == 6
    assert uais(search_schools("college", department="02A")) == ["6200005L"]
    assert uais(search_schools("college", department="035")) == ["0352247C", "0353067U"]
    assert len(search_schools("college", limit=1)) == 1
    assert len(search_schools("", department="971")) == 1


def test_get_school_unknown_is_not_found(directory):
    with pytest.raises(NotFound):
        get_school("0350001B")


def test_api_search_and_detail(client, directory):
    response = client.get("/api/v1/schools?q=tinteniac")
    assert response.status_code == 200
    [school] = response.get_json()
    assert school == {
        "uai": "0350050P", "name": "Lycée professionnel Bel Air", "kind": "lycee_pro",
        "kind_label": "Lycée professionnel", "sector": "public", "street": school["street"],
        "postcode": school["postcode"], "city": "Tinténiac", "commune_insee": school["commune_insee"],
        "department": "35", "academie_code": "14", "academie_name": "Rennes", "region": "53",
        "lat": school["lat"], "lon": school["lon"], "open": True, "pupils": 327,
    }  # fmt: skip
    assert client.get("/api/v1/schools?department=035&limit=2").get_json()[0]["department"] == "35"
    detail = client.get("/api/v1/schools/9710006e")
    assert detail.status_code == 200 and detail.get_json()["city"] == "Les Abymes"
    missing = client.get("/api/v1/schools/0350001B")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    too_many = client.get("/api/v1/schools?q=college&limit=51")
    assert too_many.status_code == 422 and "limit" in too_many.get_json()["error"]["fields"]


# ---- demo sample -----------------------------------------------------------------------------------------


def test_demo_sample_covers_every_region_with_valid_uais(db_session):
    with open(SCHOOLS_FILE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(rows) >= 300 and all(uai_is_valid(row["Identifiant_de_l_etablissement"]) for row in rows)
    summary = import_schools_file(SCHOOLS_FILE)
    assert summary.created == len(rows) and not summary.rejected
    regions = set(db.session.scalars(select(School.region).distinct()))
    assert regions == ALL_REGIONS
    assert set(db.session.scalars(select(School.kind).distinct())) == {"college", "lycee_gt", "lycee_pro"}
