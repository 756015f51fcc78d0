"""The survey after the visit as figures: per edition, by a dimension, the number of responses, the mean
satisfaction (1–5) and the share that agrees (4 or 5) with each statement, among those who answered it.

No figure is ever shown with fewer than MIN_RESPONDENTS responses behind it: such a row (or total) keeps
its value of the dimension and says `suppressed`, its figures null. Counted in the database (GROUP BY).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, case, cast, func, select

from core.errors import ValidationFailed
from core.extensions import db
from core.geography.territories import department_name, region_name
from jou.bookings.models import AGE_BANDS, RESPONDENT_GENDERS, Booking, SurveyAnswer
from jou.models import Edition, Site, Slot
from jou.sectors import sector_label

MIN_RESPONDENTS = 5
STATEMENTS = ("changed_view", "could_work_before", "could_work_now")
DIMENSIONS = {
    "region": (lambda: Site.region, region_name),
    "department": (lambda: Site.department, department_name),
    "sector": (lambda: Site.sector, sector_label),
    "site": (lambda: Site.id, None),
    "respondent_gender": (lambda: SurveyAnswer.respondent_gender, lambda v: RESPONDENT_GENDERS.get(v, v)),
    "age_band": (lambda: SurveyAnswer.age_band, lambda v: AGE_BANDS.get(v, v)),
}


@dataclass
class SurveyRow:
    value: Any
    label: str
    responses: int
    satisfaction_mean: float | None
    agree: dict[str, float | None]

    def to_dict(self, dimension: str | None) -> dict:
        shown = self.responses >= MIN_RESPONDENTS
        body: dict[str, Any] = {"responses": self.responses if shown else None, "suppressed": not shown}
        body["satisfaction_mean"] = self.satisfaction_mean if shown else None
        for name in STATEMENTS:
            body[f"{name}_agree"] = self.agree[name] if shown else None
        if dimension:
            body = {dimension: self.value, "label": self.label, **body}
        return body


def _measures() -> list:
    columns = [
        func.count(SurveyAnswer.id).label("responses"),
        func.avg(cast(SurveyAnswer.satisfaction, Float)),
    ]
    for name in STATEMENTS:
        column = getattr(SurveyAnswer, name)
        columns += [func.count(column), func.sum(case((column >= 4, 1), else_=0))]
    return columns


def _row(value: Any, label: str, values: tuple) -> SurveyRow:  # noqa: ANN401
    responses, mean, *pairs = values
    agree = {}
    for n, name in enumerate(STATEMENTS):
        answered, agreeing = pairs[2 * n], pairs[2 * n + 1] or 0
        agree[name] = round(agreeing / answered, 4) if answered else None
    return SurveyRow(
        value, label, int(responses or 0), round(float(mean), 2) if mean is not None else None, agree
    )


def survey_stats(edition: int, by: str | None = None) -> dict:
    if by is not None and by not in DIMENSIONS:
        raise ValidationFailed.on("by", f"Ventilation inconnue (possibles : {', '.join(DIMENSIONS)}).")
    if db.session.scalar(select(SurveyAnswer.id).limit(1)) is None:
        by_rows: list = []
        return {"edition": edition, "by": by, "min_respondents": MIN_RESPONDENTS, "rows": by_rows,
                "totals": SurveyRow(None, "Total", 0, None, dict.fromkeys(STATEMENTS)).to_dict(None)}  # fmt: skip
    # The edition's bookings as a semi-join from the answers (a handful of rows), never the other way round:
    # on tables without statistics PostgreSQL otherwise may walk every booking for each answer.
    of_edition = (
        select(Booking.id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Site, Site.id == Slot.site_id)
        .join(Edition, Edition.id == Site.edition_id)
        .where(Edition.year == edition)
    )
    base = select(*_measures()).select_from(SurveyAnswer).where(SurveyAnswer.booking_id.in_(of_edition))
    if by in ("region", "department", "sector", "site"):
        base = base.join(Booking, Booking.id == SurveyAnswer.booking_id).join(
            Slot, Slot.id == Booking.slot_id
        )
        base = base.join(Site, Site.id == Slot.site_id)
    totals = _row(None, "Total", tuple(db.session.execute(base).one()))
    rows = []
    if by:
        column, labeller = DIMENSIONS[by]
        key = column()
        names = {}
        if by == "site":
            names = dict(db.session.execute(select(Site.id, Site.name)).all())
        for *values, value in db.session.execute(base.add_columns(key).group_by(key)).all():
            label = (
                names.get(value, str(value))
                if by == "site"
                else (labeller(value) if value else "Non précisé")
            )
            rows.append(_row(value, label, tuple(values)))
        rows.sort(key=lambda r: (r.value is None, r.label))
    return {
        "edition": edition,
        "by": by,
        "min_respondents": MIN_RESPONDENTS,
        "rows": [r.to_dict(by) for r in rows],
        "totals": totals.to_dict(None),
    }
