"""The survey after the visit, whose answers become figures (stats.surveys).

The day after the visit, each confirmed booking (a party, or the teacher of a class) is e-mailed a signed
link to a short survey (scheduled: core.schedule). Only the satisfaction (1–5) is required; the others are
agreement scales, the respondent's gender and age band, and a comment for the factory. One answer per
booking, updated (never added again) while the survey is open: SURVEY_DAYS after the visit.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from email.message import EmailMessage

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from core.errors import Conflict, NotFound
from core.extensions import db
from core.mail import compose, mail_composer
from core.models import utcnow
from core.schedule import Due, scheduled
from core.validation import BaseSchema, Text
from jou.bookings import calendar, tokens
from jou.bookings.models import AGE_BANDS, RESPONDENT_GENDERS, Booking, BookingStatus, SurveyAnswer
from jou.models import Slot

INVITE = "survey_invite"
SALT = "jou-survey"
SURVEY_DAYS = 30  # the survey stays open this many days after the visit
FIELDS = ("satisfaction", "changed_view", "could_work_before", "could_work_now", "respondent_gender", "age_band",
          "comment")  # fmt: skip


def _scale(required: bool = False) -> fields.Integer:
    scale = validate.Range(min=1, max=5, error="Une note de 1 à 5.")
    if required:
        return fields.Integer(required=True, validate=scale)
    return fields.Integer(load_default=None, allow_none=True, validate=scale)


class SurveyInputSchema(BaseSchema):
    satisfaction = _scale(required=True)
    changed_view = _scale()
    could_work_before = _scale()
    could_work_now = _scale()
    respondent_gender = fields.String(load_default=None, allow_none=True,
                                      validate=validate.OneOf(list(RESPONDENT_GENDERS)))  # fmt: skip
    age_band = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(AGE_BANDS)))
    comment = Text(load_default="", validate=validate.Length(max=2000))


def token(booking: Booking) -> str:
    return tokens.sign(booking, SALT)


def booking_from_token(value: str) -> Booking:
    bad = NotFound("Ce lien d'enquête n'est pas valide : utilisez le lien complet reçu par e-mail.")
    booking = db.session.get(Booking, tokens.signed_id(value, SALT, bad))
    if booking is None:
        raise bad
    return booking


def survey_url(booking: Booking) -> str:
    return calendar.public_url(f"/enquete/{token(booking)}")


def window(booking: Booking) -> tuple[datetime, datetime]:
    """The survey opens the morning after the visit (09:00, the site's time) and closes SURVEY_DAYS later."""
    zone = calendar.site_zone(booking.slot.site)
    opens = datetime.combine(booking.slot.day + timedelta(days=1), time(9), tzinfo=zone)
    return opens, opens + timedelta(days=SURVEY_DAYS)


def is_open(booking: Booking, now: datetime | None = None) -> bool:
    opens, closes = window(booking)
    return booking.status == BookingStatus.CONFIRMED and opens <= (now or utcnow()) < closes


def answer_of(booking: Booking) -> SurveyAnswer | None:
    return db.session.scalar(select(SurveyAnswer).where(SurveyAnswer.booking_id == booking.id))


def save(booking: Booking, data: dict, now: datetime | None = None) -> SurveyAnswer:
    """The booking's answer, created or updated (one per booking: answering twice updates it)."""
    if not is_open(booking, now):
        raise Conflict("Cette enquête n'est pas ouverte (elle l'est le lendemain de la visite, pendant "
                       f"{SURVEY_DAYS} jours).", code="survey_closed")  # fmt: skip
    answer = answer_of(booking) or SurveyAnswer(booking_id=booking.id)
    for name in FIELDS:
        setattr(answer, name, data.get(name) if name != "comment" else (data.get("comment") or "").strip())
    db.session.add(answer)
    db.session.flush()
    return answer


@scheduled(INVITE, "Enquêtes après la visite")
def due_invitations(now: datetime) -> list[Due]:
    """The morning after the visit, each confirmed booking not erased: its link to the survey."""
    bookings = db.session.scalars(
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.anonymised_at.is_(None),
            Slot.day < now.date(),
            Slot.day >= now.date() - timedelta(days=SURVEY_DAYS),
        )
        .options(contains_eager(Booking.slot))
        .order_by(Booking.id)
    )
    return [
        Due(f"{INVITE}:{b.id}", b.email, f"Votre visite chez {b.slot.site.name} : deux minutes pour nous dire ?",
            INVITE, {"booking_id": b.id})
        for b in bookings
        if is_open(b, now)
    ]  # fmt: skip


@mail_composer(INVITE)
def _compose_invite(booking_id: int, *, template: str) -> EmailMessage | None:
    booking = db.session.get(Booking, booking_id)
    # Queued when it opened (core.schedule): dropped only if pointless by now (cancelled, erased, closed).
    if booking is None or booking.anonymised_at is not None or booking.status != BookingStatus.CONFIRMED:
        return None
    if window(booking)[1] <= utcnow():
        return None
    return compose(
        booking.email, f"Votre visite chez {booking.slot.site.name} : deux minutes pour nous dire ?", template,
        to_name=booking.name, site=booking.slot.site, school=booking.kind == "school", link=survey_url(booking),
        closes=window(booking)[1],
    )  # fmt: skip


# ---- what the factory sees -----------------------------------------------------------------------------

MIN_RESPONDENTS = 5  # as stats.surveys: no answer shown with fewer behind it


def site_results(site_id: int) -> dict:
    """The site's responses, mean satisfaction and comments — only once MIN_RESPONDENTS answered."""
    answers = list(
        db.session.scalars(
            select(SurveyAnswer)
            .join(Booking, Booking.id == SurveyAnswer.booking_id)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Slot.site_id == site_id)
            .order_by(SurveyAnswer.updated_at.desc())
        )
    )
    if len(answers) < MIN_RESPONDENTS:
        return {"responses": len(answers), "shown": False, "min": MIN_RESPONDENTS}
    return {
        "responses": len(answers),
        "shown": True,
        "min": MIN_RESPONDENTS,
        "satisfaction_mean": round(sum(a.satisfaction for a in answers) / len(answers), 1),
        "comments": [a.comment for a in answers if a.comment],
    }
