"""PMI tables, one module per resource: volunteers, interventions (transports: pmi.transports; the schools
directory: core.schools)."""

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
from pmi.models.volunteers import Volunteer

__all__ = [
    "CROWD_KINDS",
    "INTERVENTION_KIND_LABELS",
    "LEVEL_LABELS",
    "MAX_PUPILS_CROWD",
    "MAX_PUPILS_GROUP",
    "Intervention",
    "InterventionKind",
    "Volunteer",
    "intervention_volunteers",
    "max_pupils",
    "pack_levels",
    "unpack_levels",
]
