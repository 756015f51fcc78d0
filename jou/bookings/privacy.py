"""Visitors' personal data (GDPR): what a visitor can download and erase, and the purge of a past edition.

A visitor's personal data is their name, e-mail address and phone on bookings and waiting-list entries,
and the e-mails we wrote to them (the queue keeps each composed message). Erasing keeps everything the
statistics count — the booking's slot, kind, status, party by gender, school (UAI) and level, its check-in
— and blanks the person: name and e-mail become "" (the columns stay NOT NULL), phone and idempotency key
NULL, `anonymised_at` says when. Check-ins, walk-ins and attendance reports hold no visitor's data.

Authority follows proof. Anyone may book with any address, so the manage link a booking answers with
proves nothing about the mailbox: it covers that booking alone (see, change, cancel, its .ics, its ticket,
its own data: download and erase). Everything that spans an address — all its bookings, waiting-list
entries and e-mails, to download or to erase — needs a link e-mailed to that address on request
(`request_link`): only the mailbox's owner can open it. The request always gets the same answer, and the
e-mail goes out whether or not the address holds anything, so asking reveals nothing.

Erasing cancels the bookings still to come (a booking without a name or an address can no longer receive
its ticket, and its seats go to the waiting list); past bookings keep their counts.

`flask privacy purge --edition YEAR` does the same for every visitor of an edition once it is over, as the
privacy notice beside every booking form promises (templates/jou/bookings/_privacy.html).

Services flush, never commit, and record their events in the audit log (without personal data).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from core import audit, locking
from core.errors import AppError, Conflict
from core.extensions import db
from core.formatting import PARIS, count_of, french_date, paris_today
from core.mail import OutgoingMail, compose, external_url, mail_composer, queue_mail_later
from core.models import utcnow
from jou import services as site_services
from jou.bookings import interest, services
from jou.bookings.models import Booking, BookingStatus, SurveyAnswer, WaitlistEntry, WaitlistStatus
from jou.checkin.models import CheckIn
from jou.models import Edition, Site, Slot


def erased_fields(row: Booking | WaitlistEntry) -> dict[str, str]:
    """The audit's note of an erasure: which personal fields held something (never their values); the
    idempotency key and its digest are a request's, not something the visitor typed."""
    return {
        field: audit.REDACTED
        for field in row.__personal__
        if getattr(row, field) and not field.startswith("idempotency")
    }


class DataErased(AppError):
    status = 410
    code = "data_erased"
    message = (
        "Les données personnelles de cette réservation ont été effacées : ce lien ne donne plus accès "
        "à rien. Les chiffres de fréquentation (sans nom) sont conservés pour les statistiques."
    )


def ensure_not_erased(booking: Booking) -> Booking:
    """Behind a manage link: an erased booking answers 410 with one clear sentence."""
    if booking.anonymised_at is not None:
        raise DataErased()
    return booking


def ensure_entry_not_erased(entry: WaitlistEntry) -> WaitlistEntry:
    """The same for a waiting-list entry behind its link."""
    if entry.anonymised_at is not None:
        raise DataErased()
    return entry


# ---- what we hold --------------------------------------------------------------------------------------


def _normal(email: str) -> str:
    return email.strip().lower()


def bookings_of(email: str) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .options(joinedload(Booking.slot).joinedload(Slot.site).joinedload(Site.edition))
            .where(func.lower(Booking.email) == email, Booking.anonymised_at.is_(None))
            .order_by(Booking.created_at, Booking.id)
        ).unique()
    )


def waitlist_entries_of(email: str) -> list[WaitlistEntry]:
    return list(
        db.session.scalars(
            select(WaitlistEntry)
            .where(func.lower(WaitlistEntry.email) == email, WaitlistEntry.anonymised_at.is_(None))
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
    )


def _mails_to(email: str):  # noqa: ANN202 - a Select
    return select(OutgoingMail).where(
        func.lower(OutgoingMail.to_address) == email, OutgoingMail.to_address != ""
    )


def _mails_about(booking: Booking) -> list[OutgoingMail]:
    """The e-mails written about this booking (its ticket, changes, cancellation), not others to the
    same address."""
    mails = db.session.scalars(
        _mails_to(_normal(booking.email)).order_by(OutgoingMail.created_at, OutgoingMail.id)
    )
    return [m for m in mails if (m.compose_args or {}).get("booking_id") == booking.id]


def _slot_json(slot: Slot) -> dict:
    site = slot.site
    return {
        "site": {"id": site.id, "name": site.name, "city": site.city},
        "edition": site.edition.year,
        "day": slot.day.isoformat(),
        "start": slot.start.strftime("%H:%M"),
        "end": slot.end.strftime("%H:%M"),
        "audience": slot.audience,
    }


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _booking_json(booking: Booking) -> dict:
    entries = db.session.scalars(
        select(CheckIn)
        .where(CheckIn.booking_id == booking.id, CheckIn.undone_at.is_(None), CheckIn.direction == "entry")
        .order_by(CheckIn.id)
    ).all()
    return {
        "id": booking.id,
        "slot": _slot_json(booking.slot),
        "kind": booking.kind,
        "status": booking.status,
        "party_size": booking.party_size,
        "female": booking.female,
        "male": booking.male,
        "unspecified": booking.unspecified,
        "adults": booking.adults,
        "uai": booking.uai,
        "level": booking.level,
        **{field: getattr(booking, field) for field in Booking.__personal__},
        "consent_at": _when(booking.consent_at),
        "created_at": _when(booking.created_at),
        "cancelled_at": _when(booking.cancelled_at),
        "checked_in": None
        if not entries
        else {"at": _when(entries[0].checked_in_at), "admitted": sum(e.admitted for e in entries)},
    }


def _entry_json(entry: WaitlistEntry) -> dict:
    return {
        "id": entry.id,
        "slot": _slot_json(entry.slot),
        "status": entry.status,
        "party_size": entry.party_size,
        "female": entry.female,
        "male": entry.male,
        "unspecified": entry.unspecified,
        **{field: getattr(entry, field) for field in WaitlistEntry.__personal__},
        "consent_at": _when(entry.consent_at),
        "created_at": _when(entry.created_at),
        "booking_id": entry.booking_id,
    }


def _mail_json(mail: OutgoingMail) -> dict:
    text = None
    if mail.message:
        body = mail.as_email().get_body(("plain",))
        text = body.get_content() if body is not None else None
    return {
        "to": mail.to_address,
        "subject": mail.subject,
        "created_at": _when(mail.created_at),
        "sent_at": _when(mail.sent_at),
        "text": text,
    }


CONTROLLER = "Soce — Journées Usines Ouvertes"


def booking_data(booking: Booking) -> dict:
    """What the manage link may see: this booking and the e-mails written about it."""
    ensure_not_erased(booking)
    return {
        "generated_at": utcnow().isoformat(),
        "controller": CONTROLLER,
        "bookings": [_booking_json(booking)],
        "waitlist_entries": [],
        "emails": [_mail_json(m) for m in _mails_about(booking)],
    }


def personal_data(email: str) -> dict:
    """Everything held about an address, for its proven owner (see the module doc)."""
    email = _normal(email)
    mails = db.session.scalars(_mails_to(email).order_by(OutgoingMail.created_at, OutgoingMail.id))
    return {
        "generated_at": utcnow().isoformat(),
        "controller": CONTROLLER,
        "email": email,
        "bookings": [_booking_json(b) for b in bookings_of(email)],
        "waitlist_entries": [_entry_json(e) for e in waitlist_entries_of(email)],
        "interest_subscriptions": [
            {
                "region": s.region,
                "department": s.department,
                "consent_at": _when(s.consent_at),
                "confirmed_at": _when(s.confirmed_at),
                "unsubscribed_at": _when(s.unsubscribed_at),
            }
            for s in interest.of_address(email)
        ],  # fmt: skip
        "emails": [_mail_json(m) for m in mails],
    }


@dataclass
class ErasurePlan:
    """What erasing will do (shown on the confirmation page), then what it did."""

    bookings: int = 0
    cancelled: int = 0  # bookings still to come: cancelled, their seats freed
    waitlist_entries: int = 0
    emails: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _upcoming(booking: Booking, now: datetime) -> bool:
    return booking.status == BookingStatus.CONFIRMED and services.slot_starts_at(booking.slot) > now


def booking_erasure_plan(booking: Booking, *, now: datetime | None = None) -> ErasurePlan:
    ensure_not_erased(booking)
    now = now or utcnow()
    return ErasurePlan(bookings=1, cancelled=int(_upcoming(booking, now)), emails=len(_mails_about(booking)))


def erasure_plan(email: str, *, now: datetime | None = None) -> ErasurePlan:
    now = now or utcnow()
    email = _normal(email)
    held = bookings_of(email)
    return ErasurePlan(
        bookings=len(held),
        cancelled=sum(_upcoming(b, now) for b in held),
        waitlist_entries=len(waitlist_entries_of(email)),
        emails=db.session.scalar(select(func.count()).select_from(_mails_to(email).subquery())) or 0,
    )


# ---- erasing -----------------------------------------------------------------------------------------


def _blank(row: Booking | WaitlistEntry, now: datetime) -> None:
    for field, blank in type(row).blanked().items():
        setattr(row, field, blank)
    row.anonymised_at = now


def _forget_mails(condition) -> int:  # noqa: ANN001 - a SQL condition on OutgoingMail
    """Unsent messages are deleted (nobody is left to send them to); sent ones keep their row — subject,
    template, dates — without the address, the body or an SMTP error that may quote the address."""
    unsent = db.session.execute(
        delete(OutgoingMail)
        .where(condition, OutgoingMail.sent_at.is_(None))
        .execution_options(synchronize_session=False)
    ).rowcount
    scrub: dict = {"to_address": "", "message": b"", "last_error": "", "compose_args": None}
    sent = db.session.execute(
        update(OutgoingMail)
        .where(condition, OutgoingMail.sent_at.is_not(None))
        .values(**scrub)
        .execution_options(synchronize_session=False)
    ).rowcount
    return unsent + sent


def _erase_booking_row(booking: Booking, now: datetime, done: ErasurePlan) -> None:
    """Under the booking's lock (cancel_booking takes it; a booking already cancelled is locked here)."""
    if _upcoming(booking, now):
        try:
            services.cancel_booking(booking, now=now)
            done.cancelled += 1
        except Conflict:
            pass  # cancelled in between by its own link: its seats were freed then, once
    else:
        locking.lock(Booking, booking.id)
    if booking.anonymised_at is not None:
        return
    erased = erased_fields(booking)
    _blank(booking, now)
    # The survey answer's comment is free text (it may name someone); its scales stay, without a name.
    db.session.execute(
        update(SurveyAnswer).where(SurveyAnswer.booking_id == booking.id).values(**SurveyAnswer.blanked())
    )
    audit.record("booking.erase", booking, actor_label=audit.VISITOR, changes=erased)
    done.bookings += 1


def erase_booking(booking: Booking, *, now: datetime | None = None) -> ErasurePlan:
    """Erase this booking's person (its manage link's authority): cancelled if still to come, name, e-mail
    and phone blanked, the e-mails about it forgotten. The address's other records stay."""
    ensure_not_erased(booking)
    now = now or utcnow()
    done = ErasurePlan()
    mail_ids = [m.id for m in _mails_about(booking)]
    _erase_booking_row(booking, now, done)
    if mail_ids:
        done.emails = _forget_mails(OutgoingMail.id.in_(mail_ids))
    db.session.flush()
    return done


def erase_person(email: str, *, now: datetime | None = None) -> ErasurePlan:
    """Erase everything held about an address, for its proven owner (see the module doc). The address is
    locked in every edition first, so no booking of it slips in meanwhile."""
    now = now or utcnow()
    email = _normal(email)
    for edition_id in sorted(db.session.scalars(select(Edition.id))):
        locking.lock_key(services.ADDRESS_LOCK, f"{edition_id}:{email}")
    done = ErasurePlan()
    # The waiting list first: cancelling a booking below promotes it, and must not book this person again.
    for entry in waitlist_entries_of(email):
        if entry.status in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
            services.cancel_waitlist_entry(entry)  # an offer declined: its seats go to the next party
        erased = erased_fields(entry)
        _blank(entry, now)
        audit.record("waitlist.erase", entry, actor_label=audit.VISITOR, changes=erased)
        done.waitlist_entries += 1
    db.session.flush()
    for held in bookings_of(email):
        _erase_booking_row(held, now, done)
    done.emails = _forget_mails(func.lower(OutgoingMail.to_address) == email)
    for subscription in interest.of_address(email):  # an address and an area: nothing to keep
        db.session.delete(subscription)
    db.session.flush()
    return done


# ---- links e-mailed to an address ----------------------------------------------------------------------


class PrivacyAction(enum.StrEnum):
    EXPORT = "export"
    ERASE = "erase"


PRIVACY_SALT = "jou-privacy-request"
PRIVACY_MAIL = "privacy_link"


class InvalidPrivacyLink(AppError):
    status = 404
    code = "invalid_link"
    message = "Ce lien n'est pas valide ou a expiré. Demandez-en un nouveau : il sera envoyé à votre adresse e-mail."


def _privacy_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PRIVACY_SALT)


def privacy_token(email: str, action: PrivacyAction) -> str:
    return _privacy_serializer().dumps([_normal(email), str(action)])


def read_privacy_token(token: str) -> tuple[str, PrivacyAction]:
    """The address and action the link was e-mailed for (404 when altered or older than
    PRIVACY_LINK_MAX_AGE seconds)."""
    try:
        payload = _privacy_serializer().loads(token, max_age=current_app.config["PRIVACY_LINK_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        raise InvalidPrivacyLink() from None
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
        raise InvalidPrivacyLink()
    try:
        return payload[0], PrivacyAction(payload[1])
    except ValueError:
        raise InvalidPrivacyLink() from None


SUBJECTS = {
    PrivacyAction.EXPORT: "Vos données personnelles — Journées Usines Ouvertes",
    PrivacyAction.ERASE: "Effacer vos données personnelles — Journées Usines Ouvertes",
}


def request_link(email: str, action: PrivacyAction) -> int:
    """E-mail the address a link to act on all its data. Sent whatever the address holds (the answer and
    the work are the same either way: nothing is learnt by asking)."""
    email = _normal(email)
    return queue_mail_later(email, SUBJECTS[action], PRIVACY_MAIL, email=email, action=str(action))


@mail_composer(PRIVACY_MAIL)
def _compose_privacy_link(email: str, action: str, *, template: str) -> EmailMessage | None:
    kind = PrivacyAction(action)
    minutes = current_app.config["PRIVACY_LINK_MAX_AGE"] // 60
    return compose(
        email,
        SUBJECTS[kind],
        template,
        action=kind.value,
        link=external_url("privacy.address", token=privacy_token(email, kind)),
        valid_hours=max(minutes // 60, 1),
    )


def holds_anything(email: str) -> bool:
    plan = erasure_plan(email)
    return bool(plan.bookings or plan.waitlist_entries or plan.emails)


# ---- purging a past edition --------------------------------------------------------------------------


@dataclass
class PurgeReport:
    edition: int
    bookings: int = 0
    waitlist_entries: int = 0
    emails: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "seraient anonymisés" if self.dry_run else "anonymisés"
        return (
            f"Édition {self.edition} : {count_of(self.bookings, 'réservation', 'réservations')}, "
            f"{count_of(self.waitlist_entries, 'inscription', 'inscriptions')} en liste d'attente et "
            f"{count_of(self.emails, 'courriel', 'courriels')} {verb}."
        )


class EditionNotOver(Conflict):
    code = "edition_not_over"


def _edition_slots(edition: Edition):  # noqa: ANN202 - a Select of slot ids
    return select(Slot.id).join(Site, Site.id == Slot.site_id).where(Site.edition_id == edition.id)


def _mail_window(edition: Edition) -> tuple[date | None, date | None]:
    """The mails about an edition were written after the previous edition's last day and before the
    next edition's bookings opened (editions are a year apart; their booking windows never overlap)."""
    previous = db.session.scalar(
        select(Edition.saturday).where(Edition.year < edition.year).order_by(Edition.year.desc()).limit(1)
    )
    following = db.session.scalar(
        select(Edition.booking_opens).where(Edition.year > edition.year).order_by(Edition.year).limit(1)
    )
    return previous, following


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


def purge_edition(
    year: int, *, dry_run: bool = False, today: date | None = None, now: datetime | None = None
) -> PurgeReport:
    """Anonymise every booking and waiting-list entry of a past edition and forget the e-mails written
    to its visitors; every count stays. Idempotent: a second run finds nothing left to do."""
    edition = site_services.get_edition_by_year(year)
    today = today or paris_today()
    if today <= edition.saturday:
        raise EditionNotOver(
            f"L'édition {year} n'est pas terminée (dernier jour : {french_date(edition.saturday)}) : "
            "les données de ses visiteurs servent encore (billets, contrôle à l'entrée). "
            "La purge n'est possible qu'à partir du lendemain."
        )
    now = now or utcnow()
    slots = _edition_slots(edition)
    live_bookings = (Booking.slot_id.in_(slots), Booking.anonymised_at.is_(None))
    live_entries = (WaitlistEntry.slot_id.in_(slots), WaitlistEntry.anonymised_at.is_(None))
    emails = set(db.session.scalars(select(func.lower(Booking.email)).where(*live_bookings)))
    emails |= set(db.session.scalars(select(func.lower(WaitlistEntry.email)).where(*live_entries)))
    emails.discard("")
    after, before = _mail_window(edition)
    mail_condition = func.lower(OutgoingMail.to_address).in_(sorted(emails))
    if after is not None:
        mail_condition &= OutgoingMail.created_at >= _start_of(after + timedelta(days=1))
    if before is not None:
        mail_condition &= OutgoingMail.created_at < _start_of(before)

    report = PurgeReport(edition=year, dry_run=dry_run)
    count = func.count()
    report.bookings = db.session.scalar(select(count).select_from(Booking).where(*live_bookings)) or 0
    report.waitlist_entries = (
        db.session.scalar(select(count).select_from(WaitlistEntry).where(*live_entries)) or 0
    )
    if emails:
        report.emails = db.session.scalar(select(count).select_from(OutgoingMail).where(mail_condition)) or 0
    if dry_run:
        return report

    db.session.execute(
        update(Booking)
        .where(*live_bookings)
        .values(**Booking.blanked(), anonymised_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(WaitlistEntry)
        .where(*live_entries)
        .values(**WaitlistEntry.blanked(), anonymised_at=now)
        .execution_options(synchronize_session=False)
    )
    if emails:
        _forget_mails(mail_condition)
    if report.bookings or report.waitlist_entries or report.emails:
        audit.record(
            "edition.purge",
            edition,
            actor_label=audit.COMMAND_LINE,
            changes={
                "bookings": report.bookings,
                "waitlist_entries": report.waitlist_entries,
                "emails": report.emails,
            },
            summary=report.summary(),
        )
    db.session.flush()
    # The bulk UPDATEs bypassed the session: objects already loaded must not keep the erased values.
    db.session.expire_all()
    return report
