"""Placeholder implementation of the geography contract (see __init__); the geography work replaces it."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationFailed

REGIONS: dict[str, str] = {
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté", "28": "Normandie",
    "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire", "53": "Bretagne",
    "75": "Nouvelle-Aquitaine", "76": "Occitanie", "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur", "94": "Corse", "01": "Guadeloupe", "02": "Martinique",
    "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
}  # fmt: skip
DEPARTMENTS: dict[str, str] = {}


@dataclass(frozen=True)
class CommuneMatch:
    insee: str | None
    name: str
    department: str | None
    region: str | None


@dataclass(frozen=True)
class Location:
    lat: float | None
    lon: float | None
    precision: str | None  # address | street | commune | department | None
    source: str | None  # cache | ban | nominatim | gazetteer | manual
    commune_insee: str | None
    department: str | None
    region: str | None


def department_from_postcode(postcode: str) -> str | None:
    if not postcode or len(postcode) != 5 or not postcode.isdigit():
        return None
    if postcode.startswith("97") or postcode.startswith("98"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if int(postcode) < 20200 else "2B"
    return postcode[:2]


def region_of_department(department: str | None) -> str | None:
    return None


def department_name(code: str | None) -> str:
    return DEPARTMENTS.get(code or "", code or "")


def region_name(code: str | None) -> str:
    return REGIONS.get(code or "", code or "")


def regional_group_for(department: str | None) -> str | None:
    return None


def validate_postcode_city(postcode: str, city: str) -> CommuneMatch:
    department = department_from_postcode(postcode)
    if department is None:
        raise ValidationFailed.on("postcode", "Code postal inconnu.")
    return CommuneMatch(None, city, department, region_of_department(department))


def locate(street: str, postcode: str, city: str) -> Location:
    department = department_from_postcode(postcode)
    return Location(None, None, None, None, None, department, region_of_department(department))
