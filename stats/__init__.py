"""Published figures: headcounts by gender and territory for JOU, PMI and transports.

`stats.queries.compute` is the one aggregation layer (GROUP BY in the database); the API, the dashboards,
the exports and the annual report paragraph all read its `StatsResult`.
"""
