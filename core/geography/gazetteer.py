"""The commune gazetteer in the database: bulk import, lookups by postcode and name, postcode checks."""

from __future__ import annotations

import csv
import difflib
import io
import lzma
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import has_app_context
from sqlalchemy import delete, exists, select

from core.errors import ValidationFailed
from core.extensions import db
from core.geography.bulk import batches, upsert
from core.geography.models import Commune, CommunePostcode
from core.geography.names import name_key
from core.geography.territories import (
    COLLECTIVITIES,
    DEPARTMENTS,
    REGIONS,
    default_department,
    is_postcode,
    region_of_department,
)

REQUIRED_COLUMNS = ("insee", "nom", "codes_postaux", "dep", "reg", "lat", "lon")
# A typo ("Toulouze") still finds the commune among the few sharing its postcode.
CLOSE_MATCH_CUTOFF = 0.85
MAX_SUGGESTIONS = 8


@dataclass(frozen=True)
class CommuneMatch:
    insee: str | None
    name: str
    department: str | None
    region: str | None


@dataclass(frozen=True)
class ImportSummary:
    communes: int
    inserted: int
    updated: int
    postcodes: int
    with_coordinates: int
    skipped: int

    def __str__(self) -> str:
        share = self.with_coordinates / self.communes if self.communes else 0.0
        return (
            f"{self.communes} communes importées ({self.inserted} nouvelles, {self.updated} mises à jour), "
            f"{self.postcodes} liens code postal–commune, {self.with_coordinates} avec coordonnées "
            f"({share:.1%}), {self.skipped} lignes ignorées."
        )


# ---------------------------------------------------------------------------------------------- import


def read_gazetteer(path: str | Path) -> Iterator[dict]:
    """Rows of a gazetteer CSV (plain or .xz): insee,nom,codes_postaux,dep,reg,lat,lon[,population]."""
    path = Path(path)
    raw = lzma.open(path, "rb") if path.suffix == ".xz" else open(path, "rb")  # noqa: SIM115
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationFailed(
                f"Fichier de communes invalide : colonnes manquantes ({', '.join(missing)}).",
                fields={"file": [f"Colonnes attendues : {','.join(REQUIRED_COLUMNS)}."]},
            )
        yield from reader


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _commune_row(row: dict) -> dict | None:
    insee, name, dep = (row.get("insee") or "").strip(), (row.get("nom") or "").strip(), row.get("dep")
    if not (len(insee) == 5 and name and dep):
        return None
    population = (row.get("population") or "").strip()
    return {
        "insee": insee,
        "name": name[:100],
        "name_key": name_key(name)[:100],
        "department": dep.strip(),
        "region": (row.get("reg") or "").strip(),
        "lat": _float(row.get("lat")),
        "lon": _float(row.get("lon")),
        "population": int(population) if population.isdigit() else None,
    }


def import_gazetteer(rows: Iterable[dict], progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Upsert communes and replace their postcode links; flushes, the caller commits.

    Communes absent from the file are kept and known coordinates are not erased by empty ones: a partial
    or poorer file only adds and corrects.
    """
    communes: dict[str, dict] = {}
    links: set[tuple[str, str]] = set()
    skipped = 0
    for row in rows:
        commune = _commune_row(row)
        if commune is None:
            skipped += 1
            continue
        communes[commune["insee"]] = commune
        links.update(
            (pc, commune["insee"]) for pc in (row.get("codes_postaux") or "").split() if is_postcode(pc)
        )
    existing = set(db.session.scalars(select(Commune.insee)))
    commune_rows = list(communes.values())
    link_rows = [{"postcode": pc, "commune_insee": insee} for pc, insee in sorted(links)]

    for batch in batches(commune_rows):
        upsert(
            Commune.__table__,
            batch,
            keys=["insee"],
            update=["name", "name_key", "department", "region", "lat", "lon", "population"],
            keep_when_null=["lat", "lon", "population"],
        )
        if progress:
            progress(len(batch))
    codes = sorted(communes)
    links_table = CommunePostcode.__table__
    for batch in batches(codes, 500):
        db.session.execute(delete(links_table).where(links_table.c.commune_insee.in_(batch)))
    upsert(CommunePostcode.__table__, link_rows, keys=["postcode", "commune_insee"])
    db.session.flush()
    inserted = len(communes.keys() - existing)
    return ImportSummary(
        communes=len(communes),
        inserted=inserted,
        updated=len(communes) - inserted,
        postcodes=len(link_rows),
        with_coordinates=sum(1 for c in commune_rows if c["lat"] is not None and c["lon"] is not None),
        skipped=skipped,
    )


# ---------------------------------------------------------------------------------------------- lookups


def gazetteer_loaded() -> bool:
    return bool(db.session.scalar(select(exists().where(Commune.insee.is_not(None)))))


def communes_for_postcode(postcode: str) -> list[Commune]:
    """Communes served by a postcode, the most populous (then located) first."""
    stmt = (
        select(Commune)
        .join(CommunePostcode, CommunePostcode.commune_insee == Commune.insee)
        .where(CommunePostcode.postcode == postcode)
    )
    communes = list(db.session.scalars(stmt))
    return sorted(communes, key=lambda c: (-(c.population or 0), c.lat is None, c.insee))


def pick_commune(candidates: list[Commune], city: str) -> Commune | None:
    """The candidate a typed city name designates (case, accents, St/Saint, CEDEX, arrondissements)."""
    key = name_key(city or "")
    if not key:
        return None
    by_key = {c.name_key: c for c in reversed(candidates)}
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=CLOSE_MATCH_CUTOFF)
    return by_key[close[0]] if close else None


def department_from_postcode(postcode: str | None, city: str | None = None) -> str | None:
    """Department (or overseas collectivity) of a postcode.

    First two digits; Corsica 2A/2B and overseas three digits. The gazetteer, when loaded, settles
    Corsica, Saint-Barthélemy/Saint-Martin (971xx) and, given a city, postcodes shared by two departments.
    """
    postcode = (postcode or "").strip()
    department = default_department(postcode)
    if department is None or not has_app_context():
        return department
    if city or postcode.startswith(("20", "97", "98")):
        candidates = communes_for_postcode(postcode)
        commune = pick_commune(candidates, city or "") if city else None
        departments = {c.department for c in candidates}
        if commune is not None:
            return commune.department
        if len(departments) == 1:
            return departments.pop()
    return department


def commune_region(commune: Commune) -> str | None:
    """INSEE region; overseas collectivities have none (etalab reuses their own code)."""
    return commune.region if commune.region in REGIONS else region_of_department(commune.department)


def validate_postcode_city(postcode: str, city: str) -> CommuneMatch:
    """The commune a postcode and city name designate, or field-level French errors.

    Without a gazetteer (fresh database) only the postcode's form and department are checked.
    """
    postcode, city = (postcode or "").strip(), (city or "").strip()
    if not is_postcode(postcode):
        raise ValidationFailed.on("postcode", "Le code postal doit comporter 5 chiffres.")
    department = default_department(postcode)
    if department not in DEPARTMENTS and department not in COLLECTIVITIES:
        raise ValidationFailed.on("postcode", "Code postal inconnu.")
    if not gazetteer_loaded():
        return CommuneMatch(None, city, department, region_of_department(department))
    candidates = communes_for_postcode(postcode)
    if not candidates:
        raise ValidationFailed.on("postcode", "Code postal inconnu.")
    if not city:
        raise ValidationFailed.on("city", "Indiquez la commune.")
    commune = pick_commune(candidates, city)
    if commune is None:
        names = sorted({c.name for c in candidates}, key=name_key)
        shown = ", ".join(names[:MAX_SUGGESTIONS]) + ("…" if len(names) > MAX_SUGGESTIONS else "")
        raise ValidationFailed.on(
            "city",
            f"Cette commune ne correspond pas au code postal {postcode} (communes possibles : {shown}).",
        )
    return CommuneMatch(commune.insee, commune.name, commune.department, commune_region(commune))
