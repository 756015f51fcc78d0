"""The gate without network: the slot's signed list of tickets for the phone, and the merge of what the
phone recorded meanwhile.

The list holds SHA-256 digests of the tickets (a leaked list cannot be turned into tickets), signed
HMAC-SHA256 with a key derived from the app secret for this slot only; the key is given with the list to
the slot's own stewards, whose page verifies the list (WebCrypto) before trusting a copy kept in the
phone's storage. Each merged entry is judged as online, under the booking's lock: two phones that let
the same party in count it once, and a batch sent again (each entry has its `client_key`) adds nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from core import locking
from core.auth.models import User
from core.errors import Conflict, ValidationFailed
from core.extensions import db
from core.models import utcnow
from jou.bookings import tokens
from jou.bookings.models import Booking, BookingStatus
from jou.checkin.models import CheckInSource, Direction
from jou.checkin.services import REFUSED, Answer, check_in, entered_per_booking
from jou.models import Slot


def ticket_digest(token: str) -> str:
    """What the offline list holds instead of the ticket."""
    return hashlib.sha256(token.encode()).hexdigest()


def _list_key(slot: Slot) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"jou-checkin-list:{slot.id}".encode(), hashlib.sha256).digest()


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def offline_list(slot: Slot, *, now: datetime | None = None) -> dict:
    """The slot's valid tickets, with the persons of each already in, signed."""
    now = now or utcnow()
    entered = entered_per_booking()
    rows = db.session.execute(
        select(Booking, func.coalesce(entered.c.n, 0))
        .outerjoin(entered, entered.c.booking_id == Booking.id)
        .where(Booking.slot_id == slot.id, Booking.status == BookingStatus.CONFIRMED)
        .order_by(Booking.id)
    ).all()
    payload = {
        "slot_id": slot.id,
        "site_id": slot.site_id,
        "day": slot.day.isoformat(),
        "generated_at": now.isoformat(),
        "tickets": [
            {
                "digest": ticket_digest(tokens.ticket_token(b)),
                "booking_id": b.id,
                "name": b.name,
                "party_size": b.party_size,
                "entered": int(n),
                "checked_in": int(n) >= b.party_size,
            }
            for b, n in rows
        ],
    }
    signature = hmac.new(_list_key(slot), canonical(payload), hashlib.sha256).hexdigest()
    return {"payload": payload, "signature": signature, "key": _list_key(slot).hex(), "alg": "HMAC-SHA256"}


def verify_offline_list(slot: Slot, signed: dict) -> bool:
    expected = hmac.new(_list_key(slot), canonical(signed["payload"]), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signed.get("signature", ""))


def derived_key(entry: dict, device: str | None) -> str | None:
    """The key of an entry sent without one: the same phone, ticket, time and count is the same entry
    (a batch sent again), so its replay adds nothing. None without the phone's time (nothing to tell
    a replay from a second scan)."""
    if not entry.get("checked_in_at"):
        return None
    parts = (device or "", entry.get("token") or "", entry["checked_in_at"].isoformat(),
             str(entry.get("direction") or "entry"), str(entry.get("admitted")))  # fmt: skip
    return "auto:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def merge_offline(user: User, slot: Slot, entries: list[dict], *, device: str | None = None) -> list[dict]:
    """Check-ins a phone recorded offline: each judged as online, recorded once (the earliest phone to
    sync keeps its time); a replayed batch answers as the first time and adds nothing."""
    now = utcnow()
    results = []
    locking.begin_write()  # SQLite: the writer before the first savepoint (a no-op on PostgreSQL)
    for entry in entries:
        try:
            with db.session.begin_nested():
                answer = check_in(
                    user,
                    slot,
                    entry.get("token") or "",
                    admitted=entry.get("admitted"),
                    direction=entry.get("direction") or Direction.ENTRY,
                    now=now,
                    checked_in_at=entry.get("checked_in_at"),
                    source=CheckInSource.OFFLINE,
                    device=device,
                    client_key=entry.get("client_key") or derived_key(entry, device),
                )
        except (ValidationFailed, Conflict) as exc:
            # One bad entry (e.g. more people than the booking holds now) must not block the phone's
            # whole batch forever: it is refused alone, with its reason, and the others are recorded.
            reason = " ".join(m for messages in exc.fields.values() for m in messages) or exc.message
            answer = Answer(REFUSED, reason, "invalid_entry")
        results.append(answer.to_dict())
    return results
