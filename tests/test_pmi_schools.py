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
from core.schools import School
from core.schools import directory as schools_module
from core.schools.directory import (
    Rejection,
    SchoolImportSummary,
    get_school,
    import_schools_file,
    normalise_department,
    read_annuaire,
    school_kind,
    search_schools,
)
from core.validation import UAI_MESSAGE
from fixtures.loader import SCHOOLS_FILE
from tests.conftest import SHARED_DATA

SMALL = Path(__file__).parent / "data" / "schools" / "annuaire_small.csv"
SAMPLE = SHARED_DATA / "schools-sample.csv"
GOOD_UAIS = {"0350774B", "0350050P", "0352247C", "0353067U", "6200005L", "9710006E"}
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
        (6, UAI_MESSAGE),
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
    assert f"ligne 6 (0350001B) : {UAI_MESSAGE}" in result.output
    assert result.output.strip().splitlines()[-1] == (
        "10 lignes lues : 6 établissements importés (6 créés, 0 mis à jour, 0 inchangé), 4 lignes rejetées."
    )
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "ligne;uai;motif" and lines[2] == "7;0350002M;nom manquant" and len(lines) == 5
    again = run_cli(app, SMALL)
    assert "6 établissements importés (0 créé, 0 mis à jour, 6 inchangés)" in again.output


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


def _small_rows() -> tuple[list[str], list[dict]]:
    with open(SMALL, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        return list(reader.fieldnames or []), list(reader)


def test_each_bad_row_is_rejected_with_its_line_and_the_good_ones_are_imported(app, db_session, tmp_path):
    """One bad cell used to abort the whole file (a NUL refused by PostgreSQL, a count overflowing the
    column, int() of "²"): now each line stands alone."""
    header, rows = _small_rows()
    good = [row for row in rows if row["Identifiant_de_l_etablissement"] in GOOD_UAIS]
    redon = good[0]
    bad = {
        "nul": {**redon, "Nom_etablissement": "Lycée\x00Saint-Sauveur"},
        "words": {**redon, "Nombre_d_eleves": "douze"},
        "huge": {**redon, "Nombre_d_eleves": "9" * 400},
        "superscript": {**redon, "Nombre_d_eleves": "²³"},
        "too many": {**redon, "Nombre_d_eleves": "100001"},
        "coordinates": {**redon, "latitude": "nan"},
        "overflowing coordinates": {**redon, "longitude": "1" * 400},
        "long cell": {**redon, "Adresse_1": "x" * 200_000},
    }
    path = tmp_path / "annuaire.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(good[:3])  # lines 2–4
        writer.writerows(bad.values())  # lines 5–12
        handle.write("0350001X\n")  # line 13: a lone bad UAI
        writer.writerows(good[3:])  # lines 14–16
    report = tmp_path / "rejets.csv"

    result = run_cli(app, path, "--report", report)

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        "15 lignes lues : 6 établissements importés (6 créés, 0 mis à jour, 0 inchangé), 9 lignes rejetées."
    )
    assert school_count() == 6 and get_school("0350774B").pupils == 910
    with open(report, encoding="utf-8", newline="") as handle:
        rejected = [(int(r["ligne"]), r["uai"], r["motif"]) for r in csv.DictReader(handle, delimiter=";")]
    assert rejected == [
        (5, "0350774B", "caractère nul (octet 0) dans la colonne Nom_etablissement"),
        (6, "0350774B", "nombre d'élèves invalide (« douze » : un nombre entier est attendu)"),
        (7, "0350774B", "nombre d'élèves invalide (« 999999999999… » : au plus 100\u202f000)"),
        (8, "0350774B", "nombre d'élèves invalide (« ²³ » : un nombre entier est attendu)"),
        (9, "0350774B", "nombre d'élèves invalide (« 100001 » : au plus 100\u202f000)"),
        (10, "0350774B", "coordonnées invalides"),
        (11, "0350774B", "coordonnées invalides"),
        (12, "", "ligne illisible (cellule de plus de 131\u202f072 caractères)"),
        (13, "0350001X", UAI_MESSAGE),
    ]
    assert f"Rejetée : ligne 13 (0350001X) : {UAI_MESSAGE}" in result.output


def test_a_row_the_database_refuses_costs_only_that_row(db_session, monkeypatch):
    """Should a row pass the checks and still be refused (here a negative count forced past them), its
    batch is written again row by row, each in a SAVEPOINT: the other schools are imported."""
    real_school_row = schools_module.school_row

    def leaky_school_row(row: dict) -> dict:
        school = real_school_row(row)
        return {**school, "pupils": -1} if school["uai"] == "0350050P" else school

    monkeypatch.setattr(schools_module, "school_row", leaky_school_row)
    summary = import_schools_file(SMALL)
    assert (summary.created, summary.updated, summary.unchanged) == (5, 0, 0)
    assert (3, "0350050P", "refusée par la base de données") in [
        (r.line, r.uai, r.reason) for r in summary.rejected
    ]
    assert school_count() == 5 and get_school("0350774B").pupils == 910
    with pytest.raises(NotFound):
        get_school("0350050P")


def test_summary_counts_the_french_way():
    summary = SchoolImportSummary(read=1_237, created=1_200, updated=34, unchanged=1, merged=1)
    summary.rejected = [Rejection(line, "", "nom manquant") for line in (2, 3)]
    assert str(summary) == (
        "1\u202f237 lignes lues : 1\u202f235 établissements importés (1\u202f200 créés, 34 mis à jour, "
        "1 inchangé), 2 lignes rejetées, 1 ligne fusionnée (établissement sur plusieurs lignes)."
    )


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
