"""The parts of an .ics file every calendar of the platform shares: stable UIDs, the calendar's header,
and VTIMEZONEs placed before the events (jou.bookings.calendar, pmi.transports.documents)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone

PRODID = "-//Soce//Journees Usines Ouvertes//FR"


def event_uid(kind: str, object_id: int) -> str:
    """`<kind>-<id>@host`: downloading the file again updates the event instead of adding a second one."""
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost"
    return f"{kind}-{object_id}@{host}"


@lru_cache(maxsize=32)
def _vtimezone(tzid: str, year: int) -> bytes:
    # Building a VTIMEZONE walks the zone's transitions: slow, so a small window around the edition,
    # computed once per zone and year.
    return Timezone.from_tzid(tzid, first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1)).to_ical()


def new_calendar(**properties: str) -> Calendar:
    """A published calendar; `x_wr_calname="…"` becomes X-WR-CALNAME."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    for name, value in properties.items():
        cal.add(name.replace("_", "-"), value)
    return cal


def finish_calendar(cal: Calendar, events: Iterable[Event], zones: Iterable[tuple[str, int]]) -> bytes:
    """The file: one VTIMEZONE per (zone, year) of `zones`, then the events."""
    # VTIMEZONEs first: some clients read the file in one pass.
    for tzid, year in sorted(set(zones)):
        cal.add_component(Timezone.from_ical(_vtimezone(tzid, year)))
    for event in events:
        cal.add_component(event)
    return cal.to_ical()
