"""The demo reproduces the association's published figures exactly (DOMAIN.md, "Figures to reproduce"),
read from the API, which computes them from the raw records: PMI 2024 (363 volunteers, 324
interventions, more than 14,000 pupils of whom 5,142 girls), the 2024 campus transports (24 buses,
1,200 lycéens) and JOU 2025 (226 factories, 20,000 visitors as the factories confirmed them)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from core.extensions import db
from fixtures import figures
from fixtures.loader import ADMIN_EMAIL, DEMO_PASSWORD
from jou.checkin.models import AttendanceReport
from jou.models import Audience, Edition, Site, SiteStatus, Slot
from pmi.models import Intervention, intervention_volunteers
from tests.factories import api_token


def admin_headers(app) -> dict:  # noqa: ANN001
    return api_token(app.test_client(), ADMIN_EMAIL, DEMO_PASSWORD)


def test_pmi_2024_as_published(demo, app):
    client = app.test_client()
    headers = admin_headers(app)
    by_gr = client.get("/api/v1/pmi/stats?by=gr&year=2024", headers=headers)
    assert by_gr.status_code == 200, by_gr.get_json()
    total = by_gr.get_json()["total"]
    assert total["interventions"] == 324
    assert total["volunteers"] == 363
    assert total["female"] == 5142
    assert total["total"] > 14_000
    assert total["total"] == total["female"] + total["male"] + total["unspecified"]
    assert total["unspecified"] > 0  # nobody is forced to state a gender
    assert 0.3 < total["female_share"] < 0.45
    # Spread over the country: most French GRs took part, none carries the year alone.
    rows = by_gr.get_json()["rows"]
    assert len(rows) >= 20
    assert sum(r["interventions"] for r in rows) == 324
    assert max(r["interventions"] for r in rows) < 324 // 5
    assert sum(r["female"] for r in rows) == 5142

    # Per volunteer: 363 of them, each in at least one intervention; co-volunteers are credited too, so
    # the rows add up to more interventions than there were, while the total counts each once.
    by_volunteer = client.get("/api/v1/pmi/stats?by=volunteer&year=2024", headers=headers).get_json()
    assert len(by_volunteer["rows"]) == 363
    assert all(r["interventions"] >= 1 for r in by_volunteer["rows"])
    assert sum(r["interventions"] for r in by_volunteer["rows"]) > 324
    assert by_volunteer["total"]["female"] == 5142

    # The same from the raw rows.
    in_2024 = Intervention.date.between(date(2024, 1, 1), date(2024, 12, 31))
    assert db.session.scalar(select(func.sum(Intervention.female)).where(in_2024)) == 5142
    links = db.session.scalar(
        select(func.count()).select_from(intervention_volunteers).join(Intervention).where(in_2024)
    )
    assert links > 363
    kinds = Counter(db.session.scalars(select(Intervention.kind).where(in_2024)))
    assert 15 <= kinds["tnf_exhibition"] <= 25  # "about twenty" exhibitions
    assert set(kinds) >= {"class_talk", "forum", "orientation_fair", "tnf_exhibition", "energy_game"}


def test_campus_transports_2024_as_published(demo, app):
    response = app.test_client().get("/api/v1/transports/stats?year=2024", headers=admin_headers(app))
    assert response.status_code == 200, response.get_json()
    total = response.get_json()["total"]
    assert total["transports"] == 24
    assert total["pupils"] == 1200


def test_jou_2025_as_published(demo):
    edition = db.session.scalar(select(Edition).where(Edition.year == 2025))
    approved = select(Site.id).where(Site.edition_id == edition.id, Site.status == SiteStatus.APPROVED)
    assert db.session.scalar(select(func.count()).select_from(approved.subquery())) == 226
    rows = db.session.execute(
        select(Slot.audience, Slot.capacity, AttendanceReport)
        .join(AttendanceReport, AttendanceReport.slot_id == Slot.id)
        .where(Slot.site_id.in_(approved))
    ).all()
    assert sum(report.total for _, _, report in rows) == figures.JOU_2025_VISITORS == 20_000
    # Every slot of every factory has its confirmed figures, within its capacity.
    slots = db.session.scalar(select(func.count(Slot.id)).where(Slot.site_id.in_(approved)))
    assert len(rows) == slots
    assert all(report.total <= capacity for _, capacity, report in rows)
    # Friday for pupils, Saturday for the public; girls and women by gender, some unspecified.
    by_audience = Counter()
    for audience, _, report in rows:
        by_audience[audience] += report.total
    assert 0.3 < by_audience[Audience.SCHOOLS] / 20_000 < 0.6
    female = sum(report.female for _, _, report in rows)
    unspecified = sum(report.unspecified for _, _, report in rows)
    assert 0 < unspecified < 2_000 and 0.35 < female / (20_000 - unspecified) < 0.5


def test_jou_2025_attendance_through_the_gate_api(demo, app):
    """What a factory (or the Soce) reads for a slot: its confirmed figures are the final ones."""
    slot, report = db.session.execute(
        select(Slot, AttendanceReport)
        .join(AttendanceReport, AttendanceReport.slot_id == Slot.id)
        .join(Site)
        .join(Edition)
        .where(Edition.year == 2025)
        .order_by(Slot.id)
        .limit(1)
    ).one()
    response = app.test_client().get(f"/api/v1/slots/{slot.id}/attendance", headers=admin_headers(app))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["confirmed"] is True
    assert data["final"] == {"female": report.female, "male": report.male, "unspecified": report.unspecified}


# ---- the same figures through the one aggregation layer (GET /api/v1/stats/<programme>) ------------------


def stats(app, path: str, headers: dict | None = None) -> dict:  # noqa: ANN001
    response = app.test_client().get(f"/api/v1/stats/{path}", headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_published_figures_through_the_stats_api(demo, app):
    """Public reads, computed from the raw records: no per-module number is reused."""
    pmi = stats(app, "pmi?year=2024")["totals"]
    assert (pmi["volunteers"], pmi["interventions"], pmi["female"]) == (363, 324, 5142)
    assert pmi["total"] == figures.PMI_2024_PUPILS > 14_000
    in_2024 = Intervention.date.between(date(2024, 1, 1), date(2024, 12, 31))
    raw = db.session.execute(
        select(func.count(Intervention.id), func.sum(Intervention.female), func.sum(Intervention.male),
               func.sum(Intervention.unspecified), func.count(Intervention.school_id.distinct())).where(in_2024)
    ).one()  # fmt: skip
    assert (pmi["interventions"], pmi["female"], pmi["male"], pmi["unspecified"], pmi["schools"]) == tuple(
        raw
    )
    volunteers = select(intervention_volunteers.c.volunteer_id).join(Intervention).where(in_2024).distinct()
    assert db.session.scalar(select(func.count()).select_from(volunteers.subquery())) == pmi["volunteers"]

    transports = stats(app, "transports?year=2024")["totals"]
    assert (transports["transports"], transports["total"]) == (24, 1200)

    jou = stats(app, "jou?edition=2025")
    assert jou["measure"] == "attended"
    assert jou["totals"]["sites"] == figures.JOU_2025_SITES == 226
    assert jou["totals"]["visitors"] == jou["totals"]["total"] == figures.JOU_2025_VISITORS
    report_total = db.session.scalar(
        select(func.sum(AttendanceReport.female + AttendanceReport.male + AttendanceReport.unspecified))
        .join(Slot, Slot.id == AttendanceReport.slot_id).join(Site).join(Edition)
        .where(Edition.year == 2025, Site.status == SiteStatus.APPROVED)
    )  # fmt: skip
    assert report_total == jou["totals"]["visitors"]


def _by_key(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


PMI_FIELDS = (
    "interventions",
    "female",
    "male",
    "unspecified",
    "total",
    "female_share",
    "schools",
    "volunteers",
)
TRANSPORT_FIELDS = ("transports", "female", "male", "unspecified", "schools")


def test_the_layer_agrees_with_the_pmi_and_transport_apis(demo, app):
    headers = admin_headers(app)
    client = app.test_client()
    for by in ("gr", "volunteer"):
        theirs = client.get(f"/api/v1/pmi/stats?by={by}&year=2024", headers=headers).get_json()
        ours = stats(app, f"pmi?by={by}&year=2024", headers)
        mine = _by_key(ours["rows"], by)
        assert len(mine) == len(theirs["rows"]) >= 20
        assert {r["key"]: {f: r[f] for f in PMI_FIELDS} for r in theirs["rows"]} == {
            (str(k) if k is not None else None): {f: r[f] for f in PMI_FIELDS} for k, r in mine.items()
        }
        assert {f: theirs["total"][f] for f in PMI_FIELDS} == {f: ours["totals"][f] for f in PMI_FIELDS}
    for by in ("gr", "campus", "region"):
        theirs = client.get(f"/api/v1/transports/stats?by={by}&year=2024", headers=headers).get_json()
        ours = _by_key(stats(app, f"transports?by={by}&year=2024")["rows"], by)
        assert {r["key"]: {f: r[f] for f in TRANSPORT_FIELDS} for r in theirs["rows"]} == {
            k: {f: r[f] for f in TRANSPORT_FIELDS} for k, r in ours.items()
        }
        assert sum(r["pupils"] for r in theirs["rows"]) == sum(r["total"] for r in ours.values())


def test_the_layer_agrees_with_the_gate_figures_and_the_bookings(demo, app):
    """JOU 2025 site by site against jou.checkin.attendance (the factories' confirmed figures); the upcoming
    edition, whose slots have bookings but no attendance yet, falls back to its bookings."""
    from jou.bookings.models import Booking, BookingStatus
    from jou.checkin.attendance import site_attendance

    by_site = _by_key(stats(app, "jou?edition=2025&by=site")["rows"], "site")
    assert len(by_site) == 226
    for site in db.session.scalars(select(Site).where(Site.id.in_(list(by_site)[:40]))):
        final = site_attendance(site)[2]
        assert {k: by_site[site.id][k] for k in final} == final
    upcoming = db.session.scalar(select(func.max(Edition.year)))
    attended = stats(app, f"jou?edition={upcoming}")["totals"]
    booked = stats(app, f"jou?edition={upcoming}&measure=booked")["totals"]
    parties = db.session.execute(
        select(func.count(Booking.id), func.sum(Booking.party_size)).join(Slot).join(Site).join(Edition)
        .where(Edition.year == upcoming, Booking.status == BookingStatus.CONFIRMED)
    ).one()  # fmt: skip
    assert parties[0] > 0
    assert attended == booked and (booked["bookings"], booked["visitors"]) == tuple(parties)


def test_past_editions_have_bookings_consistent_with_who_came(demo):
    """Each past edition: every published slot has its attendance report and its bookings (anonymised, as
    after `flask privacy purge`), each slot's seat counter is its bookings, a little more was booked than
    came, and every class booked comes from a school of the directory at a level it teaches."""
    from core.schools import School
    from jou.bookings.models import LEVELS_BY_KIND, Booking

    for year in (2025, 2026):
        slots = db.session.scalars(
            select(Slot).join(Site).join(Edition)
            .where(Edition.year == year, Site.status == SiteStatus.APPROVED)
        ).all()  # fmt: skip
        ids = [s.id for s in slots]
        reported = db.session.scalar(select(func.count()).where(AttendanceReport.slot_id.in_(ids)))
        assert reported == len(slots), year
        booked = dict(
            db.session.execute(
                select(Booking.slot_id, func.sum(Booking.party_size))
                .where(Booking.slot_id.in_(ids), Booking.status == "confirmed").group_by(Booking.slot_id)
            ).all()
        )  # fmt: skip
        assert all(booked.get(s.id, 0) == s.seats_taken for s in slots), year
        assert sum(booked.values()) > 0.9 * len(slots) * 10
        came = db.session.scalar(
            select(func.sum(AttendanceReport.female + AttendanceReport.male + AttendanceReport.unspecified))
            .where(AttendanceReport.slot_id.in_(ids))
        )  # fmt: skip
        assert came < sum(booked.values()) < 1.3 * came, year
        assert not db.session.scalar(
            select(func.count()).where(Booking.slot_id.in_(ids), Booking.anonymised_at.is_(None))
        )
        classes = db.session.execute(
            select(Booking.level, School.kind)
            .outerjoin(School, School.uai == Booking.uai)
            .where(Booking.slot_id.in_(ids), Booking.kind == "school")
        ).all()  # fmt: skip
        assert classes and all(kind is not None and level in LEVELS_BY_KIND[kind] for level, kind in classes)
