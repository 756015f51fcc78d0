"""The audit log: who changed what on sites, bookings and interventions, for the staff.

Services call `record(...)` in the same transaction as the change, so a rolled-back action leaves no
event and a committed one always has its event. An event keeps field names and, for fields that are not
personal data, the old and new values; personal fields (a visitor's name or e-mail, a contact's phone,
free-text notes) are logged as "changed" without their values, so erasing a person never has to touch
the log:

    before = audit.snapshot(site, SITE_FIELDS)
    ...  # change the site
    audit.record("site.update", site, actor=user, changes=audit.diff(before, audit.snapshot(site, ...)))
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import UTCDateTime, utcnow

# Marks a personal field in `changes`: it changed, its values are not kept.
REDACTED = "changed"

# Who acts without an account.
VISITOR = "visiteur (lien de réservation)"
SYSTEM = "système"
COMMAND_LINE = "ligne de commande"

# What the journal page shows for each action (the code stays in the table and in the filters).
ACTION_LABELS = {
    "site.create": "Site créé", "site.update": "Site modifié", "site.locate": "Site localisé",
    "site.submit": "Site soumis", "site.approve": "Site publié", "site.reject": "Site refusé",
    "booking.create": "Réservation", "booking.update": "Réservation modifiée",
    "booking.cancel": "Réservation annulée", "booking.promote": "Réservation depuis la liste d'attente",
    "booking.erase": "Données personnelles effacées", "waitlist.create": "Inscription en liste d'attente",
    "waitlist.cancel": "Liste d'attente quittée", "waitlist.erase": "Données personnelles effacées",
    "intervention.create": "Intervention saisie", "intervention.update": "Intervention modifiée",
    "intervention.delete": "Intervention supprimée", "intervention.import": "Intervention importée",
    "checkin.undo": "Contrôle à l'entrée annulé", "walkin.undo": "Entrée sans réservation annulée",
    "transport.over_capacity": "Car plus rempli que ses places (motif donné)",
}  # fmt: skip
ENTITY_LABELS = {
    "site": "Site",
    "booking": "Réservation",
    "waitlist": "Liste d'attente",
    "intervention": "Intervention PMI",
    "edition": "Édition",
    "checkin": "Contrôle à l'entrée",
    "walkin": "Entrée sans réservation",
    "transport": "Transport",
}


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # SET NULL: deleting an account keeps its history, under the label it had then.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # {field: [old, new]} or {field: REDACTED}; nested dicts for parts (a site's slots).
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(String(300), default="")

    actor = relationship("User")

    def __repr__(self) -> str:
        return (
            f"<AuditEvent {self.id} {self.action} {self.entity_type}:{self.entity_id} by {self.actor_label}>"
        )


_INSERT_EVENT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)


def record(
    action: str,
    entity: Any = None,
    *,
    actor: Any = None,
    actor_label: str | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
    changes: dict | None = None,
    summary: str = "",
) -> int:
    """Write an event in the caller's transaction (its commit keeps it, its rollback takes it away) and
    answer its id. `action` is "<entity>.<verb>"; the entity type defaults to its first part and the id
    to `entity.id`. `actor` is a User or None (a visitor through a signed link, the system, the command
    line: say which in `actor_label`). One INSERT at once, without an ORM object: the ORM's flush of the
    event cost a booking more CPU than the INSERT itself (bench/booking_cpu.py)."""
    return db.session.execute(
        _INSERT_EVENT,
        {
            "at": utcnow(),
            "actor_id": getattr(actor, "id", None),
            "actor_label": (actor_label or (actor.email if actor is not None else SYSTEM))[:254],
            "action": action,
            "entity_type": entity_type or action.partition(".")[0],
            "entity_id": entity_id if entity_id is not None else getattr(entity, "id", None),
            "changes": changes or {},
            "summary": summary[:300],
        },
    ).scalar_one()


# ---- what changed ------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value as JSON keeps it: dates in ISO, times as HH:MM, enums by value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


def diff(before: dict, after: dict, personal: Iterable[str] = ()) -> dict[str, Any]:
    """{field: [old, new]} for each field that changed; personal fields only say that they changed."""
    personal = set(personal)
    changes: dict[str, Any] = {}
    for name in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = REDACTED if name in personal else [old, new]
    return changes


def diff_parts(before: dict[Any, dict], after: dict[Any, dict]) -> dict[str, Any]:
    """Changes of parts kept by id (a site's slots): {id: {field: [old, new]}}, a created part from
    nothing, a deleted one to nothing."""
    changes: dict[str, Any] = {}
    for key in [*before, *(k for k in after if k not in before)]:
        part = diff(before.get(key, {}), after.get(key, {}))
        if part:
            changes[str(key)] = part
    return changes


def created(values: dict, personal: Iterable[str] = ()) -> dict[str, Any]:
    """The changes of a new object: every field from nothing (personal fields redacted)."""
    return diff({}, {k: v for k, v in values.items() if v not in (None, "")}, personal)


# The journal speaks in words: each field's name as the forms say it (a field without one shows its code).
FIELD_LABELS = {
    "status": "statut", "name": "nom", "company_name": "raison sociale", "siret": "SIRET", "street": "adresse",
    "postcode": "code postal", "city": "commune", "sector": "secteur", "description": "description",
    "contact_name": "nom du contact", "contact_email": "e-mail du contact", "contact_phone": "téléphone du contact",
    "lat": "latitude", "lon": "longitude", "day": "jour", "start": "début", "end": "fin", "audience": "public",
    "capacity": "places", "min_age": "âge minimum", "protective_equipment": "équipements de protection",
    "wheelchair_accessible": "accessible en fauteuil roulant", "party_size": "taille du groupe",
    "female": "femmes ou filles", "male": "hommes ou garçons", "unspecified": "genre non précisé",
    "adults": "adultes accompagnateurs", "email": "e-mail", "phone": "téléphone", "uai": "établissement (UAI)",
    "level": "niveau", "date": "date", "kind": "type", "school_uai": "établissement (UAI)", "venue": "lieu",
    "levels": "niveaux", "volunteer_ids": "intervenants", "duration_minutes": "durée (minutes)",
    "notes": "notes", "undone_at": "annulé le", "on_board": "personnes à bord", "seats": "places",
    "consent_at": "consentement le", "cancelled_at": "annulée le", "rejection_reason": "motif du refus",
}  # fmt: skip


def field_label(name: str, prefix: str = "") -> str:
    """« places », or for a part kept by id (a site's slot 12) « créneau n° 12 · places »."""
    label = FIELD_LABELS.get(name, name)
    if prefix.rstrip(".").isdigit():
        return f"créneau n° {prefix.rstrip('.')} · {label}"
    return f"{prefix}{label}"


def describe(changes: dict, prefix: str = "") -> list[str]:
    """Lines for the journal page: « places : 20 → 30 », « e-mail du contact : modifié »."""
    lines: list[str] = []
    for name, value in changes.items():
        if isinstance(value, dict) and name.isdigit():
            lines.extend(describe(value, f"{name}."))
            continue
        label = field_label(name, prefix)
        if value == REDACTED:
            lines.append(f"{label} : modifié (donnée personnelle, non journalisée)")
        elif isinstance(value, list) and len(value) == 2:
            old, new = value
            lines.append(f"{label} : {_shown(old)} → {_shown(new)}")
        elif isinstance(value, dict):
            lines.extend(describe(value, f"{label}."))
        else:
            lines.append(f"{label} : {_shown(value)}")
    return lines


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "∅"
    if value is True:
        return "oui"
    if value is False:
        return "non"
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


# ---- reading -----------------------------------------------------------------------------------------

PER_PAGE = 50


@dataclass
class EventPage:
    items: list[AuditEvent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def events(
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    actor: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> EventPage:
    """Newest first. `actor` matches the label (an e-mail, "visiteur"…), case-insensitively, in part."""
    query = select(AuditEvent)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if actor:
        query = query.where(
            func.lower(AuditEvent.actor_label).contains(actor.strip().lower(), autoescape=True)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    items = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return EventPage(list(items), total, page, per_page)
