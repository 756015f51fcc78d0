"""E-mails to the factories: their site approved or refused (with the reason, and how to send it again),
and two scheduled ones (core.schedule): a digest of their bookings a week before the edition, and after it
a reminder every few days to confirm their attendance figures, until every slot has them.

They go to the account that registered the site (its owner) and to the site's contact when that is
another address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.formatting import PARIS, count_of, french_date
from core.mail import compose, external_url, mail_composer, queue_mail
from core.schedule import Due, scheduled
from jou.models import Edition, Site, SiteStatus, Slot

DIGEST, ATTENDANCE = "site_digest", "site_attendance_reminder"
DIGEST_DAYS = 7  # the digest goes out this many days before the edition's first day
REMIND_EVERY = 3  # days between two attendance reminders …
REMIND_FOR = 30  # … for this many days after the edition


def recipients(site: Site) -> list[str]:
    addresses = [site.owner.email] if site.owner else []
    if site.contact_email and site.contact_email.lower() not in {a.lower() for a in addresses}:
        addresses.append(site.contact_email)
    return addresses


def _who(address: str) -> str:
    """An address in a message's key: short (the key is 120 characters at most) and stable."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:16]


def queue_approved(site: Site) -> None:
    for address in recipients(site):
        queue_mail(address, f"Votre site {site.name} est publié", "site_approved", site=site,
                   site_url=external_url("jou.site_detail", site_id=site.id),
                   bookings_url=external_url("bookings.site_bookings", site_id=site.id))  # fmt: skip


def queue_rejected(site: Site) -> None:
    for address in recipients(site):
        queue_mail(address, f"Votre site {site.name} n'est pas publié : à revoir", "site_rejected", site=site,
                   edit_url=external_url("jou.site_edit", site_id=site.id))  # fmt: skip


# ---- scheduled ---------------------------------------------------------------------------------------


def _editions_where(condition: Iterable) -> list[Edition]:
    return list(db.session.scalars(select(Edition).where(*condition)))


def _published(edition: Edition) -> list[Site]:
    return list(
        db.session.scalars(
            select(Site)
            .where(Site.edition_id == edition.id, Site.status == SiteStatus.APPROVED)
            .options(selectinload(Site.owner))
            .order_by(Site.id)
        )
    )


@scheduled(DIGEST, "Récapitulatifs des réservations aux usines")
def due_digests(now: datetime) -> list[Due]:
    """A week before the edition's first day (until it starts), each published site: its bookings."""
    today = now.astimezone(PARIS).date()
    editions = _editions_where(
        [Edition.friday > today, Edition.friday <= today + timedelta(days=DIGEST_DAYS)]
    )
    return [
        Due(f"{DIGEST}:{site.id}:{_who(address)}", address, _digest_subject(site), DIGEST,
            {"site_id": site.id, "address": address})
        for edition in editions
        for site in _published(edition)
        for address in recipients(site)
    ]  # fmt: skip


@scheduled(ATTENDANCE, "Rappels de fréquentation à confirmer")
def due_attendance_reminders(now: datetime) -> list[Due]:
    """From the day after the edition, every REMIND_EVERY days for REMIND_FOR days, each published site
    with a slot whose figures are not confirmed yet."""
    from jou.checkin.models import AttendanceReport

    today = now.astimezone(PARIS).date()
    editions = _editions_where(
        [Edition.saturday < today, Edition.saturday >= today - timedelta(days=REMIND_FOR)]
    )
    due = []
    for edition in editions:
        round_ = (today - edition.saturday - timedelta(days=1)).days // REMIND_EVERY
        missing = dict(
            db.session.execute(
                select(Slot.site_id, func.count(Slot.id))
                .join(Site, Site.id == Slot.site_id)
                .outerjoin(AttendanceReport, AttendanceReport.slot_id == Slot.id)
                .where(Site.edition_id == edition.id, Site.status == SiteStatus.APPROVED,
                       AttendanceReport.id.is_(None))
                .group_by(Slot.site_id)
            ).all()
        )  # fmt: skip
        for site in _published(edition):
            if not missing.get(site.id):
                continue
            for address in recipients(site):
                due.append(Due(f"{ATTENDANCE}:{site.id}:{round_}:{_who(address)}", address,
                               f"{site.name} : confirmez la fréquentation de vos créneaux", ATTENDANCE,
                               {"site_id": site.id, "address": address}))  # fmt: skip
    return due


@mail_composer(DIGEST)
def _compose_digest(site_id: int, address: str, *, template: str) -> EmailMessage | None:
    from jou.bookings.models import SCHOOL_LEVELS, Booking, BookingStatus

    site = db.session.get(Site, site_id)
    if site is None or site.status != SiteStatus.APPROVED:
        return None
    slots = []
    for slot in sorted(site.slots, key=lambda s: (s.day, s.start)):
        bookings = list(
            db.session.scalars(
                select(Booking).where(Booking.slot_id == slot.id, Booking.status == BookingStatus.CONFIRMED)
            )
        )
        classes = [
            {"school": b.school.name if b.school else b.uai, "level": SCHOOL_LEVELS.get(b.level or "", b.level),
             "pupils": b.pupils, "adults": b.adults}
            for b in bookings if b.kind == "school"
        ]  # fmt: skip
        slots.append({"slot": slot, "seats": count_of(sum(b.party_size for b in bookings), "place", "places"),
                      "bookings": count_of(len(bookings), "réservation", "réservations"), "classes": classes})  # fmt: skip
    return compose(
        address, _digest_subject(site), template, site=site,
        slots=slots, bookings_url=external_url("bookings.site_bookings", site_id=site.id),
    )  # fmt: skip


def _digest_subject(site: Site) -> str:
    edition = site.edition
    return f"{site.name} : vos réservations pour les {french_date(edition.friday)} et {french_date(edition.saturday)}"


@mail_composer(ATTENDANCE)
def _compose_attendance(site_id: int, address: str, *, template: str) -> EmailMessage | None:
    from jou.checkin.models import AttendanceReport

    site = db.session.get(Site, site_id)
    if site is None:
        return None
    reported = set(
        db.session.scalars(
            select(AttendanceReport.slot_id).where(AttendanceReport.slot_id.in_([s.id for s in site.slots]))
        )
    )
    missing = [s for s in sorted(site.slots, key=lambda s: (s.day, s.start)) if s.id not in reported]
    if not missing:
        return None  # confirmed since it was queued
    return compose(
        address,
        f"{site.name} : confirmez la fréquentation de vos créneaux", template, site=site, missing=missing,
        attendance_url=external_url("checkin.attendance", site_id=site.id),
    )  # fmt: skip
