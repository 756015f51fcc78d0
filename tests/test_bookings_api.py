"""The booking API: 201 with ticket links, 409 complet, 422 field errors, 404, idempotency, manage link."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.extensions import db
from jou.bookings import services
from jou.bookings.models import Booking
from tests.plugins.jou import UAI, party, public_slot, school_class, seats_taken, slots_of


def post(client, slot_id: int, body: dict, key: str | None = None):  # noqa: ANN001, ANN201
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/slots/{slot_id}/bookings", json=body, headers=headers)


def test_public_booking_answers_201_with_links(client):
    slot = public_slot(capacity=5)
    response = post(client, slot.id, party(2, phone="06 12 34 56 78"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["party_size"] == 2 and data["id"] and data["ticket_token"]
    for key in ("qr_png_url", "qr_svg_url", "ics_url", "manage_url"):
        assert data[key].startswith("http://127.0.0.1:5000/")  # PUBLIC_BASE_URL, never the Host header
    assert data["qr_png_url"].endswith(f"/billets/{data['ticket_token']}.png")
    assert data["phone"] == "+33612345678"
    manage = data["manage_url"].rsplit("/", 1)[1]
    got = client.get(f"/api/v1/bookings/{manage}")
    assert got.status_code == 200 and got.get_json()["id"] == data["id"]


def test_links_ignore_a_forged_host_header(client, app):
    slot = public_slot(capacity=5)
    response = client.post(
        f"/api/v1/slots/{slot.id}/bookings", json=party(1), headers={"Host": "evil.example"}
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    base = app.config["PUBLIC_BASE_URL"]
    for key in ("qr_png_url", "qr_svg_url", "ics_url", "manage_url"):
        assert data[key].startswith(base + "/") and "evil.example" not in data[key]


def test_school_booking_through_the_same_endpoint(client):
    _, slot = slots_of(capacity=40)
    response = post(client, slot.id, school_class())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["party_size"] == 26 and response.get_json()["uai"] == UAI


def test_full_slot_answers_409_complet(client):
    slot = public_slot(capacity=2)
    assert post(client, slot.id, party(2)).status_code == 201
    response = post(client, slot.id, party(1, email="bob@example.org"))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "slot_full" and "complet" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (party(0), "party_size"),
        (party(7), "party_size"),
        (party(2, email="pas-une-adresse"), "email"),
        ({k: v for k, v in party(2).items() if k != "consent"}, "consent"),
        (party(2, consent=False), "consent"),
        (party(2, unknown=1), "unknown"),
    ],
)
def test_bad_public_input_answers_422(client, body, field):
    slot = public_slot(capacity=50)
    db.session.commit()  # as in life: the slot exists before the request, whatever the request undoes
    response = post(client, slot.id, body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert seats_taken(slot) == 0 and db.session.query(Booking).count() == 0


def test_invalid_uai_answers_422(client):
    _, slot = slots_of(capacity=40)
    response = post(client, slot.id, school_class(uai="0750001A"))
    assert response.status_code == 422
    assert "UAI" in response.get_json()["error"]["fields"]["uai"][0]


def test_unpublished_or_unknown_slot_answers_404(client):
    slot = slots_of(status="draft")[0]
    assert post(client, slot.id, party()).status_code == 404
    assert post(client, 999999, party()).status_code == 404


def test_per_email_limit_answers_409(client):
    slot = public_slot(capacity=50)
    assert post(client, slot.id, party(1)).status_code == 201
    response = post(client, slot.id, party(1))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "overlapping_booking"


def test_idempotency_key_replays_the_same_booking(client):
    slot = public_slot(capacity=5)
    first = post(client, slot.id, party(2), key="abc-123")
    again = post(client, slot.id, party(2), key="abc-123")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert seats_taken(slot) == 2


def test_a_reused_idempotency_key_with_another_body_reveals_nothing(client):
    slot = public_slot(capacity=5)
    mine = party(2, name="Alice Martin", phone="06 12 34 56 78")
    assert post(client, slot.id, mine, key="shared-key").status_code == 201
    theirs = party(1, email="mallory@example.org", name="Mallory")
    response = post(client, slot.id, theirs, key="shared-key")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    text = response.get_data(as_text=True)
    for secret in ("Alice", "alice@example.org", "612345678", "manage", "ticket"):
        assert secret not in text
    assert seats_taken(slot) == 2


def test_an_idempotency_key_expires_after_a_day(client, db_session):
    slot = public_slot(capacity=5)
    first = post(client, slot.id, party(1), key="old-key").get_json()
    booking = db_session.get(Booking, first["id"])
    booking.consent_at -= services.IDEMPOTENCY_TTL + timedelta(minutes=1)
    db_session.flush()
    # A day later the key is free again: the same key makes a new booking (another visit of the
    # same person, a client that recycles keys), the first one keeps everything but its key.
    again = post(client, slot.id, party(1, email="bob@example.org"), key="old-key")
    assert again.status_code == 201 and again.get_json()["id"] != first["id"]
    db_session.refresh(booking)
    assert booking.idempotency_key is None and booking.is_confirmed


def test_change_and_cancel_through_the_manage_link(client):
    slot = public_slot(capacity=5)
    data = post(client, slot.id, party(2)).get_json()
    token = data["manage_url"].rsplit("/", 1)[1]
    changed = client.patch(f"/api/v1/bookings/{token}", json={"party_size": 5})
    assert changed.status_code == 200 and seats_taken(slot) == 5
    too_many = client.patch(f"/api/v1/bookings/{token}", json={"party_size": 6})
    assert too_many.status_code == 409 and too_many.get_json()["error"]["code"] == "slot_full"
    above_limit = client.patch(f"/api/v1/bookings/{token}", json={"party_size": 7})
    assert above_limit.status_code == 422
    cancelled = client.delete(f"/api/v1/bookings/{token}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert seats_taken(slot) == 0
    assert client.delete(f"/api/v1/bookings/{token}").status_code == 409


def test_tampered_manage_link_answers_401(client):
    slot = public_slot(capacity=5)
    token = post(client, slot.id, party(2)).get_json()["manage_url"].rsplit("/", 1)[1]
    bad = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    response = client.get(f"/api/v1/bookings/{bad}")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_link"
    assert client.delete(f"/api/v1/bookings/{bad}").status_code == 401


def test_waitlist_api(client):
    slot = public_slot(capacity=2)
    early = post(client, slot.id, {**party(2), "email": "early@example.org"}).get_json()
    assert client.post(f"/api/v1/slots/{slot.id}/waitlist", json=party(1)).status_code == 201
    second = client.post(f"/api/v1/slots/{slot.id}/waitlist", json=party(1, email="z@example.org"))
    assert second.get_json()["position"] == 2
    client.delete(f"/api/v1/bookings/{early['manage_url'].rsplit('/', 1)[1]}")
    assert seats_taken(slot) == 2  # both promoted
