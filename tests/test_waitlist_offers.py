"""The waiting list treats people right: joining gives a rank and a link (e-mailed); freed seats are
offered, not silently booked, held until a deadline (48 h, shorter as the visit nears) and e-mailed with a
link to confirm; an offer declined or left to run out passes the seats to the next party; accepting twice
is one booking; an accept racing the expiry leaves one outcome and sound counters."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core import schedule
from core.extensions import db
from core.mail import OutgoingMail, commit_and_deliver
from core.models import utcnow
from jou.bookings import calendar, services, tokens
from jou.bookings.models import WaitlistEntry, WaitlistStatus
from jou.integrity import seat_drifts
from tests.plugins.jou import party, public_slot
from tests.plugins.mail import link_path, text_body
from tests.plugins.races import race


def full_slot(capacity: int = 2):  # noqa: ANN201
    slot = public_slot(capacity=capacity)
    holder = services.book(slot.id, party(capacity, email="holder@example.org"))
    return slot, holder


def templates_to(address: str) -> list[str]:
    return list(db.session.scalars(select(OutgoingMail.template).where(OutgoingMail.to_address == address)))


def test_join_offer_accept_through_the_api(client, db_session, smtp_server):
    slot, holder = full_slot()
    first = client.post(f"/api/v1/slots/{slot.id}/waitlist", json=party(2, email="ana@example.org", female=1))
    second = client.post(f"/api/v1/slots/{slot.id}/waitlist", json=party(1, email="ben@example.org"))
    assert first.status_code == second.status_code == 201
    body = first.get_json()
    assert (body["position"], second.get_json()["position"], body["status"]) == (1, 2, "waiting")
    assert (body["female"], body["unspecified"]) == (1, 1) and body["manage_url"].endswith(body["token"])
    commit_and_deliver()
    [joined] = smtp_server.to("ana@example.org")
    assert "Votre rang : 1." in text_body(joined) and body["token"] in text_body(joined)

    services.cancel_booking(holder)  # 2 seats: Ana's party fits and is offered them, held
    entry = client.get(f"/api/v1/waitlist/{body['token']}").get_json()
    assert entry["status"] == "offered" and entry["position"] is None
    assert db_session.get(type(slot), slot.id).seats_taken == 2 and seat_drifts([slot.id]) == []
    commit_and_deliver()
    offer = smtp_server.to("ana@example.org")[-1]
    assert "Elles vous sont réservées jusqu'au" in text_body(offer)
    assert link_path(offer, "/liste-attente/").endswith(body["token"])

    accepted = client.post(f"/api/v1/waitlist/{body['token']}/accept")
    assert accepted.status_code == 201
    booking = accepted.get_json()
    assert (booking["party_size"], booking["status"], booking["female"]) == (2, "confirmed", 1)
    again = client.post(f"/api/v1/waitlist/{body['token']}/accept")
    assert again.status_code == 200 and again.get_json()["id"] == booking["id"]
    assert templates_to("ana@example.org") == ["waitlist_joined", "waitlist_offer", "booking_promotion"]
    assert seat_drifts([slot.id]) == []

    left = client.delete(f"/api/v1/waitlist/{second.get_json()['token']}")
    assert left.status_code == 200 and left.get_json()["status"] == "cancelled"


def test_an_offer_declined_or_run_out_passes_to_the_next(db_session):
    slot, holder = full_slot()
    ana = services.join_waitlist(slot.id, party(2, email="ana@example.org"))
    ben = services.join_waitlist(slot.id, party(2, email="ben@example.org"))
    cleo = services.join_waitlist(slot.id, party(2, email="cleo@example.org"))
    services.cancel_booking(holder)
    assert (ana.status, ben.status) == (WaitlistStatus.OFFERED, WaitlistStatus.WAITING)

    services.cancel_waitlist_entry(ana)  # declined: Ben is offered the seats at once
    assert (ana.status, ben.status) == (WaitlistStatus.CANCELLED, WaitlistStatus.OFFERED)

    deadline = ben.offer_expires_at
    assert schedule.send_due(deadline - timedelta(minutes=1))["waitlist_offers"] == 0
    assert schedule.send_due(deadline)["waitlist_offers"] == 1  # Ben said nothing: Cléo's turn
    db.session.refresh(ben)
    db.session.refresh(cleo)
    assert (ben.status, cleo.status) == (WaitlistStatus.EXPIRED, WaitlistStatus.OFFERED)
    assert seat_drifts([slot.id]) == []

    late = _refused(lambda: services.accept_offer(ben))
    assert late.code == "offer_closed"
    # Cléo answers after her deadline but before the worker passed: refused there and then, passed on.
    too_late = _refused(lambda: services.accept_offer(cleo, now=cleo.offer_expires_at + timedelta(seconds=1)))
    assert too_late.code == "offer_expired" and cleo.status == WaitlistStatus.EXPIRED
    assert db.session.get(type(slot), slot.id).seats_taken == 0 and seat_drifts([slot.id]) == []


def _refused(call):  # noqa: ANN001, ANN202
    from core.errors import Conflict

    try:
        call()
    except Conflict as exc:
        return exc
    raise AssertionError("not refused")


def test_the_offer_shortens_as_the_visit_nears(db_session):
    slot, _holder = full_slot()
    start, _end = calendar.slot_bounds(slot)
    assert services.offer_deadline(slot, start - timedelta(days=10)) == start - timedelta(days=8)  # 48 h
    assert services.offer_deadline(slot, start - timedelta(hours=10)) == start - timedelta(hours=5)
    assert services.offer_deadline(slot, start - timedelta(minutes=50)) is None  # 25 min: not worth it


def test_the_page_shows_the_rank_and_confirms_the_offer(client, db_session):
    slot, holder = full_slot()
    entry = services.join_waitlist(slot.id, party(1, email="ana@example.org"))
    link = f"/liste-attente/{tokens.waitlist_token(entry)}"
    assert "1er</strong> sur la liste d'attente" in client.get(link).get_data(as_text=True)
    services.cancel_booking(holder)
    page = client.get(link).get_data(as_text=True)
    assert "Des places vous sont réservées jusqu'au" in page and "Confirmer ma réservation" in page
    confirmed = client.post(f"{link}/confirmer")
    assert confirmed.status_code == 302 and "/reservations/" in confirmed.headers["Location"]
    assert client.get("/liste-attente/altered").status_code == 404


def test_an_accept_racing_the_expiry_has_one_outcome(app, committed_db):
    slot, holder = full_slot()
    entry = services.join_waitlist(slot.id, party(2, email="ana@example.org"))
    services.join_waitlist(slot.id, party(2, email="ben@example.org"))
    services.cancel_booking(holder)
    db.session.commit()
    entry_id, slot_id, deadline = entry.id, slot.id, entry.offer_expires_at
    db.session.commit()
    moment = deadline - timedelta(microseconds=1)  # still valid for the accept; due for the job a tick later

    def one(i: int) -> str:
        with app.app_context():
            try:
                if i == 0:
                    services.accept_offer(db.session.get(WaitlistEntry, entry_id), now=moment)
                else:
                    schedule.send_due(deadline)
                db.session.commit()
                return "done"
            except Exception as exc:  # noqa: BLE001 - the loser's refusal
                db.session.rollback()
                return f"{type(exc).__name__}: {exc}"

    outcomes = race(2, one)
    db.session.rollback()  # end this thread's read transaction, begun before the race: read what they did
    status = db.session.get(WaitlistEntry, entry_id).status
    others = db.session.scalars(select(WaitlistEntry.status).where(WaitlistEntry.id != entry_id)).all()
    # Accepted (Ben still waits) or expired first (Ben is offered the seats): never both, never lost.
    assert (status, others) in (
        (WaitlistStatus.PROMOTED, ["waiting"]),
        (WaitlistStatus.EXPIRED, ["offered"]),
    ), outcomes
    assert seat_drifts([slot_id]) == []


def test_the_command_expires_offers(app, db_session):
    slot, holder = full_slot()
    entry = services.join_waitlist(slot.id, party(2, email="ana@example.org"))
    services.cancel_booking(holder)
    moment: datetime = entry.offer_expires_at + timedelta(minutes=5)
    result = app.test_cli_runner().invoke(
        args=["messages", "send-due", "--now", moment.isoformat(timespec="seconds")]
    )
    assert result.exit_code == 0, result.output
    assert "Offres de liste d'attente expirées : 1" in result.output
    assert utcnow() < moment


def test_the_factory_sees_its_waiting_list_and_can_write_to_it(client, db_session, smtp_server):
    from tests.factories import login

    slot, holder = full_slot()
    ana = services.join_waitlist(slot.id, party(2, email="ana@example.org", name="Ana Lopes"))
    login(client, slot.site.owner)
    page = client.get(f"/mes-sites/{slot.site_id}/reservations").get_data(as_text=True)
    assert 'data-testid="waitlist"' in page and "Ana Lopes" in page and "en attente" in page
    sent = client.post(
        f"/mes-sites/{slot.site_id}/creneaux/{slot.id}/message",
        data={"subject": "Parking", "body": "Garez-vous rue des Forges.", "with_waitlist": "on"},
    )
    assert sent.status_code == 302
    commit_and_deliver()
    [to_ana] = [m for m in smtp_server.to("ana@example.org") if "Parking" in m["Subject"]]
    assert "Garez-vous rue des Forges." in text_body(to_ana)
    assert tokens.waitlist_token(ana) in text_body(to_ana)  # her link is to her place in line
    assert smtp_server.to("holder@example.org")
