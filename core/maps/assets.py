"""Folium maps that load nothing from another host: Leaflet and its plugins from static/vendor (see
scripts/vendor_assets.sh), base-map tiles from the configured MAP_TILE_URL."""

from __future__ import annotations

import re
from dataclasses import dataclass

import folium
from flask import current_app, url_for
from folium import plugins
from markupsafe import escape

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">les contributeurs d\'OpenStreetMap</a>'
)
FRANCE_CENTER = (46.6, 2.4)
FRANCE_ZOOM = 6
# folium's header asks for `user-scalable=no` (no pinch zoom, against WCAG 1.4.4); our pages set their own.
FOLIUM_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>\s*')


def tile_settings() -> tuple[str, str]:
    """The base-map tiles: the only outside resource of a map, and a deployment setting."""
    config = current_app.config
    return (
        config.get("MAP_TILE_URL", DEFAULT_TILE_URL),
        config.get("MAP_TILE_ATTRIBUTION", DEFAULT_TILE_ATTRIBUTION),
    )


def vendor_url(path: str) -> str:
    return url_for("static", filename=f"vendor/{path}")


def leaflet_js() -> list[tuple[str, str]]:
    return [("leaflet", vendor_url("leaflet/dist/leaflet.js"))]


def leaflet_css() -> list[tuple[str, str]]:
    return [("leaflet_css", vendor_url("leaflet/dist/leaflet.css"))]


def cluster_js() -> list[tuple[str, str]]:
    return [("markerclusterjs", vendor_url("leaflet.markercluster/dist/leaflet.markercluster.js"))]


def cluster_css() -> list[tuple[str, str]]:
    return [
        ("markerclustercss", vendor_url("leaflet.markercluster/dist/MarkerCluster.css")),
        ("markerclusterdefaultcss", vendor_url("leaflet.markercluster/dist/MarkerCluster.Default.css")),
    ]


def offline_map(location: tuple[float, float] = FRANCE_CENTER, zoom_start: int = FRANCE_ZOOM,
                **kwargs) -> folium.Map:  # fmt: skip
    """A folium Map whose assets are the vendored copies.

    The lists are set on the instance, not the class: folium's defaults stay untouched for anyone else.
    jQuery, Bootstrap and awesome-markers, which folium loads for its icons, are left out: these maps
    use Leaflet's own marker and circle markers only."""
    fmap = folium.Map(location=location, zoom_start=zoom_start, tiles=None, prefer_canvas=True, **kwargs)
    fmap.default_js = leaflet_js()
    fmap.default_css = leaflet_css()
    url, attribution = tile_settings()
    folium.TileLayer(url, attr=attribution, name="Fond de carte", max_zoom=18).add_to(fmap)
    return fmap


def offline_cluster(**kwargs) -> plugins.MarkerCluster:
    cluster = plugins.MarkerCluster(**kwargs)
    cluster.default_js = cluster_js()
    cluster.default_css = cluster_css()
    return cluster


@dataclass
class MapParts:
    """A folium map cut into what a page template places: <head> links and styles, the map's <div>, and
    the script that draws it; `name` is the JavaScript variable holding the Leaflet map."""

    name: str
    header: str
    html: str
    script: str


def map_parts(fmap: folium.Map) -> MapParts:
    root = fmap.get_root()
    root.render()
    return MapParts(
        name=fmap.get_name(),
        header=FOLIUM_VIEWPORT.sub("", root.header.render()),
        html=root.html.render(),
        script=root.script.render(),
    )


def standalone_html(fmap: folium.Map) -> str:
    return fmap.get_root().render()


def safe_label(value: object) -> str:
    """Text for a folium tooltip or popup. folium puts these into a JavaScript template literal inside a
    <script>, unescaped: HTML-escape it, and neutralise what a template literal interprets (` $ \\)."""
    text = str(escape("" if value is None else value))
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
