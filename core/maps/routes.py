"""A route map for the transports: stops in order to a campus, drawn offline.

    route_map([(lat, lon, "Collège A"), …], (lat, lon, "Campus de Paris")) -> folium.Map

The page embeds it with core.maps.assets.map_parts, in the site's layout (its scripts carry the request's
nonce). Call it inside a request (or `app.test_request_context()`): asset URLs come from url_for."""

from __future__ import annotations

from collections.abc import Sequence

import folium

from core.maps.assets import offline_map, safe_label

Point = tuple[float, float, str]


def route_map(stops: Sequence[Point], campus: Point) -> folium.Map:
    points = [stop for stop in stops if stop[0] is not None and stop[1] is not None]
    fmap = offline_map(location=(campus[0], campus[1]), zoom_start=10)
    for lat, lon, label in points:
        folium.CircleMarker(
            (lat, lon), radius=6, color="#1f4e7a", fill=True, tooltip=safe_label(label)
        ).add_to(fmap)
    folium.CircleMarker(
        (campus[0], campus[1]), radius=9, color="#7a1f3d", fill=True, tooltip=safe_label(campus[2])
    ).add_to(fmap)
    path = [(lat, lon) for lat, lon, _ in points] + [(campus[0], campus[1])]
    if len(path) > 1:
        folium.PolyLine(path, color="#7a1f3d", weight=3).add_to(fmap)
        fmap.fit_bounds([[min(p[0] for p in path), min(p[1] for p in path)],
                         [max(p[0] for p in path), max(p[1] for p in path)]])  # fmt: skip
    return fmap
