"""Who may do what, by name. Roles map to permissions in one table (GRANTS); routes ask for a permission
(`require`, `requires`), services and templates ask `can(user, permission, obj)`.

A permission held by a role is the right to the kind of action; whether it reaches one object (this site,
this transport) is the object's rule, registered by the package that owns the model (`object_rule`):
jou for sites, slots and bookings, pmi for interventions and transports. Adding a role is one line of
GRANTS; a new kind of object brings its own rule.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from core.auth.models import Role


class Permission(enum.StrEnum):
    MANAGE_SITE = "manage_site"  # register sites, edit one's own, its slots and position
    SEE_VISITORS = "see_visitors"  # a site's bookings list, its CSV, a message to its bookers
    CHECK_IN = "check_in"  # the gate of a site: tickets, walk-ins, attendance
    MODERATE = "moderate"  # publish or refuse sites; act on any site, outside the registration window
    LOG_INTERVENTION = "log_intervention"  # a volunteer profile and one's PMI interventions
    LEAD_GROUP = "lead_group"  # a regional group's interventions and figures
    ORGANISE_TRANSPORT = "organise_transport"  # buses to the campuses
    ALL_REGIONS = "all_regions"  # every GR's interventions and transports; set an organiser's GR
    SEE_STATISTICS = "see_statistics"  # the staff dashboard, its exports, the map of visited schools
    SEE_VOLUNTEERS = "see_volunteers"  # figures by volunteer (names)
    ADMINISTER = "administer"  # the journal, the department → GR mapping


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.FACTORY: frozenset({Permission.MANAGE_SITE, Permission.SEE_VISITORS, Permission.CHECK_IN}),
    Role.VOLUNTEER: frozenset({Permission.LOG_INTERVENTION}),
    Role.ORGANISER: frozenset(
        {Permission.LOG_INTERVENTION, Permission.LEAD_GROUP, Permission.ORGANISE_TRANSPORT}
    ),
}

# (model class) -> rule(user, permission, obj): does a permission the user holds reach this object?
ObjectRule = Callable[[Any, Permission, Any], bool]
_RULES: dict[type, ObjectRule] = {}


def object_rule(model: type) -> Callable[[ObjectRule], ObjectRule]:
    """Registers the rule deciding which objects of `model` a held permission reaches."""

    def register(rule: ObjectRule) -> ObjectRule:
        _RULES[model] = rule
        return rule

    return register


def can(user: Any, permission: Permission | str, obj: object = None) -> bool:
    """May `user` (None or an anonymous Flask-Login user: no) do `permission`, on `obj` if given? A name
    that is no permission raises ValueError, so a typo in a template fails loudly."""
    permission = Permission(permission)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if permission not in GRANTS.get(user.role, frozenset()):
        return False
    if obj is None:
        return True
    rule = _RULES.get(type(obj))
    if rule is None:
        raise LookupError(f"no permission rule for {type(obj).__name__}")
    return rule(user, permission, obj)
