"""The PMI part of the demo: volunteers over several GRs, interventions with co-volunteers, rerunnable.

2024 is the published year (tests/test_demo_figures.py checks its figures); 2025–2026 are the demo's own."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from core.extensions import db
from fixtures.figures import PMI_2024_INTERVENTIONS, PMI_2024_VOLUNTEERS
from fixtures.loader import PMI_INTERVENTIONS, load_demo
from pmi.models import Intervention, Volunteer, intervention_volunteers


def test_the_demo_has_volunteers_and_interventions_with_co_volunteers(demo):
    assert db.session.scalar(select(func.count(Volunteer.id))) == PMI_2024_VOLUNTEERS
    assert (
        db.session.scalar(select(func.count(Intervention.id))) == PMI_INTERVENTIONS + PMI_2024_INTERVENTIONS
    )
    groups = db.session.scalars(select(Volunteer.regional_group_code).distinct()).all()
    assert len(groups) >= 20
    links = db.session.scalar(select(func.count()).select_from(intervention_volunteers))
    assert links > PMI_INTERVENTIONS + PMI_2024_INTERVENTIONS
    assert db.session.scalar(select(func.count(Intervention.id)).where(Intervention.school_id.is_(None))) == 0
    years = Counter(d.year for d in db.session.scalars(select(Intervention.date)))
    assert years[2024] == PMI_2024_INTERVENTIONS
    assert years[2025] + years[2026] == PMI_INTERVENTIONS
    assert set(years) == {2024, 2025, 2026}


def test_the_pmi_step_is_idempotent(demo):
    load_demo()
    assert db.session.scalar(select(func.count(Volunteer.id))) == PMI_2024_VOLUNTEERS
    assert (
        db.session.scalar(select(func.count(Intervention.id))) == PMI_INTERVENTIONS + PMI_2024_INTERVENTIONS
    )
