"""JOU registry rules (jou.services): registration, slot edits with bookings, workflow, search."""

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.auth.permissions import Permission, can
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jou import services
from jou.models import Site, SiteStatus, Slot
from tests.factories import make_edition, make_site, make_user, siret, site_data, slot_data

FRIDAY, SATURDAY = date(2027, 3, 19), date(2027, 3, 20)


@pytest.fixture
def edition(db_session):
    today = date.today()
    return make_edition(
        2027,
        registration_opens=today - timedelta(days=10),
        registration_closes=today + timedelta(days=10),
    )


@pytest.fixture
def factory(db_session):
    return make_user(Role.FACTORY)


@pytest.fixture
def admin(db_session):
    return make_user(Role.ADMIN)


def count_sites() -> int:
    from core.extensions import db

    return db.session.scalar(select(func.count(Site.id)))


# ---- editions ----------------------------------------------------------------------------------------


def test_current_edition_is_the_next_one_or_the_latest(db_session):
    make_edition(2025)
    make_edition(2026)
    assert services.current_edition(date(2026, 1, 1)).year == 2026
    assert services.current_edition(date(2025, 1, 1)).year == 2025
    assert services.current_edition(date(2030, 1, 1)).year == 2026


def test_edition_for_registration(db_session, edition):
    assert services.edition_for_registration() == edition
    assert services.edition_for_registration(2027) == edition
    with pytest.raises(ValidationFailed) as exc:
        services.edition_for_registration(1999)
    assert "edition" in exc.value.fields
    with pytest.raises(NotFound):
        services.get_edition_by_year(1999)


# ---- registration ------------------------------------------------------------------------------------


def test_create_site_with_slots_is_a_located_draft(edition, factory):
    site = services.create_site(factory, edition, site_data(edition))
    assert site.status == SiteStatus.DRAFT
    assert site.owner_id == factory.id
    assert [s.audience for s in site.slots] == ["schools", "public"]
    assert all(s.seats_left == 30 for s in site.slots)
    assert site.department == "75"
    assert site.search_text == "forges de paris atelier du louvre paris"


def test_registration_window_applies_to_factories_not_admins(edition, factory, admin):
    late = edition.registration_closes + timedelta(days=1)
    with pytest.raises(Conflict) as exc:
        services.create_site(factory, edition, site_data(edition), today=late)
    assert exc.value.code == "registration_closed"
    assert "closes" in exc.value.message
    early = edition.registration_opens - timedelta(days=1)
    with pytest.raises(Conflict):
        services.create_site(factory, edition, site_data(edition), today=early)
    assert services.create_site(factory, edition, site_data(edition), actor=admin, today=late).id


def test_volunteers_cannot_register_sites(edition):
    with pytest.raises(Forbidden):
        services.create_site(make_user(Role.VOLUNTEER), edition, site_data(edition))


def test_slot_day_outside_the_edition(edition, factory):
    data = site_data(edition, slots=[slot_data(day=date(2027, 3, 21), audience="public")])
    with pytest.raises(ValidationFailed) as exc:
        services.create_site(factory, edition, data)
    assert exc.value.fields["slots[0].day"] == [
        "Le créneau doit tomber le vendredi 19 mars 2027 ou le samedi 20 mars 2027."
    ]
    assert count_sites() == 0


def test_audience_follows_the_day_unless_admin(edition, factory, admin):
    data = site_data(
        edition,
        slots=[slot_data(day=FRIDAY, audience="public"), slot_data(day=SATURDAY, audience="schools")],
    )
    with pytest.raises(ValidationFailed) as exc:
        services.create_site(factory, edition, data)
    assert exc.value.fields["slots[0].audience"] == ["Le vendredi est réservé aux scolaires."]
    assert exc.value.fields["slots[1].audience"] == ["Le samedi est ouvert au grand public."]
    site = services.create_site(admin, edition, data)
    assert [s.audience for s in site.slots] == ["public", "schools"]


def test_service_checks_times_capacity_and_sector_too(edition, factory):
    # Fixtures and the CLI call the service without the schema: it still refuses what the database would.
    data = site_data(edition, sector="bakery", slots=[slot_data(start=time(11), end=time(10), capacity=0)])
    with pytest.raises(ValidationFailed) as exc:
        services.create_site(factory, edition, data)
    assert exc.value.fields["sector"] == ["Secteur inconnu."]
    assert exc.value.fields["slots[0].end"] == ["L'heure de fin doit suivre l'heure de début."]
    assert exc.value.fields["slots[0].capacity"] == ["Doit être au moins 1."]


def test_duplicate_siret_in_the_same_edition_is_a_conflict(edition, factory):
    number = siret()
    services.create_site(factory, edition, site_data(edition, siret=number))
    with pytest.raises(Conflict) as exc:
        services.create_site(make_user(), edition, site_data(edition, siret=number))
    assert exc.value.fields["siret"] == ["Ce SIRET est déjà inscrit à l'édition 2027."]
    assert count_sites() == 1
    # Another edition is another registration.
    other = make_edition(2028)
    assert services.create_site(factory, other, site_data(other, siret=number), actor=make_user(Role.ADMIN))


def test_postcode_city_mismatch_is_a_field_error(edition, factory):
    with pytest.raises(ValidationFailed) as exc:
        services.create_site(factory, edition, site_data(edition, postcode="69007", city="Paris"))
    assert set(exc.value.fields) & {"postcode", "city"}
    assert count_sites() == 0


def test_real_postcodes_give_department_and_region(edition, factory):
    site = services.create_site(factory, edition, site_data(edition, postcode="69007", city="Lyon"))
    assert site.department == "69"
    assert site.region == "84"


def test_html_is_stored_as_typed(edition, factory):
    site = services.create_site(factory, edition, site_data(edition, name="<script>alert(1)</script>"))
    assert site.name == "<script>alert(1)</script>"


# ---- updates and booked slots ------------------------------------------------------------------------


def slots_payload(site: Site) -> list[dict]:
    return [{name: getattr(slot, name) for name in ("id", *services.SLOT_FIELDS)} for slot in site.slots]


def test_update_slots_creates_updates_and_deletes(edition, factory):
    site = make_site(factory, edition)
    friday_slot, saturday_slot = site.slots
    payload = slots_payload(site)
    payload[0]["capacity"] = 45
    payload.pop(1)
    payload.append(slot_data(day=SATURDAY, audience="public", start=time(14), end=time(16)))
    services.update_site(factory, site, {"slots": payload})
    assert friday_slot.capacity == 45
    assert [(s.day, s.start) for s in site.slots] == [(FRIDAY, time(9)), (SATURDAY, time(14))]
    assert saturday_slot not in site.slots


def test_booked_slot_cannot_be_deleted_moved_or_shrunk(edition, factory):
    site = make_site(factory, edition, status="approved")
    booked = site.slots[1]
    booked.seats_taken = 12
    payload = slots_payload(site)

    with pytest.raises(Conflict) as exc:
        services.update_site(factory, site, {"slots": payload[:1]})
    assert exc.value.code == "slot_has_bookings"
    assert "samedi 20 mars 2027 à 09h00 a déjà 12 places réservées" in exc.value.message
    assert "supprimé" in exc.value.message

    moved = [payload[0], {**payload[1], "start": time(10), "end": time(12)}]
    with pytest.raises(Conflict, match="ni de jour, ni d'horaire"):
        services.update_site(factory, site, {"slots": moved})

    shrunk = [payload[0], {**payload[1], "capacity": 11}]
    with pytest.raises(Conflict, match="capacité"):
        services.update_site(factory, site, {"slots": shrunk})

    # Raising the capacity or changing the notes is fine; the site stays published.
    grown = [payload[0], {**payload[1], "capacity": 12, "protective_equipment": "Chaussures fermées"}]
    services.update_site(factory, site, {"slots": grown})
    assert booked.capacity == 12 and booked.seats_left == 0
    assert site.status == SiteStatus.APPROVED


def test_staff_exception_survives_the_factory_edits(edition, factory, admin):
    site = make_site(factory, edition, status="approved")
    payload = slots_payload(site)
    payload[1]["audience"] = "schools"  # Saturday for schools: the staff allow it
    services.update_site(admin, site, {"slots": payload})
    payload[1]["capacity"] = 50
    services.update_site(factory, site, {"slots": payload})
    assert (site.slots[1].audience, site.slots[1].capacity) == ("schools", 50)
    payload.append(slot_data(day=SATURDAY, audience="schools", start=time(15), end=time(16)))
    with pytest.raises(ValidationFailed) as exc:
        services.update_site(factory, site, {"slots": payload})
    assert exc.value.fields == {"slots[2].audience": ["Le samedi est ouvert au grand public."]}


def test_published_site_keeps_at_least_one_slot(edition, factory):
    site = make_site(factory, edition, status="approved")
    with pytest.raises(ValidationFailed) as exc:
        services.update_site(factory, site, {"slots": []})
    assert "slots" in exc.value.fields


def test_unknown_slot_id_is_a_field_error(edition, factory):
    site = make_site(factory, edition)
    other = make_site(make_user(), edition)
    payload = slots_payload(site)
    payload[0]["id"] = other.slots[0].id
    with pytest.raises(ValidationFailed) as exc:
        services.update_site(factory, site, {"slots": payload})
    assert exc.value.fields["slots[0].id"] == ["Créneau inconnu pour ce site."]


def test_changing_the_address_relocates_the_site(edition, factory):
    site = make_site(factory, edition, status="approved")
    services.update_site(factory, site, {"postcode": "69007", "city": "Lyon", "street": "1 rue X"})
    assert site.department == "69"
    assert site.status == SiteStatus.APPROVED


def test_duplicate_siret_on_update(edition, factory):
    first = make_site(factory, edition)
    second = make_site(factory, edition)
    with pytest.raises(Conflict):
        services.update_site(factory, second, {"siret": first.siret})
    services.update_site(factory, second, {"siret": second.siret})  # unchanged: fine


def test_only_the_owner_or_an_admin_edits(edition, factory, admin):
    site = make_site(factory, edition)
    with pytest.raises(Forbidden):
        services.update_site(make_user(), site, {"name": "Autre"})
    services.update_site(admin, site, {"name": "Renommé"})
    assert site.name == "Renommé"


def test_set_site_location_is_manual(edition, factory):
    site = make_site(factory, edition)
    services.set_site_location(factory, site, 48.86, 2.34)
    assert (site.lat, site.lon, site.geo_precision) == (48.86, 2.34, "manual")
    with pytest.raises(ValidationFailed):
        services.set_site_location(factory, site, 91, 0)


# ---- workflow ----------------------------------------------------------------------------------------


def test_workflow_draft_submitted_rejected_resubmitted_approved(edition, factory, admin):
    site = make_site(factory, edition)
    services.submit_site(factory, site)
    assert site.status == SiteStatus.SUBMITTED and site.submitted_at
    assert services.moderation_queue() == [site]
    services.reject_site(admin, site, "  Adresse incomplète.  ")
    assert (site.status, site.rejection_reason) == (SiteStatus.REJECTED, "Adresse incomplète.")
    services.update_site(factory, site, {"street": "2 rue de Rivoli"})
    services.submit_site(factory, site)
    services.approve_site(admin, site)
    assert site.status == SiteStatus.APPROVED and site.rejection_reason == ""
    assert site.reviewed_by_id == admin.id
    assert services.moderation_queue() == []


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("submitted", "submit"),
        ("approved", "submit"),
        ("draft", "approve"),
        ("approved", "approve"),
        ("rejected", "approve"),
        ("draft", "reject"),
        ("approved", "reject"),
    ],
)
def test_illegal_transitions_are_conflicts(edition, factory, admin, status, action):
    site = make_site(factory, edition, status=status)
    call = {
        "submit": lambda: services.submit_site(factory, site),
        "approve": lambda: services.approve_site(admin, site),
        "reject": lambda: services.reject_site(admin, site, "Motif"),
    }[action]
    with pytest.raises(Conflict) as exc:
        call()
    assert exc.value.code == "invalid_transition"
    assert site.status == status


def test_submit_needs_a_slot(edition, factory):
    site = make_site(factory, edition, slots=[])
    with pytest.raises(ValidationFailed) as exc:
        services.submit_site(factory, site)
    assert "slots" in exc.value.fields


def test_reject_needs_a_reason_and_an_admin(edition, factory, admin):
    site = make_site(factory, edition, status="submitted")
    with pytest.raises(ValidationFailed) as exc:
        services.reject_site(admin, site, "   ")
    assert exc.value.fields == {"reason": ["Indiquez le motif du refus."]}
    with pytest.raises(ValidationFailed):
        services.reject_site(admin, site, "x" * 2001)
    with pytest.raises(Forbidden):
        services.reject_site(factory, site, "Motif")
    with pytest.raises(Forbidden):
        services.approve_site(factory, site)


def test_view_and_edit_permissions(edition, factory, admin):
    draft = make_site(factory, edition)
    published = make_site(factory, edition, status="approved")
    other, volunteer = make_user(), make_user(Role.VOLUNTEER)
    assert services.can_view_site(factory, draft) and can(factory, Permission.MANAGE_SITE, draft)
    assert services.can_view_site(admin, draft) and can(admin, Permission.MANAGE_SITE, draft)
    for user in (None, other, volunteer):
        assert not services.can_view_site(user, draft)
        assert services.can_view_site(user, published)
        assert not can(user, Permission.MANAGE_SITE, published)
    with pytest.raises(NotFound):
        services.load_site(other, draft.id)
    with pytest.raises(Forbidden):
        services.load_site(other, published.id, Permission.MANAGE_SITE)
    with pytest.raises(NotFound):
        services.get_site(10**9)


# ---- search ------------------------------------------------------------------------------------------


def search(**kw) -> list[str]:
    published_only = kw.pop("published_only", True)
    page = services.search_sites(services.SiteFilters(**kw), published_only=published_only)
    return [site.name for site in page.items]


def test_search_filters(edition, factory):
    make_site(factory, edition, status="approved", name="A Paris", sector="aerospace")
    make_site(factory, edition, status="approved", name="B Lyon", postcode="69007", city="Lyon")
    make_site(
        factory,
        edition,
        status="approved",
        name="C Samedi",
        company_name="Électricité Générale",
        slots=[slot_data(day=SATURDAY, audience="public")],
    )
    make_site(factory, edition, status="draft", name="D Brouillon")
    assert search() == ["A Paris", "B Lyon", "C Samedi"]
    assert search(published_only=False) == ["A Paris", "B Lyon", "C Samedi", "D Brouillon"]
    assert search(published_only=False, status="draft") == ["D Brouillon"]
    assert search(department="69") == ["B Lyon"]
    assert search(region="84") == ["B Lyon"]
    assert search(sector="aerospace") == ["A Paris"]
    assert search(audience="schools") == ["A Paris", "B Lyon"]
    assert search(day=SATURDAY) == ["A Paris", "B Lyon", "C Samedi"]
    assert search(day=SATURDAY, audience="schools") == []
    assert search(q="lyon") == ["B Lyon"]
    assert search(q="ELECTRICITE") == ["C Samedi"]
    assert search(q="électricité générale") == ["C Samedi"]
    assert search(q="100%") == []
    assert search(edition=2026) == []


def test_search_pagination_counts_in_the_database(edition, factory):
    for i in range(7):
        make_site(factory, edition, status="approved", name=f"Site {i}")
    page = services.search_sites(services.SiteFilters(page=2, per_page=3))
    assert (page.total, page.page, page.per_page, page.pages) == (7, 2, 3, 3)
    assert [s.name for s in page.items] == ["Site 3", "Site 4", "Site 5"]
    last = services.search_sites(services.SiteFilters(page=3, per_page=3))
    assert [s.name for s in last.items] == ["Site 6"]


def test_search_of_an_owner(edition, factory):
    mine = make_site(factory, edition, name="Le mien")
    make_site(make_user(), edition, name="Pas le mien", status="approved")
    page = services.search_sites(services.SiteFilters(), published_only=False, owner=factory)
    assert page.items == [mine]


def test_map_sites_summarises_slots(edition, factory):
    site = make_site(factory, edition, status="approved")
    site.slots[0].seats_taken = 5
    site.slots[1].wheelchair_accessible = True
    make_site(factory, edition, status="submitted")
    services.set_site_location(factory, site, 48.86, 2.34)
    (marker,) = [m for m in services.map_sites(services.SiteFilters()) if m.id == site.id]
    assert marker.days == [FRIDAY, SATURDAY]
    assert marker.audiences == ["schools", "public"]
    assert marker.seats_left == 55
    assert marker.wheelchair_accessible
    assert {m.id for m in services.map_sites(services.SiteFilters())} == {site.id}


def test_slots_of_a_deleted_site_go_with_it(edition, factory):
    from core.extensions import db

    site = make_site(factory, edition)
    db.session.delete(site)
    db.session.flush()
    assert db.session.scalar(select(func.count(Slot.id))) == 0
