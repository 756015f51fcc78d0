"""PMI schemas, one module per resource: volunteers, interventions (transports: pmi.transports)."""

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
from pmi.schemas.volunteers import ProfileSchema, VolunteerRefSchema

__all__ = [
    "PLACE_BOTH",
    "PLACE_NEITHER",
    "InterventionInputSchema",
    "InterventionQuerySchema",
    "InterventionSchema",
    "InterventionUpdateSchema",
    "ProfileSchema",
    "StatsQuerySchema",
    "StatsRowSchema",
    "StatsSchema",
    "VenueSchema",
    "VolunteerRefSchema",
]
