"""Gate rules: each answer, partial arrival, walk-ins within capacity, offline list and merge, attendance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.auth.permissions import Permission
from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from jou import services as site_services
from jou.bookings import services as booking_services
from jou.bookings import tickets, tokens
from jou.checkin import attendance as gate_counts
from jou.checkin import offline, services, walk_ins
from jou.checkin.models import CheckIn, WalkIn
from tests.factories import make_site, make_user, slot_data
from tests.plugins.jou import open_edition, party, school_class, slots_of


@pytest.fixture
def gate(db_session):
    """A published site with a public and a school slot, its factory owner, and one booking of 4."""
    public, school = slots_of(capacity=30)
    owner = public.site.owner
    booking = booking_services.book(public.id, party(4, female=2, male=1))
    return {"public": public, "school": school, "owner": owner, "booking": booking}


def token(booking) -> str:
    return tokens.ticket_token(booking)


def test_valid_ticket_is_checked_in_once(gate):
    answer = services.check_in(gate["owner"], gate["public"], token(gate["booking"]))
    assert answer.status == "valid" and answer.party_size == 4
    assert answer.to_dict()["name"] == "Alice Martin"
    again = services.check_in(gate["owner"], gate["public"], token(gate["booking"]))
    assert again.status == "already_checked_in"
    assert again.checked_in_at == answer.checked_in_at
    assert "Test" in again.reason  # by whom
    assert db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_full_checkin_url_is_accepted(gate):
    url = tickets.checkin_url(gate["booking"])
    assert services.check_in(gate["owner"], gate["public"], url).status == "valid"


def test_partial_arrival_is_recorded(gate):
    answer = services.check_in(gate["owner"], gate["public"], token(gate["booking"]), admitted=3)
    assert answer.checkin.admitted == 3


def test_admitted_above_party_is_refused(gate):
    with pytest.raises(ValidationFailed):
        services.check_in(gate["owner"], gate["public"], token(gate["booking"]), admitted=5)


@pytest.mark.parametrize(
    "scanned",
    ["", "hello", "https://example.org/", "WIFI:S:guest;;", "x" * 5000],
)
def test_garbage_is_refused(gate, scanned):
    answer = services.check_in(gate["owner"], gate["public"], scanned)
    assert (answer.status, answer.reason_code) == ("refused", "invalid_ticket")
    assert db.session.scalar(select(func.count(CheckIn.id))) == 0


def test_truncated_and_altered_tokens_are_refused(gate):
    good = token(gate["booking"])
    flipped = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    for bad in (good[:-4], good[: len(good) // 2], flipped, good + "x"):
        assert services.check_in(gate["owner"], gate["public"], bad).reason_code == "invalid_ticket"


def test_forged_token_with_another_secret_is_refused(gate, app):
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("not-our-secret", salt=tokens.TICKET_SALT).dumps([gate["booking"].id])
    assert services.check_in(gate["owner"], gate["public"], forged).reason_code == "invalid_ticket"
    # nor does a manage link open the gate
    manage = tokens.manage_token(gate["booking"])
    assert services.check_in(gate["owner"], gate["public"], manage).reason_code == "invalid_ticket"


def test_ticket_of_another_day_slot_and_site(gate):
    # the school slot is on Friday, the booking on Saturday
    assert services.check_in(gate["owner"], gate["school"], token(gate["booking"])).reason_code == "wrong_day"
    other = make_site(edition=gate["public"].site.edition, status="approved")
    assert services.check(other.slots[1], token(gate["booking"])).reason_code == "wrong_site"
    assert db.session.scalar(select(func.count(CheckIn.id))) == 0


def test_ticket_of_another_slot_same_day(db_session):
    edition = open_edition()
    site = make_site(
        edition=edition,
        status="approved",
        slots=[
            slot_data(day=edition.saturday, audience="public"),
            slot_data(day=edition.saturday, audience="public", start=datetime(2000, 1, 1, 14).time(),
                      end=datetime(2000, 1, 1, 16).time()),
        ],
    )  # fmt: skip
    morning, afternoon = site.slots
    booking = booking_services.book(afternoon.id, party(2))
    answer = services.check(morning, token(booking))
    assert answer.reason_code == "wrong_slot" and "14h00" in answer.reason


def test_ticket_of_another_edition(gate):
    later = open_edition()
    slot = make_site(owner=gate["owner"], edition=later, status="approved").slots[1]
    assert services.check(slot, token(gate["booking"])).reason_code == "wrong_edition"


def test_cancelled_booking_is_refused(gate):
    booking_services.cancel_booking(gate["booking"])
    answer = services.check_in(gate["owner"], gate["public"], token(gate["booking"]))
    assert (answer.status, answer.reason_code) == ("refused", "cancelled")


def test_day_is_a_warning_not_a_rule(gate):
    slot = gate["public"]
    on_day = datetime.combine(slot.day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    assert services.check(slot, token(gate["booking"]), now=on_day).warning is None
    assert "pas aujourd'hui" in services.check(slot, token(gate["booking"])).warning


def test_other_factory_cannot_use_the_slot(gate):
    stranger = make_user(Role.FACTORY)
    with pytest.raises(NotFound):
        site_services.load_slot(stranger, gate["public"].id, Permission.CHECK_IN)
    assert (
        site_services.load_slot(make_user(Role.ADMIN), gate["public"].id, Permission.CHECK_IN)
        == gate["public"]
    )


# ---- walk-ins ----------------------------------------------------------------------------------------


def test_walk_ins_stay_within_capacity_unless_overridden(gate):
    slot = gate["public"]  # capacity 30, 4 booked
    walk_ins.admit_walk_in(gate["owner"], slot, {"female": 13, "male": 12})
    assert walk_ins.seats_left_at_gate(slot) == 1
    with pytest.raises(Conflict):
        walk_ins.admit_walk_in(gate["owner"], slot, {"unspecified": 2})
    forced = walk_ins.admit_walk_in(gate["owner"], slot, {"unspecified": 2}, override=True)
    assert forced.over_capacity and forced.by_id == gate["owner"].id and forced.admitted_at
    assert walk_ins.seats_left_at_gate(slot) == -1


def test_walk_in_replay_with_same_key_counts_once(gate):
    for _ in range(2):
        walk_ins.admit_walk_in(gate["owner"], gate["public"], {"male": 1}, client_key="phone1-7")
    assert db.session.scalar(select(func.count(WalkIn.id))) == 1


def test_walk_in_key_of_another_slot_is_refused(gate):
    walk_ins.admit_walk_in(gate["owner"], gate["public"], {"male": 1}, client_key="phone1-8")
    with pytest.raises(Conflict):
        walk_ins.admit_walk_in(gate["owner"], gate["school"], {"female": 1}, client_key="phone1-8")
    assert db.session.scalar(select(func.count(WalkIn.id))) == 1


def test_walk_in_needs_someone(gate):
    with pytest.raises(ValidationFailed):
        walk_ins.admit_walk_in(gate["owner"], gate["public"], {})


# ---- offline -----------------------------------------------------------------------------------------


def test_offline_list_is_signed_and_holds_digests(gate):
    signed = offline.offline_list(gate["public"])
    assert offline.verify_offline_list(gate["public"], signed)
    ticket = signed["payload"]["tickets"][0]
    assert ticket["digest"] == offline.ticket_digest(token(gate["booking"]))
    assert token(gate["booking"]) not in str(signed)
    signed["payload"]["tickets"][0]["party_size"] = 40
    assert not offline.verify_offline_list(gate["public"], signed)


def test_offline_merge_counts_each_ticket_once(gate):
    other = booking_services.book(gate["public"].id, party(2, email="bob@example.org"))
    at = datetime.now(UTC) - timedelta(minutes=30)
    phone1 = [{"token": token(gate["booking"]), "admitted": None, "checked_in_at": at}]
    phone2 = [
        {"token": tickets.checkin_url(gate["booking"]), "admitted": None, "checked_in_at": at},
        {"token": token(other), "admitted": None, "checked_in_at": None},
        {"token": "garbage", "admitted": None, "checked_in_at": None},
    ]
    first = offline.merge_offline(gate["owner"], gate["public"], phone1, device="phone1")
    second = offline.merge_offline(gate["owner"], gate["public"], phone2, device="phone2")
    replay = offline.merge_offline(gate["owner"], gate["public"], phone2, device="phone2")
    assert [r["status"] for r in first] == ["valid"]
    assert [r["status"] for r in second] == ["already_checked_in", "valid", "refused"]
    assert [r["status"] for r in replay] == ["already_checked_in", "already_checked_in", "refused"]
    rows = db.session.scalars(select(CheckIn).order_by(CheckIn.id)).all()
    assert [(r.booking_id, r.admitted, r.source) for r in rows] == [
        (gate["booking"].id, 4, "offline"),
        (other.id, 2, "offline"),
    ]
    assert abs(rows[0].checked_in_at - at) < timedelta(seconds=1)


def test_offline_parts_of_a_group_with_keys_replayed_add_nothing(gate):
    """Two phones each let 2 of the party of 4 in; the batches are sent again (a lost answer): still 4,
    each replayed entry answered as the first time."""
    ticket = token(gate["booking"])
    phone1 = [{"token": ticket, "admitted": 2, "checked_in_at": None, "client_key": "p1-1"}]
    phone2 = [{"token": ticket, "admitted": 2, "checked_in_at": None, "client_key": "p2-1"}]
    first = offline.merge_offline(gate["owner"], gate["public"], phone1)
    second = offline.merge_offline(gate["owner"], gate["public"], phone2)
    assert [(r["status"], r["remaining"]) for r in first + second] == [("valid", 2), ("valid", 0)]
    again = offline.merge_offline(gate["owner"], gate["public"], phone1 + phone2)
    assert [(r["status"], r["id"]) for r in again] == [("valid", first[0]["id"]), ("valid", second[0]["id"])]
    assert services.tallies(gate["booking"].id) == (4, 0)
    assert db.session.scalar(select(func.count(CheckIn.id))) == 2


def test_one_bad_offline_entry_does_not_block_the_batch(gate):
    """The booking shrank after the list was downloaded: that entry is refused, the rest is recorded,
    and the phone's next sync is not stuck on it."""
    other = booking_services.book(gate["public"].id, party(2, email="bob@example.org"))
    batch = [
        {"token": token(gate["booking"]), "admitted": 9, "checked_in_at": None},  # party of 4
        {"token": token(other), "admitted": None, "checked_in_at": None},
    ]
    results = offline.merge_offline(gate["owner"], gate["public"], batch, device="phone1")
    assert [r["status"] for r in results] == ["refused", "valid"]
    assert results[0]["reason_code"] == "invalid_entry" and results[0]["reason"]
    assert [r.booking_id for r in db.session.scalars(select(CheckIn))] == [other.id]


# ---- attendance --------------------------------------------------------------------------------------


def test_attendance_scales_breakdowns_and_adds_walk_ins(gate):
    slot = gate["public"]
    booking_services.book(slot.id, party(2, email="no@example.org"))  # a no-show
    services.check_in(gate["owner"], slot, token(gate["booking"]), admitted=2)  # 2 of (2F, 1M, 1U)
    walk_ins.admit_walk_in(gate["owner"], slot, {"female": 1, "male": 1, "unspecified": 1})
    att = gate_counts.slot_attendance(slot)
    assert (att.female, att.male, att.unspecified) == (1 + 1, 0 + 1, 1 + 1)
    assert (att.booked, att.checked_in, att.walk_ins) == (6, 2, 3)
    assert att.no_show_rate == pytest.approx(4 / 6)
    assert att.final == {"female": 2, "male": 1, "unspecified": 2}


def test_school_class_adults_count_as_unspecified(gate):
    school = gate["school"]
    booking = booking_services.book(school.id, school_class())  # 12 F, 11 M, 1 U, 2 adults
    services.check_in(gate["owner"], school, token(booking))
    att = gate_counts.slot_attendance(school)
    assert (att.female, att.male, att.unspecified) == (12, 11, 3)


def test_confirmed_figures_replace_the_gate_count_and_keep_the_scans(gate):
    slot = gate["public"]
    services.check_in(gate["owner"], slot, token(gate["booking"]))
    after = datetime.combine(slot.day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=20)
    with pytest.raises(ValidationFailed) as early:  # the visit is to come: nothing to confirm yet
        gate_counts.confirm_attendance(gate["owner"], slot, {"female": 3})
    assert "pas encore eu lieu" in early.value.fields["female"][0]
    gate_counts.confirm_attendance(
        gate["owner"], slot, {"female": 3, "male": 2, "unspecified": 0}, "compté", now=after
    )
    per_slot, total, final = gate_counts.site_attendance(slot.site)
    att = dict(per_slot)[slot]
    assert att.final == {"female": 3, "male": 2, "unspecified": 0}
    assert (att.female, att.male, att.unspecified) == (2, 1, 1)  # raw scans untouched
    assert final["female"] == 3
    gate_counts.confirm_attendance(gate["owner"], slot, {"female": 4}, now=after)
    assert gate_counts.slot_attendance(slot).final == {"female": 4, "male": 0, "unspecified": 0}
