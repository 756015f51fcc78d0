"""PMI tables, one module per resource: schools, volunteers, interventions (transports: pmi.transports)."""

from pmi.models.interventions import (
    CROWD_KINDS,
    INTERVENTION_KIND_LABELS,
    LEVEL_LABELS,
    MAX_PUPILS_CROWD,
    MAX_PUPILS_GROUP,
    Intervention,
    InterventionKind,
    intervention_volunteers,
    max_pupils,
    pack_levels,
    unpack_levels,
)
from pmi.models.schools import KIND_LABELS, SECTOR_LABELS, School, SchoolKind, SchoolSector
from pmi.models.volunteers import Volunteer

__all__ = [
    "CROWD_KINDS",
    "INTERVENTION_KIND_LABELS",
    "KIND_LABELS",
    "LEVEL_LABELS",
    "MAX_PUPILS_CROWD",
    "MAX_PUPILS_GROUP",
    "SECTOR_LABELS",
    "Intervention",
    "InterventionKind",
    "School",
    "SchoolKind",
    "SchoolSector",
    "Volunteer",
    "intervention_volunteers",
    "max_pupils",
    "pack_levels",
    "unpack_levels",
]
