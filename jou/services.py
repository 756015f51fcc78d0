"""Rules of the JOU site registry. Services take plain arguments, flush (never commit) and raise
core.errors exceptions; pages, API, CLI and fixtures all call these.

Contract (the JOU-core work implements it; pages and fixtures rely on these names):

- `current_edition(today=None) -> Edition | None` — the edition whose Saturday is next (or the latest).
- `get_edition_by_year(year) -> Edition` (NotFound)
- `edition_for_registration(year=None, today=None) -> Edition` — the year asked for, else the edition
  whose registration window is open (ValidationFailed on "edition").
- `create_site(owner: User, edition: Edition, data: dict, *, actor=None, today=None) -> Site` — data as
  loaded by jou.schemas.SiteInputSchema (site fields plus "slots": [slot dicts]); validates postcode/city,
  geocodes (never fails because a geocoder is down), derives department/region/GR; status draft.
  `actor` (default: owner) is who acts: an admin may register outside the window (fixtures do).
- `update_site(actor: User, site: Site, data: dict) -> Site` — partial; slots with bookings are never
  silently dropped (Conflict) and their capacity never goes below the seats taken.
- `submit_site(actor, site)`, `approve_site(admin, site)`, `reject_site(admin, site, reason)`
- `set_site_location(actor, site, lat, lon)` — the factory corrects its pin (precision "manual").
- `get_site(site_id) -> Site` (NotFound); `can_view_site(user, site) -> bool`; whether a user may act on a
  site is `can(user, Permission.X, site)` (the rule is `_site_rule` here).
  `load_site(user, site_id, permission=None)`: load + authorise in one call (404 when the caller may not
  even know the site exists, 403 when it is public but not theirs to change).
- `search_sites(filters: SiteFilters, *, published_only=True, owner=None) -> Page` with
  `Page(items, total, page, per_page)`; SiteFilters fields: edition (year), region, department, sector,
  audience, day, q, status, page, per_page.
- `map_sites(filters) -> list[MapSite]` — published, located sites with slot summaries (GeoJSON, maps).
- `moderation_queue() -> list[Site]` — submitted sites, oldest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from geopy.distance import geodesic
from sqlalchemy import ColumnElement, Integer, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import audit, geography, locking
from core.auth.models import User
from core.auth.permissions import Permission, can, object_rule
from core.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import count_of, french_date, french_number, french_time, paris_today
from core.geography.gazetteer import communes_for_postcode, pick_commune
from core.geography.territories import in_france
from core.models import utcnow
from jou import notify
from jou.models import STATUS_LABELS, Audience, Edition, Site, SiteStatus, Slot, search_key
from jou.sectors import SECTORS

SITE_FIELDS = (
    "company_name", "siret", "name", "street", "postcode", "city", "sector", "description",
    "contact_name", "contact_email", "contact_phone",
)  # fmt: skip
ADDRESS_FIELDS = ("street", "postcode", "city")
SLOT_FIELDS = (
    "day", "start", "end", "audience", "capacity", "min_age", "protective_equipment", "wheelchair_accessible",
)  # fmt: skip
# The audit log keeps old and new values of these, and only "changed" for the contact's personal data.
AUDITED_SITE_FIELDS = ("status", *SITE_FIELDS)
PERSONAL_SITE_FIELDS = ("contact_name", "contact_email", "contact_phone")
# A booking was made for a day, a time and an audience: a booked slot keeps all three.
BOOKED_SLOT_KEYS = ("day", "start", "end", "audience")
REASON_MAX_LENGTH = 2000


# ---- editions ----------------------------------------------------------------------------------------


def current_edition(today: date | None = None) -> Edition | None:
    today = today or paris_today()
    upcoming = db.session.scalar(
        select(Edition).where(Edition.saturday >= today).order_by(Edition.saturday).limit(1)
    )
    return upcoming or db.session.scalar(select(Edition).order_by(Edition.year.desc()).limit(1))


def get_edition_by_year(year: int) -> Edition:
    edition = db.session.scalar(select(Edition).where(Edition.year == year))
    if edition is None:
        raise NotFound(f"Aucune édition {year}.")
    return edition


def edition_for_registration(year: int | None = None, today: date | None = None) -> Edition:
    if year is not None:
        edition = db.session.scalar(select(Edition).where(Edition.year == year))
        if edition is None:
            raise ValidationFailed.on("edition", f"Aucune édition {year}.")
        return edition
    today = today or paris_today()
    edition = db.session.scalar(
        select(Edition)
        .where(Edition.registration_opens <= today, Edition.registration_closes >= today)
        .order_by(Edition.year.desc())
        .limit(1)
    )
    if edition is None:
        raise ValidationFailed.on("edition", "Aucune édition n'est ouverte aux inscriptions en ce moment.")
    return edition


# ---- permissions -------------------------------------------------------------------------------------


@object_rule(Site)
def _site_rule(user: User, permission: Permission, site: Site) -> bool:
    """A site is its factory contact's; moderators act on every site."""
    return site.owner_id == user.id or can(user, Permission.MODERATE)


def can_view_site(user: User | None, site: Site) -> bool:
    return site.is_published or can(user, Permission.MANAGE_SITE, site)


def get_site(site_id: int) -> Site:
    site = db.session.scalar(select(Site).options(selectinload(Site.slots)).where(Site.id == site_id))
    if site is None:
        raise NotFound("Site introuvable.")
    return site


def load_site(user: User | None, site_id: int, permission: Permission | None = None) -> Site:
    """The site, loaded and authorised: one the caller may see, and act on with `permission` if given.
    404 for a site the caller may not see (its existence stays private), and for a refused permission
    over its visitors or its gate (nothing about them is confirmed); 403 for a refused change of a
    public site ("not yours")."""
    site = get_site(site_id)
    if not can_view_site(user, site):
        raise NotFound("Site introuvable.")
    if permission is None or can(user, permission, site):
        return site
    if permission is Permission.MANAGE_SITE:
        raise Forbidden("Seul le contact de ce site ou l'équipe Soce peut le modifier.")
    raise NotFound("Site introuvable.")


def load_slot(user: User | None, slot_id: int, permission: Permission) -> Slot:
    """A slot of a site the caller may act on with `permission`; 404 otherwise, so another factory
    learns nothing of it."""
    slot = db.session.get(Slot, slot_id)
    if slot is None or not can(user, permission, slot.site):
        raise NotFound("Créneau introuvable.")
    return slot


# ---- validation helpers ------------------------------------------------------------------------------


def _add(errors: FieldErrors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _slot_error(errors: FieldErrors, index: int, name: str, message: str) -> None:
    # "slots[0].day": a page puts the message beside that slot's input, an API client knows which slot.
    _add(errors, f"slots[{index}].{name}", message)


def _check_slot(edition: Edition, index: int, slot: dict, exempt: bool, errors: FieldErrors) -> None:
    day, start, end = slot.get("day"), slot.get("start"), slot.get("end")
    audience, capacity = slot.get("audience"), slot.get("capacity")
    if day not in edition.days:
        _slot_error(
            errors,
            index,
            "day",
            f"Le créneau doit tomber le {french_date(edition.friday)} ou le {french_date(edition.saturday)}.",
        )
    if audience not in {a.value for a in Audience}:
        _slot_error(errors, index, "audience", "Public attendu : schools ou public.")
    elif not exempt:
        # Friday is the schools' day, Saturday the public's; only moderators make exceptions.
        if day == edition.friday and audience != Audience.SCHOOLS:
            _slot_error(errors, index, "audience", "Le vendredi est réservé aux scolaires.")
        if day == edition.saturday and audience != Audience.PUBLIC:
            _slot_error(errors, index, "audience", "Le samedi est ouvert au grand public.")
    if start is None or end is None:
        _slot_error(errors, index, "start", "Indiquez l'heure de début et l'heure de fin.")
    elif end <= start:
        _slot_error(errors, index, "end", "L'heure de fin doit suivre l'heure de début.")
    if not isinstance(capacity, int) or capacity < 1:
        _slot_error(errors, index, "capacity", "Doit être au moins 1.")
    min_age = slot.get("min_age")
    if min_age is not None and not 0 <= min_age <= 99:
        _slot_error(errors, index, "min_age", "Doit être entre 0 et 99.")


def _check_address(postcode: str, city: str, errors: FieldErrors) -> geography.CommuneMatch | None:
    try:
        return geography.validate_postcode_city(postcode, city)
    except ValidationFailed as exc:
        for name, messages in exc.fields.items():
            errors.setdefault(name, []).extend(messages)
        return None


def _check_sector(sector: str | None, errors: FieldErrors) -> None:
    if sector not in SECTORS:
        _add(errors, "sector", "Secteur inconnu.")


def _check_siret_free(edition: Edition, siret: str, site_id: int | None = None) -> None:
    query = select(Site.id).where(Site.edition_id == edition.id, Site.siret == siret)
    if site_id is not None:
        query = query.where(Site.id != site_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise _duplicate_siret(edition)


def _duplicate_siret(edition: Edition) -> Conflict:
    return Conflict(
        f"Ce SIRET est déjà inscrit à l'édition {edition.year}.",
        code="duplicate_siret",
        fields={"siret": [f"Ce SIRET est déjà inscrit à l'édition {edition.year}."]},
    )


def _place(site: Site, match: geography.CommuneMatch | None) -> None:
    """Coordinates and territories from the address; locate() never fails, at worst it finds nothing
    and `flask geo refresh` tries again later."""
    location = geography.locate(site.street, site.postcode, site.city)
    department = (
        (match.department if match else None)
        or location.department
        or geography.department_from_postcode(site.postcode)
    )
    site.commune_insee = (match.insee if match else None) or location.commune_insee
    site.department = department
    site.region = (
        (match.region if match else None) or location.region or geography.region_of_department(department)
    )
    site.regional_group = geography.regional_group_for(department)
    site.lat, site.lon = location.lat, location.lon
    site.geo_precision = location.precision if location.lat is not None else None
    site.geo_source = location.source if location.lat is not None else None
    site.geocoded_at = utcnow() if location.lat is not None else None


def _flush_site(site: Site, edition: Edition) -> None:
    # The unique constraint settles a race between two registrations of the same SIRET.
    try:
        with db.session.begin_nested():
            db.session.add(site)
            db.session.flush()
    except IntegrityError as exc:
        if "siret" in str(exc.orig).lower():
            raise _duplicate_siret(edition) from exc
        raise


def _slot_label(slot: Slot) -> str:
    return f"Le créneau du {french_date(slot.day)} à {french_time(slot.start)}"


# ---- registration ------------------------------------------------------------------------------------


def create_site(
    owner: User, edition: Edition, data: dict, *, actor: User | None = None, today: date | None = None
) -> Site:
    actor = actor or owner
    if not can(actor, Permission.MANAGE_SITE):
        raise Forbidden("Seuls les contacts usine et l'équipe Soce inscrivent des sites.")
    if not can(actor, Permission.MODERATE):
        today = today or paris_today()
        if today < edition.registration_opens:
            raise Conflict(
                f"Les inscriptions à l'édition {edition.year} ouvrent le "
                f"{french_date(edition.registration_opens, with_weekday=False)}.",
                code="registration_closed",
            )
        if today > edition.registration_closes:
            raise Conflict(
                f"Les inscriptions à l'édition {edition.year} sont closes depuis le "
                f"{french_date(edition.registration_closes, with_weekday=False)}.",
                code="registration_closed",
            )

    # Everything is checked before anything is written: an error leaves no row behind.
    errors: FieldErrors = {}
    _check_sector(data.get("sector"), errors)
    slots = [dict(slot) for slot in data.get("slots") or []]
    for index, slot in enumerate(slots):
        slot.pop("id", None)  # a new site has no existing slot to refer to
        _check_slot(edition, index, slot, can(actor, Permission.MODERATE), errors)
    match = _check_address(data.get("postcode", ""), data.get("city", ""), errors)
    if errors:
        raise ValidationFailed(fields=errors)
    _check_siret_free(edition, data["siret"])

    site = Site(
        edition_id=edition.id,
        owner_id=owner.id,
        status=SiteStatus.DRAFT,
        rejection_reason="",
        **{"description": "", **{name: data[name] for name in SITE_FIELDS if name in data}},
    )
    _place(site, match)
    site.slots = [_new_slot(slot) for slot in slots]
    _flush_site(site, edition)
    changes = audit.created(audit.snapshot(site, AUDITED_SITE_FIELDS), PERSONAL_SITE_FIELDS)
    changes["slots"] = audit.diff_parts({}, _slot_snapshots(site))
    audit.record("site.create", site, actor=actor, changes=changes, summary=f"Édition {edition.year}")
    return site


def _slot_snapshots(site: Site) -> dict[int, dict]:
    return {slot.id: audit.snapshot(slot, SLOT_FIELDS) for slot in site.slots}


def _record_site(
    action: str, actor: User, site: Site, before: dict, slots_before: dict | None = None
) -> None:
    changes = audit.diff(before, audit.snapshot(site, AUDITED_SITE_FIELDS), PERSONAL_SITE_FIELDS)
    if slots_before is not None:
        slot_changes = audit.diff_parts(slots_before, _slot_snapshots(site))
        if slot_changes:
            changes["slots"] = slot_changes
    if changes:
        audit.record(action, site, actor=actor, changes=changes)


def _new_slot(values: dict) -> Slot:
    slot = Slot(seats_taken=0, protective_equipment="", wheelchair_accessible=False)
    for name in SLOT_FIELDS:
        if name in values:
            setattr(slot, name, values[name])
    return slot


@dataclass
class _SlotPlan:
    updates: list[tuple[Slot, dict]] = field(default_factory=list)
    creates: list[dict] = field(default_factory=list)
    deletes: list[Slot] = field(default_factory=list)


def _plan_slots(
    site: Site, incoming: list[dict], exempt: bool, errors: FieldErrors, conflicts: list[str]
) -> _SlotPlan:
    """Slots with an id are updated, those without are created, the site's other slots deleted; a
    slot with seats taken keeps its day, times and audience and at least its seats taken."""
    # Fresh seat counts, locked so that no booking slips in before the commit (core.locking).
    locking.begin_write()
    current = db.session.scalars(
        select(Slot)
        .where(Slot.site_id == site.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    existing = {slot.id: slot for slot in current}
    plan, kept = _SlotPlan(), set()
    for index, raw in enumerate(incoming):
        values = dict(raw)
        slot_id = values.pop("id", None)
        slot = existing.get(slot_id) if slot_id is not None else None
        # An exception the staff granted (say, schools on Saturday) survives the factory's later edits.
        granted = slot is not None and (values.get("day"), values.get("audience")) == (
            slot.day,
            slot.audience,
        )
        _check_slot(site.edition, index, values, exempt or granted, errors)
        if slot_id is None:
            plan.creates.append(values)
            continue
        if slot is None or slot_id in kept:
            _slot_error(errors, index, "id", "Créneau inconnu pour ce site.")
            continue
        kept.add(slot_id)
        plan.updates.append((slot, values))
        if slot.seats_taken > 0:
            if any(name in values and values[name] != getattr(slot, name) for name in BOOKED_SLOT_KEYS):
                conflicts.append(
                    f"{_slot_label(slot)} a déjà {count_of(slot.seats_taken, 'place réservée', 'places réservées')} : il ne peut "
                    "changer ni de jour, ni d'horaire, ni de public."
                )
            if isinstance(values.get("capacity"), int) and values["capacity"] < slot.seats_taken:
                conflicts.append(
                    f"{_slot_label(slot)} a déjà {count_of(slot.seats_taken, 'place réservée', 'places réservées')} : sa capacité "
                    f"ne peut pas descendre en dessous."
                )
    plan.deletes = [slot for slot_id, slot in existing.items() if slot_id not in kept]
    for slot in plan.deletes:
        if slot.seats_taken > 0:
            conflicts.append(
                f"{_slot_label(slot)} a déjà {count_of(slot.seats_taken, 'place réservée', 'places réservées')} : il ne peut pas "
                "être supprimé."
            )
        elif _slot_has_history(slot.id):
            conflicts.append(
                f"{_slot_label(slot)} a un historique (réservations annulées, liste d'attente ou entrées) : "
                "il ne peut pas être supprimé ; réduisez plutôt sa capacité."
            )
    return plan


def _slot_has_history(slot_id: int) -> bool:
    """Bookings (even cancelled), waiting list, check-ins, walk-ins or attendance: records the statistics
    and the audit keep, so the slot stays."""
    from jou.bookings.models import Booking, WaitlistEntry
    from jou.checkin.models import AttendanceReport, CheckIn, WalkIn

    return any(
        db.session.scalar(select(model.slot_id).where(model.slot_id == slot_id).limit(1)) is not None
        for model in (Booking, WaitlistEntry, CheckIn, WalkIn, AttendanceReport)
    )


def update_site(actor: User, site: Site, data: dict) -> Site:
    if not can(actor, Permission.MANAGE_SITE, site):
        raise Forbidden("Seul le contact de ce site ou l'équipe Soce peut le modifier.")
    values = {name: data[name] for name in SITE_FIELDS if name in data}
    before, slots_before = audit.snapshot(site, AUDITED_SITE_FIELDS), _slot_snapshots(site)
    errors: FieldErrors = {}
    conflicts: list[str] = []
    if "sector" in values:
        _check_sector(values["sector"], errors)
    address_changed = any(name in values and values[name] != getattr(site, name) for name in ADDRESS_FIELDS)
    match = None
    if address_changed:
        match = _check_address(values.get("postcode", site.postcode), values.get("city", site.city), errors)
    plan = None
    if "slots" in data:
        plan = _plan_slots(site, data["slots"] or [], can(actor, Permission.MODERATE), errors, conflicts)
        if site.status in (SiteStatus.SUBMITTED, SiteStatus.APPROVED) and not (plan.updates or plan.creates):
            _add(errors, "slots", "Un site soumis ou publié garde au moins un créneau.")
    if errors:
        raise ValidationFailed(fields=errors)
    if conflicts:
        raise Conflict(" ".join(conflicts), code="slot_has_bookings", fields={"slots": conflicts})
    if "siret" in values and values["siret"] != site.siret:
        _check_siret_free(site.edition, values["siret"], site.id)

    for name, value in values.items():
        setattr(site, name, value)
    if address_changed:
        _place(site, match)
    grown: list[int] = []
    if plan is not None:
        for slot, slot_values in plan.updates:
            if slot_values.get("capacity", slot.capacity) > slot.capacity:
                grown.append(slot.id)
            for name in SLOT_FIELDS:
                if name in slot_values:
                    setattr(slot, name, slot_values[name])
        for slot in plan.deletes:
            site.slots.remove(slot)
        site.slots.extend(_new_slot(slot_values) for slot_values in plan.creates)
    _flush_site(site, site.edition)
    _record_site("site.update", actor, site, before, slots_before)
    if grown:
        from jou.bookings.services import promote_waitlist  # bookings build on sites, not the reverse

        for slot_id in grown:  # new seats go to the people waiting for them first
            promote_waitlist(slot_id)
    return site


FAR_KM = 20  # a pin farther than this from its commune's centre is flagged: a wrong commune, or a typo


def far_from_commune(site: Site) -> str | None:
    """A warning when the site's pin is far from the centre of its commune (from the gazetteer)."""
    commune = pick_commune(communes_for_postcode(site.postcode or ""), site.city or "")
    if commune is None or commune.lat is None or site.lat is None:
        return None
    km = geodesic((site.lat, site.lon), (commune.lat, commune.lon)).km
    if km <= FAR_KM:
        return None
    return f"Le repère est à {french_number(round(km))} km du centre de {commune.name} : vérifiez l'adresse ou le repère."


def set_site_location(actor: User, site: Site, lat: float, lon: float) -> Site:
    if not can(actor, Permission.MANAGE_SITE, site):
        raise Forbidden("Seul le contact de ce site ou l'équipe Soce peut déplacer son repère.")
    errors: FieldErrors = {}
    if not isinstance(lat, int | float) or not -90 <= lat <= 90:
        _add(errors, "lat", "Latitude entre -90 et 90 attendue.")
    if not isinstance(lon, int | float) or not -180 <= lon <= 180:
        _add(errors, "lon", "Longitude entre -180 et 180 attendue.")
    if not errors and not in_france(lat, lon):
        message = "Ce point n'est pas en France (métropole, Corse ou départements d'outre-mer) : vérifiez-le."
        errors = {"lat": [message], "lon": [message]}
    if errors:
        raise ValidationFailed(fields=errors)
    before = {"lat": site.lat, "lon": site.lon}
    site.lat, site.lon = float(lat), float(lon)
    site.location_warning = far_from_commune(site)
    site.geo_precision = site.geo_source = "manual"
    site.geocoded_at = utcnow()
    db.session.flush()
    audit.record(
        "site.locate", site, actor=actor, changes=audit.diff(before, {"lat": site.lat, "lon": site.lon})
    )
    return site


# ---- workflow ----------------------------------------------------------------------------------------


def _transition_refused(site: Site, message: str) -> Conflict:
    status = STATUS_LABELS.get(SiteStatus(site.status), site.status)
    return Conflict(f"{message} (statut actuel : {status.lower()}).", code="invalid_transition")


def submit_site(actor: User, site: Site) -> Site:
    if not can(actor, Permission.MANAGE_SITE, site):
        raise Forbidden("Seul le contact de ce site ou l'équipe Soce peut le soumettre.")
    if site.status not in (SiteStatus.DRAFT, SiteStatus.REJECTED):
        raise _transition_refused(site, "Seul un brouillon ou un site refusé peut être soumis")
    if not site.slots:
        raise ValidationFailed.on(
            "slots", "Ajoutez au moins un créneau de visite avant de soumettre le site."
        )
    before = audit.snapshot(site, AUDITED_SITE_FIELDS)
    site.status = SiteStatus.SUBMITTED
    site.submitted_at = utcnow()
    db.session.flush()
    _record_site("site.submit", actor, site, before)
    return site


def _require_moderator(user: User) -> None:
    if not can(user, Permission.MODERATE):
        raise Forbidden("Réservé à l'équipe Soce.")


def approve_site(admin: User, site: Site) -> Site:
    _require_moderator(admin)
    if site.status != SiteStatus.SUBMITTED:
        raise _transition_refused(site, "Seul un site soumis peut être publié")
    before = audit.snapshot(site, AUDITED_SITE_FIELDS)
    site.status = SiteStatus.APPROVED
    site.rejection_reason = ""
    site.reviewed_at = utcnow()
    site.reviewed_by_id = admin.id
    db.session.flush()
    _record_site("site.approve", admin, site, before)
    notify.queue_approved(site)
    return site


def reject_site(admin: User, site: Site, reason: str) -> Site:
    _require_moderator(admin)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on("reason", "Indiquez le motif du refus.")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed.on("reason", f"Au plus {REASON_MAX_LENGTH} caractères.")
    if site.status != SiteStatus.SUBMITTED:
        raise _transition_refused(site, "Seul un site soumis peut être refusé")
    before = audit.snapshot(site, AUDITED_SITE_FIELDS)
    site.status = SiteStatus.REJECTED
    site.rejection_reason = reason
    site.reviewed_at = utcnow()
    site.reviewed_by_id = admin.id
    db.session.flush()
    changes = audit.diff(before, audit.snapshot(site, AUDITED_SITE_FIELDS), PERSONAL_SITE_FIELDS)
    audit.record("site.reject", site, actor=admin, changes=changes, summary=f"Motif : {reason}")
    notify.queue_rejected(site)
    return site


def moderation_queue() -> list[Site]:
    return list(
        db.session.scalars(
            select(Site)
            .options(selectinload(Site.slots), selectinload(Site.edition))
            .where(Site.status == SiteStatus.SUBMITTED)
            .order_by(Site.submitted_at, Site.id)
        )
    )


# ---- search ------------------------------------------------------------------------------------------


@dataclass
class SiteFilters:
    edition: int | None = None  # year; None: the current edition
    region: str | None = None
    department: str | None = None
    sector: str | None = None
    audience: str | None = None  # sites having a slot for that audience (on `day` when given)
    day: date | None = None
    q: str | None = None  # company, site or city; case and accents ignored
    status: str | None = None  # only when published_only is False
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_dict(cls, data: dict) -> SiteFilters:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if data.get(name) is not None})


@dataclass
class Page:
    items: list[Site]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.per_page else 0


def site_conditions(
    filters: SiteFilters, published_only: bool, owner: User | None, today: date | None
) -> list[ColumnElement[bool]] | None:
    """The WHERE clause of a search, or None when the edition asked for does not exist."""
    if filters.edition is not None:
        edition = db.session.scalar(select(Edition).where(Edition.year == filters.edition))
    else:
        edition = current_edition(today)
    if edition is None:
        return None
    conditions: list[ColumnElement[bool]] = [Site.edition_id == edition.id]
    if published_only:
        conditions.append(Site.status == SiteStatus.APPROVED)
    elif filters.status:
        conditions.append(Site.status == filters.status)
    if owner is not None:
        conditions.append(Site.owner_id == owner.id)
    for name in ("region", "department", "sector"):
        value = getattr(filters, name)
        if value:
            conditions.append(getattr(Site, name) == value)
    if filters.audience or filters.day:
        slot_conditions = [Slot.site_id == Site.id]
        if filters.audience:
            slot_conditions.append(Slot.audience == filters.audience)
        if filters.day:
            slot_conditions.append(Slot.day == filters.day)
        conditions.append(exists().where(*slot_conditions))
    term = search_key(filters.q).strip() if filters.q else ""
    if term:
        conditions.append(Site.search_text.contains(term, autoescape=True))
    return conditions


def search_sites(
    filters: SiteFilters,
    *,
    published_only: bool = True,
    owner: User | None = None,
    today: date | None = None,
) -> Page:
    page, per_page = max(1, filters.page), min(max(1, filters.per_page), 100)
    conditions = site_conditions(filters, published_only, owner, today)
    if conditions is None:
        return Page([], 0, page, per_page)
    total = db.session.scalar(select(func.count(Site.id)).where(*conditions)) or 0
    items = db.session.scalars(
        select(Site)
        .options(selectinload(Site.slots), selectinload(Site.edition))
        .where(*conditions)
        .order_by(Site.name, Site.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(list(items), total, page, per_page)


@dataclass
class MapSite:
    """What a map marker shows: public fields and a summary of the slots, nothing personal."""

    id: int
    name: str
    company_name: str
    city: str
    department: str | None
    region: str | None
    sector: str
    lat: float
    lon: float
    days: list[date] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    seats_left: int = 0
    wheelchair_accessible: bool = False


def map_sites(filters: SiteFilters, *, today: date | None = None) -> list[MapSite]:
    """Every published, located site matching the filters (no paging: a map shows them all), in two
    queries whatever the number of sites."""
    conditions = site_conditions(filters, True, None, today)
    if conditions is None:
        return []
    conditions += [Site.lat.is_not(None), Site.lon.is_not(None)]
    rows = db.session.execute(
        select(
            Site.id,
            Site.name,
            Site.company_name,
            Site.city,
            Site.department,
            Site.region,
            Site.sector,
            Site.lat,
            Site.lon,
        )  # fmt: skip
        .where(*conditions)
        .order_by(Site.name, Site.id)
    ).all()
    sites = {row.id: MapSite(**row._asdict()) for row in rows}
    if not sites:
        return []
    slot_rows = db.session.execute(
        select(
            Slot.site_id,
            Slot.day,
            Slot.audience,
            func.sum(Slot.seats_left).label("seats_left"),
            func.max(Slot.wheelchair_accessible.cast(Integer)).label("accessible"),
        )
        .where(Slot.site_id.in_(select(Site.id).where(*conditions)))
        .group_by(Slot.site_id, Slot.day, Slot.audience)
        .order_by(Slot.site_id, Slot.day, Slot.audience)
    ).all()
    for row in slot_rows:
        site = sites[row.site_id]
        if row.day not in site.days:
            site.days.append(row.day)
        if row.audience not in site.audiences:
            site.audiences.append(row.audience)
        site.seats_left += int(row.seats_left or 0)
        site.wheelchair_accessible = site.wheelchair_accessible or bool(row.accessible)
    return list(sites.values())
