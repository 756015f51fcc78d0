"""What the aggregation layer answers: rows of headcounts keyed by one or two dimensions, and totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.models import HeadcountSums

PROGRAMMES = ("jou", "pmi", "transports")
# The distinct counts that apply to each programme, in the order they are shown.
DISTINCT_COUNTS = {
    "jou": ("sites", "bookings", "visitors"),
    "pmi": ("interventions", "volunteers", "schools"),
    "transports": ("transports", "schools"),
}


@dataclass
class Headcount(HeadcountSums):
    """One row (or the totals): dimension values, the three gender counts (with their `total`) and
    distinct counts."""

    dims: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # Human labels of the dimension values (region code "11" → "Île-de-France"), for pages and exports.
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def female_share(self) -> float | None:
        """Share of girls among the specified; None when nobody's gender is specified (shown "—")."""
        return self.girls_share

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.dims,
            "female": self.female,
            "male": self.male,
            "unspecified": self.unspecified,
            "total": self.total,
            "female_share": self.female_share,
            **self.counts,
        }


@dataclass
class StatsResult:
    programme: str
    filters: dict[str, Any]
    by: list[str]
    rows: list[Headcount]
    totals: Headcount
    measure: str | None = None  # jou ("attended" or "booked") and transports ("attended" or "planned")

    def to_dict(self) -> dict[str, Any]:
        answer = {
            "programme": self.programme,
            "filters": self.filters,
            "by": self.by,
            "rows": [row.to_dict() for row in self.rows],
            "totals": self.totals.to_dict(),
        }
        if self.measure:
            answer["measure"] = self.measure
        return answer
