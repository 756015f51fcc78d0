"""Files of a booking (QR ticket, .ics) and the public iCal feeds of slots.

Everything is rendered on demand from the booking or the slots: nothing is stored, so a changed party
size or a cancellation shows at the next download. Links are signed tokens; a bad one is a plain 404
(a page, never JSON), whether it was cut, altered or forged.
"""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import geography
from core.errors import NotFound
from core.extensions import db
from jou import services as site_services
from jou.bookings import calendar, tickets, tokens
from jou.bookings import ticket_pdf as ticket_pdf_module
from jou.bookings.privacy import ensure_not_erased
from jou.models import Site, SiteStatus, Slot

bp = Blueprint("booking_files", __name__)

# Feeds are public and the same for everyone: shared caches may keep them a little while.
FEED_MAX_AGE = 15 * 60


def _private(response: Response) -> Response:
    # A ticket or a booking is one person's: core.security answers it `no-store` (not a public route).
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/billets/<token>.png")
def ticket_png(token: str):
    booking = ensure_not_erased(tokens.ticket_booking_or_404(token))
    return _private(Response(tickets.qr_png(booking), mimetype="image/png"))


@bp.route("/billets/<token>.svg")
def ticket_svg(token: str):
    booking = ensure_not_erased(tokens.ticket_booking_or_404(token))
    return _private(Response(tickets.qr_svg(booking), mimetype="image/svg+xml"))


@bp.route("/billets/<token>.pdf")
def ticket_pdf(token: str):
    booking = ensure_not_erased(tokens.ticket_booking_or_404(token))
    response = Response(ticket_pdf_module.ticket_pdf(booking), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="billet-{booking.id}.pdf"'
    return _private(response)


@bp.route("/reservations/<token>.ics")
def booking_ics(token: str):
    booking = ensure_not_erased(tokens.managed_booking_or_404(token))
    response = Response(calendar.booking_ics(booking), content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="visite-usine-{booking.id}.ics"'
    return _private(response)


def _feed(slots: list[Slot], title: str, filename: str) -> Response:
    response = Response(calendar.slots_feed(slots, title), content_type="text/calendar; charset=utf-8")
    # inline: a browser hands a subscription (webcal) to the calendar app instead of saving a file.
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
    return response


def _published_slots():  # noqa: ANN202 - a Select
    return (
        select(Slot)
        .join(Slot.site)
        .where(Site.status == SiteStatus.APPROVED)
        .options(selectinload(Slot.site))
        .order_by(Slot.day, Slot.start, Slot.id)
    )


@bp.route("/usines/<int:site_id>/creneaux.ics")
def site_feed(site_id: int):
    site = db.session.get(Site, site_id)
    if site is None or not site.is_published:
        raise NotFound("Site introuvable.")
    slots = list(db.session.scalars(_published_slots().where(Slot.site_id == site.id)))
    return _feed(slots, f"Usines Ouvertes – {site.name} ({site.city})", f"usine-{site.id}.ics")


@bp.route("/regions/<code>/creneaux.ics")
def region_feed(code: str):
    if code not in geography.REGIONS:
        raise NotFound("Région introuvable.")
    edition = site_services.current_edition()
    slots = []
    if edition is not None:
        query = _published_slots().where(Site.edition_id == edition.id, Site.region == code)
        slots = list(db.session.scalars(query))
    title = f"Usines Ouvertes – {geography.region_name(code)}"
    return _feed(slots, title, f"region-{code}.ics")
