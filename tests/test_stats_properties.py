"""A property of every published figure: for random records, each statistics breakdown's rows add up to
its totals (or are flagged overlapping, and then add up to at least the totals), and the totals equal an
independent SQL count of the records. Hypothesis draws the records (PMI interventions through the
service, with their places, levels and co-volunteers; transports with done, planned and cancelled buses),
each example in a savepoint rolled back after it."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.extensions import db
from pmi.interventions import create_intervention
from pmi.models import LEVEL_LABELS, Intervention, InterventionKind
from pmi.transports.models import Transport, TransportStop
from stats.dimensions import DIMENSIONS, overlaps
from stats.queries import compute
from tests.plugins.pmi import make_school, make_volunteer

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PLACES = [("75", "11"), ("69", "84"), ("13", "93"), ("974", "04")]
TODAY = dt.date(2026, 6, 30)

interventions = st.lists(
    st.fixed_dictionaries(
        {
            "place": st.integers(0, len(PLACES) - 1),
            "date": st.dates(dt.date(2024, 1, 1), TODAY),
            "kind": st.sampled_from([k.value for k in InterventionKind]),
            "levels": st.lists(st.sampled_from(list(LEVEL_LABELS)), max_size=3, unique=True),
            "female": st.integers(0, 40),
            "male": st.integers(0, 40),
            "unspecified": st.integers(0, 10),
            "co": st.booleans(),
            "author": st.integers(0, 1),
        }
    ),  # fmt: skip
    max_size=8,
)


def sums(rows) -> tuple[int, int, int]:  # noqa: ANN001
    return (sum(r.female for r in rows), sum(r.male for r in rows), sum(r.unspecified for r in rows))


def check_programme(programme: str, expected: tuple[int, int, int], records: int, **kwargs) -> None:
    totals = compute(programme, **kwargs).totals
    assert (totals.female, totals.male, totals.unspecified) == expected
    for dim in DIMENSIONS[programme]:
        result = compute(programme, by=[dim], **kwargs)
        assert (result.totals.female, result.totals.male, result.totals.unspecified) == expected, dim
        rows = sums(result.rows)
        if overlaps(programme, [dim]):
            assert all(r >= t for r, t in zip(rows, expected, strict=True)), (dim, rows, expected)
        else:
            assert rows == expected, (dim, rows, expected)
    counted = totals.counts.get(programme if programme == "transports" else "interventions")
    assert counted == records


@SETTINGS
@given(records=interventions)
def test_pmi_rows_add_up_to_the_totals_and_the_totals_to_the_records(db_session, records):
    savepoint = db.session.begin_nested()
    try:
        schools = [make_school(department, region) for department, region in PLACES]
        people = [make_volunteer("paris", name="Alice"), make_volunteer("lyonnais", name="Bruno")]
        for record in records:
            if record["female"] + record["male"] + record["unspecified"] == 0:
                record["unspecified"] = 1
            user, _ = people[record["author"]]
            co = [people[1 - record["author"]][1].id] if record["co"] else []
            create_intervention(user, {
                "date": record["date"], "kind": record["kind"], "school_uai": schools[record["place"]].uai,
                "venue": None, "levels": record["levels"], "female": record["female"], "male": record["male"],
                "unspecified": record["unspecified"], "volunteer_ids": co, "duration_minutes": 60, "notes": "",
            }, today=TODAY, second_session=True)  # fmt: skip
        db.session.flush()
        expected = db.session.execute(
            select(func.coalesce(func.sum(Intervention.female), 0), func.coalesce(func.sum(Intervention.male), 0),
                   func.coalesce(func.sum(Intervention.unspecified), 0))
        ).one()  # fmt: skip
        check_programme("pmi", tuple(int(v) for v in expected), len(records))
    finally:
        savepoint.rollback()


transports = st.lists(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["planned", "confirmed", "done", "cancelled"]),
            "stops": st.lists(
                st.tuples(st.integers(0, len(PLACES) - 1), st.integers(0, 20), st.integers(0, 20)),
                max_size=3,
                unique_by=lambda s: s[0],
            ),
        }
    ),  # fmt: skip
    max_size=6,
)


@SETTINGS
@given(buses=transports, measure=st.sampled_from(["attended", "planned"]))
def test_transport_rows_add_up_to_the_totals_and_the_totals_to_the_buses(db_session, buses, measure):
    savepoint = db.session.begin_nested()
    try:
        schools = [make_school(department, region) for department, region in PLACES]
        organiser, _ = make_volunteer("paris", name="Olivia")
        for bus in buses:
            transport = Transport(
                campus="paris", date=dt.date(2025, 3, 12), departure_time=dt.time(7, 30),
                return_time=dt.time(18), seats=200, seats_taken=0, status=bus["status"],
                regional_group_code="paris", created_by_id=organiser.id,
            )  # fmt: skip
            db.session.add(transport)
            db.session.flush()
            for position, (place, female, male) in enumerate(bus["stops"], start=1):
                done = bus["status"] == "done"
                db.session.add(TransportStop(
                    transport_id=transport.id, position=position, school_id=schools[place].id,
                    pickup_time=dt.time(8), female=female, male=male, unspecified=0, teachers=0,
                    actual_female=female // 2 if done else None, actual_male=male if done else None,
                    actual_unspecified=0 if done else None, actual_teachers=0 if done else None,
                ))  # fmt: skip
        db.session.flush()
        # The independent count: done buses' actual counts, or every bus not cancelled, planned counts.
        kept = [
            b
            for b in buses
            if (b["status"] == "done" if measure == "attended" else b["status"] != "cancelled")
        ]
        if measure == "attended":
            expected = (
                sum(f // 2 for b in kept for _, f, _m in b["stops"]),
                sum(m for b in kept for *_, m in b["stops"]),
                0,
            )
        else:
            expected = (
                sum(f for b in kept for _, f, _m in b["stops"]),
                sum(m for b in kept for *_, m in b["stops"]),
                0,
            )
        check_programme("transports", expected, len(kept), measure=measure)
    finally:
        savepoint.rollback()
