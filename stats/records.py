"""The records behind a figure: the interventions, buses or visit slots that a statistics query counts,
under the same filters and measure, each with the counts it brings to the totals.

The per-record counts come from the very plan that computes the figures (stats.queries.checked), grouped
by record instead of by dimension: the records of a figure always add up to it. Staff only (they name
sites, schools and volunteers); the dashboard links to them, and they export as CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.formatting import french_date, french_time
from core.geography.territories import department_name
from core.models import HEADCOUNT
from stats.queries import Plan, checked

COUNT_HEADERS = {"female": "Filles / femmes", "male": "Garçons / hommes", "unspecified": "Non précisé"}
RECORD_NOUNS = {
    "pmi": ("intervention", "interventions"),
    "transports": ("transport", "transports"),
    "jou": ("créneau", "créneaux"),
}
# A page shows this many; the export holds them all.
PAGE_ROWS = 500


@dataclass
class Records:
    programme: str
    filters: dict[str, Any]
    measure: str
    header: list[str]  # the record's own columns, then the counts
    rows: list[list[Any]]
    totals: dict[str, int] = field(default_factory=dict)  # the sums of the records: the figure's totals
    ids: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)


def records(programme: str, filters: Mapping[str, Any], measure: str = "attended") -> Records:
    """The records `compute(programme, filters=filters, measure=measure)` counts, in date order."""
    _names, plan, echo = checked(programme, (), filters, measure)
    counts = _per_record(plan)
    describe, header = DESCRIPTIONS[programme]
    described = describe(list(counts), measure)
    rows, totals = [], dict.fromkeys([*HEADCOUNT, "total"], 0)
    for record_id, columns in described.items():
        sums = counts[record_id]
        numbers = [sums[k] for k in HEADCOUNT]
        rows.append([*columns, *numbers, sum(numbers)])
        for k, n in zip(HEADCOUNT, numbers, strict=True):
            totals[k] += n
        totals["total"] += sum(numbers)
    return Records(
        programme, echo, measure, [*header, *COUNT_HEADERS.values(), "Total"], rows, totals, list(described)
    )


def _per_record(plan: Plan) -> dict[int, dict[str, int]]:
    sums = [func.coalesce(func.sum(expr), 0).label(name) for name, expr in plan.sums.items()]
    stmt = plan.source(select(plan.record.label("record"), *sums), set(plan.sum_joins)).group_by(plan.record)
    return {
        row["record"]: {k: int(v or 0) for k, v in row.items() if k != "record"}
        for row in db.session.execute(stmt).mappings()
    }


# ---- what each kind of record says of itself ---------------------------------------------------------


def department_label(code: str | None) -> str:
    return f"{code} — {department_name(code)}" if code else ""


def _interventions(ids: Sequence[int], _measure: str) -> dict[int, list[Any]]:
    from pmi.models import LEVEL_LABELS, Intervention, Volunteer, unpack_levels

    found = db.session.scalars(
        select(Intervention)
        .where(Intervention.id.in_(ids))
        .options(
            selectinload(Intervention.school),
            selectinload(Intervention.volunteers).selectinload(Volunteer.user),
        )
        .order_by(Intervention.date, Intervention.id)
    )
    return {
        i.id: [
            i.id,
            french_date(i.date),
            i.kind_label,
            i.place_name,
            department_label(i.department),
            ", ".join(LEVEL_LABELS.get(code, code) for code in unpack_levels(i.levels)),
            ", ".join(sorted(v.name for v in i.volunteers)),
        ]
        for i in found
    }


def _transports(ids: Sequence[int], _measure: str) -> dict[int, list[Any]]:
    from pmi.transports.models import Transport, TransportStop

    found = db.session.scalars(
        select(Transport)
        .where(Transport.id.in_(ids))
        .options(selectinload(Transport.stops).selectinload(TransportStop.school))
        .order_by(Transport.date, Transport.id)
    )
    return {
        t.id: [
            t.id,
            french_date(t.date),
            t.campus_label,
            t.regional_group_code,
            t.status_label,
            ", ".join(f"{s.school.name} ({s.school.city})" for s in t.stops),
        ]
        for t in found
    }


def _slots(ids: Sequence[int], measure: str) -> dict[int, list[Any]]:
    from jou.checkin.models import AttendanceReport, CheckIn, WalkIn
    from jou.models import AUDIENCE_LABELS, Site, Slot

    found = db.session.scalars(
        select(Slot)
        .where(Slot.id.in_(ids))
        .options(selectinload(Slot.site))
        .join(Site, Site.id == Slot.site_id)
        .order_by(Slot.day, Site.company_name, Slot.start, Slot.id)
    )
    reported = set(
        db.session.scalars(select(AttendanceReport.slot_id).where(AttendanceReport.slot_id.in_(ids)))
    )
    at_gate = set(
        db.session.scalars(
            select(CheckIn.slot_id).where(CheckIn.slot_id.in_(ids), CheckIn.undone_at.is_(None))
        )
    ) | set(
        db.session.scalars(select(WalkIn.slot_id).where(WalkIn.slot_id.in_(ids), WalkIn.undone_at.is_(None)))
    )

    def source(slot_id: int) -> str:
        # The rule of stats.queries' `attended` measure, in words.
        if measure != "attended":
            return "réservations"
        if slot_id in reported:
            return "rapport de l'usine"
        return "comptage au portillon" if slot_id in at_gate else "réservations (pas de fréquentation saisie)"

    return {
        s.id: [
            s.id,
            s.site.company_name
            if s.site.name == s.site.company_name
            else f"{s.site.company_name} — {s.site.name}",
            department_label(s.site.department),
            french_date(s.day),
            f"{french_time(s.start)}–{french_time(s.end)}",
            AUDIENCE_LABELS.get(s.audience, s.audience),
            source(s.id),
        ]
        for s in found
    }


Describe = Callable[[Sequence[int], str], dict[int, list[Any]]]
DESCRIPTIONS: dict[str, tuple[Describe, list[str]]] = {
    "pmi": (_interventions, ["N°", "Date", "Type", "Lieu", "Département", "Niveaux", "Intervenants"]),
    "transports": (_transports, ["N°", "Date", "Campus", "Groupe régional", "Statut", "Établissements"]),
    "jou": (_slots, ["Créneau", "Site", "Département", "Jour", "Horaire", "Public", "Chiffres tirés de"]),
}
