"""Booking pages with the Flask test client: the booking form (party and class), the waiting list, the
manage page behind the signed link, and the factory's bookings page, CSV export and message."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.extensions import db
from core.schools import School
from jou.bookings import services as booking_services
from jou.bookings import tokens
from jou.bookings.models import Booking, BookingStatus, WaitlistEntry
from jou.models import Slot
from tests.factories import login, make_edition, make_site, make_user, slot_data
from tests.plugins.jou import enrolled
from tests.plugins.mail import text_body
from tests.plugins.pmi import make_school

VALID_UAI = "0690001B"  # check letter: "ABCDEFGHJKLMNPRSTUVWXYZ"[690001 % 23]


@pytest.fixture
def edition(db_session):
    # Booking is open from yesterday whatever the date the tests run on; the days stay in the future.
    year = date.today().year + 1
    return make_edition(year, booking_opens=date.today() - timedelta(days=1))


@pytest.fixture
def owner(db_session):
    return make_user(Role.FACTORY, email="usine@example.org")


@pytest.fixture
def site(edition, owner):
    site = make_site(
        owner,
        edition,
        status="approved",
        slots=[
            slot_data(day=edition.friday, audience="schools", capacity=30),
            slot_data(day=edition.saturday, audience="public", capacity=10, start=time(14), end=time(16)),
            slot_data(
                day=edition.saturday,
                audience="public",
                capacity=4,
                min_age=12,
                protective_equipment="Chaussures fermées",
                start=time(9),
                end=time(10),
            ),
        ],
    )
    # Into the test's outer transaction: a page that rolls back its own work keeps these.
    db.session.commit()
    return site


def slot_of(site, audience: str, **where) -> Slot:  # noqa: ANN001
    return next(
        s for s in site.slots if s.audience == audience and all(getattr(s, k) == v for k, v in where.items())
    )


@pytest.fixture
def public_slot(site) -> Slot:
    return slot_of(site, "public", capacity=10)


@pytest.fixture
def school_slot(site) -> Slot:
    enrolled(VALID_UAI)
    return slot_of(site, "schools")


def public_form(**overrides) -> dict:
    form = {
        "idempotency_key": "",
        "party_size": "2",
        "name": "Jeanne Dupont",
        "email": "jeanne.dupont@example.org",
        "phone": "06 12 34 56 78",
        "female": "1",
        "male": "",
        "consent": "on",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def school_form(**overrides) -> dict:
    form = {
        "idempotency_key": "",
        "uai": VALID_UAI,
        "level": "3e",
        "female": "12",
        "male": "10",
        "unspecified": "2",
        "adults": "3",
        "name": "Paul Martin",
        "email": "paul.martin@ac-lyon.fr",
        "phone": "",
        "consent": "on",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def booking_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def hidden_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def field_errors(html: str, name: str) -> list[str]:
    block = re.search(rf'<ul class="field-errors" id="{name}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def book(client, slot: Slot, form: dict):  # noqa: ANN001, ANN201
    return client.post(f"/creneaux/{slot.id}/reserver", data=form)


def manage_path(response) -> str:  # noqa: ANN001
    assert response.status_code == 302, response.get_data(as_text=True)
    path = response.headers["Location"]
    assert re.fullmatch(r"/reservations/[\w.-]+", path), path
    return path


# --- booking form --------------------------------------------------------------------------------


def test_site_page_links_each_slot_to_its_booking_form(client, site, public_slot):
    html = client.get(f"/usines/{site.id}").get_data(as_text=True)
    assert f'href="/creneaux/{public_slot.id}/reserver"' in html
    assert "Réserver" in html


def test_public_form_offers_party_sizes_up_to_the_edition_limit(client, edition, public_slot):
    response = client.get(f"/creneaux/{public_slot.id}/reserver")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    options = re.findall(r'<option value="(\d+)"', html.split('name="party_size"')[1].split("</select>")[0])
    assert options == [str(n) for n in range(1, edition.max_party_size + 1)]
    assert re.fullmatch(r"[0-9a-f]{32}", hidden_key(html))
    assert 'name="csrf_token"' in html
    assert "effacés une fois l'édition terminée" in html  # the privacy text says how long data is kept
    assert 'name="ack_min_age"' not in html  # this slot has no minimum age


def test_public_booking_happy_path(client, outbox, public_slot):
    key = hidden_key(client.get(f"/creneaux/{public_slot.id}/reserver").get_data(as_text=True))
    path = manage_path(book(client, public_slot, public_form(idempotency_key=key)))

    booking = db.session.scalar(select(Booking))
    assert (booking.party_size, booking.female, booking.male, booking.unspecified) == (2, 1, 0, 1)
    assert booking.phone == "+33612345678"
    db.session.refresh(public_slot)
    assert public_slot.seats_taken == 2

    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Votre réservation est confirmée" in html
    assert f'src="/billets/{tokens.ticket_token(booking)}.png"' in html
    assert f'href="{path}.ics"' in html
    assert "Atelier du Louvre" in html and "1 rue de Rivoli" in html
    assert client.get(f"/billets/{tokens.ticket_token(booking)}.png").status_code == 200
    assert client.get(f"{path}.ics").status_code == 200
    assert len(list(outbox.glob("*.eml"))) == 1  # the confirmation, sent after the commit


def test_school_booking_happy_path(client, outbox, school_slot):
    response = client.get(f"/creneaux/{school_slot.id}/reserver")
    html = response.get_data(as_text=True)
    assert 'name="uai"' in html and 'name="adults"' in html and 'name="party_size"' not in html

    path = manage_path(book(client, school_slot, school_form(idempotency_key=hidden_key(html))))
    booking = db.session.scalar(select(Booking))
    assert (booking.kind, booking.uai, booking.level) == ("school", VALID_UAI, "3e")
    assert (booking.female, booking.male, booking.unspecified, booking.adults) == (12, 10, 2, 3)
    assert booking.party_size == 27
    html = client.get(path).get_data(as_text=True)
    assert "12 filles, 10 garçons, 2 non précisé" in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"party_size": "0"}, "party_size", "Doit être entre 1 et"),
        ({"consent": None}, "consent", "Votre accord est nécessaire"),
        ({"email": "jeanne.example.org"}, "email", "Adresse e-mail invalide."),
        ({"name": "  "}, "name", "Ce champ est obligatoire."),
    ],
)
def test_public_form_errors_in_french(client, public_slot, overrides, field, message):
    form = public_form(**overrides)
    response = book(client, public_slot, form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(message in m for m in field_errors(html, field)), (field, field_errors(html, field))
    assert "Le formulaire contient des erreurs" in html
    assert 'value="Jeanne Dupont"' in html or field == "name"  # typed values kept
    assert booking_count() == 0
    db.session.refresh(public_slot)
    assert public_slot.seats_taken == 0


def test_party_above_the_edition_limit_is_refused(client, edition, public_slot):
    response = book(client, public_slot, public_form(party_size=str(edition.max_party_size + 1)))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "party_size")
    assert booking_count() == 0


def test_school_chosen_by_name_without_javascript(client, school_slot):
    """The autocomplete fills the hidden UAI; without it, the words typed must name one school."""
    make_school(name="Collège Jean Moulin", city="Lyon", department="69")
    make_school(name="Collège Jean Moulin", city="Arras", department="62")
    ambiguous = book(client, school_slot, school_form(uai="", school_search="Jean Moulin"))
    html = ambiguous.get_data(as_text=True)
    assert ambiguous.status_code == 422 and booking_count() == 0
    assert field_errors(html, "uai") == [
        "Choisissez l&#39;établissement dans la liste (nom, commune ou UAI)."
    ]
    assert 'value="Jean Moulin"' in html  # what was typed stays in the box

    lyon = db.session.scalar(select(School).where(School.city == "Lyon"))
    book(client, school_slot, school_form(uai="", school_search="jean moulin lyon"))
    assert db.session.scalar(select(Booking.uai)) == lyon.uai


def test_school_form_offers_the_directory_search(client, school_slot):
    html = client.get(f"/creneaux/{school_slot.id}/reserver").get_data(as_text=True)
    assert 'data-api="/api/v1/schools"' in html and "js/school-autocomplete.js" in html
    assert 'role="combobox"' in html and 'type="hidden" name="uai"' in html


def test_school_form_rejects_an_invalid_uai(client, school_slot):
    response = book(client, school_slot, school_form(uai="0690001A"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any("UAI" in m for m in field_errors(html, "uai")), field_errors(html, "uai")
    assert 'value="0690001A"' in html
    assert booking_count() == 0


def test_notices_must_be_acknowledged_when_the_slot_has_them(client, site):
    slot = slot_of(site, "public", capacity=4)
    html = client.get(f"/creneaux/{slot.id}/reserver").get_data(as_text=True)
    assert "12 ans" in html and "Chaussures fermées" in html
    response = book(client, slot, public_form())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(html, "ack_min_age") and field_errors(html, "ack_equipment")
    assert booking_count() == 0
    response = book(client, slot, public_form(ack_min_age="on", ack_equipment="on"))
    assert response.status_code == 302


def test_replayed_idempotency_key_gives_one_booking(client, public_slot):
    key = hidden_key(client.get(f"/creneaux/{public_slot.id}/reserver").get_data(as_text=True))
    first = manage_path(book(client, public_slot, public_form(idempotency_key=key)))
    second = manage_path(book(client, public_slot, public_form(idempotency_key=key)))
    assert first == second
    assert booking_count() == 1
    db.session.refresh(public_slot)
    assert public_slot.seats_taken == 2


def test_unpublished_site_slot_is_not_found(client, edition, owner):
    draft = make_site(owner, edition, status="draft")
    assert client.get(f"/creneaux/{draft.slots[0].id}/reserver").status_code == 404
    assert client.get("/creneaux/999999/reserver").status_code == 404


# --- full slot and waiting list ------------------------------------------------------------------


def fill(slot: Slot) -> None:
    """Every seat of a small public slot taken by someone else."""
    data = {"party_size": slot.seats_left, "name": "Alix", "email": "alix@example.org", "consent": True,
            "ack_min_age": True, "ack_equipment": True}  # fmt: skip
    booking_services.book(slot.id, data)
    db.session.commit()


def test_full_slot_shows_complet_and_the_waiting_list_form(client, site):
    slot = slot_of(site, "public", capacity=4)
    fill(slot)
    assert slot.seats_left == 0

    html = client.get(f"/creneaux/{slot.id}/reserver").get_data(as_text=True)
    assert "Complet" in html
    assert f'action="/creneaux/{slot.id}/liste-attente"' in html
    assert 'data-testid="booking-form"' not in html
    assert 'name="ack_min_age"' in html  # the notices hold for the waiting list too

    bad = client.post(f"/creneaux/{slot.id}/liste-attente", data=public_form(email="nope"))
    assert bad.status_code == 422
    assert field_errors(bad.get_data(as_text=True), "email")
    assert 'value="Jeanne Dupont"' in bad.get_data(as_text=True)

    acks = {"ack_min_age": "on", "ack_equipment": "on"}
    response = client.post(f"/creneaux/{slot.id}/liste-attente", data=public_form(**acks))
    assert response.status_code == 302
    entry = db.session.scalar(select(WaitlistEntry))
    assert (entry.slot_id, entry.party_size, entry.email) == (slot.id, 2, "jeanne.dupont@example.org")
    assert "inscrit·e sur la liste d" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_booking_a_slot_that_just_filled_up_says_complet(client, site):
    slot = slot_of(site, "public", capacity=4)
    form = public_form(party_size="2", ack_min_age="on", ack_equipment="on")
    key = hidden_key(client.get(f"/creneaux/{slot.id}/reserver").get_data(as_text=True))
    fill(slot)
    response = book(client, slot, {**form, "idempotency_key": key})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Complet" in html and "liste-attente" in html
    assert booking_count() == 1


# --- manage page ---------------------------------------------------------------------------------


@pytest.fixture
def booked(client, public_slot) -> str:
    return manage_path(book(client, public_slot, public_form(idempotency_key="k-manage")))


def test_manage_page_changes_the_party_size(client, public_slot, booked):
    response = client.post(f"{booked}/modifier", data={"party_size": "3", "female": "1", "male": "1"})
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    db.session.refresh(booking)
    assert (booking.party_size, booking.female, booking.male, booking.unspecified) == (3, 1, 1, 1)
    db.session.refresh(public_slot)
    assert public_slot.seats_taken == 3

    too_many = client.post(f"{booked}/modifier", data={"party_size": "0"})
    assert too_many.status_code == 422
    assert field_errors(too_many.get_data(as_text=True), "party_size")
    db.session.refresh(public_slot)
    assert public_slot.seats_taken == 3


def test_manage_page_cancels_with_a_confirmation_step(client, outbox, public_slot, booked):
    confirm = client.get(f"{booked}/annuler")
    assert confirm.status_code == 200
    assert "Oui, annuler ma réservation" in confirm.get_data(as_text=True)
    db.session.refresh(public_slot)
    assert public_slot.seats_taken == 2  # nothing happens before the confirmation

    response = client.post(f"{booked}/annuler")
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED
    db.session.refresh(public_slot)
    assert public_slot.seats_taken == 0
    html = client.get(booked).get_data(as_text=True)
    assert "Réservation annulée" in html and "/modifier" not in html


@pytest.mark.parametrize("suffix", ["", "/annuler", ".ics"])
def test_tampered_manage_link_is_a_clear_404(client, booked, suffix):
    token = booked.rsplit("/", 1)[1]
    # The first character (in the signed payload): the last one of a base64 signature may carry
    # unused bits, so changing it can leave the signature the same.
    tampered = ("X" if token[0] != "X" else "Y") + token[1:]
    response = client.get(f"/reservations/{tampered}{suffix}")
    assert response.status_code == 404
    assert "lien" in response.get_data(as_text=True)
    assert client.post(f"/reservations/{tampered}/annuler").status_code == 404


# --- factory side --------------------------------------------------------------------------------


@pytest.fixture
def with_bookings(client, site, public_slot, school_slot, edition):
    book(client, public_slot, public_form(idempotency_key="k1", name="=Jeanne; « Dupont »"))
    book(client, public_slot, public_form(idempotency_key="k2", email="li@example.org", name="Li", female=""))
    book(client, school_slot, school_form(idempotency_key="k3"))
    other = make_site(make_user(Role.FACTORY), edition, status="approved", name="Autre usine")
    book(client, other.slots[1], public_form(idempotency_key="k4", name="Ailleurs"))
    assert booking_count() == 4
    return other


def test_factory_bookings_page_permissions(client, site, owner, with_bookings):
    url = f"/mes-sites/{site.id}/reservations"
    assert client.get(url).status_code == 302  # to the sign-in page
    login(client, make_user(Role.FACTORY))
    assert client.get(url).status_code == 404
    assert client.get(f"/mes-sites/{site.id}/reservations.csv").status_code == 404
    login(client, make_user(Role.ADMIN))
    assert client.get(url).status_code == 200
    login(client, owner)
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Li" in html and "Paul Martin" in html and "Ailleurs" not in html
    assert "Femmes : 1 · Hommes : 0 · Non précisé : 3" in " ".join(html.split())
    assert "<strong>6</strong> places restantes sur 10" in " ".join(html.split())


def test_factory_csv_export_opens_in_french_excel(client, site, owner, with_bookings):
    login(client, owner)
    response = client.get(f"/mes-sites/{site.id}/reservations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Jour", "Début", "Fin", "Public", "Statut"]
    assert "Places" in rows[0] and "E-mail" in rows[0]
    body = rows[1:]
    assert len(body) == 3
    names = {r[rows[0].index("Nom")] for r in body}
    assert names == {"'=Jeanne; « Dupont »", "Li", "Paul Martin"}  # a formula is never run by Excel
    school = next(r for r in body if r[rows[0].index("Nom")] == "Paul Martin")
    assert school[rows[0].index("UAI")] == VALID_UAI
    assert school[rows[0].index("Places")] == "27"
    assert "Ailleurs" not in raw.decode("utf-8-sig")


def test_factory_messages_the_bookers_of_a_slot(client, site, owner, public_slot, with_bookings, smtp_server):
    login(client, owner)
    url = f"/mes-sites/{site.id}/creneaux/{public_slot.id}/message"
    smtp_server.clear()
    bad = client.post(url, data={"subject": "", "body": "x"})
    assert bad.status_code == 422
    assert field_errors(bad.get_data(as_text=True), "subject")

    response = client.post(
        url, data={"subject": "Changement d'horaire", "body": "La visite commence à 14h30."}
    )
    assert response.status_code == 302
    received = sorted(a for e in smtp_server.envelopes for a in e.rcpt_tos)
    assert received == ["jeanne.dupont@example.org", "li@example.org"]
    assert "14h30" in text_body(smtp_server.messages[0])
    assert "Changement d'horaire" in smtp_server.messages[0]["Subject"]


def test_factory_cannot_message_a_slot_of_another_site(client, site, owner, with_bookings):
    login(client, owner)
    other_slot = with_bookings.slots[1]
    response = client.post(
        f"/mes-sites/{site.id}/creneaux/{other_slot.id}/message", data={"subject": "x", "body": "y"}
    )
    assert response.status_code == 404
