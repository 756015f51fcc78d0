"""JSON API of PMI, one module per resource: interventions (and their figures). Transports have theirs in
pmi.transports.api, the schools directory in core.schools.api."""

from pmi.api.interventions import interventions_blp, pmi_stats_blp

blueprints = (interventions_blp, pmi_stats_blp)
