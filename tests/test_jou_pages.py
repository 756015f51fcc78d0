"""JOU pages with the Flask test client: public list and site page, registration form, moderation."""

from __future__ import annotations

import datetime as dt
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.extensions import db
from jou import services
from jou.models import Site, SiteStatus
from tests.factories import login, make_edition, make_user
from tests.plugins.jou import site_data, valid_siret


def _t(value: str):  # noqa: ANN202
    from datetime import time

    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def make_site(owner, edition, *, status: str = SiteStatus.DRAFT, admin=None, **overrides) -> Site:  # noqa: ANN001
    site = services.create_site(owner, edition, site_data(edition, **overrides))
    if status in (SiteStatus.SUBMITTED, SiteStatus.APPROVED, SiteStatus.REJECTED):
        services.submit_site(owner, site)
    if status == SiteStatus.APPROVED:
        services.approve_site(admin or make_user(Role.ADMIN), site)
    elif status == SiteStatus.REJECTED:
        services.reject_site(admin or make_user(Role.ADMIN), site, "Informations incomplètes.")
    db.session.flush()
    return site


def cards(html: str) -> list[str]:
    """Site names shown as cards on the list page."""
    return re.findall(r'<h2><a href="/usines/\d+">([^<]*)</a></h2>', html)


@pytest.fixture
def edition(db_session):
    return make_edition(2027)


@pytest.fixture
def factory(db_session):
    return make_user(Role.FACTORY)


@pytest.fixture
def admin(db_session):
    return make_user(Role.ADMIN)


def form_for(edition, **overrides) -> dict:  # noqa: ANN001
    """The registration form as a browser posts it: two slot rows and one empty row."""
    form = {
        "company_name": "Forges de Bourgogne",
        "siret": valid_siret(),
        "name": "Usine de Lyon Gerland",
        "street": "12 rue de Gerland",
        "postcode": "69007",
        "city": "Lyon",
        "sector": "metallurgy",
        "description": "Visite de la fonderie.",
        "contact_name": "Claire Martin",
        "contact_email": "claire.martin@example.org",
        "contact_phone": "04 72 00 00 00",
        "slots-0-day": edition.friday.isoformat(),
        "slots-0-start": "09:00",
        "slots-0-end": "11:00",
        "slots-0-audience": "schools",
        "slots-0-capacity": "30",
        "slots-0-min_age": "12",
        "slots-0-protective_equipment": "Chaussures fermées",
        "slots-0-wheelchair_accessible": "on",
        "slots-1-day": edition.saturday.isoformat(),
        "slots-1-start": "14:00",
        "slots-1-end": "16:00",
        "slots-1-audience": "public",
        "slots-1-capacity": "25",
        "slots-2-day": "",
        "slots-2-start": "",
        "slots-2-end": "",
        "slots-2-audience": "",
        "slots-2-capacity": "",
        "slots-2-min_age": "",
        "slots-2-protective_equipment": "",
    }
    form.update(overrides)
    return form


def site_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Site))


# --- public ---------------------------------------------------------------------------------------


def test_home_shows_the_current_edition_and_published_count(client, factory, admin):
    edition = make_edition(2026, registration_closes=date(2026, 12, 31))
    make_site(factory, edition, status=SiteStatus.APPROVED, admin=admin)
    make_site(factory, edition, status=SiteStatus.SUBMITTED)
    html = client.get("/").get_data(as_text=True)
    assert "vendredi 20 mars 2026</strong> – scolaires" in html
    assert "samedi 21 mars 2026</strong> – grand public" in html
    assert re.search(r'data-testid="published-count">1</strong>\s*usine ouvre', html)
    assert 'href="/usines"' in html


def test_home_without_edition(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "prochaine édition" in response.get_data(as_text=True)


def test_list_filters_narrow_the_results(client, edition, factory, admin):
    make_site(factory, edition, status=SiteStatus.APPROVED, admin=admin, name="Gerland")
    make_site(
        factory, edition, status=SiteStatus.APPROVED, admin=admin, name="Rennes Chantepie",
        postcode="35000", city="Rennes", sector="agrifood",
        slots=[{"day": edition.saturday, "start": _t("10:00"), "end": _t("12:00"), "audience": "public",
                "capacity": 40}],
    )  # fmt: skip
    make_site(factory, edition, status=SiteStatus.DRAFT, name="Brouillon caché")

    def names(**params) -> list[str]:  # noqa: ANN003
        response = client.get("/usines", query_string=params)
        assert response.status_code == 200
        return sorted(cards(response.get_data(as_text=True)))

    assert names() == ["Gerland", "Rennes Chantepie"]
    assert names(region="53") == ["Rennes Chantepie"]
    assert names(department="69") == ["Gerland"]
    assert names(sector="agrifood") == ["Rennes Chantepie"]
    assert names(audience="schools") == ["Gerland"]
    assert names(q="chantepie") == ["Rennes Chantepie"]
    assert names(region="53", sector="metallurgy") == []
    # A hand-edited value is ignored, not an error page.
    assert names(sector="not-a-sector") == ["Gerland", "Rennes Chantepie"]


def test_list_cards_show_place_sector_days_and_seats(client, edition, factory, admin):
    make_site(factory, edition, status=SiteStatus.APPROVED, admin=admin)
    html = client.get("/usines").get_data(as_text=True)
    assert "Forges de Bourgogne" in html
    assert "Lyon (69" in html
    assert "Métallurgie et sidérurgie" in html
    assert "vendredi 19 mars 2027 : <strong>30</strong> places" in html
    assert "samedi 20 mars 2027 : <strong>25</strong> places" in html


def test_list_is_paginated(client, edition, factory, admin):
    for i in range(23):
        make_site(factory, edition, status=SiteStatus.APPROVED, admin=admin, name=f"Usine {i:02d}")
    first = client.get("/usines").get_data(as_text=True)
    second = client.get("/usines?page=2").get_data(as_text=True)
    assert "23 usines trouvées" in first
    assert len(cards(first)) == 20 and len(cards(second)) == 3
    assert not set(cards(first)) & set(cards(second))
    assert "Page 1 sur 2" in first and 'rel="next" href="/usines?page=2"' in first
    # Filters are kept by the page links.
    filtered = client.get("/usines?sector=metallurgy").get_data(as_text=True)
    assert 'href="/usines?sector=metallurgy&amp;page=2"' in filtered
    # Beyond the last page: said, not an empty list.
    beyond = client.get("/usines?page=99")
    assert beyond.status_code == 404
    assert "Il n&#39;y a pas de page 99 : cette liste en compte 2 pages." in beyond.get_data(as_text=True)
    # No factory matches: page 1 is still there, with its "none found".
    assert client.get("/usines?sector=textile").status_code == 200


def test_site_page_shows_description_address_and_slots(client, edition, factory, admin):
    site = make_site(factory, edition, status=SiteStatus.APPROVED, admin=admin)
    services.set_site_location(factory, site, 45.7295, 4.8301)
    site.slots[0].min_age = 12
    site.slots[0].protective_equipment = "Lunettes fournies"
    site.slots[0].wheelchair_accessible = True
    db.session.flush()
    html = client.get(f"/usines/{site.id}").get_data(as_text=True)
    assert "Visite de la fonderie et de l&#39;atelier d&#39;usinage." in html
    assert "12 rue de Gerland" in html and "69007 Lyon" in html
    assert "vendredi 19 mars 2027" in html and "09h00 – 11h00" in html
    assert "Scolaires" in html and "Grand public" in html
    assert "12 ans" in html and "Lunettes fournies" in html and "accessible" in html
    assert "45.72950, 4.83010" in html and "openstreetmap.org" in html
    # The contact's personal data is never on the public page.
    assert "claire.martin@example.org" not in html
    # This edition still takes bookings: the slots offer them, and the site's calendar feed is linked.
    assert (
        "/reserver" in html and f"/usines/{site.id}/creneaux.ics" in html and "data-past-edition" not in html
    )
    # Once the edition is over, its page tells so and offers no booking.
    edition.booking_closes = edition.booking_opens = dt.date(2026, 1, 1)
    db.session.flush()
    past = client.get(f"/usines/{site.id}").get_data(as_text=True)
    assert "data-past-edition" in past and "/reserver" not in past and "creneaux.ics" not in past


def test_unpublished_site_is_404_for_the_public_and_another_factory(client, edition, factory):
    site = make_site(factory, edition, status=SiteStatus.SUBMITTED)
    assert client.get(f"/usines/{site.id}").status_code == 404
    login(client, make_user(Role.FACTORY))
    for url in (f"/usines/{site.id}", f"/mes-sites/{site.id}/modifier", f"/mes-sites/{site.id}/position"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/mes-sites/{site.id}/modifier", data=form_for(edition)).status_code == 404
    assert client.post(f"/mes-sites/{site.id}/position", data={"lat": "1", "lon": "1"}).status_code == 404
    assert client.post(f"/mes-sites/{site.id}/soumettre").status_code == 404


def test_owner_previews_an_unpublished_site(client, edition, factory):
    site = make_site(factory, edition)
    login(client, factory)
    html = client.get(f"/usines/{site.id}").get_data(as_text=True)
    assert "Aperçu : ce site n'est pas public" in html
    assert "Brouillon" in html


def test_published_site_of_another_factory_is_public_but_not_editable(client, edition, factory, admin):
    site = make_site(factory, edition, status=SiteStatus.APPROVED, admin=admin)
    login(client, make_user(Role.FACTORY))
    assert client.get(f"/usines/{site.id}").status_code == 200
    # Its existence is public, so refusing says 403 (jou.services.load_site), not 404.
    assert client.get(f"/mes-sites/{site.id}/modifier").status_code == 403
    assert client.post(f"/mes-sites/{site.id}/position", data={"lat": "1", "lon": "1"}).status_code == 403
    assert client.post(f"/mes-sites/{site.id}/soumettre").status_code == 403


def test_typed_html_is_escaped(client, edition, factory, admin):
    script = "<script>alert('x')</script>"
    site = make_site(
        factory, edition, status=SiteStatus.APPROVED, admin=admin, name=script, description=script
    )
    for url in ("/usines", f"/usines/{site.id}"):
        html = client.get(url).get_data(as_text=True)
        assert script not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    login(client, factory)
    response = client.post("/mes-sites/nouveau", data=form_for(edition, company_name=script, siret="123"))
    assert response.status_code == 422
    assert script not in response.get_data(as_text=True)


# --- factory --------------------------------------------------------------------------------------


def test_factory_pages_need_a_factory_account(client, edition):
    response = client.get("/mes-sites")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")
    login(client, make_user(Role.VOLUNTEER))
    assert client.get("/mes-sites").status_code == 403
    assert client.get("/mes-sites/nouveau").status_code == 403


def test_my_sites_lists_only_mine_with_status(client, edition, factory, admin):
    make_site(factory, edition, name="Le mien")
    make_site(factory, edition, name="Publié", status=SiteStatus.APPROVED, admin=admin)
    make_site(make_user(Role.FACTORY), edition, name="Pas le mien")
    login(client, factory)
    html = client.get("/mes-sites").get_data(as_text=True)
    assert sorted(cards(html)) == ["Le mien", "Publié"]
    assert "Brouillon" in html and 'class="badge ok">Publié' in html


def test_a_site_left_at_its_department_seat_is_flagged_to_the_factory_and_to_staff(
    client, edition, factory, admin, monkeypatch
):
    """Without a commune file that knows the address, the site sits at its department's seat."""
    from core import geography

    seat = geography.locate("", "69990", "Nulle Part")
    assert seat.precision == "department"
    monkeypatch.setattr(geography, "locate", lambda *_args: seat)
    login(client, factory)
    response = client.post("/mes-sites/nouveau", data=form_for(edition), follow_redirects=True)
    assert "pas pu être localisée plus précisément que le chef-lieu du département" in response.get_data(
        as_text=True
    )
    site = db.session.scalars(select(Site)).one()
    assert site.geo_precision == "department"
    assert "data-coarse-pin" in client.get("/mes-sites").get_data(as_text=True)
    site.status = SiteStatus.SUBMITTED
    db.session.commit()
    login(client, admin)
    assert "Repère au chef-lieu du département" in client.get("/moderation").get_data(as_text=True)


def test_registration_form_creates_a_draft_with_its_slots(client, edition, factory):
    login(client, factory)
    page = client.get("/mes-sites/nouveau").get_data(as_text=True)
    assert 'name="slots-0-day"' in page and 'name="slots-2-capacity"' in page
    assert f'<option value="{edition.friday.isoformat()}"' in page
    assert 'name="csrf_token"' in page
    response = client.post("/mes-sites/nouveau", data=form_for(edition))
    assert response.status_code == 302
    site = db.session.scalars(select(Site)).one()
    assert site.status == SiteStatus.DRAFT and site.owner_id == factory.id
    assert site.contact_phone == "+33472000000"
    assert [(s.audience, s.capacity, s.min_age, s.wheelchair_accessible) for s in site.slots] == [
        ("schools", 30, 12, True),
        ("public", 25, None, False),
    ]
    assert response.headers["Location"] == f"/mes-sites/{site.id}/modifier"


def test_bad_registration_shows_french_errors_beside_fields(client, edition, factory):
    login(client, factory)
    form = form_for(
        edition,
        siret="12345678901234",
        sector="poterie",
        **{"slots-1-end": "13:00", "slots-0-capacity": "0", "slots-2-day": "", "slots-2-start": "10:00"},
    )
    response = client.post("/mes-sites/nouveau", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="siret-errors">\s*<li>SIRET invalide', html)
    assert re.search(r'id="sector-errors">\s*<li>Valeur non autorisée', html)
    assert re.search(r'id="slots-1-end-errors">\s*<li>L&#39;heure de fin doit suivre', html)
    assert re.search(r'id="slots-0-capacity-errors">\s*<li>Doit être', html)
    # A select left blank is missing, not invalid.
    assert re.search(r'id="slots-2-day-errors">\s*<li>Ce champ est obligatoire', html)
    assert re.search(r'id="slots-2-capacity-errors">\s*<li>Ce champ est obligatoire', html)
    # The typed values come back; nothing is saved.
    assert 'value="Forges de Bourgogne"' in html and 'value="12345678901234"' in html
    assert site_count() == 0


def test_service_errors_are_shown_beside_fields_too(client, edition, factory):
    """Rules that need the database (duplicate SIRET for the edition) answer like schema errors."""
    existing = make_site(factory, edition)
    login(client, factory)
    response = client.post("/mes-sites/nouveau", data=form_for(edition, siret=existing.siret))
    assert response.status_code == 422
    assert 'id="siret-errors"' in response.get_data(as_text=True)
    assert site_count() == 1


def test_edit_form_updates_fields_and_slots(client, edition, factory):
    site = make_site(factory, edition)
    login(client, factory)
    page = client.get(f"/mes-sites/{site.id}/modifier").get_data(as_text=True)
    first, second = site.slots
    assert f'name="slots-0-id" value="{first.id}"' in page
    assert 'value="Usine de Lyon Gerland"' in page
    form = form_for(edition, name="Gerland (nouveau nom)", siret=site.siret)
    form.update({"slots-0-id": str(first.id), "slots-0-capacity": "45", "slots-1-id": str(second.id)})
    form["slots-1-delete"] = "on"
    response = client.post(f"/mes-sites/{site.id}/modifier", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert site.name == "Gerland (nouveau nom)"
    assert [(s.id, s.capacity) for s in site.slots] == [(first.id, 45)]


def test_edit_errors_keep_typed_values_and_save_nothing(client, edition, factory):
    site = make_site(factory, edition)
    login(client, factory)
    form = form_for(edition, name="Nouveau nom", siret=site.siret, contact_phone="12")
    response = client.post(f"/mes-sites/{site.id}/modifier", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="contact_phone-errors">\s*<li>Numéro de téléphone invalide', html)
    assert 'value="Nouveau nom"' in html
    db.session.expire_all()
    assert site.name == "Usine de Lyon Gerland"


def test_submit_for_review(client, edition, factory):
    site = make_site(factory, edition)
    login(client, factory)
    response = client.post(f"/mes-sites/{site.id}/soumettre")
    assert response.status_code == 302 and response.headers["Location"] == "/mes-sites"
    assert site.status == SiteStatus.SUBMITTED
    assert "soumis à validation" in client.get("/mes-sites").get_data(as_text=True)


def test_pin_correction(client, edition, factory):
    site = make_site(factory, edition)
    login(client, factory)
    assert 'name="lat"' in client.get(f"/mes-sites/{site.id}/position").get_data(as_text=True)
    response = client.post(f"/mes-sites/{site.id}/position", data={"lat": "95", "lon": "4.8"})
    assert response.status_code == 422
    assert re.search(r'id="lat-errors">\s*<li>Doit être', response.get_data(as_text=True))
    response = client.post(f"/mes-sites/{site.id}/position", data={"lat": "45.75", "lon": "4.85"})
    assert response.status_code == 302
    assert (site.lat, site.lon, site.geo_precision) == (45.75, 4.85, "manual")


# --- staff --------------------------------------------------------------------------------------


def test_moderation_permissions(client, factory):
    response = client.get("/moderation")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=/moderation")
    login(client, factory)
    assert client.get("/moderation").status_code == 403
    assert client.post("/moderation/1/valider").status_code == 403


def test_moderation_queue_oldest_first(client, edition, factory, admin):
    make_site(factory, edition, name="Premier", status=SiteStatus.SUBMITTED)
    make_site(factory, edition, name="Deuxième", status=SiteStatus.SUBMITTED)
    make_site(factory, edition, name="Brouillon", status=SiteStatus.DRAFT)
    login(client, admin)
    html = client.get("/moderation").get_data(as_text=True)
    assert cards(html) == ["Premier", "Deuxième"]
    assert "claire.martin@example.org" in html  # staff see the contact


def test_approve_from_the_page(client, edition, factory, admin):
    site = make_site(factory, edition, status=SiteStatus.SUBMITTED)
    login(client, admin)
    response = client.post(f"/moderation/{site.id}/valider", follow_redirects=True)
    assert response.request.path == "/moderation"
    assert "est publié" in response.get_data(as_text=True)
    assert site.status == SiteStatus.APPROVED
    assert "Usine de Lyon Gerland" in client.get("/usines").get_data(as_text=True)


def test_reject_from_the_page_needs_a_reason(client, edition, factory, admin):
    site = make_site(factory, edition, status=SiteStatus.SUBMITTED)
    login(client, admin)
    response = client.post(f"/moderation/{site.id}/refuser", data={"reason": "  "})
    assert response.status_code == 422
    assert re.search(
        rf'id="reason-{site.id}-errors">\s*<li>Ce champ est obligatoire', response.get_data(as_text=True)
    )
    assert site.status == SiteStatus.SUBMITTED
    response = client.post(
        f"/moderation/{site.id}/refuser", data={"reason": "Adresse incomplète."}, follow_redirects=True
    )
    assert response.request.path == "/moderation" and "est refusé" in response.get_data(as_text=True)
    assert (site.status, site.rejection_reason) == (SiteStatus.REJECTED, "Adresse incomplète.")
    login(client, factory)
    assert "Adresse incomplète." in client.get("/mes-sites").get_data(as_text=True)
