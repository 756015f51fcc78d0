"""E-mails to the people who booked: confirmation (QR inline, .ics attached), promotion from the waiting
list, cancellation, and a factory's message to the bookers of a slot.

Each function queues its messages in the caller's transaction (core.mail.queue_mail: flush, never
commit); the view delivers them after its commit (core.mail.commit_and_deliver), and `flask mail retry`
sends what a failing server refused. Messages are composed now, so a retry sends what was true then.
"""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.formatting import french_date, french_time
from core.mail import Attachment, InlineImage, OutgoingMail, queue_mail
from jou.bookings import calendar, tickets
from jou.bookings.models import SCHOOL_LEVELS, Booking, BookingKind, BookingStatus
from jou.models import Slot


def _ics_attachment(booking: Booking) -> Attachment:
    return Attachment(f"visite-usine-{booking.id}.ics", calendar.booking_ics(booking), "text/calendar")


def _when(slot: Slot) -> str:
    text = f"{french_date(slot.day)} de {french_time(slot.start)} à {french_time(slot.end)}"
    return text if calendar.site_zone(slot.site) is calendar.PARIS else f"{text} (heure locale)"


def _context(booking: Booking) -> dict:
    slot = booking.slot
    site = slot.site
    school = booking.kind == BookingKind.SCHOOL
    return {
        "booking": booking,
        "slot": slot,
        "site": site,
        "name": booking.name,
        "when": _when(slot),
        "address": f"{site.street}, {site.postcode} {site.city}",
        "notices": calendar.slot_notices(slot),
        "manage_url": calendar.manage_url(booking),
        "school": school,
        "level_label": SCHOOL_LEVELS.get(booking.level or "", booking.level or "") if school else "",
    }


def _queue_ticket(booking: Booking, subject: str, template: str) -> OutgoingMail:
    return queue_mail(
        booking.email,
        subject,
        template,
        to_name=booking.name,
        inline={"qr": InlineImage(tickets.qr_png(booking))},
        attachments=[_ics_attachment(booking)],
        **_context(booking),
    )


def queue_confirmation(booking: Booking) -> OutgoingMail:
    site = booking.slot.site
    return _queue_ticket(booking, f"Votre visite chez {site.name} est confirmée", "booking_confirmation")


def queue_promotion(booking: Booking) -> OutgoingMail:
    """The waiting party got seats: the same ticket as a confirmation, said differently."""
    site = booking.slot.site
    return _queue_ticket(
        booking, f"Une place s'est libérée : votre visite chez {site.name} est confirmée", "booking_promotion"
    )


def queue_cancellation(booking: Booking) -> OutgoingMail:
    """No ticket; the cancelled .ics (same UID, higher SEQUENCE) removes the event from calendars."""
    site = booking.slot.site
    return queue_mail(
        booking.email,
        f"Annulation de votre visite chez {site.name}",
        "booking_cancellation",
        to_name=booking.name,
        attachments=[_ics_attachment(booking)],
        **_context(booking),
    )


def queue_slot_message(slot: Slot, subject: str, body: str) -> list[OutgoingMail]:
    """The factory writes to everyone holding a confirmed booking for the slot: one message per address,
    each to that address alone, so nobody sees another visitor's e-mail."""
    site = slot.site
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.slot_id == slot.id, Booking.status == BookingStatus.CONFIRMED)
        .order_by(Booking.id)
    )
    queued, seen = [], set()
    for booking in bookings:
        address = booking.email.strip().casefold()
        if address in seen:
            continue
        seen.add(address)
        queued.append(
            queue_mail(
                booking.email,
                f"{site.name} : {subject}",
                "booking_slot_message",
                to_name=booking.name,
                message=body,
                **_context(booking),
            )
        )
    return queued
