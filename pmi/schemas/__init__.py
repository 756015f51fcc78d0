"""PMI schemas, one module per resource: schools, volunteers, interventions (transports: pmi.transports)."""

from pmi.schemas.interventions import (
    PLACE_BOTH,
    PLACE_NEITHER,
    InterventionInputSchema,
    InterventionQuerySchema,
    InterventionSchema,
    InterventionUpdateSchema,
    StatsQuerySchema,
    StatsRowSchema,
    StatsSchema,
    VenueSchema,
)
from pmi.schemas.schools import MAX_SEARCH_RESULTS, SchoolQuerySchema, SchoolSchema
from pmi.schemas.volunteers import ProfileSchema, VolunteerRefSchema

__all__ = [
    "MAX_SEARCH_RESULTS",
    "PLACE_BOTH",
    "PLACE_NEITHER",
    "InterventionInputSchema",
    "InterventionQuerySchema",
    "InterventionSchema",
    "InterventionUpdateSchema",
    "ProfileSchema",
    "SchoolQuerySchema",
    "SchoolSchema",
    "StatsQuerySchema",
    "StatsRowSchema",
    "StatsSchema",
    "VenueSchema",
    "VolunteerRefSchema",
]
