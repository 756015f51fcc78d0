"""The demo data: `flask --app wsgi fixtures load`.

The demo is loaded once for the module, inside a transaction rolled back at the end (like `db_session`,
but module-wide: loading takes a few seconds), and the tests read it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core import geography
from core.auth.models import Role, User
from core.auth.services import authenticate
from core.extensions import db
from core.identifiers import siret_is_valid
from fixtures.figures import JOU_2025_CAPACITY_FACTOR
from fixtures.loader import (
    ADMIN_EMAIL,
    DEMO_PASSWORD,
    FACTORY_EMAIL,
    build_roster,
    upcoming_edition_dates,
)
from jou import services
from jou.models import Audience, Edition, Site, SiteStatus, Slot
from jou.sectors import SECTORS

METROPOLITAN = {"11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"}
OVERSEAS = {"01", "02", "03", "04", "06"}


def sites_of(year: int, status: SiteStatus | None = None) -> list[Site]:
    query = select(Site).join(Edition).where(Edition.year == year).options(selectinload(Site.slots))
    if status is not None:
        query = query.where(Site.status == status)
    return list(db.session.scalars(query))


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_2025_has_its_226_factories_in_every_metropolitan_region_and_overseas(demo):
    published = sites_of(2025, SiteStatus.APPROVED)
    assert len(published) == 226 == demo.published_2025
    regions = Counter(site.region for site in published)
    assert set(regions) >= METROPOLITAN
    assert len(set(regions) & OVERSEAS) >= 2
    # Weighted by industrial weight: the big industrial regions lead, Corsica trails.
    assert regions["84"] > regions["53"] > regions["94"] >= 1
    assert all(site.submitted_at and site.reviewed_at for site in published)
    assert all(site.reviewed_at.date() <= date(2025, 4, 4) for site in published)


def test_every_site_is_located_in_a_real_commune_with_valid_identifiers(demo):
    sites = list(db.session.scalars(select(Site)))
    assert len(sites) == demo.sites
    assert len({site.company_name for site in sites if site.owner.email != FACTORY_EMAIL}) > 300
    for site in sites:
        assert site.lat is not None and site.lon is not None, site.name
        assert (site.geo_precision, site.geo_source) == ("commune", "gazetteer")
        assert siret_is_valid(site.siret), site.siret
        assert site.sector in SECTORS
        assert phonenumbers.is_valid_number(phonenumbers.parse(site.contact_phone, "FR")), site.contact_phone
        assert site.department and site.region and site.commune_insee
        assert site.description and site.street
    # Postcode and city agree with the gazetteer, as the registration form requires.
    for site in sites[::7]:
        match = geography.validate_postcode_city(site.postcode, site.city)
        assert match.insee == site.commune_insee
    # A marker per site: sites of one town do not stack on its centroid.
    points = Counter((site.lat, site.lon) for site in sites)
    assert points.most_common(1)[0][1] <= 3


def test_slots_fall_on_their_edition_days_with_the_days_audience(demo):
    slots = list(db.session.scalars(select(Slot).options(selectinload(Slot.site).selectinload(Site.edition))))
    assert len(slots) == demo.slots
    for slot in slots:
        edition = slot.site.edition
        expected = {edition.friday: Audience.SCHOOLS, edition.saturday: Audience.PUBLIC}
        assert expected.get(slot.day) == slot.audience, (slot.site.name, slot.day, slot.audience)
        # 2025, the first edition, took whole year groups and families: its slots are twice as wide.
        factor = JOU_2025_CAPACITY_FACTOR if edition.year == 2025 else 1
        assert 10 * factor <= slot.capacity <= 40 * factor
        assert slot.end > slot.start
    per_site = Counter(slot.site_id for slot in slots)
    assert set(per_site.values()) <= {2, 3, 4, 5}
    assert any(slot.min_age for slot in slots)
    assert any(slot.protective_equipment for slot in slots)
    assert 0 < sum(slot.wheelchair_accessible for slot in slots) < len(slots)


def test_editions_2025_2026_and_one_open_today_for_registration_and_booking(demo):
    editions = {e.year: e for e in db.session.scalars(select(Edition))}
    assert (editions[2025].friday, editions[2025].saturday) == (date(2025, 4, 4), date(2025, 4, 5))
    assert (editions[2026].friday, editions[2026].saturday) == (date(2026, 3, 20), date(2026, 3, 21))
    today = services.paris_today()
    upcoming = editions[demo.upcoming_year]
    assert upcoming.year >= 2027 and upcoming.friday > today
    assert upcoming.registration_open_on(today) and upcoming.booking_open_on(today)
    assert services.current_edition() == upcoming
    published = sites_of(upcoming.year, SiteStatus.APPROVED)
    assert len(published) == demo.upcoming_published >= 30
    for site in published:
        audiences = {slot.audience for slot in site.slots if slot.seats_left > 0}
        assert audiences == {Audience.SCHOOLS, Audience.PUBLIC}
    assert sites_of(upcoming.year, SiteStatus.DRAFT)


def test_2026_doubles_up_with_a_moderation_queue_and_a_refusal(demo):
    sites = sites_of(2026)
    assert 300 <= len(sites) <= 450
    statuses = Counter(site.status for site in sites)
    assert statuses[SiteStatus.SUBMITTED] > 0 and statuses[SiteStatus.REJECTED] == 1
    assert [s for s in sites if s.status == SiteStatus.REJECTED][0].rejection_reason
    assert any(site.edition.year == 2026 for site in services.moderation_queue())
    returning = {s.siret for s in sites} & {s.siret for s in sites_of(2025)}
    assert 150 < len(returning) < 226


def test_demo_accounts(demo):
    admin = authenticate(ADMIN_EMAIL, DEMO_PASSWORD)
    assert admin.role == Role.ADMIN
    factory = authenticate(FACTORY_EMAIL, DEMO_PASSWORD)
    owned = list(db.session.scalars(select(Site).where(Site.owner_id == factory.id)))
    assert {site.edition.year for site in owned} >= {2025, 2026, demo.upcoming_year}
    assert {site.status for site in owned} >= {SiteStatus.APPROVED, SiteStatus.DRAFT}
    # One contact per company, on the company's own domain; every demo account shares one password hash.
    users = list(db.session.scalars(select(User)))
    assert len(users) == demo.users
    assert {u.password_hash for u in users} == {admin.password_hash}
    for site in db.session.scalars(select(Site).where(Site.owner_id != factory.id)):
        assert site.owner.role == Role.FACTORY
        assert site.owner.email == site.contact_email


def test_loading_twice_changes_nothing(demo, app):
    before = table_counts()
    result = app.test_cli_runner().invoke(args=["fixtures", "load"])
    assert result.exit_code == 0, result.output
    assert "226 publiés en 2025" in result.output
    assert "0 lignes créées" in result.output
    assert table_counts() == before


def test_the_demo_is_the_same_on_every_machine():
    first, second = build_roster(), build_roster()
    assert [(c.name, c.siret, c.town) for c in first.companies.values()] == [
        (c.name, c.siret, c.town) for c in second.companies.values()
    ]


@pytest.mark.parametrize(
    "start", [date(2026, 11, 26), date(2027, 3, 18), date(2027, 3, 19), date(2029, 8, 1)]
)
def test_an_edition_is_open_for_registration_and_booking_whatever_the_day(start):
    for offset in range(0, 400, 3):
        today = start + timedelta(days=offset)
        dates = upcoming_edition_dates(today)
        assert dates.year >= 2027 and dates.friday.weekday() == 4 and dates.friday > today
        assert dates.registration_opens <= today <= dates.registration_closes
        assert dates.booking_opens <= today <= dates.booking_closes
        assert dates.booking_closes == dates.saturday
    assert upcoming_edition_dates(date(2026, 11, 26)).friday == date(2027, 3, 19)


def test_upcoming_edition_has_nearly_full_slots_and_a_full_one_with_a_waiting_list(demo):
    from jou.bookings.models import Booking, WaitlistEntry

    slots = [s for site in sites_of(demo.upcoming_year, SiteStatus.APPROVED) for s in site.slots]
    public = [s for s in slots if s.audience == Audience.PUBLIC]
    full = [s for s in public if s.seats_left == 0]
    assert full, "one public slot is full"
    assert (
        db.session.scalar(select(func.count(WaitlistEntry.id)).where(WaitlistEntry.slot_id == full[0].id))
        >= 2
    )
    assert sum(1 for s in public if 0 < s.seats_left <= 3) >= 3
    assert any(s.seats_taken > 0 for s in slots if s.audience == Audience.SCHOOLS)
    # Seats taken are exactly the confirmed bookings' party sizes.
    for slot in slots:
        taken = db.session.scalar(
            select(func.coalesce(func.sum(Booking.party_size), 0)).where(
                Booking.slot_id == slot.id, Booking.status == "confirmed"
            )
        )
        assert slot.seats_taken == taken
    # Bookable today: within the booking window.
    assert sum(1 for s in public if s.seats_left > 0) >= 10
