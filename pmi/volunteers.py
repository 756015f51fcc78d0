"""Volunteer profiles: promo, regional group and phone beside the account of a volunteer or organiser."""

from __future__ import annotations

from sqlalchemy import select

from core import locking
from core.auth.models import User
from core.auth.permissions import Permission, can
from core.errors import ValidationFailed
from core.extensions import db
from core.geography.models import RegionalGroup
from pmi.models import Volunteer


def profile_of(user: User | None) -> Volunteer | None:
    if user is None:
        return None
    return db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))


ORGANISER_GROUP_LOCKED = (
    "Le groupe régional d'un·e organisateur·rice est attribué par l'équipe Soce "
    "(il donne accès aux transports et aux interventions du groupe)."
)


def save_profile(
    user: User,
    *,
    name: str,
    promo: str,
    regional_group: str,
    phone: str | None = None,
    actor: User | None = None,
) -> Volunteer:
    """Create or update the user's profile; the GR must exist. An organiser's GR grants rights over the
    group's data, so only staff (or the CLI and demo loader, actor None) may set or change it."""
    if db.session.get(RegionalGroup, regional_group) is None:
        raise ValidationFailed.on("regional_group", "Groupe régional inconnu.")
    # Two first saves at once (a double submit) would both create the profile: the user's row is locked
    # first, so the second one finds the first one's profile.
    locking.lock(User, user.id)
    volunteer = profile_of(user)
    current = volunteer.regional_group_code if volunteer else None
    leads = can(user, Permission.LEAD_GROUP)
    if actor is not None and not can(actor, Permission.ALL_REGIONS) and leads and regional_group != current:
        raise ValidationFailed.on("regional_group", ORGANISER_GROUP_LOCKED)
    if volunteer is None:
        volunteer = Volunteer(user_id=user.id)
        db.session.add(volunteer)
    user.name = name
    volunteer.promo = promo
    volunteer.regional_group_code = regional_group
    volunteer.phone = phone
    db.session.flush()
    return volunteer


def volunteers_of_group(code: str | None) -> list[Volunteer]:
    """The GR's volunteers by name, for picking co-volunteers."""
    if not code:
        return []
    return list(
        db.session.scalars(
            select(Volunteer)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.regional_group_code == code, User.is_active_account.is_(True))
            .order_by(User.name, Volunteer.id)
        )
    )
