"""Gate pages: choose a slot, the phone scanner (camera, typed code, name search, entries and exits,
undo, walk-ins, who is on site, offline list and sync), the QR's own URL (/controle/<token>) and the
attendance figures with the factory's form and the refused scans.

The scanner's JSON calls go to page routes (session cookie + CSRF header), the API being bearer-only;
both call the same services and answer the same dictionaries, errors included (`_json`). The request's
unit of work commits once (core.uow).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from core.auth.access import page_user, require
from core.auth.permissions import Permission
from core.errors import AppError, NotFound
from core.formatting import count_of
from core.inputs import load_form, load_json
from core.uow import attempt
from jou import services as site_services
from jou.bookings import tokens
from jou.checkin import api, offline, schemas, services, walk_ins
from jou.checkin import attendance as counts
from jou.checkin.models import CheckIn, CheckInSource, WalkIn
from jou.models import Slot

bp = Blueprint("checkin", __name__)


def _json(view: Callable) -> Callable:
    """A scanner call: refusals answered in the API's JSON format (the page reads them), not as pages."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except AppError as exc:
            return jsonify(exc.to_dict()), exc.status

    return wrapped


def _slot(site_id: int, slot_id: int):
    user = require(Permission.CHECK_IN)
    slot = site_services.load_slot(user, slot_id, Permission.CHECK_IN)
    if slot.site_id != site_id:
        raise NotFound("Créneau introuvable.")
    return user, slot


def _flash_refusal(exc: AppError) -> None:
    flash(exc.fields and next(iter(exc.fields.values()))[0] or exc.message, "error")


@bp.route("/mes-sites/<int:site_id>/controle")
def site_slots(site_id: int):
    site = site_services.load_site(require(Permission.CHECK_IN), site_id, Permission.CHECK_IN)
    return render_template("jou/checkin/site_slots.html", site=site)


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle")
def scanner(site_id: int, slot_id: int):
    _user, slot = _slot(site_id, slot_id)
    per_slot, site_total = counts.site_presence(slot.site)  # the slot's counter is one of the site's
    return render_template(
        "jou/checkin/scanner.html",
        slot=slot,
        site=slot.site,
        seats_left=walk_ins.seats_left_at_gate(slot),
        presence=per_slot[slot.id],
        site_on_site=site_total.on_site,
        warning=services.day_warning(slot, services.utcnow()),
    )


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/billet", methods=["POST"])
@_json
def scan(site_id: int, slot_id: int):
    user, slot = _slot(site_id, slot_id)
    # The slot is the page's (its URL), not the body's: the scanner does not send it.
    data = load_json(schemas.CheckInInputSchema(partial=("slot_id",)))
    return jsonify(api.scan_answer(user, slot, data))


@bp.route(
    "/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/annuler/<int:checkin_id>", methods=["POST"]
)
@_json
def undo(site_id: int, slot_id: int, checkin_id: int):
    user, _slot_ = _slot(site_id, slot_id)
    event = services.undo_check_in(user, api.load_event(user, CheckIn, checkin_id))
    return jsonify(schemas.CheckInEventSchema().dump(event))


@bp.route(
    "/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/repartition/<int:checkin_id>", methods=["POST"]
)
@_json
def breakdown(site_id: int, slot_id: int, checkin_id: int):
    user, _slot_ = _slot(site_id, slot_id)
    data = load_json(schemas.BreakdownInputSchema())
    event = services.set_breakdown(
        user, api.load_event(user, CheckIn, checkin_id), data["female"], data["male"]
    )
    return jsonify(schemas.CheckInEventSchema().dump(event))


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/sans-billet", methods=["POST"])
@_json
def walk_in_json(site_id: int, slot_id: int):
    """The scanner's taps: visitors without a booking, in one call."""
    user, slot = _slot(site_id, slot_id)
    data = load_json(schemas.WalkInInputSchema())
    override, key = data.pop("override"), data.pop("client_key")
    entry = walk_ins.admit_walk_in(user, slot, data, override=override, client_key=key)
    return jsonify(schemas.WalkInSchema().dump(entry)), 201


@bp.route(
    "/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/sans-billet/<int:walk_in_id>/annuler",
    methods=["POST"],
)
@_json
def undo_walk_in(site_id: int, slot_id: int, walk_in_id: int):
    user, _slot_ = _slot(site_id, slot_id)
    entry = walk_ins.undo_walk_in(user, api.load_event(user, WalkIn, walk_in_id))
    return jsonify(schemas.WalkInSchema().dump(entry))


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/sortie-sans-billet", methods=["POST"])
@_json
def walk_out(site_id: int, slot_id: int):
    user, slot = _slot(site_id, slot_id)
    data = load_json(schemas.WalkOutInputSchema())
    event = walk_ins.walk_out(user, slot, data["persons"], client_key=data["client_key"])
    return jsonify(schemas.CheckInEventSchema().dump(event)), 201


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/presence")
@_json
def presence(site_id: int, slot_id: int):
    """The scanner's live counter: this slot and the whole site."""
    _user, slot = _slot(site_id, slot_id)
    data = api.presence_json(slot.site)
    data["slot"] = next(s for s in data["slots"] if s["slot_id"] == slot.id)
    data["seats_left"] = walk_ins.seats_left_at_gate(slot)
    return jsonify(data)


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/recherche")
@_json
def search(site_id: int, slot_id: int):
    _user, slot = _slot(site_id, slot_id)
    found = services.search_bookings(slot, request.args.get("q", ""))
    return jsonify(
        {
            "results": [
                {
                    "name": b.name,
                    "party_size": b.party_size,
                    "token": tokens.ticket_token(b),
                    "entered": entered,
                    "checked_in": entered >= b.party_size,
                }
                for b, entered in found
            ]
        }
    )


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/liste")
@_json
def offline_list(site_id: int, slot_id: int):
    _user, slot = _slot(site_id, slot_id)
    return jsonify(offline.offline_list(slot))


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/controle/synchro", methods=["POST"])
@_json
def sync(site_id: int, slot_id: int):
    user, slot = _slot(site_id, slot_id)
    data = load_json(schemas.OfflineBatchSchema(partial=("slot_id",)))
    results = offline.merge_offline(user, slot, data["entries"], device=data["device"])
    return jsonify({"results": results})


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/sans-reservation", methods=["POST"])
def walk_in(site_id: int, slot_id: int):
    user, slot = _slot(site_id, slot_id)
    try:
        with attempt():
            data = load_form(schemas.WalkInInputSchema())
            override, key = data.pop("override"), data.pop("client_key")
            entry = walk_ins.admit_walk_in(user, slot, data, override=override, client_key=key)
    except AppError as exc:
        _flash_refusal(exc)
    else:
        flash(f"Entrée sans réservation : {count_of(entry.persons, 'personne', 'personnes')}.", "success")
    return redirect(url_for("checkin.scanner", site_id=site_id, slot_id=slot_id))


@bp.route("/mes-sites/<int:site_id>/frequentation")
def attendance(site_id: int):
    site = site_services.load_site(require(Permission.CHECK_IN), site_id, Permission.CHECK_IN)
    per_slot, total, final = counts.site_attendance(site)
    refused = services.refused_scans([slot.id for slot in site.slots])
    return render_template(
        "jou/checkin/attendance.html", site=site, per_slot=per_slot, total=total, final=final, refused=refused
    )


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/frequentation", methods=["POST"])
def confirm_attendance(site_id: int, slot_id: int):
    user, slot = _slot(site_id, slot_id)
    try:
        with attempt():
            data = load_form(schemas.AttendanceInputSchema())
            counts.confirm_attendance(user, slot, data, data.pop("note"))
    except AppError as exc:
        _flash_refusal(exc)
    else:
        flash("Chiffres de fréquentation enregistrés.", "success")
    return redirect(url_for("checkin.attendance", site_id=site_id))


# ---- the QR's own URL --------------------------------------------------------------------------------


@bp.route("/controle/<token>")
def ticket(token: str):
    """A steward of the ticket's site sees the gate's answer; anyone else a neutral page that says
    nothing of the booking (not even whether the ticket is valid)."""
    booking = services.booking_of(token)
    user = page_user()
    if booking is None or not services.may_check_in(user, booking):
        return render_template("jou/checkin/ticket_neutral.html")
    answer = services.check(booking.slot, token)
    return render_template("jou/checkin/ticket.html", answer=answer, booking=booking, token=token)


@bp.route("/controle/<token>", methods=["POST"])
def ticket_checkin(token: str):
    user = require(Permission.CHECK_IN)
    booking = services.booking_of(token)
    if booking is None or not services.may_check_in(user, booking):
        raise NotFound("Billet introuvable.")
    slot: Slot = booking.slot
    # The ticket and the slot are the URL's; the form gives only the number admitted.
    form = request.form.copy()
    form["token"], form["slot_id"] = token, str(slot.id)
    try:
        with attempt():
            data = load_form(schemas.CheckInInputSchema(), form)
            answer = services.check_in(
                user, slot, token, admitted=data["admitted"], source=CheckInSource.LINK
            )
    except AppError as exc:
        _flash_refusal(exc)
        return redirect(url_for("checkin.ticket", token=token))
    return render_template("jou/checkin/ticket.html", answer=answer, booking=booking, token=token)
