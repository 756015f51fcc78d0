"""Messages due at a moment rather than caused by an action: a visit's reminder two days before, and the
like. Each kind registers, with `@scheduled`, what is due at a given instant; `send_due(now)` queues every
due message that was never queued (core.mail.queue_mail_once: one key per message, UNIQUE), in the
caller's transaction.

So running it twice, or two mail workers at once, queues nothing twice; a crash before the commit queues
nothing, and the next run finds the same messages still due. Delivery is core.mail's (retries, leases).
`flask messages send-due [--now …]` runs it once (`--now` shows what a given day would send); `flask mail
worker` runs it every minute; `flask mail status` says what is scheduled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core import locking
from core.extensions import db
from core.mail import OutgoingMail, queue_mail_once


@dataclass(frozen=True)
class Due:
    """One message due: its key (the same message always has the same key), address and composition."""

    key: str
    to: str
    subject: str
    template: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    name: str
    label: str  # French, for `flask mail status`
    due: Callable[[datetime], Iterable[Due]]  # what is due at that instant (already queued or not)


SCHEDULES: dict[str, Schedule] = {}


def scheduled(name: str, label: str) -> Callable[[Callable[[datetime], Iterable[Due]]], Callable]:
    def register(due: Callable[[datetime], Iterable[Due]]) -> Callable[[datetime], Iterable[Due]]:
        SCHEDULES[name] = Schedule(name, label, due)
        return due

    return register


# Changes of state due with time, run before the messages (an offer that expires makes the next offer).
JOBS: dict[str, Callable[[datetime], int]] = {}


def periodic(name: str) -> Callable[[Callable[[datetime], int]], Callable[[datetime], int]]:
    """Registers `job(now) -> how many things it changed`, run by send_due before the messages."""

    def register(job: Callable[[datetime], int]) -> Callable[[datetime], int]:
        JOBS[name] = job
        return job

    return register


def send_due(now: datetime) -> dict[str, int]:
    """Run the periodic jobs, then queue every message due at `now` not queued before; per job and
    schedule, how many things it did."""
    # SQLite: be the writer before reading what is due (a reader turned writer meets "database is
    # locked"); PostgreSQL: row locks and the key's UNIQUE constraint arbitrate.
    locking.begin_write()
    queued = {name: job(now) for name, job in JOBS.items()}
    for schedule in SCHEDULES.values():
        count = 0
        for due in _not_queued(list(schedule.due(now))):
            if queue_mail_once(due.key, due.to, due.subject, due.template, **due.args) is not None:
                count += 1
        queued[schedule.name] = count
    db.session.flush()
    return queued


def _not_queued(due: list[Due]) -> list[Due]:
    """Those never queued: the worker runs every minute, and what it queued a minute ago is still due
    (a SELECT of the keys, in chunks, rather than one refused INSERT each)."""
    keys = [d.key for d in due]
    queued: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        queued |= set(
            db.session.scalars(select(OutgoingMail.dedup_key).where(OutgoingMail.dedup_key.in_(chunk)))
        )
    return [d for d in due if d.key not in queued]


@dataclass
class Outlook:
    label: str
    now: int  # due now and not queued yet
    week: int  # due within the next 7 days, not queued yet (those of now included)


def outlook(now: datetime) -> list[Outlook]:
    """What each schedule would queue now, and over the next week."""
    rows = []
    for schedule in SCHEDULES.values():
        counts = []
        for moment in (now, now + timedelta(days=7)):
            counts.append(len(_not_queued(list(schedule.due(moment)))))
        rows.append(Outlook(schedule.label, *counts))
    return rows
