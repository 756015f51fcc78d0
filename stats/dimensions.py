"""What the statistics may be split by and filtered on, per programme; filter values checked in French;
the labels and the order of dimension values.

`year` and `edition` are one dimension (and one filter) for JOU: an edition is named by its year.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate, validates
from sqlalchemy import select

from core.extensions import db
from core.formatting import french_date
from core.geography.names import fold
from core.geography.territories import COLLECTIVITIES, DEPARTMENTS, REGIONS, department_name, region_name
from core.validation import BaseSchema, id_field
from jou.models import AUDIENCE_LABELS, Audience
from jou.sectors import SECTORS, sector_label
from pmi.models import INTERVENTION_KIND_LABELS, LEVEL_LABELS, InterventionKind
from pmi.transports.campuses import CAMPUS_CODES, campus_label

PROGRAMME_LABELS = {"jou": "JOU", "pmi": "PMI", "transports": "transports vers les campus"}

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "jou": ("edition", "year", "day", "audience", "region", "department", "gr", "sector", "site"),
    "pmi": ("year", "school_year", "region", "department", "academie", "gr", "kind", "level", "volunteer"),
    # region (and its filter) is the region of the schools picked up.
    "transports": ("year", "gr", "campus", "region"),
}
FILTERS: dict[str, tuple[str, ...]] = {
    "jou": ("year", "edition", "day", "audience", "region", "department", "gr", "sector", "site"),
    "pmi": ("year", "school_year", "region", "department", "academie", "gr", "kind", "level", "volunteer"),
    "transports": ("year", "gr", "campus", "region"),
}
# Names that mean the same thing for a programme: one column, given once.
SYNONYMS: dict[str, dict[str, str]] = {"jou": {"year": "edition"}}
# Breakdowns and filters that name people: staff only (stats.api enforces it).
PERSONAL = frozenset({"volunteer"})
MAX_DIMENSIONS = 2

ALL_DIMENSIONS = tuple(dict.fromkeys(d for dims in DIMENSIONS.values() for d in dims))
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


def canonical(programme: str, name: str) -> str:
    return SYNONYMS.get(programme, {}).get(name, name)


# ---- filter values -------------------------------------------------------------------------------------


def _one_of(choices: Iterable[str], message: str) -> validate.OneOf:
    return validate.OneOf(list(choices), error=message)


class FiltersSchema(BaseSchema):
    """Every filter of every programme; which apply to which programme is `FILTERS`'s business."""

    year = fields.Integer(
        validate=validate.Range(min=2000, max=2100), metadata={"description": "Année civile (JOU : édition)"}
    )
    edition = fields.Integer(
        validate=validate.Range(min=2000, max=2100), metadata={"description": "JOU : année de l'édition"}
    )
    school_year = fields.String(metadata={"description": "PMI : année scolaire, ex. 2024-2025"})
    region = fields.String(
        validate=_one_of([*REGIONS, *COLLECTIVITIES], "Région inconnue (code INSEE, ex. 11)."),
        metadata={"description": "Code INSEE de région (transports : région des établissements)"},
    )
    department = fields.String(
        validate=_one_of(DEPARTMENTS, "Département inconnu (ex. 75, 2A, 971)."),
        metadata={"description": "Code du département"},
    )
    academie = fields.String(
        validate=validate.Length(min=1, max=3), metadata={"description": "PMI : code de l'académie"}
    )
    gr = fields.String(validate=validate.Length(min=1, max=20), metadata={"description": "Code du GR"})
    sector = fields.String(validate=_one_of(SECTORS, "Secteur inconnu."), metadata={"description": "JOU"})
    kind = fields.String(
        validate=_one_of([k.value for k in InterventionKind], "Type d'intervention inconnu."),
        metadata={"description": "PMI : type d'intervention"},
    )
    level = fields.String(
        validate=_one_of(LEVEL_LABELS, f"Niveau inconnu (possibles : {', '.join(LEVEL_LABELS)})."),
        metadata={"description": "PMI : niveau scolaire"},
    )
    campus = fields.String(
        validate=_one_of(CAMPUS_CODES, "Campus inconnu."), metadata={"description": "Transports"}
    )
    day = fields.Date(metadata={"description": "JOU : jour (AAAA-MM-JJ)"})
    audience = fields.String(
        validate=_one_of([a.value for a in Audience], "Public inconnu (schools ou public)."),
        metadata={"description": "JOU : schools (scolaires) ou public (grand public)"},
    )
    site = id_field(metadata={"description": "JOU : site (id)"})
    volunteer = id_field(metadata={"description": "PMI : intervenant (id) — équipe Soce seulement"})

    @validates("school_year")
    def _school_year(self, value: str, **_kwargs: Any) -> None:
        match = SCHOOL_YEAR.match(value)
        if not match or int(match[2]) != int(match[1]) + 1 or not 2000 <= int(match[1]) <= 2100:
            raise ValidationError("Année scolaire attendue sous la forme 2024-2025.")


def school_year_name(start: int | None) -> str | None:
    return None if start is None else f"{start}-{start + 1}"


def school_year_start(name: str) -> int:
    return int(name[:4])


# ---- labels and order ------------------------------------------------------------------------------

NONE_LABELS = {
    "region": "Région inconnue",
    "department": "Département inconnu",
    "academie": "Hors établissement (lieu sans académie)",
    "gr": "Sans groupe régional",
    "level": "Niveau non précisé",
    "sector": "Secteur inconnu",
    "campus": "Campus inconnu",
}
KIND_ORDER = {k.value: n for n, k in enumerate(InterventionKind)}
LEVEL_ORDER = {code: n for n, code in enumerate(LEVEL_LABELS)}
DEPARTMENT_ORDER = {code: n for n, code in enumerate(DEPARTMENTS)}
AUDIENCE_ORDER = {Audience.SCHOOLS.value: 0, Audience.PUBLIC.value: 1}


def labeller(dimension: str, values: set[Any]):  # noqa: ANN201 - a value → label function
    """A function giving the French label of a value; one query at most for the values of a result."""
    known = {v for v in values if v is not None}
    if dimension in {"year", "edition", "school_year"}:
        return str
    if dimension == "day":
        return lambda value: french_date(date.fromisoformat(value))
    if dimension == "audience":
        return lambda value: AUDIENCE_LABELS.get(value, value)
    if dimension == "region":
        return region_name
    if dimension == "department":
        return department_name
    if dimension == "sector":
        return sector_label
    if dimension == "kind":
        return lambda value: INTERVENTION_KIND_LABELS.get(value, value)
    if dimension == "level":
        return lambda value: LEVEL_LABELS.get(value, value)
    if dimension == "campus":
        return campus_label
    names = _names(dimension, known)
    return lambda value: names.get(value, str(value))


def _names(dimension: str, values: set[Any]) -> dict[Any, str]:
    from core.auth.models import User
    from core.geography.models import RegionalGroup
    from jou.models import Site
    from pmi.models import School, Volunteer

    if not values:
        return {}
    if dimension == "gr":
        stmt = select(RegionalGroup.code, RegionalGroup.name).where(RegionalGroup.code.in_(values))
        return dict(db.session.execute(stmt).all())
    if dimension == "academie":
        stmt = (
            select(School.academie_code, School.academie_name)
            .where(School.academie_code.in_(values), School.academie_name.is_not(None))
            .distinct()
        )
        return {
            code: name if fold(name).startswith("academie") else f"Académie {of(name)}"
            for code, name in db.session.execute(stmt)
        }
    if dimension == "site":
        stmt = select(Site.id, Site.company_name, Site.name).where(Site.id.in_(values))
        return {
            id_: company if fold(name) in {fold(company), ""} else f"{company} — {name}"
            for id_, company, name in db.session.execute(stmt)
        }
    if dimension == "volunteer":
        stmt = (
            select(Volunteer.id, User.name)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(values))
        )
        return dict(db.session.execute(stmt).all())
    raise KeyError(dimension)


def of(name: str) -> str:
    """« de Lyon », « d'Amiens »."""
    return f"d'{name}" if name[:1] in "AEIOUYÉÈaeiouyéè" else f"de {name}"


def sort_key(dimension: str, value: Any, label: str) -> tuple:
    """Chronological for times, the usual order for coded lists, by name for places and people;
    unknown (None) last."""
    if value is None:
        return (1, 0, "")
    if dimension in {"year", "edition", "school_year", "day"}:
        rank: Any = value
    elif dimension == "audience":
        rank = AUDIENCE_ORDER.get(value, 9)
    elif dimension == "kind":
        rank = KIND_ORDER.get(value, 99)
    elif dimension == "level":
        rank = LEVEL_ORDER.get(value, 99)
    elif dimension == "department":
        rank = DEPARTMENT_ORDER.get(value, 999)
    else:
        rank = 0
    return (0, rank, fold(label))
