"""The schools directory: import of the Annuaire de l'éducation CSV, search and lookup by UAI.

The import reads the ministry's export (`;`, UTF-8 with or without BOM; a Latin-1 re-save is read as
such), checks the header before touching the database, and upserts by UAI in batches: a second run of
the same file changes nothing. One bad row never costs the others: every row is validated in full
before anything is written (a line the CSV reader cannot read, a NUL byte, a count that is no number or
would overflow the column, a bad UAI or coordinates), and rejected with its line number and a French
reason; a batch the database still refuses is written again row by row, each in its own SAVEPOINT, so
only the guilty row is lost.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from marshmallow import ValidationError
from sqlalchemy import and_, case, or_, select
from sqlalchemy.exc import DataError, IntegrityError

from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.formatting import french_number
from core.geography.bulk import batches, upsert
from core.geography.names import fold
from core.geography.territories import COLLECTIVITIES, DEPARTMENTS, region_of_department
from core.identifiers import normalise_uai
from core.models import utcnow
from core.schools.models import School, SchoolKind, SchoolSector
from core.validation import valid_uai

SEPARATOR = ";"
# Columns the import cannot do without; the postcode column changed name between exports.
REQUIRED_COLUMNS = (
    "Identifiant_de_l_etablissement",
    "Nom_etablissement",
    "Type_etablissement",
    "Statut_public_prive",
    "Nom_commune",
    "Code_departement",
)
POSTCODE_COLUMNS = ("Code_postal", "Code postal")
SECTORS = {"public": SchoolSector.PUBLIC, "prive": SchoolSector.PRIVATE}
# The columns compared to tell an updated school from an unchanged one.
DATA_COLUMNS = (
    "name", "kind", "sector", "street", "postcode", "city", "commune_insee", "department",
    "academie_code", "academie_name", "region", "lat", "lon", "open", "pupils", "name_key", "search_key",
)  # fmt: skip
# Code nature of the lycées that teach only the vocational track (LP, SEP).
VOCATIONAL_NATURES = {"320", "334"}
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
# The largest lycées count a few thousand pupils; anything beyond is a typing or export error (and a
# number past 2^31 would not even fit the column).
MAX_PUPILS = 100_000
# Rows per multi-row upsert, each batch in a SAVEPOINT.
WRITE_BATCH = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _plural(n: int, singular: str, plural: str) -> str:
    """ "0 ligne rejetée", "1 234 lignes rejetées" (French: 0 and 1 take the singular)."""
    return f"{french_number(n)} {singular if n <= 1 else plural}"


@dataclass
class Rejection:
    line: int
    uai: str
    reason: str

    def __post_init__(self) -> None:
        # What the file held in the UAI cell, shown in a terminal and a report: no control byte, not a
        # whole garbage cell.
        uai = _CONTROL.sub("?", self.uai)
        self.uai = uai if len(uai) <= 12 else f"{uai[:12]}…"

    def __str__(self) -> str:
        return f"ligne {self.line} ({self.uai or 'sans UAI'}) : {self.reason}"


@dataclass
class SchoolImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        """ "10 lignes lues : 6 établissements importés (6 créés, 0 mis à jour, 0 inchangé), 4 lignes
        rejetées." — numbers the French way (1 234, with a narrow no-break space)."""
        merged = (
            f", {_plural(self.merged, 'ligne fusionnée', 'lignes fusionnées')} (établissement sur "
            "plusieurs lignes)"
            if self.merged
            else ""
        )
        return (
            f"{_plural(self.read, 'ligne lue', 'lignes lues')} : "
            f"{_plural(self.imported, 'établissement importé', 'établissements importés')} "
            f"({_plural(self.created, 'créé', 'créés')}, {french_number(self.updated)} mis à jour, "
            f"{_plural(self.unchanged, 'inchangé', 'inchangés')}), "
            f"{_plural(len(self.rejected), 'ligne rejetée', 'lignes rejetées')}{merged}."
        )


# ---------------------------------------------------------------------------------------------- reading


def _detect_encoding(path: Path) -> str:
    """utf-8-sig when the whole file decodes as UTF-8, else cp1252 (a superset of Latin-1 that Excel
    writes): a re-saved Annuaire is the usual non-UTF-8 file, and any byte string decodes in cp1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as raw:
        try:
            while block := raw.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def read_annuaire(path: str | Path, encoding: str | None = None) -> tuple[str, Iterator[tuple[int, dict]]]:
    """The file's encoding and its rows as (line number, row); the header is checked first.

    Raises ValidationFailed, before any row is read, for a wrong separator or missing columns.
    """
    path = Path(path)
    encoding = encoding or _detect_encoding(path)
    with open(path, encoding=encoding, newline="") as handle:
        header_line = handle.readline()
    header = [name.strip() for name in next(csv.reader([header_line], delimiter=SEPARATOR), [])]
    if len(header) < 2:
        found = next((sep for sep in (",", "\t", "|") if sep in header_line), None)
        hint = f" (« {found} » trouvé)" if found else ""
        raise _refuse(
            f"Séparateur inattendu : l'Annuaire de l'éducation sépare ses colonnes par « ; »{hint}."
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if not any(c in header for c in POSTCODE_COLUMNS):
        missing.append("Code_postal")
    if missing:
        raise _refuse(f"Colonnes manquantes : {', '.join(missing)}.")

    def rows() -> Iterator[tuple[int, dict]]:
        with open(path, encoding=encoding, newline="") as handle:
            reader = csv.DictReader(handle, fieldnames=header, delimiter=SEPARATOR)
            next(reader)  # the header, checked above
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    # The reader has consumed the bad line and goes on with the next one.
                    yield reader.reader.line_num, UnreadableRow(_unreadable(exc))
                    continue
                # line_num counts physical lines read so far (a quoted cell may hold a newline).
                yield reader.line_num, row

    return encoding.replace("-sig", ""), rows()


# ---------------------------------------------------------------------------------------------- rows


class RowRejected(ValueError):
    pass


class UnreadableRow(dict):
    """A line the CSV reader could not read: no cells, only why."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _unreadable(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"ligne illisible (cellule de plus de {french_number(csv.field_size_limit())} caractères)"
    return "ligne illisible (CSV mal formé)"


def normalise_department(code: str | None) -> str:
    """The Annuaire writes departments on three characters: 035 → 35, 02A → 2A, 971 stays."""
    code = (code or "").strip().upper()
    if len(code) == 3 and code.startswith("0"):
        code = code[1:]
    return code


def _flag(row: dict, column: str) -> bool:
    return (row.get(column) or "").strip() == "1"


def school_kind(row: dict) -> SchoolKind:
    """Collège, lycée GT (général, technologique or polyvalent), lycée professionnel, post-bac, other."""
    kind = fold(row.get("Type_etablissement") or "")
    if kind.startswith("college"):
        return SchoolKind.COLLEGE
    if kind.startswith("lycee"):
        nature = (row.get("code_nature") or row.get("Code_nature") or "").strip()
        vocational_only = _flag(row, "Voie_professionnelle") and not (
            _flag(row, "Voie_generale") or _flag(row, "Voie_technologique")
        )
        if nature in VOCATIONAL_NATURES or vocational_only:
            return SchoolKind.LYCEE_PRO
        return SchoolKind.LYCEE_GT
    if _flag(row, "Post_BAC") or "superieur" in kind or "post" in kind:
        return SchoolKind.POST_BAC
    return SchoolKind.OTHER


def _coordinate(value: str | None, bound: float) -> float | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise RowRejected("coordonnées invalides") from exc
    if not -bound <= number <= bound:
        raise RowRejected("coordonnées invalides")
    return number


def _clean(value: str | None, length: int) -> str | None:
    value = " ".join((value or "").split())
    return value[:length] or None


def _pupils(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    shown = value if len(value) <= 12 else f"{value[:12]}…"
    if not (value.isascii() and value.isdigit()):
        raise RowRejected(f"nombre d'élèves invalide (« {shown} » : un nombre entier est attendu)")
    # Compared as text first: int() of a 5,000-digit cell would itself raise.
    if len(value.lstrip("0")) > len(str(MAX_PUPILS)) or int(value) > MAX_PUPILS:
        raise RowRejected(f"nombre d'élèves invalide (« {shown} » : au plus {french_number(MAX_PUPILS)})")
    return int(value)


def school_row(row: dict) -> dict:
    """The `schools` columns of one Annuaire row; RowRejected says why a row cannot be kept.

    Whatever passes here fits the table (lengths, CHECKs, integer range, no NUL byte), so the database
    has no reason left to refuse it."""
    if isinstance(row, UnreadableRow):
        raise RowRejected(row.reason)
    if None in row:  # DictReader puts surplus cells under the key None
        raise RowRejected("plus de colonnes que l'en-tête")
    for column, value in row.items():
        # PostgreSQL's text refuses NUL, and no cell of the Annuaire holds one: a corrupt line.
        if value and "\x00" in value:
            raise RowRejected(f"caractère nul (octet 0) dans la colonne {column}")
    try:
        uai = valid_uai(row.get("Identifiant_de_l_etablissement"))
    except ValidationError as exc:
        raise RowRejected(exc.messages[0]) from exc
    name = _clean(row.get("Nom_etablissement"), 200)
    if not name:
        raise RowRejected("nom manquant")
    city = _clean(row.get("Nom_commune"), 100)
    if not city:
        raise RowRejected("commune manquante")
    department = normalise_department(row.get("Code_departement"))
    if department not in DEPARTMENTS and department not in COLLECTIVITIES:
        raise RowRejected(f"département inconnu ({row.get('Code_departement') or 'vide'})")
    sector = SECTORS.get(fold(row.get("Statut_public_prive") or ""))
    if sector is None:
        raise RowRejected(f"statut public/privé inconnu ({row.get('Statut_public_prive') or 'vide'})")
    lat = _coordinate(row.get("latitude"), 90)
    lon = _coordinate(row.get("longitude"), 180)
    if (lat is None) != (lon is None):
        raise RowRejected("coordonnées invalides (latitude ou longitude seule)")
    postcode = next((row[c].strip() for c in POSTCODE_COLUMNS if row.get(c)), "")
    commune = (row.get("Code_commune") or "").strip().upper()
    pupils = _pupils(row.get("Nombre_d_eleves"))
    name_key = fold(name)[:200]
    return {
        "uai": uai,
        "name": name,
        "kind": school_kind(row).value,
        "sector": sector.value,
        "street": _clean(row.get("Adresse_1"), 300),
        "postcode": postcode if len(postcode) == 5 and postcode.isascii() and postcode.isdigit() else None,
        "city": city,
        "commune_insee": commune if len(commune) == 5 else None,
        "department": department,
        "academie_code": _clean(row.get("Code_academie"), 3),
        "academie_name": _clean(row.get("Libelle_academie"), 60),
        "region": region_of_department(department) or _clean(row.get("Code_region"), 3),
        "lat": lat,
        "lon": lon,
        "open": (row.get("etat") or "OUVERT").strip().upper() == "OUVERT",
        "pupils": pupils,
        "name_key": name_key,
        "search_key": f"{name_key} {fold(city)} {uai.lower()}"[:320],
    }


# ---------------------------------------------------------------------------------------------- import

# When one UAI spans several lines (etablissement_multi_lignes: a lycée polyvalent listed once per
# track, a site and its annexe), the school takes the strongest kind among them.
KIND_PRIORITY = [SchoolKind.LYCEE_GT, SchoolKind.LYCEE_PRO, SchoolKind.COLLEGE, SchoolKind.POST_BAC]


def _is_annex(school: dict) -> bool:
    return "annexe" in school["name_key"].split()


def merge_lines(first: dict, other: dict) -> dict:
    """One school from two lines of the same UAI: the main site's line (not an annexe, else the first)
    with the strongest kind of the two."""
    base = other if _is_annex(first) and not _is_annex(other) else first
    kinds = {first["kind"], other["kind"]}
    kind = next((k.value for k in KIND_PRIORITY if k.value in kinds), SchoolKind.OTHER.value)
    return {**base, "kind": kind}


def import_schools(
    rows: Iterable[tuple[int, dict]], progress: Callable[[int], None] | None = None
) -> SchoolImportSummary:
    """Upsert schools by UAI from (line number, Annuaire row) pairs; flushes, the caller commits.

    Only new or changed schools are written (and only they get a new updated_at); schools absent from
    the file are kept, since a regional extract must not close the rest of France.
    """
    summary = SchoolImportSummary()
    parsed: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    for line, row in rows:
        summary.read += 1
        if progress and summary.read % 1000 == 0:
            progress(1000)
        uai = normalise_uai(row.get("Identifiant_de_l_etablissement"))
        try:
            school = school_row(row)
        except RowRejected as exc:
            summary.rejected.append(Rejection(line, uai, str(exc)))
            continue
        if school["uai"] in parsed:
            summary.merged += 1
            school = merge_lines(parsed[school["uai"]], school)
        parsed[school["uai"]] = school
        first_line.setdefault(school["uai"], line)
    if progress:
        progress(summary.read % 1000)

    table = School.__table__
    columns = [table.c[name] for name in DATA_COLUMNS]
    existing: dict[str, tuple] = {}
    for batch in batches(sorted(parsed), 5000):
        for uai, *values in db.session.execute(select(table.c.uai, *columns).where(table.c.uai.in_(batch))):
            existing[uai] = tuple(values)
    now = utcnow()
    writes = []
    for uai, school in parsed.items():
        stored = existing.get(uai)
        if stored is None:
            summary.created += 1
            writes.append({**school, "created_at": now, "updated_at": now})
        elif stored != tuple(school[name] for name in DATA_COLUMNS):
            summary.updated += 1
            writes.append({**school, "created_at": now, "updated_at": now})
        else:
            summary.unchanged += 1
    for refused in _write(writes):
        uai = refused["uai"]
        summary.rejected.append(Rejection(first_line[uai], uai, "refusée par la base de données"))
        if uai in existing:
            summary.updated -= 1
        else:
            summary.created -= 1
    db.session.flush()
    summary.rejected.sort(key=lambda r: r.line)
    return summary


def _upsert_schools(rows: list[dict]) -> None:
    upsert(School.__table__, rows, keys=["uai"], update=[*DATA_COLUMNS, "updated_at"])


def _write(writes: list[dict]) -> list[dict]:
    """Upsert in batches, each in a SAVEPOINT; a batch the database refuses (a row school_row should
    have rejected) is written again row by row. Returns the rows refused."""
    refused: list[dict] = []
    for batch in batches(writes, WRITE_BATCH):
        try:
            with db.session.begin_nested():
                _upsert_schools(list(batch))
        except (IntegrityError, DataError):
            for school in batch:
                try:
                    with db.session.begin_nested():
                        _upsert_schools([school])
                except (IntegrityError, DataError):
                    refused.append(school)
    return refused


def import_schools_file(
    path: str | Path, progress: Callable[[int], None] | None = None
) -> SchoolImportSummary:
    """Read and import an Annuaire CSV; a refused header raises ValidationFailed before any write."""
    encoding, rows = read_annuaire(path)
    summary = import_schools(rows, progress=progress)
    summary.encoding = encoding
    return summary


# ---------------------------------------------------------------------------------------------- search


def search_schools(q: str, department: str | None = None, limit: int = DEFAULT_LIMIT) -> list[School]:
    """Schools whose name, city or UAI contain every word of q (accents and case ignored).

    Ranked: the exact UAI, then UAIs starting with q, names starting with q, names with a word starting
    with q, the rest; alphabetical within a rank. An empty q lists nothing unless a department is given.
    """
    limit = max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    key = fold(q or "")
    uai = normalise_uai(q)
    stmt = select(School)
    if department:
        stmt = stmt.where(School.department == normalise_department(department))
    elif not key:
        return []
    if key:
        words = and_(*(School.search_key.like(f"%{word}%") for word in key.split()))
        stmt = stmt.where(or_(School.uai.like(f"{uai}%"), words) if uai.isalnum() else words)
        rank = case(
            (School.uai == uai, 0),
            (School.uai.like(f"{uai}%"), 1),
            (School.name_key.like(f"{key}%"), 2),
            (School.name_key.like(f"% {key}%"), 3),
            else_=4,
        )
        stmt = stmt.order_by(rank)
    stmt = stmt.order_by(School.name_key, School.uai).limit(limit)
    return list(db.session.scalars(stmt))


def get_school(uai: str) -> School:
    school = db.session.scalar(select(School).where(School.uai == normalise_uai(uai)))
    if school is None:
        raise NotFound("Établissement introuvable.")
    return school


# A UAI inside free text ("Lycée Faidherbe 0590083J"): how a form works without its autocomplete.
UAI_IN_TEXT = re.compile(r"\b(\d{7}[A-Za-z])\b")


def find_school(uai: str | None) -> School | None:
    return db.session.scalar(select(School).where(School.uai == normalise_uai(uai or "")))


def uai_from_search(text: str | None) -> str:
    """The UAI a school search box designates without JavaScript: a UAI typed in it, or the one school
    whose name and city match every word; "" when the box names no school or several."""
    match = UAI_IN_TEXT.search(text or "")
    if match:
        return normalise_uai(match.group(1))
    found = search_schools((text or "").strip(), limit=2)
    return found[0].uai if len(found) == 1 else ""
