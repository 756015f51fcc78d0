"""Calendar files: one .ics per booking, and subscribable feeds of published slots.

Slot times are wall-clock times at the site, so every event carries the site's zone as TZID with its
VTIMEZONE: a visitor from Paris who books in Guadeloupe sees the visit at the right hour on their phone,
and a calendar that ignores TZID still reads the local time printed in the description.
UIDs are stable (booking-<id>@host, slot-<id>@host): downloading the file again, or refreshing a feed,
updates the event instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Event

from core.formatting import PARIS, count_of, french_date, french_time
from core.ics import event_uid, finish_calendar, new_calendar
from core.mail import external_url
from core.models import utcnow
from jou.bookings.models import Booking, BookingKind, BookingStatus
from jou.models import AUDIENCE_LABELS, Site, Slot

# Overseas departments and collectivities keep their own clocks; everything else is metropolitan.
OVERSEAS_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
}


def site_zone(site: Site) -> ZoneInfo:
    """The zone of the site's wall clock, from its department (or postcode, before it is located)."""
    department = site.department or (site.postcode or "")[:3]
    name = OVERSEAS_ZONES.get(department or "")
    return ZoneInfo(name) if name else PARIS


def slot_bounds(slot: Slot) -> tuple[datetime, datetime]:
    """Start and end of the visit, aware, in the site's zone."""
    zone = site_zone(slot.site)
    return (
        datetime.combine(slot.day, slot.start, tzinfo=zone),
        datetime.combine(slot.day, slot.end, tzinfo=zone),
    )


def site_address(site: Site) -> str:
    return f"{site.company_name} – {site.name}, {site.street}, {site.postcode} {site.city}"


def public_url(path: str) -> str:
    """A link on PUBLIC_BASE_URL (never the request's Host header, which the client chooses)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def manage_url(booking: Booking) -> str:
    from jou.bookings.tokens import manage_token

    return public_url(f"/reservations/{manage_token(booking)}")


def _place(event: Event, site: Site) -> None:
    event.add("location", site_address(site))
    if site.lat is not None and site.lon is not None:
        event.add("geo", (site.lat, site.lon))


def _local_times(slot: Slot) -> str:
    text = f"{french_date(slot.day)}, {french_time(slot.start)} – {french_time(slot.end)}"
    return text if site_zone(slot.site) is PARIS else f"{text} (heure locale)"


def booking_description(booking: Booking) -> str:
    slot = booking.slot
    lines = [_local_times(slot)]
    if booking.kind == BookingKind.SCHOOL:
        lines.append(
            f"Classe ({booking.level or 'niveau non précisé'}, UAI {booking.uai or '—'}) : "
            f"{count_of(booking.pupils, 'élève', 'élèves')} et "
            f"{count_of(booking.adults, 'accompagnateur', 'accompagnateurs')}."
        )
    else:
        lines.append(
            f"Réservation pour {count_of(booking.party_size, 'personne', 'personnes')} au nom de {booking.name}."
        )
    lines.extend(slot_notices(slot))
    if booking.status == BookingStatus.CANCELLED:
        lines.append("Cette réservation est annulée.")
    lines.append(f"Gérer la réservation (billet, modification, annulation) : {manage_url(booking)}")
    return "\n".join(lines)


def slot_notices(slot: Slot) -> list[str]:
    """What a visitor must know before coming (shown on the ticket, the e-mail and the calendar)."""
    notices = []
    if slot.min_age:
        notices.append(f"Âge minimum : {slot.min_age} ans.")
    if slot.protective_equipment:
        notices.append(f"Équipements de protection : {slot.protective_equipment}")
    notices.append(
        "Accessible en fauteuil roulant."
        if slot.wheelchair_accessible
        else "Non accessible en fauteuil roulant."
    )
    return notices


def booking_ics(booking: Booking) -> bytes:
    slot = booking.slot
    site = slot.site
    start, end = slot_bounds(slot)
    cancelled = booking.status == BookingStatus.CANCELLED
    event = Event()
    event.add("uid", event_uid("booking", booking.id))
    event.add("dtstamp", utcnow())
    # A client replaces its copy only when the sequence grows: each change and the cancellation raise it.
    event.add("sequence", booking.revision or 0)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"Visite : {site.name}")
    _place(event, site)
    event.add("description", booking_description(booking))
    event.add("url", manage_url(booking))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    cal = new_calendar(x_wr_calname="Journées Usines Ouvertes")
    return finish_calendar(cal, [event], [(start.tzinfo.key, slot.day.year)])  # type: ignore[union-attr]


def slots_feed(slots: Iterable[Slot], title: str) -> bytes:
    """A subscribable feed: one event per slot, with the seats left when the feed was read."""
    cal = new_calendar(x_wr_calname=title, name=title)
    # Calendar apps poll a subscription at their own pace; these ask for a few hours.
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", timedelta(hours=6))
    events, zones = [], []
    stamp = utcnow()
    for slot in slots:
        site = slot.site
        start, end = slot_bounds(slot)
        event = Event()
        event.add("uid", event_uid("slot", slot.id))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", f"Visite : {site.name} ({AUDIENCE_LABELS.get(slot.audience, slot.audience)})")
        _place(event, site)
        seats = (
            f"Places restantes : {slot.seats_left} sur {slot.capacity}."
            if slot.seats_left > 0
            else f"Complet ({slot.capacity} places)."
        )
        event.add("description", "\n".join([_local_times(slot), seats, *slot_notices(slot)]))
        event.add("url", external_url("jou.site_detail", site_id=site.id))
        event.add("transp", "TRANSPARENT")
        events.append(event)
        zones.append((start.tzinfo.key, slot.day.year))  # type: ignore[union-attr]
    return finish_calendar(cal, events, zones)
