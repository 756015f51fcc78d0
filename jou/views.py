"""JOU pages: public home, site list and page; factory registration; staff moderation.

Each view: load the object (404) → authorise (403) → validate with the schema (422, French messages
beside the fields) → call the service → respond; the request's unit of work commits once (core.uow).
The rules live in jou.services.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from core.auth.access import page_user, require
from core.auth.permissions import Permission
from core.errors import AppError, Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import count_of, paris_today
from core.geography import DEPARTMENTS, REGIONS, department_name, region_name
from core.inputs import load, load_form, page_errors
from core.maps.assets import tile_settings
from core.uow import attempt
from core.validation import MAX_INT, MAX_YEAR, MIN_YEAR, Text, display_phone, form_data, query_int
from jou import services
from jou.models import AUDIENCE_LABELS, STATUS_LABELS, Audience, Edition, Site, SiteStatus
from jou.schemas import LocationInputSchema, RejectSchema, SiteInputSchema, SiteQuerySchema
from jou.sectors import SECTORS

bp = Blueprint("jou", __name__)

EMPTY_SLOT_ROWS = 3
STATUS_BADGES = {
    SiteStatus.DRAFT: "",
    SiteStatus.SUBMITTED: "warn",
    SiteStatus.APPROVED: "ok",
    SiteStatus.REJECTED: "bad",
}
PUBLIC_FILTERS = ("region", "department", "sector", "audience", "day", "q", "page")
# Stateless, so built once for every request of the public list (a schema deep-copies its fields).
LIST_QUERY = SiteQuerySchema()
SLOT_ROW = re.compile(r"slots-(\d+)-(\w+)")


@bp.context_processor
def labels() -> dict:
    return {
        "SECTOR_LABELS": SECTORS,
        "AUDIENCE_LABELS": AUDIENCE_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "STATUS_BADGES": STATUS_BADGES,
        "REGIONS": REGIONS,
        "DEPARTMENTS": DEPARTMENTS,
        "region_name": region_name,
        "department_name": department_name,
    }


# --- public -------------------------------------------------------------------------------------


@bp.route("/")
def home():
    edition = services.current_edition()
    published = services.search_sites(services.SiteFilters(per_page=1)).total if edition else 0
    return render_template("jou/home.html", edition=edition, published=published)


@bp.route("/usines")
def site_list():
    filters, values = _list_filters(request.args)
    page = services.search_sites(filters)
    if page.page > max(page.pages, 1):
        pages = count_of(max(page.pages, 1), "page", "pages")
        raise NotFound(f"Il n'y a pas de page {page.page} : cette liste en compte {pages}.")
    return render_template(
        "jou/site_list.html",
        edition=services.current_edition(),
        page=page,
        values=values,
        page_url=lambda n: url_for("jou.site_list", **{**values, "page": n}),
    )


@bp.route("/usines/<int:site_id>")
def site_detail(site_id: int):
    site = services.load_site(page_user(), site_id)
    # A past edition's page tells what was, and offers no booking.
    bookable = site.is_published and site.edition.booking_closes >= paris_today()
    return render_template("jou/site_detail.html", site=site, bookable=bookable)


# --- factory --------------------------------------------------------------------------------------


@bp.route("/mes-sites")
def my_sites():
    user = require(Permission.MANAGE_SITE)
    editions = db.session.scalars(select(Edition).order_by(Edition.year.desc())).all()
    current = services.current_edition()
    year = query_int("edition", current.year if current else 0, min=MIN_YEAR, max=MAX_YEAR)
    filters = services.SiteFilters(edition=year, page=query_int("page", 1, min=1, max=MAX_INT), per_page=50)
    return render_template(
        "jou/my_sites.html",
        editions=editions,
        year=year,
        page=services.search_sites(filters, published_only=False, owner=user),
        page_url=lambda n: url_for("jou.my_sites", edition=year, page=n),
    )


@bp.route("/mes-sites/nouveau", methods=["GET", "POST"])
def site_create():
    user = require(Permission.MANAGE_SITE)
    try:
        edition = services.edition_for_registration()
    except ValidationFailed as exc:
        raise Conflict(_one_message(exc, with_summary=False)) from exc
    errors: dict = {}
    values: dict = {"contact_name": user.name, "contact_email": user.email}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with attempt():
                site = services.create_site(user, edition, _load_site_form(request.form))
        except AppError as exc:
            errors = page_errors(exc, _slot_rename(request.form))
        else:
            flash("Site enregistré en brouillon. Vérifiez-le puis soumettez-le à validation.", "success")
            if site.geo_precision == "department":
                flash(
                    "Votre adresse n'a pas pu être localisée plus précisément que le chef-lieu du département : "
                    "placez le repère de votre site (bouton « Position »).",
                    "error",
                )
            return redirect(url_for("jou.site_edit", site_id=site.id))
    return _render_site_form(edition, None, values, errors)


@bp.route("/mes-sites/<int:site_id>/modifier", methods=["GET", "POST"])
def site_edit(site_id: int):
    user = require(Permission.MANAGE_SITE)
    site = services.load_site(user, site_id, Permission.MANAGE_SITE)
    errors: dict = {}
    values = _site_values(site)
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with attempt():
                services.update_site(user, site, _load_site_form(request.form))
        except AppError as exc:
            errors = page_errors(exc, _slot_rename(request.form))
            site = services.load_site(user, site_id, Permission.MANAGE_SITE)
        else:
            flash("Modifications enregistrées.", "success")
            return redirect(url_for("jou.site_edit", site_id=site.id))
    return _render_site_form(site.edition, site, values, errors)


@bp.route("/mes-sites/<int:site_id>/soumettre", methods=["POST"])
def site_submit(site_id: int):
    user = require(Permission.MANAGE_SITE)
    site = services.load_site(user, site_id, Permission.MANAGE_SITE)
    try:
        with attempt():
            services.submit_site(user, site)
    except AppError as exc:
        flash(_one_message(exc), "error")
        return redirect(url_for("jou.site_edit", site_id=site_id))
    flash("Site soumis à validation : l'équipe Soce va l'examiner.", "success")
    return redirect(url_for("jou.my_sites"))


@bp.route("/mes-sites/<int:site_id>/position", methods=["GET", "POST"])
def site_position(site_id: int):
    user = require(Permission.MANAGE_SITE)
    site = services.load_site(user, site_id, Permission.MANAGE_SITE)
    errors: dict = {}
    values = {"lat": _coordinate(site.lat), "lon": _coordinate(site.lon)}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with attempt():
                data = load_form(LocationInputSchema())
                services.set_site_location(user, site, data["lat"], data["lon"])
        except AppError as exc:
            errors = page_errors(exc)
            site = services.load_site(user, site_id, Permission.MANAGE_SITE)
        else:
            flash("Position corrigée.", "success")
            if site.location_warning:
                flash(site.location_warning, "error")
            return redirect(url_for("jou.site_detail", site_id=site.id))
    status = 422 if errors else 200
    tiles, attribution = tile_settings()
    return render_template(
        "jou/site_position.html",
        site=site,
        values=values,
        errors=errors,
        tiles=tiles,
        attribution=attribution,
    ), status


# --- staff --------------------------------------------------------------------------------------


@bp.route("/moderation")
def moderation():
    require(Permission.MODERATE)
    return _render_moderation()


@bp.route("/moderation/<int:site_id>/valider", methods=["POST"])
def moderation_approve(site_id: int):
    admin = require(Permission.MODERATE)
    site = services.get_site(site_id)
    try:
        with attempt():
            services.approve_site(admin, site)
    except AppError as exc:
        flash(_one_message(exc), "error")
        return redirect(url_for("jou.moderation"))
    flash(f"« {site.name} » est publié.", "success")
    return redirect(url_for("jou.moderation"))


@bp.route("/moderation/<int:site_id>/refuser", methods=["POST"])
def moderation_reject(site_id: int):
    admin = require(Permission.MODERATE)
    site = services.get_site(site_id)
    try:
        with attempt():
            data = load_form(RejectSchema())
            services.reject_site(admin, site, data["reason"])
    except AppError as exc:
        errors = page_errors(exc)
        if set(errors) <= {"_form"}:
            flash(_one_message(exc), "error")
            return redirect(url_for("jou.moderation"))
        return _render_moderation(site_id, request.form.to_dict(), errors), 422
    flash(f"« {site.name} » est refusé ; le motif sera communiqué à l'usine.", "success")
    return redirect(url_for("jou.moderation"))


def _render_moderation(
    error_site_id: int | None = None, values: dict | None = None, errors: dict | None = None
):
    return render_template(
        "jou/moderation.html",
        sites=services.moderation_queue(),
        error_site_id=error_site_id,
        values=values or {},
        errors=errors or {},
    )


# --- view-side helpers ------------------------------------------------------------------------------


def _list_filters(args: MultiDict) -> tuple[services.SiteFilters, dict]:
    """The public list's filters from the query string (current edition). A value that does not
    validate (a hand-edited URL) is dropped rather than answered with an error page."""
    schema = LIST_QUERY
    raw = {k: v for k, v in form_data(args, schema).items() if k in PUBLIC_FILTERS}
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        raw = {k: v for k, v in raw.items() if k not in exc.messages}
        data = schema.load(raw)
    data = {k: v for k, v in data.items() if k in PUBLIC_FILTERS}
    return services.SiteFilters.from_dict(data), {k: v for k, v in raw.items() if k != "page"}


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _slot_rows(form: MultiDict) -> list[int]:
    """Row numbers present in the form, in order."""
    rows = {int(m.group(1)) for key in form if (m := SLOT_ROW.fullmatch(key))}
    return sorted(rows)


def _row_fields(form: MultiDict, row: int) -> MultiDict:
    prefix = f"slots-{row}-"
    return MultiDict([(k[len(prefix) :], v) for k, v in form.items(multi=True) if k.startswith(prefix)])


def _slot_schema(schema: Schema) -> Schema:
    return schema.fields["slots"].inner.schema


def _kept_slot_rows(form: MultiDict) -> list[int]:
    """Rows sent to the schema: not marked for deletion, and not fully empty (an id alone is not content)."""
    kept = []
    for row in _slot_rows(form):
        fields = _row_fields(form, row)
        if fields.get("delete"):
            continue
        if any(v.strip() for k, v in fields.items(multi=True) if k not in {"id", "delete"}):
            kept.append(row)
    return kept


def _load_site_form(form: MultiDict) -> dict:
    """The registration form (slot rows named slots-N-field) loaded by SiteInputSchema."""
    schema = SiteInputSchema()
    slot_schema = _slot_schema(schema)
    data = _without_blank_choices(form_data(form, schema), schema)
    data["slots"] = [
        _without_blank_choices(form_data(_row_fields(form, row), slot_schema), slot_schema)
        for row in _kept_slot_rows(form)
    ]
    loaded = load(schema, data)
    # The page registers for the edition it shows; the API is where a year may be chosen.
    loaded.pop("edition", None)
    return loaded


def _without_blank_choices(data: dict, schema: Schema) -> dict:
    """A select or number left blank is a missing value ("Ce champ est obligatoire."), not an invalid
    one; text inputs keep their blank, which the Text field reports the same way."""
    return {k: v for k, v in data.items() if v != "" or isinstance(schema.fields.get(k), Text)}


SLOT_PATH = re.compile(r"slots\[(\d+)\](?:\.(\w+))?")


def _slot_rename(form: MultiDict) -> Callable[[str], str]:
    """Field errors by the form's input names: slots[i].end → slots-<row>-end, the i-th row sent to the
    schema (a message about the whole slot: slots-<row>-_schema; an unknown slot: "slots")."""
    rows = _kept_slot_rows(form)

    def rename(name: str) -> str:
        match = SLOT_PATH.fullmatch(name)
        if match is None:
            return name
        index = int(match.group(1))
        if index >= len(rows):
            return "slots"
        return f"slots-{rows[index]}-{match.group(2) or '_schema'}"

    return rename


def _one_message(exc: AppError, with_summary: bool = True) -> str:
    """A service error as one flash message: the summary and the fields' messages."""
    details = [m for msgs in exc.fields.values() for m in msgs]
    return " ".join([exc.message, *details] if with_summary else details) if details else exc.message


def _site_values(site: Site) -> dict:
    """A saved site as the form's input values."""
    values = {
        name: getattr(site, name) or ""
        for name in (
            "company_name",
            "siret",
            "name",
            "street",
            "postcode",
            "city",
            "sector",
            "description",
            "contact_name",
            "contact_email",
        )
    }
    values["contact_phone"] = display_phone(site.contact_phone)
    for row, slot in enumerate(site.slots):
        values.update(
            {
                f"slots-{row}-id": str(slot.id),
                f"slots-{row}-day": slot.day.isoformat(),
                f"slots-{row}-start": slot.start.strftime("%H:%M"),
                f"slots-{row}-end": slot.end.strftime("%H:%M"),
                f"slots-{row}-audience": slot.audience,
                f"slots-{row}-capacity": str(slot.capacity),
                f"slots-{row}-min_age": "" if slot.min_age is None else str(slot.min_age),
                f"slots-{row}-protective_equipment": slot.protective_equipment or "",
                f"slots-{row}-wheelchair_accessible": "on" if slot.wheelchair_accessible else "",
            }
        )
    return values


def _render_site_form(edition, site: Site | None, values: dict, errors: dict):  # noqa: ANN001
    form = MultiDict(values)
    # Every row with something typed comes back (numbers kept, so errors stay beside their row), plus
    # empty rows to add slots without JavaScript.
    used = [row for row in _slot_rows(form) if any(v.strip() for v in _row_fields(form, row).values())]
    rows = used + [max(_slot_rows(form), default=-1) + 1 + i for i in range(EMPTY_SLOT_ROWS)]
    status = 422 if errors else 200
    return render_template(
        "jou/site_form.html",
        edition=edition,
        site=site,
        values=values,
        errors=errors,
        rows=rows,
        audience_choices=[(a.value, AUDIENCE_LABELS[a]) for a in Audience],
    ), status
