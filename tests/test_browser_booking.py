"""Booking on a phone in Chromium: list → factory page → two seats on a public slot → confirmation with
the QR ticket and the .ics link → the manage link → cancel; the seats come back."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.auth.models import Role
from core.extensions import db
from jou.bookings.models import Booking, BookingStatus
from jou.models import Slot
from tests.factories import make_edition, make_site, make_user, slot_data
from tests.plugins.browser import PHONE

pytestmark = pytest.mark.browser

CAPACITY = 12


@pytest.fixture
def public_slot_id(live_server, committed_db) -> int:
    """A published factory with a Friday class slot and a Saturday public slot, open for booking."""
    edition = make_edition(date.today().year + 1, booking_opens=date.today() - timedelta(days=1))
    site = make_site(
        make_user(Role.FACTORY, email="usine@example.org"),
        edition,
        status="approved",
        name="Fonderie de Gerland",
        slots=[
            slot_data(day=edition.friday, audience="schools"),
            slot_data(
                day=edition.saturday,
                audience="public",
                start=time(9, 30),
                end=time(10, 45),
                capacity=CAPACITY,
                min_age=10,
            ),
        ],
    )
    slot_id = next(s.id for s in site.slots if s.audience == "public")
    db.session.commit()
    return slot_id


def seats_taken(slot_id: int) -> int:
    # A fresh transaction: the server's commits are not in an older snapshot.
    db.session.rollback()
    return db.session.get(Slot, slot_id).seats_taken


def assert_fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def test_visitor_books_two_seats_on_a_phone_then_cancels(page: Page, live_server, public_slot_id):
    page.set_viewport_size(PHONE)
    page.goto(live_server("/usines"))
    page.get_by_test_id("site-cards").get_by_role("link", name="Fonderie de Gerland").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fonderie de Gerland")

    row = page.get_by_test_id("slots").locator("tbody tr", has_text="Grand public")
    row.get_by_role("link", name=re.compile("^Réserver")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réserver une visite")
    expect(page.get_by_test_id("seats-left")).to_contain_text(str(CAPACITY))
    assert_fits_the_phone(page)

    form = page.get_by_test_id("booking-form")
    form.get_by_label("Nombre de places", exact=False).select_option("2")
    form.get_by_role("textbox", name="Nom").fill("Jeanne Dupont")
    form.get_by_role("textbox", name="E-mail").fill("jeanne.dupont@example.org")
    form.get_by_role("spinbutton", name="Femmes").fill("1")
    form.get_by_label(re.compile("au moins 10 ans")).check()
    form.get_by_label(re.compile("J'accepte")).check()
    form.get_by_role("button", name="Réserver").click()

    # The confirmation is the manage page: ticket, downloads, change and cancel.
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre réservation est confirmée")
    expect(page).to_have_url(re.compile(r"/reservations/[\w.-]+$"))
    manage_url = page.url
    qr = page.get_by_test_id("ticket-qr")
    expect(qr).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert qr.evaluate("img => img.naturalWidth") > 0
    ics = page.get_by_test_id("ics-link")
    expect(ics).to_be_visible()
    ics_url = live_server(ics.get_attribute("href"))
    assert ics_url == manage_url + ".ics"
    calendar = page.request.get(ics_url)
    assert calendar.ok and "BEGIN:VCALENDAR" in calendar.text()
    expect(page.get_by_test_id("party-size")).to_have_text("2")
    assert_fits_the_phone(page)
    assert seats_taken(public_slot_id) == 2

    # Later, from the link in the e-mail: cancel, with a confirmation step.
    page.goto(manage_url)
    page.get_by_role("link", name="Annuler ma réservation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler ma réservation ?")
    assert seats_taken(public_slot_id) == 2
    page.get_by_role("button", name="Oui, annuler ma réservation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réservation annulée")
    expect(page.get_by_test_id("cancelled")).to_be_visible()

    assert seats_taken(public_slot_id) == 0
    booking = db.session.query(Booking).one()
    assert booking.status == BookingStatus.CANCELLED
    page.get_by_role("link", name=re.compile("Voir les autres créneaux")).click()
    row = page.get_by_test_id("slots").locator("tbody tr", has_text="Grand public")
    expect(row).to_contain_text(f"{CAPACITY} places")


def test_a_booking_sent_in_a_rush_waits_in_line_and_goes_through_by_itself(
    page: Page, live_server, public_slot_id, use_admission
):
    """Admission control says busy: the page keeps what was typed, says "file d'attente", counts down and
    sends the form again by itself; once a turn is free the booking is confirmed, once."""
    gate = use_admission(in_flight=1, retry_after=2)
    gate.enter()  # every turn taken by other bookers
    page.set_viewport_size(PHONE)
    page.goto(live_server(f"/creneaux/{public_slot_id}/reserver"))
    form = page.get_by_test_id("booking-form")
    form.get_by_role("textbox", name="Nom").fill("Inès Moreau")
    form.get_by_role("textbox", name="E-mail").fill("ines.moreau@example.org")
    form.get_by_label(re.compile("au moins 10 ans")).check()
    form.get_by_label(re.compile("J'accepte")).check()
    form.get_by_role("button", name="Réserver").click()

    expect(page.get_by_test_id("queued")).to_contain_text("File d'attente")
    expect(page.get_by_role("textbox", name="Nom")).to_have_value("Inès Moreau")
    assert seats_taken(public_slot_id) == 0
    gate.leave()  # the rush eases before the countdown ends
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Votre réservation est confirmée", timeout=10_000
    )
    assert seats_taken(public_slot_id) == 1
    assert db.session.query(Booking).count() == 1


def test_a_waiting_party_joins_then_confirms_the_offered_seats_on_a_phone(
    page: Page, live_server, public_slot_id, smtp_server
):
    """The slot is full; Ana joins the waiting list from the booking page, sees her rank, a booker
    cancels, the e-mailed link shows the seats held for her, and one tap turns them into her ticket."""
    from jou.bookings import services
    from tests.plugins.jou import party
    from tests.plugins.mail import link_path

    holders = [services.book(public_slot_id, party(4, email=f"h{i}@example.org", ack_min_age=True))
               for i in range(CAPACITY // 4)]  # fmt: skip
    db.session.commit()
    page.set_viewport_size(PHONE)
    page.goto(live_server(f"/creneaux/{public_slot_id}/reserver"))
    waitlist = page.get_by_test_id("waitlist-form")
    waitlist.get_by_role("textbox", name="Nom").fill("Ana Lopes")
    waitlist.get_by_role("textbox", name="E-mail").fill("ana@example.org")
    waitlist.get_by_label(re.compile("au moins 10 ans")).check()
    waitlist.get_by_label(re.compile("J'accepte")).check()
    waitlist.get_by_role("button", name=re.compile("liste d'attente")).click()
    expect(page.get_by_test_id("waitlist-status")).to_contain_text("1er")
    assert_fits_the_phone(page)

    services.cancel_booking(db.session.get(Booking, holders[0].id))
    db.session.commit()
    from core.mail import deliver_pending

    deliver_pending()
    offer = next(m for m in smtp_server.to("ana@example.org") if "confirmez" in m["Subject"])
    page.goto(live_server(link_path(offer, "/liste-attente/")))
    expect(page.get_by_test_id("waitlist-status")).to_contain_text("Des places vous sont réservées jusqu'au")
    page.get_by_role("button", name="Confirmer ma réservation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre réservation est confirmée")
    expect(page.get_by_test_id("ticket-qr")).to_be_visible()
    db.session.rollback()
    ana = db.session.scalar(select(Booking).where(Booking.email == "ana@example.org"))
    assert (
        ana.status == BookingStatus.CONFIRMED and seats_taken(public_slot_id) == CAPACITY - 4 + ana.party_size
    )
