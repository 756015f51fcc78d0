"""A property of every published figure: for random records, each statistics breakdown's rows add up to
its totals (or are flagged overlapping, and then add up to at least the totals), and the totals equal an
independent count of the records; the records listed behind the totals and behind each row (stats.records)
add up to the same figures. Hypothesis draws the records (PMI interventions through the service, with their
places, levels and co-volunteers; transports with done, planned and cancelled buses; JOU slots with
bookings, cancelled or not, and an attendance report, gate passages and walk-ins, or nothing), each
example in a savepoint rolled back after it."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.auth.models import Role
from core.extensions import db
from jou.models import Slot
from pmi.interventions import create_intervention
from pmi.models import LEVEL_LABELS, Intervention, InterventionKind
from pmi.transports.models import Transport, TransportStop
from stats.dimensions import DIMENSIONS, PERIODS, overlaps
from stats.queries import compute
from stats.records import records
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


def check_programme(
    programme: str, expected: tuple[int, int, int], counts: dict[str, int], records_count: int, **kwargs
) -> None:
    """Totals equal `expected`; every breakdown's rows add up to them (or overlap, flagged); the records
    behind the totals, and behind each row (its values as filters), add up to the same figures."""
    filters, measure = kwargs.get("filters", {}), kwargs.get("measure", "attended")
    totals = compute(programme, **kwargs).totals
    assert (totals.female, totals.male, totals.unspecified) == expected
    assert {name: totals.counts[name] for name in counts} == counts
    behind = records(programme, filters, measure)
    assert behind.count == records_count
    assert (behind.totals["female"], behind.totals["male"], behind.totals["unspecified"]) == expected
    for dim in DIMENSIONS[programme]:
        result = compute(programme, by=[dim], **kwargs)
        assert (result.totals.female, result.totals.male, result.totals.unspecified) == expected, dim
        rows = sums(result.rows)
        if overlaps(programme, [dim]):
            assert all(r >= t for r, t in zip(rows, expected, strict=True)), (dim, rows, expected)
        else:
            assert rows == expected, (dim, rows, expected)
        for row in result.rows:
            value = row.dims[dim]
            if value is None or (dim in PERIODS and dim in filters):
                continue
            of_row = records(programme, {**filters, dim: value}, measure).totals
            assert (of_row["female"], of_row["male"], of_row["unspecified"]) == (row.female, row.male,
                                                                               row.unspecified), (dim, value)  # fmt: skip


@SETTINGS
@given(drawn=interventions)
def test_pmi_rows_add_up_to_the_totals_and_the_totals_to_the_records(db_session, drawn):
    savepoint = db.session.begin_nested()
    try:
        schools = [make_school(department, region) for department, region in PLACES]
        people = [make_volunteer("paris", name="Alice"), make_volunteer("lyonnais", name="Bruno")]
        for record in drawn:
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
        check_programme("pmi", tuple(int(v) for v in expected), {"interventions": len(drawn)}, len(drawn))
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
        check_programme("transports", expected, {"transports": len(kept)}, len(kept), measure=measure)
    finally:
        savepoint.rollback()


gate_passages = st.tuples(st.integers(0, 4), st.booleans())  # persons let in (0: none), tapped by gender
jou_slots = st.lists(
    st.fixed_dictionaries(
        {
            "site": st.integers(0, len(PLACES) - 1),
            "audience": st.sampled_from(["public", "schools"]),
            # (female, male, unspecified, adults, cancelled) per booking, and what the gate saw of it
            "bookings": st.lists(
                st.tuples(
                    st.integers(0, 3),
                    st.integers(0, 3),
                    st.integers(0, 2),
                    st.integers(0, 2),
                    st.booleans(),
                    gate_passages,
                ),
                max_size=4,
            ),
            "attendance": st.sampled_from(["none", "report", "gate"]),
            "report": st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 5)),
            "walk_ins": st.lists(
                st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)), max_size=2
            ),
        }
    ),  # fmt: skip
    max_size=6,
)


def jou_expected(slots: list[dict], measure: str) -> tuple[int, int, int]:
    """The published rule, computed in Python from what was drawn: a slot's attendance report, else what
    the gate counted (tapped genders, the rest of the persons let in in proportion to the booking's
    breakdown, walk-ins), else its confirmed bookings; `booked` takes the bookings."""
    female = male = unspecified = 0
    for slot in slots:
        confirmed = [b for b in slot["bookings"] if not b[4] and sum(b[:4]) > 0]
        booked = (
            sum(b[0] for b in confirmed),
            sum(b[1] for b in confirmed),
            sum(b[2] + b[3] for b in confirmed),
        )
        if measure == "booked" or slot["attendance"] == "none":
            counts = booked
        elif slot["attendance"] == "report":
            counts = slot["report"]
        else:
            f = m = u = 0
            for b_f, b_m, b_u, b_a, _cancelled, (persons, tapped) in confirmed:
                party, admitted = b_f + b_m + b_u + b_a, min(persons, b_f + b_m + b_u + b_a)
                if not admitted:
                    continue
                if tapped:
                    in_f = min(b_f, admitted)
                    in_m = min(b_m, admitted - in_f)
                else:
                    in_f, in_m = b_f * admitted // party, b_m * admitted // party
                f, m, u = f + in_f, m + in_m, u + admitted - in_f - in_m
            for w_f, w_m, w_a in slot["walk_ins"]:
                f, m, u = f + w_f, m + w_m, u + w_a
            gate_seen = any(min(b[5][0], sum(b[:4])) for b in confirmed) or slot["walk_ins"]
            counts = (f, m, u) if gate_seen else booked
        female, male, unspecified = female + counts[0], male + counts[1], unspecified + counts[2]
    return female, male, unspecified


@SETTINGS
@given(slots=jou_slots, measure=st.sampled_from(["attended", "booked"]))
def test_jou_rows_add_up_to_the_totals_and_the_totals_to_the_rule(db_session, slots, measure):
    from jou.bookings.models import Booking, BookingKind
    from jou.checkin.models import AttendanceReport, CheckIn, WalkIn
    from tests.factories import make_edition, make_site, make_user, slot_data

    savepoint = db.session.begin_nested()
    try:
        edition = make_edition(2031)
        steward = make_user(Role.FACTORY)
        sites = []
        for department, region in PLACES:
            site = make_site(edition=edition, status="approved", slots=[])
            site.department, site.region = department, region
            sites.append(site)
        at = dt.datetime(2031, 3, 21, 9, tzinfo=dt.UTC)
        for n, drawn in enumerate(slots):
            day = edition.friday if drawn["audience"] == "schools" else edition.saturday
            slot = Slot(site=sites[drawn["site"]], **slot_data(day=day, audience=drawn["audience"], capacity=500,
                                                                start=dt.time(8 + n), end=dt.time(9 + n)))  # fmt: skip
            db.session.add(slot)
            db.session.flush()
            for female, male, unspecified, adults, cancelled, (persons, tapped) in drawn["bookings"]:
                party = female + male + unspecified + adults
                if not party:
                    continue
                booking = Booking(
                    slot=slot, kind=BookingKind.PUBLIC, party_size=party, female=female, male=male,
                    unspecified=unspecified, adults=adults, status="cancelled" if cancelled else "confirmed",
                    name="Visiteur", email=f"v{n}@example.org", consent_at=at,
                )  # fmt: skip
                db.session.add(booking)
                db.session.flush()
                admitted = min(persons, party)
                if drawn["attendance"] == "gate" and admitted and not cancelled:
                    in_f = min(female, admitted) if tapped else None
                    in_m = min(male, admitted - in_f) if tapped else None
                    db.session.add(CheckIn(booking_id=booking.id, slot_id=slot.id, admitted=admitted, female=in_f,
                                           male=in_m, checked_in_at=at, by_id=steward.id))  # fmt: skip
            if drawn["attendance"] == "gate":
                for female, male, adults in drawn["walk_ins"]:
                    if female + male + adults:
                        db.session.add(WalkIn(slot_id=slot.id, female=female, male=male, unspecified=0,
                                              adults=adults, by_id=steward.id))  # fmt: skip
            else:
                drawn["walk_ins"] = []  # not entered: not counted
            if drawn["attendance"] == "report":
                female, male, unspecified = drawn["report"]
                db.session.add(AttendanceReport(slot_id=slot.id, female=female, male=male,
                                                unspecified=unspecified, confirmed_by_id=steward.id))  # fmt: skip
        db.session.flush()
        for drawn in slots:
            drawn["walk_ins"] = [w for w in drawn["walk_ins"] if sum(w)]
        bookings = sum(1 for s in slots for b in s["bookings"] if sum(b[:4]) and not b[4])
        check_programme("jou", jou_expected(slots, measure), {"bookings": bookings}, len(slots), measure=measure,
                        filters={"edition": 2031})  # fmt: skip
    finally:
        savepoint.rollback()
