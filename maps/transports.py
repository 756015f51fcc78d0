"""The transports map: each campus transport as a line from its schools, in pickup order, to the campus.

Public data only: schools (public institutions), the campus, the date and counts — never contacts."""

from __future__ import annotations

import folium
from sqlalchemy import extract, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.maps.assets import offline_map, safe_label
from core.models import HeadcountSums, headcount_sums
from pmi.transports.campuses import BY_CODE
from pmi.transports.models import Transport, TransportStatus, TransportStop


def transports_geojson(year: int | None = None) -> dict:
    """A FeatureCollection of LineStrings (lon, lat) from the first stop to the campus."""
    where = [Transport.status != TransportStatus.CANCELLED.value]
    if year is not None:
        where.append(extract("year", Transport.date) == year)
    query = (
        select(Transport)
        .where(*where)
        .options(selectinload(Transport.stops).selectinload(TransportStop.school))
        .order_by(Transport.date, Transport.id)
    )
    # Each transport's pupils: its stops' actual counts once the trip is reported, else the planned ones.
    sums = (
        select(TransportStop.transport_id, *headcount_sums(TransportStop.counted()))
        .join(Transport, Transport.id == TransportStop.transport_id)
        .where(*where)
        .group_by(TransportStop.transport_id)
    )
    pupils = {row.transport_id: HeadcountSums.of(row) for row in db.session.execute(sums)}
    features = []
    for transport in db.session.scalars(query):
        campus = BY_CODE[transport.campus]
        stops = [s for s in transport.stops if s.school.lat is not None and s.school.lon is not None]
        counts = pupils.get(transport.id, HeadcountSums())
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
                    "female": counts.female,
                    "male": counts.male,
                    "unspecified": counts.unspecified,
                    "pupils": counts.total,
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
