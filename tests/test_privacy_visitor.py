"""A visitor's personal data. Authority follows proof: the manage link (which anyone who typed the address
gets) covers its booking only; everything held about an address — download, erase — goes through a link
e-mailed to that address. Erasing cancels future visits (seats freed, waiting list served), keeps the
counts, leaves the audit log without personal data, and the links answer 410 afterwards."""

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
from jou.checkin import attendance as gate_counts
from jou.checkin import services as checkin_services
from jou.models import Slot
from tests.factories import make_edition, make_site, make_user, slot_data
from tests.plugins.jou import holds, open_edition, string_values
from tests.plugins.mail import link_path, text_body

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
    slot, was sent her confirmation, and holds one more booking on a third slot."""
    edition = open_edition()
    slot, other = public_slots(edition)
    third = public_slots(edition, capacities=(1, 1, 4))[2]  # at 13:00, apart from the others
    booking = services.book(slot.id, visitor(2))
    notify.queue_confirmation(booking)
    bob = services.join_waitlist(
        slot.id, visitor(2, email="bob@example.org", name="Bob Attente", phone="+33611111111")
    )
    services.book(other.id, visitor(1, email="carla@example.org", name="Carla", phone="+33622222222"))
    waiting = services.join_waitlist(other.id, visitor(1))
    second = services.book(third.id, visitor(1))
    db.session.flush()
    return {
        "booking": booking,
        "second": second,
        "slot": slot,
        "bob": bob,
        "waiting": waiting,
        "token": tokens.manage_token(booking),
        "ticket": tokens.ticket_token(booking),
    }


def privacy_mails(smtp_server, email: str) -> list:  # noqa: ANN001
    return [m for m in smtp_server.to(email) if "données personnelles" in m["Subject"]]


def erase_link(action: privacy.PrivacyAction = privacy.PrivacyAction.ERASE, email: str = EMAIL) -> str:
    """What the e-mailed link carries (the tests of the e-mail itself follow it from the message)."""
    return privacy.privacy_token(email, action)


# ---- the manage link: this booking only --------------------------------------------------------------


def test_the_manage_link_downloads_this_booking_only(client, future):
    response = client.get(f"/reservations/{future['token']}/donnees.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.data)
    [booking] = data["bookings"]
    assert booking["id"] == future["booking"].id
    assert (booking["name"], booking["email"], booking["phone"]) == (NAME, EMAIL, PHONE)
    assert (booking["party_size"], booking["female"], booking["male"], booking["status"]) == (
        2,
        1,
        1,
        "confirmed",
    )
    [mail] = data["emails"]
    assert mail["to"] == EMAIL and "est confirmée" in mail["subject"]
    # Not the address's other records: its waiting-list entry and its other booking need the e-mailed link.
    assert data["waitlist_entries"] == [] and "email" not in data
    api = client.get(f"/api/v1/bookings/{future['token']}/personal-data")
    assert api.status_code == 200 and api.headers["Cache-Control"] == "no-store"
    assert [b["id"] for b in api.get_json()["bookings"]] == [future["booking"].id]


def test_booking_with_someone_elses_address_gives_no_power_over_their_data(client, future):
    """The probe's attack: book any slot with the victim's address, then use the manage link returned."""
    slot = public_slots(open_edition(), capacities=(1, 1, 1, 3))[3]  # at 15:00
    made = client.post(
        f"/api/v1/slots/{slot.id}/bookings", json=visitor(1, name="Mallory", phone="+33699999999")
    )
    assert made.status_code == 201, made.get_json()
    token = made.get_json()["manage_url"].rsplit("/", 1)[1]
    seen = client.get(f"/api/v1/bookings/{token}/personal-data")
    assert seen.status_code == 200
    assert NAME not in seen.get_data(as_text=True) and PHONE not in seen.get_data(as_text=True)
    assert [b["name"] for b in seen.get_json()["bookings"]] == ["Mallory"]
    erased = client.delete(f"/api/v1/bookings/{token}/personal-data")
    assert erased.get_json() == {"bookings": 1, "cancelled": 1, "waitlist_entries": 0, "emails": 1}
    db.session.expire_all()
    for key in ("booking", "second"):
        kept = db.session.get(Booking, future[key].id)
        assert (kept.status, kept.name, kept.email) == (BookingStatus.CONFIRMED, NAME, EMAIL)
    assert db.session.get(WaitlistEntry, future["waiting"].id).status == WaitlistStatus.WAITING


def test_a_forged_link_downloads_nothing(client, future):
    assert client.get(f"/reservations/{future['token']}x/donnees.json").status_code == 404
    assert client.get(f"/api/v1/bookings/{future['token']}x/personal-data").status_code == 401
    # A manage token is no privacy link, and the reverse.
    assert client.get(f"/mes-donnees/{future['token']}").status_code == 404
    assert client.get(f"/api/v1/privacy/requests/{future['token']}").status_code == 404
    assert client.get(f"/reservations/{erase_link()}").status_code == 404


def test_the_manage_link_erases_its_booking_and_nothing_else(client, future):
    page = client.get(f"/reservations/{future['token']}/effacer")
    assert page.status_code == 200 and "Cette visite à venir sera annulée" in page.get_data(as_text=True)
    assert db.session.get(Booking, future["booking"].id).anonymised_at is None  # a GET changes nothing
    response = client.post(f"/reservations/{future['token']}/effacer")
    assert response.status_code == 200 and "Vos données sont effacées" in response.get_data(as_text=True)
    db.session.expire_all()
    erased = db.session.get(Booking, future["booking"].id)
    assert (erased.name, erased.email, erased.phone, erased.status) == ("", "", None, BookingStatus.CANCELLED)
    # Its seats are offered to Bob; Zoé's other booking and waiting-list entry are hers still.
    assert db.session.get(WaitlistEntry, future["bob"].id).status == WaitlistStatus.OFFERED
    other = db.session.get(Booking, future["second"].id)
    assert (other.name, other.status) == (NAME, BookingStatus.CONFIRMED)
    assert db.session.get(WaitlistEntry, future["waiting"].id).name == NAME


def test_the_api_erases_a_booking_and_reports(client, future):
    response = client.delete(f"/api/v1/bookings/{future['token']}/personal-data")
    assert response.status_code == 200
    assert response.get_json() == {"bookings": 1, "cancelled": 1, "waitlist_entries": 0, "emails": 1}
    assert db.session.scalar(select(Booking.email).where(Booking.id == future["booking"].id)) == ""


# ---- the address: a link e-mailed to it -------------------------------------------------------------


def test_asking_for_a_link_answers_the_same_for_any_address(client, future, smtp_server):
    answers = [
        client.post("/api/v1/privacy/requests", json={"email": email, "action": "export"})
        for email in (EMAIL, "nobody.here@example.org")
    ]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].get_json() == answers[1].get_json()
    # Each address gets its link: whoever asked learns nothing, whoever reads the mailbox can act.
    assert len(privacy_mails(smtp_server, EMAIL)) == 1
    assert len(privacy_mails(smtp_server, "nobody.here@example.org")) == 1
    bad = client.post("/api/v1/privacy/requests", json={"email": "pas-une-adresse", "action": "steal"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"email", "action"}


def test_the_emailed_link_gives_everything_about_the_address(client, future, smtp_server):
    client.post("/api/v1/privacy/requests", json={"email": EMAIL.upper(), "action": "export"})
    [message] = privacy_mails(smtp_server, EMAIL)
    assert "24 heures" in text_body(message)
    page = client.get(link_path(message, "/mes-donnees/"))
    assert page.status_code == 200 and "2 réservations" in page.get_data(as_text=True)
    assert "Effacer" not in page.get_data(as_text=True)  # an export link shows no erase button
    token = link_path(message, "/mes-donnees/").rsplit("/", 1)[1]
    download = client.get(f"/mes-donnees/{token}/donnees.json")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    data = json.loads(download.data)
    assert data["email"] == EMAIL
    assert sorted(b["id"] for b in data["bookings"]) == sorted([future["booking"].id, future["second"].id])
    assert [e["id"] for e in data["waitlist_entries"]] == [future["waiting"].id]
    # The confirmation, the waiting list's (its rank and link) and this link.
    assert [m["to"] for m in data["emails"]] == [EMAIL, EMAIL, EMAIL]
    # Nobody else's data: Bob waits on the same slot, Carla booked the other one.
    assert "bob@example.org" not in download.text and "carla" not in download.text.lower()
    api = client.get(f"/api/v1/privacy/requests/{token}")
    assert api.status_code == 200 and api.get_json()["bookings"] == data["bookings"]


def test_the_page_asks_for_a_link_without_telling_who_booked(client, future, smtp_server):
    known = client.post("/mes-donnees", data={"email": EMAIL, "action": "erase"}, follow_redirects=True)
    unknown = client.post(
        "/mes-donnees", data={"email": "personne@example.org", "action": "erase"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert len(privacy_mails(smtp_server, EMAIL)) == 1
    bad = client.post("/mes-donnees", data={"email": "x", "action": "erase"})
    assert bad.status_code == 422 and "adresse e-mail" in bad.get_data(as_text=True).lower()


def test_an_export_link_cannot_erase(client, future):
    token = erase_link(privacy.PrivacyAction.EXPORT)
    assert client.delete(f"/api/v1/privacy/requests/{token}").status_code == 403
    client.post(f"/mes-donnees/{token}")
    db.session.expire_all()
    assert db.session.get(Booking, future["booking"].id).anonymised_at is None


def test_an_expired_link_does_nothing(client, future, app, monkeypatch):
    token = erase_link()
    monkeypatch.setitem(app.config, "PRIVACY_LINK_MAX_AGE", -1)
    assert client.get(f"/mes-donnees/{token}").status_code == 404
    response = client.delete(f"/api/v1/privacy/requests/{token}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "invalid_link"
    assert db.session.get(Booking, future["booking"].id).anonymised_at is None


def test_the_erase_link_says_what_will_happen(client, future):
    page = client.get(f"/mes-donnees/{erase_link()}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "1 visite à venir sera annulée" not in text and "2 visites à venir seront annulées" in text
    assert "1 inscription en liste d'attente" in text
    assert db.session.get(Booking, future["booking"].id).anonymised_at is None  # a GET changes nothing


def test_erasing_blanks_the_person_keeps_the_counts_and_frees_future_seats(client, future):
    booking, slot = future["booking"], future["slot"]
    response = client.post(f"/mes-donnees/{erase_link()}")
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
    # A future visit without a name nor an address cannot get its ticket: cancelled, its seats offered to Bob.
    assert erased.status == BookingStatus.CANCELLED
    bob = db.session.get(WaitlistEntry, future["bob"].id)
    assert bob.status == WaitlistStatus.OFFERED
    assert db.session.get(Slot, slot.id).seats_taken == 2
    waiting = db.session.get(WaitlistEntry, future["waiting"].id)
    assert (waiting.status, waiting.name, waiting.email, waiting.phone) == (
        WaitlistStatus.CANCELLED,
        "",
        "",
        None,
    )
    assert db.session.get(Booking, future["second"].id).status == BookingStatus.CANCELLED
    # Nothing about Zoé is left anywhere in these tables, and Bob's offer mail is untouched.
    left = string_values(Booking, WaitlistEntry, OutgoingMail, AuditEvent)
    assert holds(left, EMAIL, NAME, PHONE) == []
    assert db.session.scalar(select(OutgoingMail).where(OutgoingMail.to_address == "bob@example.org"))


def test_the_api_erases_the_address_and_reports(client, future):
    response = client.delete(f"/api/v1/privacy/requests/{erase_link()}")
    assert response.status_code == 200
    assert response.get_json() == {"bookings": 2, "cancelled": 2, "waitlist_entries": 1, "emails": 2}
    assert db.session.scalar(select(Booking.email).where(Booking.id == future["booking"].id)) == ""


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


def test_every_booking_of_the_address_is_erased(db_session, future):
    done = privacy.erase_person(EMAIL.upper())
    assert (done.bookings, done.cancelled, done.waitlist_entries) == (2, 2, 1)
    db.session.refresh(future["second"])
    assert future["second"].anonymised_at is not None and future["second"].status == BookingStatus.CANCELLED


def test_a_past_visit_keeps_its_status_counts_and_check_in(db_session):
    edition = make_edition(2024)
    slot = public_slots(edition, capacities=(6,))[0]
    booking = services.book(slot.id, visitor(3, male=2), now=datetime(2024, 2, 1, 10, tzinfo=UTC))
    steward = make_user("factory")
    visit = datetime.combine(slot.day, time(9, 5), tzinfo=UTC)
    checkin_services.check_in(steward, slot, tokens.ticket_token(booking), admitted=2, now=visit)
    before = gate_counts.slot_attendance(slot)

    done = privacy.erase_person(EMAIL, now=datetime(2024, 6, 1, tzinfo=UTC))
    assert (done.bookings, done.cancelled) == (1, 0)
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED and booking.email == ""
    after = gate_counts.slot_attendance(slot)
    assert (after.female, after.male, after.unspecified, after.booked, after.checked_in) == (
        before.female, before.male, before.unspecified, before.booked, before.checked_in,
    )  # fmt: skip
    assert after.checked_in == 2
