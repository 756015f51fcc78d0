"""The PMI map: interventions and pupils by region or department, drawn as proportional circles at the
territory's centroid (no shapes to ship), with the share of girls; per-school markers for the staff.

Only counts leave this module for the public: no volunteer, no school name, no note."""

from __future__ import annotations

import datetime as dt
import math
from statistics import fmean

import folium
from sqlalchemy import distinct, func, select

from core.extensions import db
from core.geography import DEPARTMENTS, REGIONS, SEATS
from core.geography.territories import DEPARTMENT_REGION
from core.maps.assets import offline_map, safe_label
from core.models import HEADCOUNT, HeadcountSums, headcount_sums
from core.schools import School
from maps.cache import cached
from pmi.models import Intervention

LEVELS = ("region", "department")
MAX_RADIUS = 40  # pixels, for the territory with the most pupils


def _region_centroids() -> dict[str, tuple[float, float]]:
    """A region's point: the mean of its departments' seats (inside the region for every region)."""
    points: dict[str, list[tuple[float, float]]] = {}
    for department, seat in SEATS.items():
        points.setdefault(DEPARTMENT_REGION[department], []).append((seat.lat, seat.lon))
    return {region: (fmean(p[0] for p in pts), fmean(p[1] for p in pts)) for region, pts in points.items()}


REGION_CENTROIDS = _region_centroids()


def centroid(level: str, code: str) -> tuple[float, float] | None:
    if level == "region":
        return REGION_CENTROIDS.get(code)
    seat = SEATS.get(code)
    return (seat.lat, seat.lon) if seat else None


def territory_name(level: str, code: str) -> str:
    return (REGIONS if level == "region" else DEPARTMENTS).get(code, code)


def _year_clause(year: int | None) -> list:
    if not year:
        return []
    return [Intervention.date >= dt.date(year, 1, 1), Intervention.date < dt.date(year + 1, 1, 1)]


def fingerprint() -> tuple:
    row = db.session.execute(select(func.count(Intervention.id), func.max(Intervention.updated_at))).one()
    return tuple(str(value) for value in row)


def territory_stats(level: str = "region", year: int | None = None) -> dict:
    """{"level", "year", "territories": [...], "unlocated": {...}}: counts per territory, largest first."""
    if level not in LEVELS:
        level = "region"
    return cached(("pmi", level, year, fingerprint()), lambda: _territory_stats(level, year))


def _territory_stats(level: str, year: int | None) -> dict:
    column = Intervention.region if level == "region" else Intervention.department
    stmt = (
        select(
            column.label("code"),
            func.count(Intervention.id).label("interventions"),
            *headcount_sums(Intervention),
            func.count(distinct(Intervention.school_id)).label("schools"),
        )
        .where(*_year_clause(year))
        .group_by(column)
    )
    territories, elsewhere = [], []
    for row in db.session.execute(stmt):
        point = centroid(level, row.code) if row.code else None
        if point is None:
            elsewhere.append(row)
            continue
        counts = _counts(row.code, row.interventions, HeadcountSums.of(row), row.schools)
        counts.update(name=territory_name(level, row.code), lat=point[0], lon=point[1])
        territories.append(counts)
    # The rows with no point on the map (territory unknown or off the map) are added up into one.
    pupils = HeadcountSums(*(sum(int(getattr(row, name)) for row in elsewhere) for name in HEADCOUNT))
    unlocated = _counts(
        None, sum(r.interventions for r in elsewhere), pupils, sum(r.schools for r in elsewhere)
    )
    territories.sort(key=lambda t: (-t["pupils"], t["code"]))
    return {"level": level, "year": year, "territories": territories, "unlocated": unlocated}


def _counts(code, interventions, pupils: HeadcountSums, schools) -> dict:  # noqa: ANN001
    return {
        "code": code,
        "interventions": int(interventions),
        "female": pupils.female,
        "male": pupils.male,
        "unspecified": pupils.unspecified,
        "pupils": pupils.total,
        "female_share": pupils.girls_share,
        "schools": int(schools),
    }


def _radius(value: int, largest: int) -> float:
    # Area, not radius, proportional to the count: the eye compares areas.
    return max(4.0, MAX_RADIUS * math.sqrt(value / largest)) if largest else 4.0


def _share_label(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def territory_map(stats: dict) -> folium.Map:
    fmap = offline_map()
    largest = max((t["pupils"] for t in stats["territories"]), default=0)
    for t in stats["territories"]:
        text = (
            f"<strong>{_escape(t['name'])}</strong><br>{t['interventions']} interventions · "
            f"{t['pupils']} élèves<br>Filles : {_share_label(t['female_share'])}"
        )
        folium.CircleMarker(
            (t["lat"], t["lon"]),
            radius=_radius(t["pupils"], largest),
            color="#7a1f3d",
            weight=1,
            fill=True,
            fill_opacity=0.55,
            tooltip=folium.Tooltip(text),
            class_name="pmi-territory",
        ).add_to(fmap)
    return fmap


def school_stats(year: int | None = None) -> list[dict]:
    """Per school (staff only): interventions and pupils, with the school's public directory data."""
    stmt = (
        select(
            School.id,
            School.uai,
            School.name,
            School.city,
            School.lat,
            School.lon,
            func.count(Intervention.id).label("interventions"),
            func.coalesce(func.sum(Intervention.total), 0).label("pupils"),
        )
        .join(Intervention, Intervention.school_id == School.id)
        .where(*_year_clause(year))
        .group_by(School.id, School.uai, School.name, School.city, School.lat, School.lon)
        .order_by(School.name)
    )
    return [row._asdict() for row in db.session.execute(stmt)]


def school_map(schools: list[dict]) -> folium.Map:
    fmap = offline_map()
    for school in schools:
        if school["lat"] is None or school["lon"] is None:
            continue
        text = (
            f"<strong>{_escape(school['name'])}</strong> ({school['uai']})<br>{_escape(school['city'])}<br>"
            f"{school['interventions']} interventions · {school['pupils']} élèves"
        )
        folium.CircleMarker(
            (school["lat"], school["lon"]),
            radius=6,
            color="#1f4e7a",
            fill=True,
            fill_opacity=0.7,
            tooltip=folium.Tooltip(text),
            class_name="pmi-school",
        ).add_to(fmap)
    return fmap


def _escape(value: str | None) -> str:
    return safe_label(value or "")
