"""PMI pages for volunteers and organisers: profile, logging interventions (phone first), history with
totals, CSV import, and the GR's numbers.

Each view: load (404) → authorise (403) → validate with the schema (422, French messages beside the
fields) → call the service → respond; the request's unit of work commits once (core.uow). The rules live
in pmi.interventions.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from core.auth.access import require
from core.auth.models import User
from core.auth.permissions import Permission, can
from core.errors import AppError
from core.geography.groups import regional_groups
from core.inputs import load, load_form, page_errors
from core.schools.directory import uai_from_search
from core.uow import attempt
from core.validation import MAX_YEAR, MIN_YEAR, display_phone, query_int
from pmi import interventions as services
from pmi.models import INTERVENTION_KIND_LABELS, LEVEL_LABELS, Intervention, Volunteer
from pmi.schemas import InterventionInputSchema, ProfileSchema
from pmi.volunteers import profile_of, save_profile, volunteers_of_group

bp = Blueprint("pmi", __name__, url_prefix="/pmi")

COUNT_FIELDS = ("female", "male", "unspecified", "duration_minutes")
VENUE_FIELDS = ("name", "street", "postcode", "city")


@bp.context_processor
def labels() -> dict:
    return {"KIND_LABELS": INTERVENTION_KIND_LABELS, "LEVEL_LABELS": LEVEL_LABELS}


# --- profile ------------------------------------------------------------------------------------


@bp.route("/profil", methods=["GET", "POST"])
def profile():
    user = require(Permission.LOG_INTERVENTION)
    volunteer = profile_of(user)
    errors: dict = {}
    values = {
        "name": user.name,
        "promo": volunteer.promo if volunteer else "",
        "regional_group": volunteer.regional_group_code if volunteer else "",
        "phone": display_phone(volunteer.phone) if volunteer else "",
    }
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with attempt():
                save_profile(user, **load_form(ProfileSchema()), actor=user)
        except AppError as exc:
            errors = page_errors(exc, input_name)
        else:
            flash("Profil enregistré.", "success")
            return redirect(url_for("pmi.my_interventions"))
    return render_template("pmi/profile.html", values=values, errors=errors, groups=regional_groups()), (
        422 if errors else 200
    )


# --- interventions --------------------------------------------------------------------------------


@bp.route("/interventions")
def my_interventions():
    user = require(Permission.LOG_INTERVENTION)
    year = requested_year()
    return render_template(
        "pmi/interventions.html",
        profile=profile_of(user),
        year=year,
        years=recent_years(),
        interventions=services.list_interventions(user, mine=True, year=year),
        totals=services.stats(user, mine=True, year=year)["total"],
    )


@bp.route("/interventions/nouvelle", methods=["GET", "POST"])
def intervention_create():
    user = require(Permission.LOG_INTERVENTION)
    volunteer = profile_of(user)
    if volunteer is None:
        flash("Complétez d'abord votre profil d'intervenant : promo et groupe régional.", "error")
        return redirect(url_for("pmi.profile"))
    errors: dict = {}
    last = services.last_values(volunteer)
    form = MultiDict(
        [("date", services.paris_today().isoformat()), ("kind", last["kind"]), ("place", "school"),
         ("duration_minutes", str(last["duration_minutes"]))]
        + [("levels", level) for level in last["levels"]]
    )  # fmt: skip
    if request.method == "POST":
        form = request.form
        try:
            with attempt():
                intervention = services.create_intervention(user, _load_form(request.form))
        except AppError as exc:
            errors = page_errors(exc, input_name)
        else:
            flash(f"Intervention enregistrée : {intervention.total} élèves.", "success")
            return redirect(url_for("pmi.my_interventions"))
    return _render_form(user, volunteer, None, form, errors)


@bp.route("/interventions/<int:intervention_id>/modifier", methods=["GET", "POST"])
def intervention_edit(intervention_id: int):
    user = require(Permission.LOG_INTERVENTION)
    intervention = services.load_intervention(user, intervention_id, edit=True)
    errors: dict = {}
    form = _intervention_form(intervention)
    if request.method == "POST":
        form = request.form
        try:
            with attempt():
                services.update_intervention(user, intervention, _load_form(request.form))
        except AppError as exc:
            errors = page_errors(exc, input_name)
        else:
            flash("Intervention modifiée.", "success")
            return redirect(url_for("pmi.my_interventions"))
    return _render_form(user, profile_of(user), intervention, form, errors)


@bp.route("/interventions/<int:intervention_id>/supprimer", methods=["POST"])
def intervention_delete(intervention_id: int):
    user = require(Permission.LOG_INTERVENTION)
    intervention = services.load_intervention(user, intervention_id, edit=True)
    services.delete_intervention(intervention, actor=user)
    flash("Intervention supprimée.", "success")
    return redirect(url_for("pmi.my_interventions"))


@bp.route("/interventions/import", methods=["GET", "POST"])
def intervention_import():
    user = require(Permission.LOG_INTERVENTION)
    errors: dict = {}
    rows: list = []
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            with attempt():
                if upload is None or not upload.filename:
                    raise services.CsvRejected("Choisissez un fichier CSV.")
                summary = services.import_csv(user, upload.read())
        except AppError as exc:
            rows = getattr(exc, "rows", [])
            errors = {"file": [exc.message]}
        else:
            flash(summary.message(), "success")
            return redirect(url_for("pmi.my_interventions"))
    return render_template("pmi/import.html", errors=errors, rows=rows, columns=services.CSV_COLUMNS), (
        422 if errors else 200
    )


# --- organisers -----------------------------------------------------------------------------------


@bp.route("/groupe")
def group():
    user = require(Permission.LEAD_GROUP)
    year = requested_year()
    groups = regional_groups()
    if can(user, Permission.ALL_REGIONS):
        gr = request.args.get("gr") or None
    else:
        profile = profile_of(user)
        gr = profile.regional_group_code if profile else None
        if gr is None:
            flash("Indiquez votre groupe régional dans votre profil pour voir ses chiffres.", "error")
            return redirect(url_for("pmi.profile"))
    by_volunteer = services.stats(user, "volunteer", year=year, gr=gr)
    return render_template(
        "pmi/group.html",
        year=year,
        gr=gr,
        years=recent_years(),
        group_name=next((g.name for g in groups if g.code == gr), None),
        groups=groups if can(user, Permission.ALL_REGIONS) else [],
        volunteers=by_volunteer["rows"],
        totals=by_volunteer["total"],
        by_group=services.stats(user, "gr", year=year)["rows"]
        if can(user, Permission.ALL_REGIONS) and not gr
        else [],
        interventions=services.list_interventions(user, year=year, gr=gr, limit=200),
    )


# --- view-side helpers ------------------------------------------------------------------------------


def recent_years() -> list[int]:
    this_year = services.paris_today().year
    return list(range(this_year, this_year - 4, -1))


def requested_year() -> int | None:
    """The year asked for (`?annee=`); anything but a year is all years."""
    return query_int("annee", min=MIN_YEAR, max=MAX_YEAR)


def _load_form(form: MultiDict) -> dict:
    """The intervention form as InterventionInputSchema loads it: a school or a venue, per `place`."""
    data: dict = {key: form.get(key, "").strip() for key in ("date", "kind", "notes")}
    data.update({key: form[key].strip() for key in COUNT_FIELDS if form.get(key, "").strip()})
    data["levels"] = form.getlist("levels")
    data["volunteer_ids"] = [v for v in form.getlist("volunteer_ids") if v]
    if form.get("second_session"):
        data["second_session"] = True
    if form.get("place") == "venue":
        data["venue"] = {key: form.get(f"venue_{key}", "") for key in VENUE_FIELDS}
    else:
        # Without JavaScript, the UAI typed (or pasted with the name) in the search box is enough.
        uai = form.get("school_uai", "").strip() or uai_from_search(form.get("school_search"))
        if uai:
            data["school_uai"] = uai
    for key in ("date", "kind"):
        if not data[key]:
            del data[key]
    return load(InterventionInputSchema(), data)


def input_name(name: str) -> str:
    """The form's input for a field named by path: venue.name → venue_name, levels[2] → levels."""
    head, _, rest = name.partition(".")
    head = head.split("[")[0]
    if head == "venue":
        field = rest.split(".")[0].split("[")[0]
        return f"venue_{field}" if field in VENUE_FIELDS else "venue_name"
    return head


def _intervention_form(intervention: Intervention) -> MultiDict:
    pairs = [
        ("date", intervention.date.isoformat()),
        ("kind", intervention.kind),
        ("place", "school" if intervention.school is not None else "venue"),
        ("school_uai", intervention.school_uai or ""),
        ("school_search", intervention.place_name if intervention.school is not None else ""),
        ("venue_name", intervention.venue_name or ""),
        ("venue_street", intervention.venue_street or ""),
        ("venue_postcode", intervention.venue_postcode or ""),
        ("venue_city", intervention.venue_city or ""),
        ("female", str(intervention.female)),
        ("male", str(intervention.male)),
        ("unspecified", str(intervention.unspecified)),
        ("duration_minutes", str(intervention.duration_minutes)),
        ("notes", intervention.notes),
    ]
    pairs += [("levels", level) for level in intervention.level_list]
    pairs += [("volunteer_ids", str(v.id)) for v in intervention.volunteers]
    return MultiDict(pairs)


def _co_volunteers(volunteer: Volunteer | None, intervention: Intervention | None) -> list[Volunteer]:
    """The GR's volunteers and those already linked, without the user themself."""
    choices = volunteers_of_group(volunteer.regional_group_code if volunteer else None)
    for linked in intervention.volunteers if intervention else []:
        if linked not in choices:
            choices.append(linked)
    return [v for v in choices if volunteer is None or v.id != volunteer.id]


def _render_form(
    user: User, volunteer: Volunteer | None, intervention: Intervention | None, form: MultiDict, errors: dict
):
    return render_template(
        "pmi/intervention_form.html",
        intervention=intervention,
        values=form,
        errors=errors,
        today=services.paris_today().isoformat(),
        co_volunteers=_co_volunteers(volunteer, intervention),
    ), (422 if errors else 200)
