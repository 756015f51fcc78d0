"""A visitor's personal data through the manage link: download everything held about their address, erase
it (future visits cancelled, seats freed, counts kept), the audit log without personal data, and the link
afterwards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from core.audit import AuditEvent
from core.extensions import db
from core.mail import OutgoingMail
from jou.bookings import notify, privacy, services, tokens
from jou.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from jou.checkin import services as checkin_services
from jou.models import Slot
from tests.factories import make_edition, make_site, make_user, slot_data
from tests.test_bookings_services import open_edition

NAME = "Zoé Effaçable"
EMAIL = "zoe.effacable@example.org"
PHONE = "+33612345678"


def visitor(n: int = 2, email: str = EMAIL, name: str = NAME, phone: str = PHONE, **kw) -> dict:
    """A party of n: one woman and, when there is room, one man."""
    counts = {"female": 1, "male": min(1, n - 1)}
    return {"party_size": n, **counts, "name": name, "email": email, "phone": phone, "consent": True, **kw}


def public_slots(edition, capacities=(2, 1)) -> list[Slot]:  # noqa: ANN001
    site = make_site(
        edition=edition,
        status="approved",
        slots=[
            slot_data(
                day=edition.saturday,
                audience="public",
                capacity=c,
                start=time(9 + 2 * i),
                end=time(10 + 2 * i),
            )
            for i, c in enumerate(capacities)
        ],
    )
    return sorted(site.slots, key=lambda s: s.start)


@pytest.fixture
def future(db_session):
    """Zoé holds two places on a full slot (Bob waits behind her), is herself waiting on another full
    slot, and was sent her confirmation."""
    slot, other = public_slots(open_edition())
    booking = services.book(slot.id, visitor(2))
    notify.queue_confirmation(booking)
    bob = services.join_waitlist(
        slot.id, visitor(2, email="bob@example.org", name="Bob Attente", phone="+33611111111")
    )
    services.book(other.id, visitor(1, email="carla@example.org", name="Carla", phone="+33622222222"))
    waiting = services.join_waitlist(other.id, visitor(1))
    db.session.flush()
    return {
        "booking": booking,
        "slot": slot,
        "bob": bob,
        "waiting": waiting,
        "token": tokens.manage_token(booking),
        "ticket": tokens.ticket_token(booking),
    }


def string_values(*models) -> list[str]:  # noqa: ANN002
    """Every value of every row of these models' tables (or tables), as text (bytes decoded, JSON dumped)."""
    values = []
    for model in models:
        for row in db.session.execute(select(getattr(model, "__table__", model))).all():
            for value in row:
                if isinstance(value, bytes):
                    values.append(value.decode("latin-1"))
                elif isinstance(value, dict | list):
                    values.append(json.dumps(value, ensure_ascii=False))
                elif value is not None:
                    values.append(str(value))
    return values


def holds(values: list[str], *needles: str) -> list[str]:
    return [v for v in values for n in needles if n.lower() in v.lower()]


# ---- download ----------------------------------------------------------------------------------------


def test_the_download_holds_everything_about_the_address(client, future):
    response = client.get(f"/reservations/{future['token']}/donnees.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.data)
    assert data["email"] == EMAIL
    [booking] = data["bookings"]
    assert (booking["name"], booking["email"], booking["phone"]) == (NAME, EMAIL, PHONE)
    assert (booking["party_size"], booking["female"], booking["male"], booking["status"]) == (
        2,
        1,
        1,
        "confirmed",
    )
    assert booking["slot"]["site"]["name"] == future["slot"].site.name
    [entry] = data["waitlist_entries"]
    assert (entry["id"], entry["status"], entry["name"]) == (future["waiting"].id, "waiting", NAME)
    [mail] = data["emails"]
    assert mail["to"] == EMAIL and "est confirmée" in mail["subject"]
    # Nobody else's data: Bob waits on the same slot, Carla booked the other one.
    assert "bob@example.org" not in response.text and "carla" not in response.text.lower()


def test_the_api_gives_the_same_data(client, future):
    response = client.get(f"/api/v1/bookings/{future['token']}/personal-data")
    assert response.status_code == 200
    data = response.get_json()
    assert [b["id"] for b in data["bookings"]] == [future["booking"].id]
    assert [e["id"] for e in data["waitlist_entries"]] == [future["waiting"].id]


def test_a_forged_link_downloads_nothing(client, future):
    assert client.get(f"/reservations/{future['token']}x/donnees.json").status_code == 404
    assert client.get(f"/api/v1/bookings/{future['token']}x/personal-data").status_code == 401


# ---- erase -------------------------------------------------------------------------------------------


def test_the_confirmation_page_says_what_will_happen(client, future):
    page = client.get(f"/reservations/{future['token']}/effacer")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "1 visite à venir sera annulée" in text
    assert "1 inscription en liste d'attente" in text
    assert db.session.get(Booking, future["booking"].id).anonymised_at is None  # a GET changes nothing


def test_erasing_blanks_the_person_keeps_the_counts_and_frees_future_seats(client, future):
    booking, slot = future["booking"], future["slot"]
    response = client.post(f"/reservations/{future['token']}/effacer")
    assert response.status_code == 200
    assert "Vos données sont effacées" in response.get_data(as_text=True)

    db.session.expire_all()
    erased = db.session.get(Booking, booking.id)
    assert (erased.name, erased.email, erased.phone) == ("", "", None)
    assert erased.anonymised_at is not None
    assert (erased.party_size, erased.female, erased.male, erased.unspecified, erased.kind) == (
        2,
        1,
        1,
        0,
        "public",
    )
    # A future visit without a name nor an address cannot get its ticket: cancelled, its seats go to Bob.
    assert erased.status == BookingStatus.CANCELLED
    bob = db.session.get(WaitlistEntry, future["bob"].id)
    assert bob.status == WaitlistStatus.PROMOTED
    assert db.session.get(Slot, slot.id).seats_taken == 2
    waiting = db.session.get(WaitlistEntry, future["waiting"].id)
    assert (waiting.status, waiting.name, waiting.email, waiting.phone) == (
        WaitlistStatus.CANCELLED,
        "",
        "",
        None,
    )
    # Nothing about Zoé is left anywhere in these tables, and Bob's promotion mail is untouched.
    left = string_values(Booking, WaitlistEntry, OutgoingMail, AuditEvent)
    assert holds(left, EMAIL, NAME, PHONE) == []
    assert db.session.scalar(select(OutgoingMail).where(OutgoingMail.to_address == "bob@example.org"))


def test_the_erasure_is_in_the_audit_log_without_personal_data(client, future):
    booking = future["booking"]
    client.post(f"/reservations/{future['token']}/effacer")
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "booking", AuditEvent.entity_id == booking.id)
        .order_by(AuditEvent.id)
    ).all()
    actions = [e.action for e in events]
    assert actions[-2:] == ["booking.cancel", "booking.erase"]
    erase = events[-1]
    assert erase.changes == {"name": "changed", "email": "changed", "phone": "changed"}
    # A visitor who gave no phone: the erasure does not claim one was changed.
    assert privacy.erased_fields(Booking(name="Léa", email="lea@example.org", phone=None)) == {
        "name": "changed",
        "email": "changed",
    }
    assert erase.actor_id is None and "visiteur" in erase.actor_label
    assert holds(string_values(AuditEvent), EMAIL, NAME) == []


def test_after_erasure_the_link_answers_a_clear_message(client, future):
    token = future["token"]
    assert client.post(f"/reservations/{token}/effacer").status_code == 200
    for url in (
        f"/reservations/{token}",
        f"/reservations/{token}/effacer",
        f"/reservations/{token}/donnees.json",
        f"/reservations/{token}.ics",
        f"/billets/{future['ticket']}.png",
        f"/billets/{future['ticket']}.svg",
    ):
        page = client.get(url)
        assert page.status_code == 410, url
        assert "ont été effacées" in page.get_data(as_text=True)
    # A second erase (a double click, the back button) changes nothing and says the same.
    assert client.post(f"/reservations/{token}/effacer").status_code == 410
    assert client.post(f"/reservations/{token}/annuler").status_code == 410
    api = client.get(f"/api/v1/bookings/{token}")
    assert api.status_code == 410 and api.get_json()["error"]["code"] == "data_erased"
    again = client.delete(f"/api/v1/bookings/{token}/personal-data")
    assert again.status_code == 410


def test_the_api_erases_and_reports(client, future):
    response = client.delete(f"/api/v1/bookings/{future['token']}/personal-data")
    assert response.status_code == 200
    assert response.get_json() == {"bookings": 1, "cancelled": 1, "waitlist_entries": 1, "emails": 1}
    assert db.session.scalar(select(Booking.email).where(Booking.id == future["booking"].id)) == ""


def test_every_booking_of_the_address_is_erased_from_one_link(db_session, future):
    slot = public_slots(open_edition(), capacities=(4,))[0]
    second = services.book(slot.id, visitor(1, email=EMAIL.upper()))
    done = privacy.erase_person(future["booking"])
    assert (done.bookings, done.cancelled) == (2, 2)
    db.session.refresh(second)
    assert second.anonymised_at is not None and second.status == BookingStatus.CANCELLED


def test_a_past_visit_keeps_its_status_counts_and_check_in(db_session):
    edition = make_edition(2024)
    slot = public_slots(edition, capacities=(6,))[0]
    booking = services.book(slot.id, visitor(3, male=2), now=datetime(2024, 2, 1, 10, tzinfo=UTC))
    steward = make_user("factory")
    visit = datetime.combine(slot.day, time(9, 5), tzinfo=UTC)
    checkin_services.check_in(steward, slot, tokens.ticket_token(booking), admitted=2, now=visit)
    before = checkin_services.slot_attendance(slot)

    done = privacy.erase_person(booking, now=datetime(2024, 6, 1, tzinfo=UTC))
    assert (done.bookings, done.cancelled) == (1, 0)
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED and booking.email == ""
    after = checkin_services.slot_attendance(slot)
    assert (after.female, after.male, after.unspecified, after.booked, after.checked_in) == (
        before.female, before.male, before.unspecified, before.booked, before.checked_in,
    )  # fmt: skip
    assert after.checked_in == 2
