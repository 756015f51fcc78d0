"""POST /api/v1/checkins and friends: each answer, permissions (nothing recorded), offline batches,
walk-ins, attendance; the gate's pages, /controle/<token>; and the server-side time of an answer."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.extensions import db
from core.formatting import paris_today
from jou.bookings import services as booking_services
from jou.bookings import tickets, tokens
from jou.checkin.models import CheckIn, WalkIn
from tests.factories import PASSWORD, api_token, make_user
from tests.plugins.jou import party, school_class, slots_of


@pytest.fixture
def gate(client):
    public, school = slots_of(capacity=8)
    owner = public.site.owner
    booking = booking_services.book(public.id, party(3, female=1, male=1))
    db.session.flush()
    return {
        "public": public,
        "school": school,
        "owner": owner,
        "booking": booking,
        "token": tokens.ticket_token(booking),
        "auth": api_token(client, owner.email),
    }


def checkins() -> int:
    return db.session.scalar(select(func.count(CheckIn.id)))


def post_checkin(client, gate, token, **kw):
    headers = kw.pop("headers", gate["auth"])
    body = {"token": token, "slot_id": kw.pop("slot_id", gate["public"].id), **kw}
    return client.post("/api/v1/checkins", json=body, headers=headers)


def test_valid_then_already(client, gate):
    first = post_checkin(client, gate, tickets.checkin_url(gate["booking"]))
    assert first.status_code == 200
    data = first.get_json()
    assert data["status"] == "valid" and data["party_size"] == 3 and data["checked_in_at"]
    assert data["name"] == "Alice Martin" and data["admitted"] == 3
    again = post_checkin(client, gate, gate["token"]).get_json()
    assert again["status"] == "already_checked_in" and again["checked_in_at"] == data["checked_in_at"]
    assert again["checked_in_by"] == "Test"
    assert checkins() == 1


def test_partial_arrival(client, gate):
    data = post_checkin(client, gate, gate["token"], admitted=2).get_json()
    assert (data["status"], data["admitted"], data["party_size"]) == ("valid", 2, 3)
    response = post_checkin(client, gate, gate["token"] + "", admitted=0)
    assert response.status_code == 422


@pytest.mark.parametrize("bad", ["garbage", "https://example.org/controle/abc", "eyJ"])
def test_refused_garbage(client, gate, bad):
    data = post_checkin(client, gate, bad).get_json()
    assert (data["status"], data["reason_code"]) == ("refused", "invalid_ticket")
    assert data["reason"] and data["party_size"] is None and "name" not in data
    assert checkins() == 0


def test_refused_truncated_and_wrong_day(client, gate):
    assert post_checkin(client, gate, gate["token"][:-5]).get_json()["reason_code"] == "invalid_ticket"
    data = post_checkin(client, gate, gate["token"], slot_id=gate["school"].id).get_json()
    assert (data["status"], data["reason_code"]) == ("refused", "wrong_day")
    assert checkins() == 0


def test_refused_cancelled(client, gate):
    booking_services.cancel_booking(gate["booking"])
    assert post_checkin(client, gate, gate["token"]).get_json()["reason_code"] == "cancelled"


def test_other_factory_is_refused_and_nothing_recorded(client, gate):
    stranger = make_user(Role.FACTORY)
    headers = api_token(client, stranger.email)
    assert post_checkin(client, gate, gate["token"], headers=headers).status_code == 404
    batch = {"slot_id": gate["public"].id, "entries": [{"token": gate["token"]}]}
    assert client.post("/api/v1/checkins/offline", json=batch, headers=headers).status_code == 404
    assert client.get(f"/api/v1/slots/{gate['public'].id}/checkin-list", headers=headers).status_code == 404
    walk = client.post(f"/api/v1/slots/{gate['public'].id}/walk-ins", json={"male": 1}, headers=headers)
    assert walk.status_code == 404
    assert checkins() == 0 and db.session.scalar(select(func.count(WalkIn.id))) == 0
    volunteer = api_token(client, make_user(Role.VOLUNTEER).email)
    assert post_checkin(client, gate, gate["token"], headers=volunteer).status_code == 403
    assert post_checkin(client, gate, gate["token"], headers={}).status_code == 401


def test_admin_may_check_in(client, gate):
    admin = api_token(client, make_user(Role.ADMIN).email)
    assert post_checkin(client, gate, gate["token"], headers=admin).get_json()["status"] == "valid"


def test_offline_batch_replayed_is_idempotent(client, gate):
    batch = {
        "slot_id": gate["public"].id,
        "device": "phone-1",
        "entries": [
            {"token": gate["token"], "admitted": 2, "checked_in_at": "2027-03-20T09:05:00+01:00"},
            {"token": "forged.token"},
        ],
    }
    first = client.post("/api/v1/checkins/offline", json=batch, headers=gate["auth"]).get_json()
    again = client.post("/api/v1/checkins/offline", json=batch, headers=gate["auth"]).get_json()
    assert [r["status"] for r in first["results"]] == ["valid", "refused"]
    # Without client_key, an entry is known by its phone, ticket and time: the replay answers as the
    # first time (2 of 3 in, 1 remaining) and adds nothing.
    assert [(r["status"], r.get("id")) for r in again["results"]] == [
        ("valid", first["results"][0]["id"]),
        ("refused", None),
    ]
    assert again["results"][0]["remaining"] == 1
    assert checkins() == 1


def test_checkin_list_and_walk_ins_and_attendance(client, gate):
    slot_id = gate["public"].id
    signed = client.get(f"/api/v1/slots/{slot_id}/checkin-list", headers=gate["auth"]).get_json()
    assert signed["alg"] == "HMAC-SHA256" and len(signed["payload"]["tickets"]) == 1
    ok = client.post(f"/api/v1/slots/{slot_id}/walk-ins", json={"female": 5}, headers=gate["auth"])
    assert ok.status_code == 201
    full = client.post(f"/api/v1/slots/{slot_id}/walk-ins", json={"male": 1}, headers=gate["auth"])
    assert full.status_code == 409 and full.get_json()["error"]["code"] == "slot_full"
    forced = client.post(
        f"/api/v1/slots/{slot_id}/walk-ins", json={"male": 1, "override": True}, headers=gate["auth"]
    )
    assert forced.status_code == 201 and forced.get_json()["over_capacity"] is True
    post_checkin(client, gate, gate["token"])
    att = client.get(f"/api/v1/slots/{slot_id}/attendance", headers=gate["auth"]).get_json()
    assert att["measured"] == {"female": 6, "male": 2, "unspecified": 1}
    assert att["no_show_rate"] == 0 and att["walk_ins"] == 6


# ---- pages -------------------------------------------------------------------------------------------


def login(client, user) -> None:
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.data


def test_scanner_page_and_its_json_calls(client, gate):
    login(client, gate["owner"])
    site_id, slot_id = gate["public"].site_id, gate["public"].id
    base = f"/mes-sites/{site_id}/creneaux/{slot_id}/controle"
    page = client.get(base)
    assert page.status_code == 200 and "jsQR.js" in page.text
    assert client.get(f"/mes-sites/{site_id}/controle").status_code == 200
    found = client.get(base + "/recherche?q=alice").get_json()["results"]
    assert found[0]["token"] == gate["token"]
    assert client.post(base + "/billet", json={"token": found[0]["token"]}).get_json()["status"] == "valid"
    assert client.get(base + "/liste").get_json()["payload"]["tickets"][0]["checked_in"] is True
    sync = client.post(base + "/synchro", json={"entries": [{"token": gate["token"]}]}).get_json()
    assert sync["results"][0]["status"] == "already_checked_in"
    walk = client.post(f"/mes-sites/{site_id}/creneaux/{slot_id}/sans-reservation", data={"female": "2"})
    assert walk.status_code == 302
    figures = {"female": "3", "male": "1", "unspecified": "1", "note": ""}
    early = client.post(
        f"/mes-sites/{site_id}/creneaux/{slot_id}/frequentation", data=figures, follow_redirects=True
    )
    assert "La visite n&#39;a pas encore eu lieu" in early.text  # the slot is a month ahead
    gate["public"].day = paris_today() - timedelta(days=1)  # now it is over
    db.session.commit()
    confirm = client.post(f"/mes-sites/{site_id}/creneaux/{slot_id}/frequentation", data=figures)
    assert confirm.status_code == 302
    report = client.get(f"/mes-sites/{site_id}/frequentation")
    assert report.status_code == 200 and "Confirmé : 3 F" in report.text


def test_other_factory_pages_are_404(client, gate):
    login(client, make_user(Role.FACTORY))
    site_id, slot_id = gate["public"].site_id, gate["public"].id
    base = f"/mes-sites/{site_id}/creneaux/{slot_id}/controle"
    assert client.get(base).status_code == 404
    assert client.post(base + "/billet", json={"token": gate["token"]}).status_code == 404
    assert client.get(f"/controle/{gate['token']}").text.count("Billet à présenter") == 1
    assert client.post(f"/controle/{gate['token']}", data={}).status_code == 404
    assert checkins() == 0


def test_qr_url_neutral_for_public_and_answer_for_the_factory(client, gate):
    neutral = client.get(f"/controle/{gate['token']}")
    assert neutral.status_code == 200 and "Billet à présenter à l'entrée" in neutral.text
    assert "Alice" not in neutral.text
    assert "Billet à présenter" in client.get("/controle/garbage").text
    login(client, gate["owner"])
    page = client.get(f"/controle/{gate['token']}")
    assert "Billet valide : 3 pers." in page.text and "Alice Martin" in page.text
    done = client.post(f"/controle/{gate['token']}", data={"admitted": "2"})
    assert "Entrée enregistrée : 2 / 3" in done.text
    # 1 of the group is still to come: the QR's page offers to let that one in.
    rest = client.get(f"/controle/{gate['token']}").text
    assert "Billet valide" in rest and "1 personne encore attendue" in rest and 'value="1"' in rest
    assert "Entrée enregistrée : 1 / 3" in client.post(f"/controle/{gate['token']}", data={}).text
    assert "Déjà entré" in client.get(f"/controle/{gate['token']}").text


def test_median_server_time_of_a_checkin(client, gate):
    """Prints (does not assert) the median server-side time of an answer, valid and already."""
    for n in range(8):  # the school slot's 8 seats
        booking_services.book(gate["school"].id, {**_school(n)})
    db.session.flush()
    durations = []
    for booking in booking_services.bookings_of_slot(gate["school"].id):
        token = tokens.ticket_token(booking)
        for _ in range(2):
            start = time.perf_counter()
            response = post_checkin(client, gate, token, slot_id=gate["school"].id)
            durations.append(time.perf_counter() - start)
            assert response.status_code == 200
    print(f"\ncheck-in answer: median {statistics.median(durations) * 1000:.1f} ms over {len(durations)}")


def _school(n: int) -> dict:
    return school_class(female=1, male=0, unspecified=0, adults=0, email=f"prof{n}@example.org")
