"""The factory map: published sites of an edition as a compact array for client-side clustering, the
sites without coordinates (listed, never drawn at 0,0), the sites nearest a point, and a popup per site.

One Marker per site built by folium costs seconds and megabytes at 10,000 sites (bench/README.md); here
the page carries only the empty map, and the markers come from `site_data()` as rows of plain values.
That empty map (`map_shell()`) holds no data and no nonce, so it is built once per tile setting, not per
request."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from datetime import date

from geopy.distance import great_circle
from sqlalchemy import func, select

from core.errors import ValidationFailed
from core.extensions import db
from core.geography import DEPARTMENTS, REGIONS
from core.geography.gazetteer import communes_for_postcode
from core.geography.territories import is_postcode
from core.maps.assets import MapParts, map_parts, offline_map, tile_settings, vendor_url
from core.validation import MAX_INT, MAX_YEAR, MIN_YEAR, query_int
from jou import services
from jou.models import Audience, Edition, Site, Slot
from jou.sectors import SECTORS, sector_label
from maps.cache import cached

# Column order of each row of `site_data()["sites"]`; the page's script reads rows by these positions.
ROW_FIELDS = ("id", "lat", "lon", "name", "city", "sector", "days", "seats_left", "wheelchair")
COORDINATE_DIGITS = 5  # about a metre: enough for a pin, and short


@dataclass
class MapFilters:
    """The map's filters: those of the site list plus seats left and wheelchair access."""

    edition: int | None = None
    region: str | None = None
    department: str | None = None
    sector: str | None = None
    audience: str | None = None
    day: date | None = None
    q: str | None = None
    min_seats: int | None = None
    wheelchair: bool = False

    @classmethod
    def from_args(cls, args) -> MapFilters:  # noqa: ANN001 - a MultiDict or a dict
        """From a page's query string: unknown names and values that mean nothing are ignored."""

        def text(name: str, allowed=None) -> str | None:  # noqa: ANN001
            value = (args.get(name) or "").strip()
            return value if value and (allowed is None or value in allowed) else None

        day = None
        try:
            day = date.fromisoformat(args.get("day") or "")
        except ValueError:
            day = None
        return cls(
            edition=query_int("edition", min=MIN_YEAR, max=MAX_YEAR, args=args),
            region=text("region", REGIONS),
            department=text("department", DEPARTMENTS),
            sector=text("sector", SECTORS),
            audience=text("audience", {a.value for a in Audience}),
            day=day,
            q=text("q"),
            min_seats=query_int("min_seats", min=0, max=MAX_INT, args=args),
            wheelchair=(args.get("wheelchair") or "").lower() in {"1", "true", "on", "oui"},
        )

    def query_args(self) -> dict:
        """The filters set, as query-string values (to pass from the page to the data endpoint)."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, False, ""):
                continue
            values[f.name] = "1" if value is True else str(value)
        return values

    def site_filters(self) -> services.SiteFilters:
        base = {k: v for k, v in asdict(self).items() if k in services.SiteFilters.__dataclass_fields__}
        return services.SiteFilters.from_dict(base)

    def key(self) -> tuple:
        return tuple(sorted(self.query_args().items()))


def fingerprint() -> tuple:
    """What changes whenever a site or a seat count changes: one cheap aggregate query."""
    row = db.session.execute(
        select(
            select(func.count(Site.id)).scalar_subquery(),
            select(func.max(Site.updated_at)).scalar_subquery(),
            select(func.count(Slot.id)).scalar_subquery(),
            select(func.coalesce(func.sum(Slot.seats_taken + Slot.walk_in_seats), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(Slot.capacity), 0)).scalar_subquery(),
        )
    ).one()
    return tuple(str(value) for value in row)


def located_sites(filters: MapFilters) -> list[services.MapSite]:
    sites = services.map_sites(filters.site_filters())
    if filters.min_seats:
        sites = [site for site in sites if site.seats_left >= filters.min_seats]
    if filters.wheelchair:
        sites = [site for site in sites if site.wheelchair_accessible]
    return sites


def unlocated_sites(filters: MapFilters) -> list[Site]:
    """Published sites matching the filters that have no coordinates yet: listed beside the map."""
    # The registry's own WHERE clause, so that the list and the map never disagree on a filter.
    conditions = services.site_conditions(filters.site_filters(), True, None, None)
    if conditions is None:
        return []
    stmt = select(Site).where(*conditions, (Site.lat.is_(None)) | (Site.lon.is_(None))).order_by(Site.name)
    sites = list(db.session.scalars(stmt))
    if filters.min_seats or filters.wheelchair:
        ids = {site.id for site in sites}
        keep = {s.id for s in _filter_by_slots(ids, filters)}
        sites = [site for site in sites if site.id in keep]
    return sites


def _filter_by_slots(ids: set[int], filters: MapFilters) -> list[Site]:
    if not ids:
        return []
    stmt = select(Site).where(Site.id.in_(ids))
    result = []
    for site in db.session.scalars(stmt):
        seats = sum(slot.seats_left for slot in site.slots)
        if filters.min_seats and seats < filters.min_seats:
            continue
        if filters.wheelchair and not any(slot.wheelchair_accessible for slot in site.slots):
            continue
        result.append(site)
    return result


def _day_mask(site: services.MapSite, edition_days: tuple[date, ...]) -> int:
    """1 for the first day (Friday), 2 for the second (Saturday), 3 for both."""
    return sum(1 << index for index, day in enumerate(edition_days) if day in site.days)


def _edition_days(filters: MapFilters) -> tuple[date, ...]:
    if filters.edition is None:
        edition = services.current_edition()
    else:
        edition = db.session.scalar(select(Edition).where(Edition.year == filters.edition))
    return edition.days if edition else ()


def build_site_data(filters: MapFilters) -> dict:
    days = _edition_days(filters)
    rows = [
        [
            site.id,
            round(site.lat, COORDINATE_DIGITS),
            round(site.lon, COORDINATE_DIGITS),
            site.name,
            site.city,
            site.sector,
            _day_mask(site, days),
            site.seats_left,
            1 if site.wheelchair_accessible else 0,
        ]
        for site in located_sites(filters)
    ]
    used = {row[5] for row in rows}
    return {
        "fields": list(ROW_FIELDS),
        "days": [day.isoformat() for day in days],
        "sectors": {code: sector_label(code) for code in sorted(used)},
        "sites": rows,
    }


def site_data_json(filters: MapFilters) -> tuple[str, str, int]:
    """The compact JSON of the map, its ETag and its number of sites, cached under the data's
    fingerprint."""
    stamp = fingerprint()
    key = ("sites", filters.key(), stamp)

    def build() -> tuple[str, str, int]:
        data = build_site_data(filters)
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return body, hashlib.sha1(repr(key).encode()).hexdigest()[:20], len(data["sites"])

    return cached(key, build)


def map_shell() -> MapParts:
    """The empty folium map of the page, cut into parts. Building it costs more than the rest of the page
    (folium looks the tile URL up among xyzservices' providers, branca compiles a Jinja template per
    element), and it changes only with the tile settings and the asset URLs: cached under those. The
    parts carry no nonce (the page adds the request's), and the data comes from site_data()."""
    url, attribution = tile_settings()
    key = ("shell", url, attribution, vendor_url(""))
    return cached(key, lambda: map_parts(offline_map()))


# ---- near me -----------------------------------------------------------------------------------------


def postcode_point(postcode: str) -> tuple[float, float, str]:
    """The place of a postcode (its most populous located commune), or a clear French error."""
    postcode = (postcode or "").strip()
    if not is_postcode(postcode):
        raise ValidationFailed.on("postcode", "Un code postal a cinq chiffres, par exemple 75013.")
    for commune in communes_for_postcode(postcode):
        if commune.lat is not None and commune.lon is not None:
            return commune.lat, commune.lon, f"{postcode} {commune.name}"
    raise ValidationFailed.on("postcode", f"Le code postal {postcode} n'existe pas ou n'est pas localisé.")


@dataclass
class NearSite:
    id: int
    name: str
    city: str
    sector: str
    seats_left: int
    distance_km: float


def nearest_sites(filters: MapFilters, lat: float, lon: float, limit: int = 20) -> list[NearSite]:
    """The sites nearest a point, by great-circle distance (geopy), nearest first."""
    origin = (lat, lon)
    scored = [(great_circle(origin, (site.lat, site.lon)).km, site) for site in located_sites(filters)]
    scored.sort(key=lambda pair: (pair[0], pair[1].id))
    return [
        NearSite(site.id, site.name, site.city, sector_label(site.sector), site.seats_left, round(km, 1))
        for km, site in scored[:limit]
    ]
