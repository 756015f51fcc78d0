"""JSON API of PMI, one module per resource: schools (the directory), interventions (and their figures).
Transports have theirs in pmi.transports.api."""

from pmi.api.interventions import interventions_blp, pmi_stats_blp
from pmi.api.schools import schools_blp

blueprints = (schools_blp, interventions_blp, pmi_stats_blp)
