"""The PMI part of the demo: volunteers over several GRs, interventions with co-volunteers, rerunnable."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from fixtures.loader import PMI_INTERVENTIONS, PMI_VOLUNTEERS, load_demo
from pmi.models import Intervention, Volunteer, intervention_volunteers
from tests.test_fixtures import demo  # noqa: F401 - the demo loaded once for the module


def test_the_demo_has_volunteers_and_interventions_with_co_volunteers(demo):  # noqa: F811
    assert db.session.scalar(select(func.count(Volunteer.id))) == PMI_VOLUNTEERS
    assert db.session.scalar(select(func.count(Intervention.id))) == PMI_INTERVENTIONS
    groups = db.session.scalars(select(Volunteer.regional_group_code).distinct()).all()
    assert len(groups) >= 5
    links = db.session.scalar(select(func.count()).select_from(intervention_volunteers))
    assert links > PMI_INTERVENTIONS
    assert db.session.scalar(select(func.count(Intervention.id)).where(Intervention.school_id.is_(None))) == 0
    years = set(db.session.scalars(select(Intervention.date)).all())
    assert {d.year for d in years} <= {2025, 2026}


def test_the_pmi_step_is_idempotent(demo):  # noqa: F811
    load_demo()
    assert db.session.scalar(select(func.count(Volunteer.id))) == PMI_VOLUNTEERS
    assert db.session.scalar(select(func.count(Intervention.id))) == PMI_INTERVENTIONS
