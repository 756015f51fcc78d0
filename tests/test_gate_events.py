"""The gate's events: a group let in in parts, exits, who is on site, undo within the day (journal),
walk-ins out and undone, the women/men a steward taps, refused scans kept for review — through the
services and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.auth.models import Role
from core.errors import Conflict, Forbidden, ValidationFailed
from core.extensions import db
from core.models import utcnow
from jou.bookings import services as booking_services
from jou.bookings import tokens
from jou.checkin import attendance, services, walk_ins
from jou.checkin.models import CheckIn, RefusedScan
from stats.queries import compute
from tests.factories import api_token, make_user
from tests.plugins.jou import party, slots_of


@pytest.fixture
def gate(db_session):
    """A published site (public and school slots of 10), its factory, and a party of 4 (2 women, 1 man,
    1 unspecified)."""
    public, school = slots_of(capacity=10)
    booking = booking_services.book(public.id, party(4, female=2, male=1))
    return {"slot": public, "school": school, "owner": public.site.owner, "booking": booking,
            "token": tokens.ticket_token(booking)}  # fmt: skip


def scan(gate, **kw) -> services.Answer:
    return services.check_in(gate["owner"], gate["slot"], gate["token"], **kw)


def test_a_group_comes_in_two_parts_then_is_in(gate):
    first = scan(gate, admitted=2)
    assert (first.status, first.checkin.admitted, first.remaining) == ("valid", 2, 2)
    # The next scan lets the rest in (by default) and says who is still expected.
    second = scan(gate)
    data = second.to_dict()
    assert (data["admitted"], data["entered"], data["remaining"], data["id"]) == (2, 4, 0, second.checkin.id)
    third = scan(gate)
    assert third.status == "already_checked_in" and third.to_dict()["admitted"] == 4
    assert "4 personnes" in third.reason
    assert services.tallies(gate["booking"].id) == (4, 0)


def test_more_than_remaining_is_refused_with_the_count(gate):
    scan(gate, admitted=3)
    with pytest.raises(ValidationFailed) as refused:
        scan(gate, admitted=2)
    assert "Il reste 1 personne à faire entrer sur 4" in refused.value.fields["admitted"][0]


def test_exits_and_who_is_on_site(gate):
    slot = gate["slot"]
    refused = scan(gate, direction="exit")
    assert (refused.status, refused.reason_code) == ("refused", "not_inside")
    scan(gate)
    walk_ins.admit_walk_in(gate["owner"], slot, {"female": 1, "male": 1})
    out = scan(gate, direction="exit", admitted=3)
    assert (out.status, out.direction, out.to_dict()["on_site"]) == ("valid", "exit", 1)
    walk_ins.walk_out(gate["owner"], slot, 2)
    now = attendance.presence([slot.id])[slot.id]
    assert (now.expected, now.arrived, now.left, now.on_site) == (4, 6, 5, 1)
    with pytest.raises(Conflict) as nobody:
        walk_ins.walk_out(gate["owner"], slot, 1)
    assert nobody.value.code == "not_inside"
    assert scan(gate, direction="exit").status == "valid"
    assert scan(gate, direction="exit").reason_code == "already_out"
    # Exits are not attendance: the 6 who came still count.
    assert attendance.slot_attendance(slot).measured_total == 6


def test_undo_an_entry_the_same_day_journal_and_counts_follow(gate):
    entry = scan(gate, admitted=3).checkin
    services.undo_check_in(gate["owner"], entry)
    assert services.tallies(gate["booking"].id) == (0, 0)
    assert attendance.presence([gate["slot"].id])[gate["slot"].id].arrived == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "checkin.undo"))
    assert event.actor_id == gate["owner"].id and event.entity_id == entry.id
    assert "Entrée annulée : 3 personnes" in event.summary
    with pytest.raises(Conflict) as twice:
        services.undo_check_in(gate["owner"], entry)
    assert twice.value.code == "already_undone"
    # The whole party may come in again.
    assert scan(gate).checkin.admitted == 4


def test_undo_rules_author_day_and_exits_first(gate):
    entry = scan(gate).checkin
    with pytest.raises(Forbidden) as not_yours:
        services.undo_check_in(make_user(Role.FACTORY), entry)
    assert not_yours.value.code == "not_your_checkin"
    with pytest.raises(Conflict) as late:
        services.undo_check_in(gate["owner"], entry, now=utcnow() + timedelta(days=1))
    assert late.value.code == "too_late"
    out = scan(gate, direction="exit", admitted=1).checkin
    with pytest.raises(Conflict) as left:
        services.undo_check_in(gate["owner"], entry)
    assert left.value.code == "already_left"
    services.undo_check_in(gate["owner"], out)
    services.undo_check_in(gate["owner"], entry)
    # Staff may undo anyone's, any day.
    again = scan(gate).checkin
    services.undo_check_in(make_user(Role.ADMIN), again, now=utcnow() + timedelta(days=3))
    assert services.tallies(gate["booking"].id) == (0, 0)


def test_undo_a_walk_in_gives_its_seats_back(gate):
    slot = gate["slot"]
    before = walk_ins.seats_left_at_gate(slot)
    walk_in = walk_ins.admit_walk_in(gate["owner"], slot, {"female": 2, "male": 1})
    assert walk_ins.seats_left_at_gate(slot) == before - 3
    walk_ins.walk_out(gate["owner"], slot, 1)
    with pytest.raises(Conflict) as left:
        walk_ins.undo_walk_in(gate["owner"], walk_in)
    assert left.value.code == "already_left"
    exit_event = db.session.scalar(select(CheckIn).where(CheckIn.booking_id.is_(None)))
    services.undo_check_in(gate["owner"], exit_event)
    walk_ins.undo_walk_in(gate["owner"], walk_in)
    assert walk_ins.seats_left_at_gate(slot) == before
    assert attendance.slot_attendance(slot).walk_ins == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "walkin.undo")) == 1


def test_tapped_women_and_men_count_instead_of_the_booking_breakdown(gate):
    """The booking says 2 women, 1 man, 1 unspecified; the steward taps 2 women and 2 men for the 4."""
    slot = gate["slot"]
    with pytest.raises(ValidationFailed):
        scan(gate, admitted=2, female=2, male=1)  # 3 tapped for 2 persons
    scan(gate, female=2, male=2)
    att = attendance.slot_attendance(slot)
    assert (att.female, att.male, att.unspecified) == (2, 2, 0)
    # The statistics read the same events.
    totals = compute("jou", filters={"year": slot.site.edition.year}).totals
    assert (totals.female, totals.male, totals.unspecified) == (2, 2, 0)


def test_scaled_and_tapped_parts_of_one_party(gate):
    slot = gate["slot"]
    scan(gate, admitted=2, female=0, male=2)
    scan(gate)  # the other 2, not tapped: scaled from the booking (2 women, 1 man of 4)
    att = attendance.slot_attendance(slot)
    assert (att.female, att.male, att.unspecified, att.checked_in) == (1, 2, 1, 4)


def test_refusals_are_kept_for_review_without_other_sites_details(gate):
    other_public, _ = slots_of(gate["slot"].site.edition, capacity=5)
    stranger = booking_services.book(other_public.id, party(2, email="other@example.org"))
    mine = booking_services.book(gate["slot"].id, party(1, email="gone@example.org"))
    booking_services.cancel_booking(mine)
    owner, slot = gate["owner"], gate["slot"]
    services.check_in(owner, slot, "not a ticket")
    services.check_in(owner, slot, tokens.ticket_token(stranger))
    services.check_in(owner, slot, tokens.ticket_token(mine))
    rows = services.refused_scans([slot.id])
    assert [(r.reason_code, r.booking_id) for r in rows] == [
        ("cancelled", mine.id),
        ("wrong_site", None),  # another site's booking: not named
        ("invalid_ticket", None),
    ]
    assert len({r.fingerprint for r in rows}) == 3 and all(len(r.fingerprint) == 12 for r in rows)
    assert db.session.scalar(select(func.count(CheckIn.id))) == 0


# ---- through the API ---------------------------------------------------------------------------------


def test_api_partial_group_undo_exit_presence_refusals(client, gate):
    auth = api_token(client, gate["owner"].email)
    slot_id, site_id = gate["slot"].id, gate["slot"].site_id
    db.session.commit()

    def post(body):
        return client.post("/api/v1/checkins", json={"token": gate["token"], "slot_id": slot_id, **body},
                           headers=auth)  # fmt: skip

    first = post({"admitted": 2}).get_json()
    assert (first["status"], first["admitted"], first["remaining"]) == ("valid", 2, 2) and first["id"]
    rest = post({}).get_json()
    assert (rest["status"], rest["admitted"], rest["remaining"]) == ("valid", 2, 0)
    assert post({}).get_json()["status"] == "already_checked_in"
    undone = client.post(f"/api/v1/checkins/{rest['id']}/undo", headers=auth)
    assert undone.status_code == 200 and undone.get_json()["undone_at"]
    assert client.post(f"/api/v1/checkins/{rest['id']}/undo", headers=auth).get_json()["error"]["code"] == (
        "already_undone"
    )
    assert post({}).get_json()["remaining"] == 0
    out = post({"direction": "exit", "admitted": 1}).get_json()
    assert (out["status"], out["direction"], out["on_site"]) == ("valid", "exit", 3)
    assert post({"direction": "sideways"}).status_code == 422
    presence = client.get(f"/api/v1/sites/{site_id}/presence", headers=auth).get_json()
    assert presence["total"] == {"expected": 4, "arrived": 4, "left": 1, "on_site": 3}
    assert {"slot_id": slot_id, "expected": 4, "arrived": 4, "left": 1, "on_site": 3} in presence["slots"]
    walk_in = client.post(f"/api/v1/slots/{slot_id}/walk-ins", json={"male": 2}, headers=auth).get_json()
    assert (
        client.post(f"/api/v1/slots/{slot_id}/walk-outs", json={"persons": 3}, headers=auth).status_code
        == 409
    )
    assert client.post(f"/api/v1/walk-ins/{walk_in['id']}/undo", headers=auth).status_code == 200
    post({"token": "forged"})
    refusals = client.get(f"/api/v1/sites/{site_id}/refused-scans", headers=auth).get_json()["results"]
    assert [r["reason_code"] for r in refusals] == ["invalid_ticket"] and refusals[0]["by"] == "Test"
    # Another factory: 404 on the event, the presence and the refusals, and nothing undone.
    other = make_user(Role.FACTORY, email="other-gate@example.org")
    db.session.commit()
    theirs = api_token(client, other.email)
    assert client.post(f"/api/v1/checkins/{first['id']}/undo", headers=theirs).status_code == 404
    assert client.get(f"/api/v1/sites/{site_id}/presence", headers=theirs).status_code == 404
    assert client.get(f"/api/v1/sites/{site_id}/refused-scans", headers=theirs).status_code == 404
    assert db.session.get(CheckIn, first["id"]).undone_at is None
    assert db.session.scalar(select(func.count(RefusedScan.id))) == 1


def test_breakdown_tapped_after_the_scan(gate):
    entry = scan(gate, admitted=3).checkin
    with pytest.raises(ValidationFailed):
        services.set_breakdown(gate["owner"], entry, 2, 2)
    with pytest.raises(Forbidden):
        services.set_breakdown(make_user(Role.FACTORY), entry, 1, 1)
    services.set_breakdown(gate["owner"], entry, 2, 1)
    att = attendance.slot_attendance(gate["slot"])
    assert (att.female, att.male, att.unspecified) == (2, 1, 0)
    out = scan(gate, direction="exit", admitted=1).checkin
    with pytest.raises(Conflict):
        services.set_breakdown(gate["owner"], out, 1, 0)
