"""E-mails to the people who booked: confirmation (QR inline, .ics attached), promotion from the waiting
list, cancellation, the reminder before the visit (scheduled: core.schedule), and a factory's message to
the bookers of a slot.

Each function queues its messages in the caller's transaction (flush, never commit); they go out after
the commit (core.mail: the mail worker, or the request itself with MAIL_DELIVERY=inline), and are retried
while the server fails. The ticket messages (QR code, .ics) are queued as a booking id and composed by the
deliverer (`queue_mail_later` + `mail_composer`): composing costs more than the booking itself and must
not hold up the booking request. They are composed once, from the booking as it is then: a confirmation
whose booking was cancelled or deleted meanwhile is dropped. A factory's message is composed at once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from core.extensions import db
from core.formatting import PARIS, french_date, french_datetime, french_time
from core.mail import (
    Attachment,
    InlineImage,
    OutgoingMail,
    compose,
    mail_composer,
    queue_mail,
    queue_mail_later,
    queue_mail_once,
)
from core.models import utcnow
from core.schedule import Due, scheduled
from jou.bookings import calendar, tickets
from jou.bookings.models import (
    SCHOOL_LEVELS,
    Booking,
    BookingKind,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
    waitlist_position,
)
from jou.bookings.ticket_pdf import ticket_pdf
from jou.models import Site, Slot


def _ics_attachment(booking: Booking) -> Attachment:
    return Attachment(f"visite-usine-{booking.id}.ics", calendar.booking_ics(booking), "text/calendar")


def _pdf_attachment(booking: Booking) -> Attachment:
    return Attachment(f"billet-{booking.id}.pdf", ticket_pdf(booking), "application/pdf")


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


CONFIRMATION, PROMOTION, CANCELLATION = "booking_confirmation", "booking_promotion", "booking_cancellation"
REMINDER, CHANGE = "booking_reminder", "booking_change"
LINKS = "booking_links"
LINKS_SUBJECT = "Vos réservations aux Journées Usines Ouvertes"


def _subject(template: str, booking: Booking) -> str:
    site_name = booking.slot.site.name
    return {
        CONFIRMATION: f"Votre visite chez {site_name} est confirmée",
        PROMOTION: f"Une place s'est libérée : votre visite chez {site_name} est confirmée",
        CANCELLATION: f"Annulation de votre visite chez {site_name}",
        REMINDER: f"Rappel : votre visite chez {site_name} le {french_date(booking.slot.day)}",
        CHANGE: f"Votre visite chez {site_name} : réservation modifiée",
    }[template]


def _queue(booking: Booking, template: str) -> int:
    return queue_mail_later(booking.email, _subject(template, booking), template, booking_id=booking.id)


def queue_confirmation(booking: Booking) -> int:
    """The ticket e-mail, composed by the deliverer; the id of the queued message."""
    return _queue(booking, CONFIRMATION)


def queue_promotion(booking: Booking) -> int:
    """The waiting party got seats: the same ticket as a confirmation, said differently."""
    return _queue(booking, PROMOTION)


def queue_change(booking: Booking) -> int:
    """The party changed: the ticket again, its .ics one revision up so calendars update the event."""
    return _queue(booking, CHANGE)


def queue_cancellation(booking: Booking) -> int:
    """No ticket; the cancelled .ics (same UID, higher SEQUENCE) removes the event from calendars."""
    return _queue(booking, CANCELLATION)


@mail_composer(CONFIRMATION)
@mail_composer(PROMOTION)
@mail_composer(REMINDER)
@mail_composer(CHANGE)
def _compose_ticket(booking_id: int, *, template: str) -> EmailMessage | None:
    booking = db.session.get(Booking, booking_id)
    if booking is None or not booking.is_confirmed:
        return None
    return compose(
        booking.email,
        _subject(template, booking),
        template,
        to_name=booking.name,
        inline={"qr": InlineImage(tickets.qr_png(booking))},
        attachments=[_pdf_attachment(booking), _ics_attachment(booking)],
        cancel_url=calendar.manage_url(booking) + "/annuler",
        **_context(booking),
    )


# ---- the waiting list ---------------------------------------------------------------------------------

WAITLIST_JOINED, OFFER = "waitlist_joined", "waitlist_offer"


def waitlist_url(entry: WaitlistEntry) -> str:
    from jou.bookings.tokens import waitlist_token

    return calendar.public_url(f"/liste-attente/{waitlist_token(entry)}")


def queue_waitlist_joined(entry: WaitlistEntry) -> int:
    """Their place in line and the link to follow it, leave the list, or reach their data."""
    return queue_mail_later(entry.email, f"Liste d'attente : {entry.slot.site.name}", WAITLIST_JOINED,
                            entry_id=entry.id)  # fmt: skip


def queue_offer(entry: WaitlistEntry) -> int:
    """Seats are held for them: confirm before the deadline, or they go to the next party."""
    return queue_mail_later(entry.email, f"Des places pour vous chez {entry.slot.site.name} : confirmez", OFFER,
                            entry_id=entry.id)  # fmt: skip


@mail_composer(WAITLIST_JOINED)
@mail_composer(OFFER)
def _compose_waitlist(entry_id: int, *, template: str) -> EmailMessage | None:
    entry = db.session.get(WaitlistEntry, entry_id)
    wanted = WaitlistStatus.OFFERED if template == OFFER else WaitlistStatus.WAITING
    if entry is None or entry.status != wanted or entry.anonymised_at is not None:
        return None  # moved on since (offered, left, erased): the message would say something untrue
    slot = entry.slot
    subject = (
        f"Des places pour vous chez {slot.site.name} : confirmez" if template == OFFER
        else f"Liste d'attente : {slot.site.name}"
    )  # fmt: skip
    return compose(
        entry.email, subject, template, to_name=entry.name, entry=entry, site=slot.site, when=_when(slot),
        position=waitlist_position(entry), link=waitlist_url(entry),
        deadline=french_datetime(entry.offer_expires_at) if entry.offer_expires_at else "",
    )  # fmt: skip


# ---- "I lost my ticket" ---------------------------------------------------------------------------


def queue_links(email: str, now: datetime) -> int | None:
    """E-mail an address the links of its visits to come (ticket, management), whoever asked: only the
    person who reads that mailbox gets them. At most one such message an hour per address (the key is
    the address's digest and the hour), so asking again, or a robot, cannot flood a mailbox; an address
    with nothing to come gets nothing. The caller answers the same in every case."""
    address = email.strip().lower()
    if not _upcoming(address, now):
        return None
    digest = hashlib.sha256(address.encode()).hexdigest()[:24]
    return queue_mail_once(f"{LINKS}:{digest}:{now:%Y%m%d%H}", address, LINKS_SUBJECT, LINKS, email=address)


def _upcoming(email: str, now: datetime) -> list[Booking]:
    today = now.astimezone(PARIS).date()
    return list(
        db.session.scalars(
            select(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Booking.email == email,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.anonymised_at.is_(None),
                Slot.day >= today,
            )
            .options(contains_eager(Booking.slot))
            .order_by(Slot.day, Slot.start, Booking.id)
        )
    )


@mail_composer(LINKS)
def _compose_links(email: str, *, template: str) -> EmailMessage | None:
    bookings = _upcoming(email, utcnow())
    if not bookings:
        return None
    visits = [
        {"site": b.slot.site, "when": _when(b.slot), "party_size": b.party_size,
         "manage_url": calendar.manage_url(b)}
        for b in bookings
    ]  # fmt: skip
    return compose(email, LINKS_SUBJECT, template, visits=visits, to_name=bookings[0].name)


# ---- scheduled: the reminder ----------------------------------------------------------------------


@scheduled(REMINDER, "Rappels de visite")
def due_reminders(now: datetime) -> list[Due]:
    """The ticket again, BOOKING_REMINDER_DAYS (2) days before the visit, with what to bring and a link to
    free one's seats; for the bookings made before that day (a later one has just got its ticket), until
    the visit starts. An erased or cancelled booking gets none."""
    days = int(current_app.config.get("BOOKING_REMINDER_DAYS", 2))
    today = now.astimezone(PARIS).date()
    bookings = db.session.scalars(
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.anonymised_at.is_(None),
            Slot.day >= today - timedelta(days=1),  # a slot abroad may still be ahead
            Slot.day <= today + timedelta(days=days),
        )
        .options(contains_eager(Booking.slot))
        .order_by(Booking.id)
    )
    due = []
    for booking in bookings:
        start, _end = calendar.slot_bounds(booking.slot)
        reminder_day = datetime.combine(booking.slot.day - timedelta(days=days), time(0), tzinfo=start.tzinfo)
        if booking.created_at < reminder_day <= now < start:
            due.append(Due(f"{REMINDER}:{booking.id}", booking.email, _subject(REMINDER, booking), REMINDER,
                           {"booking_id": booking.id}))  # fmt: skip
    return due


@mail_composer(CANCELLATION)
def _compose_cancellation(booking_id: int, *, template: str) -> EmailMessage | None:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        return None
    return compose(
        booking.email,
        _subject(template, booking),
        template,
        to_name=booking.name,
        attachments=[_ics_attachment(booking)],
        **_context(booking),
    )


def queue_slot_message(
    slot: Slot, subject: str, body: str, *, with_waitlist: bool = False
) -> list[OutgoingMail]:
    """The factory writes to everyone holding a confirmed booking for the slot: one message per address,
    each to that address alone, so nobody sees another visitor's e-mail."""
    site = slot.site
    bookings = db.session.scalars(
        select(Booking)
        # Erased visitors (jou.bookings.privacy) have no address left to write to.
        .where(
            Booking.slot_id == slot.id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.anonymised_at.is_(None),
        )
        .order_by(Booking.id)
    )
    queued, seen = [], set()
    for booking in bookings:
        address = booking.email.strip().casefold()
        if address in seen:
            continue
        seen.add(address)
        queued.append(_slot_message(site, subject, body, booking.email, booking.name, _context(booking)))
    if with_waitlist:
        # The parties waiting for (or offered) seats of this slot, with the link to their place in line.
        for entry in db.session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.slot_id == slot.id,
                WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
                WaitlistEntry.anonymised_at.is_(None),
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        ):
            if entry.email.strip().casefold() in seen:
                continue
            seen.add(entry.email.strip().casefold())
            context = {
                "name": entry.name,
                "site": site,
                "when": _when(slot),
                "manage_url": waitlist_url(entry),
            }
            queued.append(_slot_message(site, subject, body, entry.email, entry.name, context))
    return queued


def _slot_message(site: Site, subject: str, body: str, to: str, name: str, context: dict) -> OutgoingMail:
    return queue_mail(
        to,
        f"{site.name} : {subject}",
        "booking_slot_message",
        to_name=name,
        # An answer goes to the factory's contact, not to the platform.
        reply_to=f"{site.contact_name} <{site.contact_email}>",
        message=body,
        **context,
    )
