"""The interest list: before an edition opens for booking, anyone may leave an address for a region or a
department. The address is confirmed by a link e-mailed to it (double opt-in: nobody can subscribe
someone else); when booking opens, each confirmed address gets one e-mail with the sites of its area
(scheduled: core.schedule); every such e-mail carries a one-click unsubscription (a link, and the
List-Unsubscribe headers mail clients turn into a button).

The answer to a subscription is the same whatever the address: nothing tells whether it was already
there. Confirmation e-mails are sent at most once an hour per subscription.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select

from core import audit
from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.formatting import PARIS
from core.geography.territories import COLLECTIVITIES, DEPARTMENTS, REGIONS, department_name, region_name
from core.mail import compose, mail_composer, queue_mail_once
from core.models import utcnow
from core.schedule import Due, scheduled
from jou.bookings import calendar, tokens
from jou.bookings.models import InterestSubscription
from jou.models import Edition, Site, SiteStatus

CONFIRM, OPENING = "interest_confirm", "interest_opening"
SALT = "jou-interest"


def area_name(subscription: InterestSubscription) -> str:
    if subscription.region:
        return region_name(subscription.region)
    return f"{department_name(subscription.department)} ({subscription.department})"


def subscribe(email: str, *, region: str | None = None, department: str | None = None,
              now: datetime | None = None) -> InterestSubscription:  # fmt: skip
    """Subscribe (or find the subscription of) an address for one area, and e-mail it the link to confirm
    unless it is confirmed already."""
    now = now or utcnow()
    if bool(region) == bool(department):
        raise ValidationFailed.on("region", "Choisissez une région ou un département (un seul).")
    if region and region not in REGIONS and region not in COLLECTIVITIES:
        raise ValidationFailed.on("region", "Région inconnue (code INSEE, ex. 11).")
    if department and department not in DEPARTMENTS:
        raise ValidationFailed.on("department", "Département inconnu (ex. 75, 2A, 971).")
    email = email.strip().lower()
    subscription = db.session.scalar(
        select(InterestSubscription).where(
            InterestSubscription.email == email,
            InterestSubscription.region.is_(None) if not region else InterestSubscription.region == region,
            InterestSubscription.department.is_(None)
            if not department
            else InterestSubscription.department == department,
            InterestSubscription.unsubscribed_at.is_(None),
        )
    )
    if subscription is None:
        subscription = InterestSubscription(email=email, region=region or None, department=department or None,
                                            consent_at=now)  # fmt: skip
        db.session.add(subscription)
        db.session.flush()
        audit.record("interest.subscribe", subscription, actor_label=audit.VISITOR,
                     changes={"area": [None, region or department]})  # fmt: skip
    if subscription.confirmed_at is None:
        queue_mail_once(f"{CONFIRM}:{subscription.id}:{now:%Y%m%d%H}", email,
                        "Confirmez : Journées Usines Ouvertes près de chez vous", CONFIRM,
                        subscription_id=subscription.id)  # fmt: skip
    return subscription


def token(subscription: InterestSubscription) -> str:
    return tokens.sign(subscription, SALT)


def from_token(value: str) -> InterestSubscription:
    bad = NotFound("Ce lien n'est pas valide : utilisez le lien complet reçu par e-mail.")
    subscription = db.session.get(InterestSubscription, tokens.signed_id(value, SALT, bad))
    if subscription is None or not subscription.email:
        raise bad
    return subscription


def confirm(subscription: InterestSubscription, now: datetime | None = None) -> None:
    if subscription.confirmed_at is None and subscription.unsubscribed_at is None:
        subscription.confirmed_at = now or utcnow()
        db.session.flush()
        audit.record("interest.confirm", subscription, actor_label=audit.VISITOR)


def unsubscribe(subscription: InterestSubscription, now: datetime | None = None) -> None:
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = now or utcnow()
        db.session.flush()
        audit.record("interest.unsubscribe", subscription, actor_label=audit.VISITOR)


def of_address(email: str) -> list[InterestSubscription]:
    return list(db.session.scalars(select(InterestSubscription).where(InterestSubscription.email == email)))


def _link(path: str) -> str:
    return calendar.public_url(path)


@mail_composer(CONFIRM)
def _compose_confirm(subscription_id: int, *, template: str) -> EmailMessage | None:
    subscription = db.session.get(InterestSubscription, subscription_id)
    if (
        subscription is None
        or subscription.confirmed_at is not None
        or subscription.unsubscribed_at is not None
    ):
        return None
    key = token(subscription)
    return compose(
        subscription.email, "Confirmez : Journées Usines Ouvertes près de chez vous", template,
        area=area_name(subscription), confirm_url=_link(f"/prevenez-moi/{key}/confirmer"),
    )  # fmt: skip


# ---- booking opens -----------------------------------------------------------------------------------


@scheduled(OPENING, "Ouverture des réservations (liste d'intérêt)")
def due_openings(now: datetime) -> list[Due]:
    """When an edition opens for booking (until it closes), each confirmed address, once per edition."""
    today = now.astimezone(PARIS).date()
    editions = db.session.scalars(
        select(Edition).where(Edition.booking_opens <= today, Edition.booking_closes >= today)
    ).all()
    subscriptions = db.session.scalars(
        select(InterestSubscription).where(
            InterestSubscription.confirmed_at.is_not(None), InterestSubscription.unsubscribed_at.is_(None)
        )
    ).all()
    return [
        Due(f"{OPENING}:{s.id}:{e.id}", s.email, f"Les réservations sont ouvertes : usines à visiter ({area_name(s)})",
            OPENING, {"subscription_id": s.id, "edition_id": e.id})
        for e in editions
        for s in subscriptions
    ]  # fmt: skip


@mail_composer(OPENING)
def _compose_opening(subscription_id: int, edition_id: int, *, template: str) -> EmailMessage | None:
    subscription = db.session.get(InterestSubscription, subscription_id)
    edition = db.session.get(Edition, edition_id)
    if subscription is None or edition is None or not subscription.active:
        return None
    area = (
        Site.region == subscription.region
        if subscription.region
        else Site.department == subscription.department
    )
    sites = db.session.scalars(
        select(Site)
        .where(Site.edition_id == edition.id, Site.status == SiteStatus.APPROVED, area)
        .order_by(Site.city, Site.name)
    ).all()
    if not sites:
        return None  # nothing to visit there this year: no e-mail saying so
    key = token(subscription)
    return compose(
        subscription.email, f"Les réservations sont ouvertes : usines à visiter ({area_name(subscription)})",
        template, area=area_name(subscription), edition=edition,
        sites=[{"site": s, "url": _link(f"/usines/{s.id}")} for s in sites],
        unsubscribe_url=_link(f"/prevenez-moi/{key}/desinscription"),
    )  # fmt: skip
