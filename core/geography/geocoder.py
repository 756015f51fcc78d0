"""The geocoding chain: cache → online geocoder (BAN or Nominatim, through geopy) → gazetteer commune →
department seat. Registration must never fail because a geocoder is down, so nothing here raises for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BANFrance, Nominatim
from sqlalchemy import select

from core.extensions import db
from core.geography.bulk import upsert
from core.geography.gazetteer import (
    commune_region,
    communes_for_postcode,
    department_from_postcode,
    pick_commune,
)
from core.geography.groups import regional_group_for
from core.geography.models import Commune, GeocodeCache
from core.geography.names import address_key
from core.geography.territories import SEATS, is_postcode, region_of_department
from core.models import utcnow

log = logging.getLogger(__name__)

# Finest first; "manual" is a pin the factory placed, never overwritten by a re-geocoding.
PRECISIONS = ("address", "street", "commune", "department")
# BAN scores below this are guesses (a similar street in another town), not answers worth keeping.
BAN_MIN_SCORE = 0.6
BAN_PRECISION = {
    "housenumber": "address",
    "street": "street",
    "locality": "street",
    "municipality": "commune",
}
# Municipal arrondissements: BAN answers with their codes, the gazetteer knows the city.
ARRONDISSEMENT_CITIES = (("751", "75056"), ("6938", "69123"), ("132", "13055"))


@dataclass(frozen=True)
class Location:
    lat: float | None
    lon: float | None
    precision: str | None  # address | street | commune | department | None
    source: str | None  # cache | ban | nominatim | gazetteer | manual
    commune_insee: str | None
    department: str | None
    region: str | None


@dataclass(frozen=True)
class _Hit:
    lat: float
    lon: float
    precision: str
    citycode: str | None


def precision_rank(precision: str | None) -> int:
    """0 for an address, larger when coarser; unknown precisions are the coarsest."""
    return PRECISIONS.index(precision) if precision in PRECISIONS else len(PRECISIONS)


# ------------------------------------------------------------------------------------------ online

_geocoders: dict[tuple, Callable[..., Any]] = {}


def online_geocoder() -> str | None:
    kind = current_app.config.get("GEOCODER", "offline")
    return kind if kind in {"ban", "nominatim"} else None


def _geocode_function(kind: str) -> Callable[..., Any]:
    """One geopy client per configuration: Nominatim's rate limiter must outlive a single call."""
    cfg = current_app.config
    key = (kind, cfg["GEOCODER_BAN_DOMAIN"], cfg["GEOCODER_NOMINATIM_DOMAIN"], cfg["GEOCODER_SCHEME"],
           cfg["GEOCODER_TIMEOUT"], cfg["GEOCODER_USER_AGENT"])  # fmt: skip
    if key not in _geocoders:
        common = {"scheme": cfg["GEOCODER_SCHEME"], "timeout": cfg["GEOCODER_TIMEOUT"]}
        if kind == "ban":
            client = BANFrance(
                domain=cfg["GEOCODER_BAN_DOMAIN"], user_agent=cfg["GEOCODER_USER_AGENT"], **common
            )
            _geocoders[key] = client.geocode
        else:
            client = Nominatim(
                domain=cfg["GEOCODER_NOMINATIM_DOMAIN"], user_agent=cfg["GEOCODER_USER_AGENT"], **common
            )
            # Nominatim's usage policy: at most one request per second, a real user agent.
            _geocoders[key] = RateLimiter(
                client.geocode, min_delay_seconds=1.0, max_retries=0, swallow_exceptions=False
            )
    return _geocoders[key]


def _ban_hit(results: list, postcode: str, candidates: set[str]) -> _Hit | None:
    for result in results or []:
        props = (result.raw or {}).get("properties", {})
        citycode = _city_insee(props.get("citycode"))
        consistent = props.get("postcode") == postcode or (citycode in candidates)
        if (props.get("score") or 0) >= BAN_MIN_SCORE and consistent:
            precision = BAN_PRECISION.get(props.get("type"), "commune")
            return _Hit(result.latitude, result.longitude, precision, citycode)
    return None


def _nominatim_hit(results: list, postcode: str) -> _Hit | None:
    for result in results or []:
        address = (result.raw or {}).get("address", {})
        if address.get("postcode") != postcode:
            continue
        if address.get("house_number"):
            precision = "address"
        elif address.get("road"):
            precision = "street"
        else:
            precision = "commune"
        return _Hit(result.latitude, result.longitude, precision, None)
    return None


def _city_insee(citycode: str | None) -> str | None:
    for prefix, city in ARRONDISSEMENT_CITIES:
        if citycode and citycode.startswith(prefix) and citycode != city:
            return city
    return citycode


def _ask_online(kind: str, street: str, postcode: str, city: str, candidates: set[str]) -> _Hit | None:
    query = f"{street}, {postcode} {city}".strip()
    try:
        geocode = _geocode_function(kind)
        if kind == "ban":
            return _ban_hit(geocode(query, limit=5, exactly_one=False), postcode, candidates)
        results = geocode(query, exactly_one=False, limit=5, addressdetails=True, country_codes="fr")
        return _nominatim_hit(results, postcode)
    # Down, slow, rate-limited or answering nonsense: an outside service must never break a save.
    except Exception as exc:  # noqa: BLE001
        log.warning("Géocodeur %s indisponible pour %r : %s: %s", kind, query, type(exc).__name__, exc)
        return None


# ------------------------------------------------------------------------------------------ the chain


def locate(street: str, postcode: str, city: str) -> Location:
    """Best location for an address; never raises because a geocoder is down or slow."""
    street, postcode, city = (street or "").strip(), (postcode or "").strip(), (city or "").strip()
    candidates = communes_for_postcode(postcode) if is_postcode(postcode) else []
    commune = pick_commune(candidates, city) or (candidates[0] if candidates else None)
    department = commune.department if commune else department_from_postcode(postcode)
    region = commune_region(commune) if commune else region_of_department(department)
    insee = commune.insee if commune else None

    key = address_key(street, postcode, city)
    cached = db.session.get(GeocodeCache, key) if street else None
    if cached is not None:
        return Location(cached.lat, cached.lon, cached.precision, "cache", cached.commune_insee or insee,
                        department, region)  # fmt: skip

    kind = online_geocoder()
    if kind and street:
        hit = _ask_online(kind, street, postcode, city, {c.insee for c in candidates})
        if hit is not None:
            insee = insee if commune is not None else hit.citycode
            upsert(
                GeocodeCache.__table__,
                [{"address_key": key, "lat": hit.lat, "lon": hit.lon, "precision": hit.precision,
                  "source": kind, "commune_insee": insee, "created_at": utcnow()}],
                keys=["address_key"],
            )  # fmt: skip
            return Location(hit.lat, hit.lon, hit.precision, kind, insee, department, region)

    if commune is not None and commune.lat is not None and commune.lon is not None:
        return Location(commune.lat, commune.lon, "commune", "gazetteer", insee, department, region)
    seat = SEATS.get(department or "")
    if seat is not None:
        return Location(seat.lat, seat.lon, "department", "gazetteer", insee, department, region)
    seat_commune = _collectivity_seat(department)
    if seat_commune is not None:
        return Location(
            seat_commune.lat, seat_commune.lon, "department", "gazetteer", insee, department, region
        )
    return Location(None, None, None, None, insee, department, region)


def _collectivity_seat(department: str | None) -> Commune | None:
    """Overseas collectivities have no department seat: any located commune of theirs will do."""
    if not department:
        return None
    return db.session.scalars(
        select(Commune)
        .where(Commune.department == department, Commune.lat.is_not(None))
        .order_by(Commune.population.desc().nulls_last(), Commune.insee)
        .limit(1)
    ).first()


def apply_location(obj: object, location: Location) -> None:
    """Copy a Location onto any model with the usual fields (lat, lon, geo_precision, …, regional_group)."""
    values = {
        "lat": location.lat,
        "lon": location.lon,
        "geo_precision": location.precision,
        "geo_source": location.source,
        "geocoded_at": utcnow() if location.lat is not None else None,
        "commune_insee": location.commune_insee,
        "department": location.department,
        "region": location.region,
        "regional_group": regional_group_for(location.department),
    }
    for name, value in values.items():
        if hasattr(obj, name):
            setattr(obj, name, value)
