"""A headcount's total and girls' share: on one record (HeadcountMixin, in Python and in SQL) and summed
over records (core.models.headcount_sums, read back as HeadcountSums)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import HeadcountSums, headcount_sums
from jou.checkin.models import WalkIn
from pmi.models import Intervention
from stats.result import Headcount

VENUE = "Salon des headcounts"


def intervention(female: int, male: int, unspecified: int = 0, kind: str = "forum") -> Intervention:
    record = Intervention(
        date=date(2026, 3, 10), kind=kind, venue_name=VENUE, duration_minutes=60,
        female=female, male=male, unspecified=unspecified,
    )  # fmt: skip
    db.session.add(record)
    db.session.flush()
    return record


@pytest.mark.parametrize(
    ("female", "male", "unspecified", "total", "share"),
    [
        (3, 5, 2, 10, 0.375),
        (1, 2, 0, 3, 0.3333),  # to 4 places, as pages and the API publish it
        (2, 1, 0, 3, 0.6667),
        (0, 7, 0, 7, 0.0),  # boys only: no girl, not "unknown"
        (0, 0, 12, 12, None),  # nobody's gender given: no share (shown "—"), whatever the total
        (0, 0, 0, 0, None),
    ],
)
def test_total_and_girls_share_of_a_record_and_of_sums_agree(female, male, unspecified, total, share):
    record = Intervention(female=female, male=male, unspecified=unspecified)
    sums = HeadcountSums(female=female, male=male, unspecified=unspecified)
    assert record.total == sums.total == total
    assert record.girls_share == sums.girls_share == share
    # What the statistics API publishes as `female_share` is the same share.
    assert Headcount(female=female, male=male, unspecified=unspecified).female_share == share


def test_the_share_counts_girls_among_the_gender_given_not_among_everyone():
    assert Intervention(female=10, male=10, unspecified=80).girls_share == 0.5


def test_total_in_sql_is_the_sum_of_the_three_columns(db_session):
    small, large = intervention(3, 5, 2), intervention(40, 60, 5)
    ids = [small.id, large.id]
    stmt = select(Intervention.id, Intervention.total).where(Intervention.id.in_(ids))
    totals = {row.id: row.total for row in db.session.execute(stmt)}
    assert totals == {small.id: 10, large.id: 105}
    assert db.session.scalars(
        select(Intervention.id).where(Intervention.id.in_(ids), Intervention.total > 10)
    ).all() == [large.id]
    assert db.session.scalar(select(func.sum(Intervention.total)).where(Intervention.id.in_(ids))) == 115


def test_girls_share_in_sql_is_the_exact_fraction_or_null(db_session):
    thirds, even, unknown = intervention(1, 2), intervention(4, 4, 3), intervention(0, 0, 9)
    stmt = select(Intervention.id, Intervention.girls_share).where(
        Intervention.id.in_([thirds.id, even.id, unknown.id])
    )
    rows = {row.id: row.girls_share for row in db.session.execute(stmt)}
    # Unrounded in SQL: the databases round halves unlike Python, so figures are rounded in Python.
    assert rows[thirds.id] == pytest.approx(1 / 3)
    assert rows[even.id] == 0.5
    assert rows[unknown.id] is None
    assert thirds.girls_share == 0.3333
    assert db.session.scalars(
        select(Intervention.id).where(
            Intervention.id.in_([thirds.id, even.id]), Intervention.girls_share >= 0.5
        )
    ).all() == [even.id]


def test_headcount_sums_group_and_read_back(db_session):
    intervention(3, 5, 2, kind="forum")
    intervention(7, 5, 0, kind="forum")
    intervention(0, 0, 4, kind="class_talk")
    stmt = (
        select(Intervention.kind, *headcount_sums(Intervention))
        .where(Intervention.venue_name == VENUE)
        .group_by(Intervention.kind)
    )
    by_kind = {row.kind: HeadcountSums.of(row) for row in db.session.execute(stmt)}
    assert by_kind == {
        "forum": HeadcountSums(female=10, male=10, unspecified=2),
        "class_talk": HeadcountSums(female=0, male=0, unspecified=4),
    }
    assert (by_kind["forum"].total, by_kind["forum"].girls_share) == (22, 0.5)
    assert (by_kind["class_talk"].total, by_kind["class_talk"].girls_share) == (4, None)


def test_headcount_sums_over_no_records_are_zeros(db_session):
    stmt = select(*headcount_sums(Intervention)).where(Intervention.date < date(1900, 1, 1))
    nothing = HeadcountSums.of(db.session.execute(stmt).one())
    assert (nothing.female, nothing.male, nothing.unspecified, nothing.total, nothing.girls_share) == (
        0, 0, 0, 0, None,
    )  # fmt: skip


def test_headcount_sums_of_expressions_by_name(db_session):
    intervention(3, 5, 2)
    doubled = {name: getattr(Intervention, name) * 2 for name in ("female", "male", "unspecified")}
    stmt = select(*headcount_sums(doubled)).where(Intervention.venue_name == VENUE)
    assert HeadcountSums.of(db.session.execute(stmt).one()) == HeadcountSums(female=6, male=10, unspecified=4)


def test_a_walk_in_counts_its_adults_as_persons_not_in_its_headcount():
    party = WalkIn(female=1, male=2, unspecified=0, adults=3)
    assert (party.total, party.persons) == (3, 6)
    sql = str(select(WalkIn.persons).compile())
    assert "walk_ins.adults" in sql and "walk_ins.female" in sql
