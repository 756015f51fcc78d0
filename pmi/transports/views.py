"""Pages of campus transports for GR organisers and the Soce team: list, new/edit, stops, documents
(manifest to print, CSV, .ics, route diagram), actual counts after the trip, numbers.

Each view: load (404) → authorise (403) → validate with the schema (422, French messages beside the
fields) → call the service → respond; the request's unit of work commits once (core.uow). The rules, and
the transport's lock that every change begins with, live in pmi.transports.services.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from core.auth.access import require
from core.auth.models import User
from core.auth.permissions import Permission, can
from core.errors import AppError, ValidationFailed
from core.exports import attachment
from core.geography.groups import regional_groups
from core.inputs import load_form, page_errors
from core.maps.assets import map_parts
from core.maps.routes import route_map
from core.schools.directory import uai_from_search
from core.uow import attempt
from core.validation import parse_int
from pmi.transports import documents, services
from pmi.transports.campuses import BY_CODE, CAMPUSES
from pmi.transports.models import STATUS_LABELS, Transport
from pmi.transports.schemas import StopInputSchema, TransportInputSchema, TransportUpdateSchema
from pmi.views import input_name, recent_years, requested_year

bp = Blueprint("transports", __name__)

PREFIX = "/pmi/transports"
TRANSPORT_INPUTS = ("campus", "date", "departure_time", "return_time", "operator", "seats", "cost", "status",
                    "notes")  # fmt: skip


@bp.context_processor
def labels() -> dict:
    return {"CAMPUSES": CAMPUSES, "STATUS_LABELS": STATUS_LABELS}


def _manager() -> User:
    return require(Permission.ORGANISE_TRANSPORT)


@bp.route(PREFIX)
def transport_list():
    user = _manager()
    year = requested_year()
    return render_template(
        "pmi/transports/list.html",
        year=year,
        years=recent_years(),
        transports=services.list_transports(user, year=year),
        totals=services.stats(user, year=year)["total"],
        no_group=not can(user, Permission.ALL_REGIONS) and services.organiser_group(user) is None,
    )


@bp.route(f"{PREFIX}/nouveau", methods=["GET", "POST"])
def transport_create():
    user = _manager()
    errors: dict = {}
    form: MultiDict = MultiDict(
        [("status", "planned"), ("departure_time", "08:00"), ("return_time", "18:00")]
    )
    if request.method == "POST":
        form = request.form
        try:
            with attempt():
                data = load_form(TransportInputSchema())
                transport = services.create_transport(user, data)
        except AppError as exc:
            errors = page_errors(exc, input_name)
        else:
            flash("Transport enregistré : ajoutez maintenant les arrêts.", "success")
            return redirect(url_for("transports.transport_detail", transport_id=transport.id))
    return _render_form(user, None, form, errors)


@bp.route(f"{PREFIX}/<int:transport_id>/modifier", methods=["GET", "POST"])
def transport_edit(transport_id: int):
    user = _manager()
    transport = services.managed_transport(user, transport_id)
    errors: dict = {}
    form = _transport_form(transport)
    if request.method == "POST":
        form = request.form
        try:
            with attempt():
                changes = load_form(TransportUpdateSchema())
                services.update_transport(user, services.locked_transport(user, transport_id), changes)
        except AppError as exc:
            errors = page_errors(exc, input_name)
            transport = services.managed_transport(user, transport_id)
        else:
            flash("Transport modifié.", "success")
            return redirect(url_for("transports.transport_detail", transport_id=transport_id))
    return _render_form(user, transport, form, errors)


@bp.route(f"{PREFIX}/<int:transport_id>/supprimer", methods=["POST"])
def transport_delete(transport_id: int):
    user = _manager()
    services.managed_transport(user, transport_id)
    services.delete_transport(user, transport_id)
    flash("Transport supprimé.", "success")
    return redirect(url_for("transports.transport_list"))


@bp.route(f"{PREFIX}/<int:transport_id>", methods=["GET", "POST"])
def transport_detail(transport_id: int):
    """The transport, its stops and route; POST adds a stop."""
    user = _manager()
    transport = services.managed_transport(user, transport_id)
    errors: dict = {}
    form: MultiDict = MultiDict()
    if request.method == "POST":
        form = request.form
        try:
            with attempt():
                stop = services.add_stop(user, transport_id, _stop_form(form))
        except AppError as exc:
            errors = page_errors(exc, input_name)
            transport = services.managed_transport(user, transport_id)
        else:
            flash(f"Arrêt ajouté : {stop.school.name}.", "success")
            return redirect(url_for("transports.transport_detail", transport_id=transport_id))
    return render_template(
        "pmi/transports/detail.html",
        transport=transport,
        values=form,
        errors=errors,
        route=Markup(documents.route_svg(transport)),  # noqa: S704 - built from escaped parts
    ), (422 if errors else 200)


@bp.route(f"{PREFIX}/<int:transport_id>/arrets/<int:stop_id>/supprimer", methods=["POST"])
def stop_delete(transport_id: int, stop_id: int):
    user = _manager()
    services.managed_transport(user, transport_id)
    services.delete_stop(user, transport_id, stop_id)
    flash("Arrêt supprimé.", "success")
    return redirect(url_for("transports.transport_detail", transport_id=transport_id))


STOPS_CHANGED = (
    "Les arrêts de ce transport ont changé depuis l'ouverture de cette page : vérifiez les effectifs de "
    "chaque arrêt ci-dessous, puis enregistrez de nouveau."
)


@bp.route(f"{PREFIX}/<int:transport_id>/bilan", methods=["GET", "POST"])
def transport_actuals(transport_id: int):
    """After the trip: the actual counts per stop, beside the planned ones."""
    user = _manager()
    transport = services.managed_transport(user, transport_id)
    errors: dict = {}
    if request.method == "POST":
        counts: dict[int, dict] = {}
        for stop in transport.stops:
            if not any(f"{name}_{stop.id}" in request.form for name in services.ACTUAL_FIELDS):
                # A stop added since the page was shown: never record it as 0 people.
                errors["_form"] = [STOPS_CHANGED]
                continue
            values = {}
            for name in services.ACTUAL_FIELDS:
                number = parse_int(request.form.get(f"{name}_{stop.id}", "").strip() or "0", max=200)
                if number is None:
                    errors.setdefault(f"{name}_{stop.id}", []).append("Nombre entier entre 0 et 200 attendu.")
                else:
                    values[name] = number
            counts[stop.id] = values
        if not errors:
            try:
                with attempt():
                    reason = request.form.get("over_capacity_reason", "")[:300]
                    services.record_actuals(user, transport_id, counts, over_capacity_reason=reason)
            except ValidationFailed as exc:
                errors["_form"] = list(dict.fromkeys(m for messages in exc.fields.values() for m in messages))
                errors.update({k: v for k, v in exc.fields.items() if k == "over_capacity_reason"})
            else:
                flash("Effectifs réels enregistrés.", "success")
                return redirect(url_for("transports.transport_detail", transport_id=transport_id))
    return render_template("pmi/transports/actuals.html", transport=transport, errors=errors), (
        422 if errors else 200
    )


@bp.route(f"{PREFIX}/<int:transport_id>/manifeste")
def transport_manifest(transport_id: int):
    transport = services.managed_transport(_manager(), transport_id)
    return render_template(
        "pmi/transports/manifest.html",
        transport=transport,
        campus_address=BY_CODE[transport.campus].address,
        route=Markup(documents.route_svg(transport)),  # noqa: S704
    )


@bp.route(f"{PREFIX}/<int:transport_id>/manifeste.csv")
def transport_manifest_csv(transport_id: int):
    transport = services.managed_transport(_manager(), transport_id)
    return attachment(documents.manifest_csv(transport), "text/csv", f"transport-{transport.id}.csv")


@bp.route(f"{PREFIX}/<int:transport_id>/transport.ics")
def transport_calendar(transport_id: int):
    transport = services.managed_transport(_manager(), transport_id)
    return attachment(documents.transport_ics(transport), "text/calendar", f"transport-{transport.id}.ics")


@bp.route(f"{PREFIX}/<int:transport_id>/itineraire.svg")
def transport_route(transport_id: int):
    transport = services.managed_transport(_manager(), transport_id)
    return Response(documents.route_svg(transport), mimetype="image/svg+xml")


@bp.route(f"{PREFIX}/<int:transport_id>/carte")
def transport_map(transport_id: int):
    """The route on a map in the site's layout (folium, assets served from static/; tiles are the
    configured tile server), with the stops in order beside it."""
    transport = services.managed_transport(_manager(), transport_id)
    points = documents.route_points(transport)
    located = [(p["lat"], p["lon"], p["label"]) for p in points]
    parts = map_parts(route_map(located[:-1], located[-1]))
    return render_template("pmi/transports/map.html", transport=transport, points=points, parts=parts)


@bp.route(f"{PREFIX}/chiffres")
def transport_stats():
    user = _manager()
    year = requested_year()
    return render_template(
        "pmi/transports/stats.html",
        year=year,
        years=recent_years(),
        total=services.stats(user, year=year)["total"],
        tables=[
            ("Par groupe régional", services.stats(user, "gr", year=year)["rows"]),
            ("Par campus", services.stats(user, "campus", year=year)["rows"]),
            ("Par région des établissements", services.stats(user, "region", year=year)["rows"]),
        ],
    )


# --- view-side helpers ------------------------------------------------------------------------------


def _stop_form(form: MultiDict) -> dict:
    # Without JavaScript, the UAI typed (or pasted with the name) in the search box is enough.
    uai = "" if form.get("school_uai") else uai_from_search(form.get("school_search"))
    if uai:
        form = form.copy()
        form["school_uai"] = uai
    return load_form(StopInputSchema(), form)


def _transport_form(transport: Transport) -> MultiDict:
    values = {name: getattr(transport, name) for name in TRANSPORT_INPUTS}
    values["date"] = transport.date.isoformat()
    values["departure_time"] = transport.departure_time.strftime("%H:%M")
    values["return_time"] = transport.return_time.strftime("%H:%M")
    values["cost"] = "" if transport.cost is None else f"{transport.cost:.2f}"
    values["regional_group"] = transport.regional_group_code
    return MultiDict({k: "" if v is None else str(v) for k, v in values.items()})


def _render_form(user: User, transport: Transport | None, form: MultiDict, errors: dict):
    return render_template(
        "pmi/transports/form.html",
        transport=transport,
        values=form,
        errors=errors,
        groups=regional_groups() if can(user, Permission.ALL_REGIONS) else [],
        today=services.paris_today().isoformat(),
    ), (422 if errors else 200)
