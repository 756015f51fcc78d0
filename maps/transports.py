"""The transports map: each campus transport as a line from its schools, in pickup order, to the campus.

Public data only: schools (public institutions), the campus, the date and counts — never contacts."""

from __future__ import annotations

import folium
from sqlalchemy import extract, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from maps.assets import offline_map, safe_label
from pmi.transports.campuses import BY_CODE
from pmi.transports.models import Transport, TransportStatus, TransportStop


def transports_geojson(year: int | None = None) -> dict:
    """A FeatureCollection of LineStrings (lon, lat) from the first stop to the campus."""
    query = (
        select(Transport)
        .where(Transport.status != TransportStatus.CANCELLED.value)
        .options(selectinload(Transport.stops).selectinload(TransportStop.school))
        .order_by(Transport.date, Transport.id)
    )
    if year is not None:
        query = query.where(extract("year", Transport.date) == year)
    features = []
    for transport in db.session.scalars(query):
        campus = BY_CODE[transport.campus]
        stops = [s for s in transport.stops if s.school.lat is not None and s.school.lon is not None]
        counts = {"female": 0, "male": 0, "unspecified": 0}
        for stop in transport.stops:
            # Actual counts once the trip is reported, else the planned ones.
            actual = stop.has_actual
            counts["female"] += (stop.actual_female if actual else stop.female) or 0
            counts["male"] += (stop.actual_male if actual else stop.male) or 0
            counts["unspecified"] += (stop.actual_unspecified if actual else stop.unspecified) or 0
        line = [[s.school.lon, s.school.lat] for s in stops] + [[campus.lon, campus.lat]]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "id": transport.id,
                    "date": transport.date.isoformat(),
                    "campus": transport.campus,
                    "campus_label": campus.label,
                    "regional_group": transport.regional_group_code,
                    "schools": [s.school.name for s in stops],
                    **counts,
                    "pupils": sum(counts.values()),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def transports_map(collection: dict) -> folium.Map:
    fmap = offline_map()
    campuses_drawn: set[str] = set()
    for feature in collection["features"]:
        props = feature["properties"]
        path = [(lat, lon) for lon, lat in feature["geometry"]["coordinates"]]
        label = safe_label(f"{props['campus_label']} — {props['date']} — {props['pupils']} élèves")
        folium.PolyLine(path, color="#7a1f3d", weight=3, opacity=0.7, tooltip=label).add_to(fmap)
        for (lat, lon), school in zip(path[:-1], props["schools"], strict=True):
            folium.CircleMarker(
                (lat, lon), radius=4, color="#1f4e7a", fill=True, tooltip=safe_label(school)
            ).add_to(fmap)
        if props["campus"] not in campuses_drawn:
            campuses_drawn.add(props["campus"])
            folium.CircleMarker(
                path[-1], radius=9, color="#7a1f3d", fill=True, tooltip=props["campus_label"]
            ).add_to(fmap)
    return fmap
