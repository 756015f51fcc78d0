"""The aggregation layer (stats.queries.compute): what is counted for each programme, distinct counts,
overlapping rows against totals, labels and order, and bad input. The demo's figures, and their agreement
with the per-module numbers, are in tests/test_stats_demo.py."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth.models import Role
from core.errors import ValidationFailed
from core.formatting import french_date
from jou.bookings import services as booking_services
from jou.bookings import tokens
from jou.checkin import attendance as gate_counts
from jou.checkin import services as gate_services
from jou.checkin import walk_ins
from pmi.transports import services as transport_services
from stats.queries import DIMENSIONS, FILTERS, compute
from tests.factories import make_site, make_user, slot_data
from tests.plugins.jou import open_edition, party, school_class, slots_of
from tests.plugins.pmi import log, make_school, make_volunteer, organiser, stop_data, transport_data


def totals(result) -> dict:  # noqa: ANN001
    return result.totals.to_dict()


def rows_by(result, name: str) -> dict:  # noqa: ANN001
    return {row.dims[name]: row.to_dict() for row in result.rows}


# ---- pmi -----------------------------------------------------------------------------------------------


@pytest.fixture
def pmi_world(db_session):
    """Three volunteers over two GRs; a school in two interventions; an intervention at a venue."""
    alice, va = make_volunteer("paris", name="Alice")
    bruno, vb = make_volunteer("paris", name="Bruno")
    chloe, vc = make_volunteer("lyonnais", name="Chloé")
    school = make_school("75", "11", academie_code="01", academie_name="Paris")
    lyon = make_school("69", "84", academie_code="10", academie_name="Lyon")
    # 30 pupils, three volunteers, two levels; the same school again; Lyon; another school year.
    first = log(alice, school, volunteer_ids=[vb.id, vc.id], female=10, male=15, unspecified=5,
                levels=["4e", "3e"], date=dt.date(2026, 1, 20))  # fmt: skip
    second = log(alice, school, female=20, male=0, levels=["4e"], date=dt.date(2026, 2, 2), kind="forum")
    third = log(chloe, lyon, female=3, male=5, levels=[], date=dt.date(2026, 2, 3))
    autumn = log(bruno, school, female=1, male=1, date=dt.date(2025, 10, 6))
    return {"volunteers": (va, vb, vc), "interventions": (first, second, third, autumn), "school": school}


def test_pmi_pupils_count_once_and_volunteers_distinctly(pmi_world):
    result = compute("pmi", filters={"year": 2026})
    assert result.rows == []  # no dimension: the totals say it all
    t = totals(result)
    assert (t["interventions"], t["female"], t["male"], t["unspecified"], t["total"]) == (3, 33, 20, 5, 58)
    assert t["volunteers"] == 3 and t["schools"] == 2  # Paris's school counts once
    assert t["female_share"] == round(33 / 53, 4)


def test_pmi_by_volunteer_rows_overlap_and_totals_count_once(pmi_world):
    va, vb, vc = pmi_world["volunteers"]
    result = compute("pmi", by=["volunteer"], filters={"year": 2026})
    rows = rows_by(result, "volunteer")
    assert {v: (r["interventions"], r["total"], r["volunteers"]) for v, r in rows.items()} == {
        va.id: (2, 50, 1), vb.id: (1, 30, 1), vc.id: (2, 38, 1),
    }  # fmt: skip
    assert [row.labels["volunteer"] for row in result.rows] == ["Alice", "Bruno", "Chloé"]
    assert sum(r["interventions"] for r in rows.values()) == 5 > totals(result)["interventions"] == 3


def test_pmi_by_level_and_gr(pmi_world):
    result = compute("pmi", by=["gr", "level"], filters={"year": 2026})
    cells = {(row.dims["gr"], row.dims["level"]): row for row in result.rows}
    assert {k: (r.total, r.counts["interventions"], r.counts["volunteers"]) for k, r in cells.items()} == {
        ("paris", "4e"): (50, 2, 3),  # the first (Alice, Bruno, Chloé) and the forum (Alice)
        ("paris", "3e"): (30, 1, 3),
        ("lyonnais", None): (8, 1, 1),
    }
    # GRs by name ("Lyonnais…" before "Paris…"), levels in school order, no level last.
    assert [(r.dims["gr"], r.dims["level"]) for r in result.rows] == [
        ("lyonnais", None), ("paris", "4e"), ("paris", "3e"),
    ]  # fmt: skip
    assert result.rows[0].labels["level"] == "Niveau non précisé"


def test_pmi_school_year_academie_kind_and_filters(pmi_world):
    va, vb, vc = pmi_world["volunteers"]
    by_year = compute("pmi", by=["school_year"])
    assert [(r.dims["school_year"], r.counts["interventions"]) for r in by_year.rows] == [("2025-2026", 4)]
    calendar = compute("pmi", by="year")
    assert [(r.dims["year"], r.counts["interventions"]) for r in calendar.rows] == [(2025, 1), (2026, 3)]
    academies = compute("pmi", by=["academie"], filters={"school_year": "2025-2026"})
    assert {r.dims["academie"]: (r.labels["academie"], r.total) for r in academies.rows} == {
        "01": ("Académie de Paris", 52), "10": ("Académie de Lyon", 8),
    }  # fmt: skip
    assert compute("pmi", filters={"academie": "10"}).totals.total == 8
    assert compute("pmi", filters={"level": "3e", "year": 2026}).totals.total == 30
    assert compute("pmi", filters={"kind": "forum"}).totals.total == 20
    mine = compute("pmi", filters={"volunteer": vc.id})
    assert (mine.totals.counts["interventions"], mine.totals.total, mine.totals.counts["volunteers"]) == (
        2,
        38,
        3,
    )
    kinds = compute("pmi", by=["kind"], filters={"year": 2026})
    assert [r.dims["kind"] for r in kinds.rows] == ["class_talk", "forum"]  # the form's order
    assert kinds.rows[1].labels["kind"] == "Forum des métiers"


def test_a_year_without_data_is_zeros_not_an_error(pmi_world):
    result = compute("pmi", by=["region"], filters={"year": 2031})
    assert result.rows == []
    assert totals(result) == {"female": 0, "male": 0, "unspecified": 0, "total": 0, "female_share": None,
                              "interventions": 0, "volunteers": 0, "schools": 0}  # fmt: skip


# ---- transports ----------------------------------------------------------------------------------------


def test_transports_actuals_regions_and_distinct_schools(db_session):
    paris = organiser("paris")
    here, here_too = make_school("75", "11"), make_school("92", "11")
    away = make_school("45", "24")
    day = dt.date(2024, 3, 12)

    def make_transport(user, **overrides):  # noqa: ANN001, ANN202 - a past trip
        return transport_services.create_transport(user, transport_data(date=day, **overrides), today=day)

    one = make_transport(paris)
    transport_services.add_stop(paris, one.id, stop_data(here, female=10, male=12))
    transport_services.add_stop(paris, one.id, stop_data(away, female=5, male=5))
    two = make_transport(paris, campus="lille")
    stop = transport_services.add_stop(paris, two.id, stop_data(here, female=8, male=8))
    transport_services.add_stop(paris, two.id, stop_data(here_too, female=1, male=1, unspecified=2))
    transport_services.record_actuals(
        paris, two.id, {stop.id: {"actual_female": 6, "actual_male": 7, "actual_unspecified": 1}}
    )
    make_transport(paris, campus="metz")  # no stops yet: a transport, no pupils
    cancelled = make_transport(paris)
    transport_services.add_stop(paris, cancelled.id, stop_data(away))
    cancelled.status = "cancelled"

    # What happened: only the bus that went (actual counts recorded), as counted on board; its stop
    # without actual counts adds nobody.
    t = compute("transports", filters={"year": 2024}).totals
    assert (t.counts["transports"], t.counts["schools"], t.female, t.male, t.unspecified) == (1, 2, 6, 7, 1)
    # What is planned: every bus not cancelled, with its planned counts.
    t = compute("transports", filters={"year": 2024}, measure="planned").totals
    assert (t.counts["transports"], t.counts["schools"], t.female, t.male, t.unspecified) == (3, 3, 24, 26, 2)
    with pytest.raises(ValidationFailed):
        compute("transports", filters={"year": 2024}, measure="booked")
    regions = compute("transports", by=["region"], filters={"year": 2024}, measure="planned")
    assert {r.dims["region"]: (r.counts["transports"], r.counts["schools"], r.total) for r in regions.rows} == {
        "11": (2, 2, 42), "24": (1, 1, 10), None: (1, 0, 0),
    }  # fmt: skip
    assert [r.labels["region"] for r in regions.rows] == [
        "Centre-Val de Loire",
        "Île-de-France",
        "Région inconnue",
    ]
    assert regions.rows[-1].female_share is None  # nobody's gender known: no share, not a division by zero
    campuses = compute("transports", by=["campus"], filters={"year": 2024, "region": "24"}, measure="planned")
    assert [(r.dims["campus"], r.total) for r in campuses.rows] == [("paris", 10)]
    assert campuses.rows[0].labels["campus"] == "Campus Arts et Métiers de Paris"
    assert compute("transports", filters={"year": 2023}).totals.counts["transports"] == 0


# ---- jou -----------------------------------------------------------------------------------------------


@pytest.fixture
def jou_world(db_session):
    """One edition, two approved sites and a draft one; slots with a report, gate counts, nothing yet."""
    edition = open_edition()
    public, school = slots_of(edition)  # site A
    other = make_site(edition=edition, status="approved", sector="chemicals", slots=[
        slot_data(day=edition.friday, audience="schools"), slot_data(day=edition.saturday, audience="public"),
    ])  # site B  # fmt: skip
    other_public = next(slot for slot in other.slots if slot.audience == "public")
    slots_of(edition, status="draft")  # not participating
    owner = public.site.owner
    four = booking_services.book(public.id, party(4, female=2, male=1))
    booking_services.book(public.id, party(2, email="bob@example.org", male=2))
    cancelled = booking_services.book(public.id, party(3, email="carl@example.org"))
    booking_services.cancel_booking(cancelled)
    booking_services.book(school.id, school_class())  # 12 girls, 11 boys, 1 unspecified, 2 adults
    booking_services.book(other_public.id, party(5, email="dan@example.org", female=5))
    # Site A's public slot: the gate checked 3 of the party of four in, and 2 walk-ins came.
    gate_services.check_in(owner, public, tokens.ticket_token(four), admitted=3)
    walk_ins.admit_walk_in(owner, public, {"female": 1, "adults": 1})
    # Site A's school slot: the factory confirmed its figures.
    after_visit = dt.datetime.combine(school.day, dt.time(20), tzinfo=dt.UTC)
    gate_counts.confirm_attendance(
        owner, school, {"female": 10, "male": 9, "unspecified": 4}, now=after_visit
    )
    return {
        "edition": edition,
        "public": public,
        "school": school,
        "other": other_public,
        "cancelled": cancelled,
    }


def test_jou_attended_takes_the_report_then_the_gate_then_the_bookings(jou_world):
    sites = compute("jou", by=["site"], filters={"edition": jou_world["edition"].year})
    rows = {r.dims["site"]: r for r in sites.rows}
    a, b = jou_world["public"].site_id, jou_world["other"].site_id
    # A: report 10/9/4 on Friday; Saturday's gate: 3 of (2 women, 1 man, 1 unspecified) → 1, 0, 2 + walk-ins.
    assert (rows[a].female, rows[a].male, rows[a].unspecified) == (10 + 1 + 1, 9 + 0, 4 + 2 + 1)
    assert rows[b].to_dict()["female"] == 5 and rows[b].total == 5  # no attendance yet: its booking
    assert rows[a].counts["visitors"] == rows[a].total == 28
    t = sites.totals
    assert (t.counts["sites"], t.total, t.counts["visitors"]) == (2, 33, 33)


def test_jou_booked_measure_and_counts(jou_world):
    result = compute("jou", by=["audience"], filters={"year": jou_world["edition"].year}, measure="booked")
    assert result.measure == "booked"
    rows = rows_by(result, "audience")
    assert [r.dims["audience"] for r in result.rows] == ["schools", "public"]
    # Public parties: 4 (2 women, 1 man, 1 unspecified) + 2 men + 5 women; the cancelled 3 are not counted.
    assert (rows["public"]["female"], rows["public"]["male"], rows["public"]["unspecified"]) == (7, 3, 1)
    assert (rows["public"]["bookings"], rows["public"]["sites"]) == (3, 2)
    assert rows["schools"] == {**rows["schools"], "female": 12, "male": 11, "unspecified": 3, "total": 26,
                               "bookings": 1, "sites": 2, "visitors": 26}  # fmt: skip
    assert result.totals.counts["sites"] == 2


def test_jou_day_region_sector(jou_world):
    edition = jou_world["edition"]
    days = compute("jou", by=["day"], filters={"edition": edition.year})
    assert [r.dims["day"] for r in days.rows] == [edition.friday.isoformat(), edition.saturday.isoformat()]
    assert days.rows[0].labels["day"] == french_date(edition.friday)
    sectors = compute("jou", by=["sector", "region"], filters={"edition": edition.year})
    assert [(r.labels["sector"], r.labels["region"]) for r in sectors.rows] == [
        ("Chimie", "Île-de-France"), ("Métallurgie et sidérurgie", "Île-de-France"),
    ]  # fmt: skip
    assert compute("jou", filters={"edition": edition.year, "sector": "chemicals"}).totals.total == 5
    assert compute("jou", filters={"edition": edition.year - 40}).totals.counts["sites"] == 0
    # For JOU, `year` is the edition: either name, the row keeps the one asked for.
    by_year = compute("jou", by=["year"], filters={"year": edition.year})
    assert [(r.dims, r.total) for r in by_year.rows] == [({"year": edition.year}, 33)]
    assert by_year.filters == {"year": edition.year}


# ---- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "programme, kwargs, field, message",
    [
        ("pmi", {"by": ["school"]}, "by", "Dimension inconnue : « school »"),
        ("pmi", {"by": ["sector"]}, "by", "ne s'applique pas aux chiffres PMI"),
        ("pmi", {"by": ["gr", "region", "year"]}, "by", "Au plus 2 dimensions"),
        ("pmi", {"by": ["gr", "gr"]}, "by", "deux fois"),
        ("jou", {"by": "year,edition"}, "by", "deux fois : « year » et « edition » (la même chose)"),
        ("pmi", {"filters": {"sector": "energy"}}, "sector", "ne s'applique pas aux chiffres PMI"),
        ("transports", {"filters": {"kind": "forum"}}, "kind", "ne s'applique pas"),
        ("pmi", {"filters": {"colour": "red"}}, "colour", "Filtre inconnu."),
        ("pmi", {"filters": {"region": "99"}}, "region", "Région inconnue"),
        ("pmi", {"filters": {"year": "deux mille"}}, "year", "Nombre entier attendu."),
        ("pmi", {"filters": {"school_year": "2024-2026"}}, "school_year", "2024-2025"),
        ("pmi", {"filters": {"gr": "atlantide"}}, "gr", "Groupe régional inconnu."),
        ("jou", {"filters": {"year": 2025, "edition": 2026}}, "edition", "Contredit"),
        ("jou", {"measure": "guessed"}, "measure", "Mesure inconnue"),
        ("pmi", {"measure": "booked"}, "measure", "« booked » ne s'applique pas aux chiffres PMI"),
        ("transports", {"measure": "booked"}, "measure", "(possibles : attended, planned)"),
    ],
)
def test_bad_input_is_refused_by_field_in_french(db_session, programme, kwargs, field, message):
    with pytest.raises(ValidationFailed) as caught:
        compute(programme, **kwargs)
    assert message in " ".join(caught.value.fields[field])


def test_unknown_programme(db_session):
    with pytest.raises(ValidationFailed) as caught:
        compute("bals")
    assert "programme" in caught.value.fields


def test_every_filter_and_dimension_runs_on_both_databases(db_session):
    """Each dimension alone and each filter alone, on a database without records to count (only what
    the filters name: an académie's school, a site without slots, a volunteer): valid SQL, zero totals."""
    make_school(academie_code="01", academie_name="Paris")
    site, (_, volunteer) = make_site(slots=[]), make_volunteer()
    values = {"year": 2024, "edition": 2024, "school_year": "2024-2025", "region": "11", "department": "75",
              "academie": "01", "gr": "paris", "sector": "energy", "kind": "forum", "level": "4e",
              "campus": "paris", "day": dt.date(2024, 4, 5), "audience": "public", "site": site.id,
              "volunteer": volunteer.id}  # fmt: skip
    for programme, dims in DIMENSIONS.items():
        for dim in dims:
            assert compute(programme, by=[dim]).totals.total == 0
        for name in FILTERS[programme]:
            result = compute(programme, filters={name: values[name]})
            assert result.totals.total == 0 and result.filters[name] == (
                values[name].isoformat() if isinstance(values[name], dt.date) else values[name]
            )


def test_admins_only_is_not_the_layers_business(db_session):
    """compute takes no user: the volunteer breakdown works for any caller (stats.api guards it)."""
    admin = make_user(Role.ADMIN)
    assert admin.role == Role.ADMIN and compute("pmi", by=["volunteer"]).rows == []
