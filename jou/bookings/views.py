"""Booking pages: book a slot (party or class), the waiting list, the manage page behind the signed link,
and the factory's view of its bookings (list, CSV export, message to the bookers of a slot).

Each view: load the object (404) → authorise → validate with the booking schemas (422, French messages
beside the fields) → call jou.bookings.services → respond; the request's unit of work commits once
(core.uow). The rules live in the services.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import Schema
from werkzeug.datastructures import MultiDict

from core.admission import Busy, limited
from core.auth.access import require
from core.auth.permissions import Permission
from core.errors import AppError, NotFound
from core.exports import attachment, excel_csv
from core.formatting import count_of, french_date, french_datetime, french_time
from core.inputs import load_form, page_errors
from core.schools.directory import uai_from_search
from core.uow import attempt
from core.validation import display_phone
from jou import services as site_services
from jou.bookings import notify, privacy, schemas, services, survey, tokens
from jou.bookings.models import (
    AGE_BANDS,
    AGREEMENT,
    RESPONDENT_GENDERS,
    SCHOOL_LEVELS,
    Booking,
    BookingStatus,
    WaitlistEntry,
    waitlist_position,
)
from jou.models import AUDIENCE_LABELS, Audience, Site, Slot

bp = Blueprint("bookings", __name__)

# A site's bookings are for its own factory contact and staff; others get a 404 (jou.services.load_site).
SEE_VISITORS = Permission.SEE_VISITORS


CSV_HEADER = [
    "Jour",
    "Début",
    "Fin",
    "Public",
    "Statut",
    "Nom",
    "E-mail",
    "Téléphone",
    "Places",
    "Femmes / filles",
    "Hommes / garçons",
    "Non précisé",
    "Accompagnateurs",
    "Établissement",
    "UAI",
    "Niveau",
    "Réservé le",
]
STATUS_LABELS = {BookingStatus.CONFIRMED: "Confirmée", BookingStatus.CANCELLED: "Annulée"}


@bp.context_processor
def labels() -> dict:
    return {
        "AUDIENCE_LABELS": AUDIENCE_LABELS,
        "SCHOOL_LEVELS": SCHOOL_LEVELS,
        "BOOKING_STATUS_LABELS": STATUS_LABELS,
    }


# --- booking ------------------------------------------------------------------------------------------


def _queued(form: str) -> Callable:
    """Too many bookings at once: the page again with `form` ("booking" or "waitlist") as typed (same
    idempotency key) and a waiting message; static/js/actions.js sends it again by itself after Retry-After."""

    def answer(busy: Busy, slot_id: int):
        typed = request.form.to_dict()
        values, waitlist_values = (typed, None) if form == "booking" else ({}, typed)
        page = _render_booking_form(
            services.bookable_slot(slot_id),
            values,
            {},
            waitlist_values=waitlist_values,
            status=503,
            queued=(busy.retry_after, form),
        )
        return *page, {"Retry-After": str(busy.retry_after)}

    return answer


@bp.route("/creneaux/<int:slot_id>/reserver", methods=["GET", "POST"])
@limited(on_busy=_queued("booking"))
def book(slot_id: int):
    slot = services.bookable_slot(slot_id)
    errors: dict = {}
    values: dict = {"idempotency_key": uuid.uuid4().hex, "party_size": "1"}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with attempt():
                data = load_form(_booking_schema(slot), _with_school(request.form, slot))
                booking = services.book(
                    slot.id,
                    data,
                    idempotency_key=values.get("idempotency_key") or None,
                    send_confirmation=True,
                )
        except AppError as exc:
            errors = page_errors(exc)
            if isinstance(exc, services.IdempotencyKeyReused):
                # This form was already sent with other answers: sending it again is a new request.
                values["idempotency_key"] = uuid.uuid4().hex
            status = 409 if exc.status == 409 else 422
            return _render_booking_form(services.bookable_slot(slot_id), values, errors, status=status)
        return redirect(url_for("bookings.manage", token=tokens.manage_token(booking)))
    return _render_booking_form(slot, values, errors)


def _with_school(form: MultiDict, slot: Slot) -> MultiDict:
    """A class's school from the search box when the autocomplete did not fill the UAI (no JavaScript)."""
    if slot.audience != Audience.SCHOOLS or form.get("uai"):
        return form
    form = form.copy()
    form["uai"] = uai_from_search(form.get("school_search"))
    return form


@bp.route("/creneaux/<int:slot_id>/liste-attente", methods=["POST"])
@limited(on_busy=_queued("waitlist"))
def join_waitlist(slot_id: int):
    slot = services.bookable_slot(slot_id)
    values = request.form.to_dict()
    try:
        with attempt():
            entry = services.join_waitlist(slot.id, load_form(schemas.WaitlistInputSchema()))
    except AppError as exc:
        slot = services.bookable_slot(slot_id)
        return _render_booking_form(slot, {}, {}, waitlist_values=values, waitlist_errors=page_errors(exc))
    flash(
        f"Vous êtes inscrit·e sur la liste d'attente ({count_of(entry.party_size, 'place', 'places')}). "
        f"Si des places se libèrent, elles vous seront proposées par e-mail à {entry.email}.",
        "success",
    )
    return redirect(url_for("bookings.waitlist_entry", token=tokens.waitlist_token(entry)))


@bp.route("/liste-attente/<token>")
def waitlist_entry(token: str):
    entry = _waiting_entry(token)
    return render_template(
        "jou/bookings/waitlist.html", entry=entry, slot=entry.slot, site=entry.slot.site, token=token,
        position=waitlist_position(entry),
    )  # fmt: skip


@bp.route("/liste-attente/<token>/confirmer", methods=["POST"])
def accept_offer(token: str):
    entry = _waiting_entry(token)
    try:
        with attempt():
            booking = services.accept_offer(entry)
    except AppError as exc:
        flash(exc.message, "error")
        return redirect(url_for("bookings.waitlist_entry", token=token))
    flash("Votre réservation est confirmée : votre billet part par e-mail.", "success")
    return redirect(url_for("bookings.manage", token=tokens.manage_token(booking)))


@bp.route("/liste-attente/<token>/quitter", methods=["POST"])
def leave_waitlist(token: str):
    entry = _waiting_entry(token)
    with attempt():
        services.cancel_waitlist_entry(entry)
    flash("Vous avez quitté la liste d'attente.", "success")
    return redirect(url_for("bookings.waitlist_entry", token=token))


def _waiting_entry(token: str) -> WaitlistEntry:
    try:
        entry = tokens.entry_from_waitlist_token(token)
    except AppError as exc:
        raise NotFound(
            "Ce lien de liste d'attente n'est pas valide : utilisez le lien complet reçu par e-mail."
        ) from exc
    if entry.anonymised_at is not None:
        raise NotFound("Les données de cette inscription ont été effacées.")
    return entry


# --- the survey after the visit (signed link) ----------------------------------------------------------


@bp.route("/enquete/<token>", methods=["GET", "POST"])
def survey_page(token: str):
    booking = survey.booking_from_token(token)
    if booking.anonymised_at is not None:
        raise NotFound("Les données de cette réservation ont été effacées.")
    answer = survey.answer_of(booking)
    values = {name: getattr(answer, name) for name in survey.FIELDS} if answer else {}
    errors: dict = {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with attempt():
                survey.save(booking, load_form(survey.SurveyInputSchema()))
        except AppError as exc:
            errors = page_errors(exc)
        else:
            flash(
                "Merci ! Vos réponses sont enregistrées ; vous pouvez les changer jusqu'à la clôture.",
                "success",
            )
            return redirect(url_for("bookings.survey_page", token=token))
    return render_template(
        "jou/bookings/survey.html", site=booking.slot.site, values=values, errors=errors,
        open=survey.is_open(booking), answered=answer is not None, AGREEMENT=AGREEMENT,
        RESPONDENT_GENDERS=RESPONDENT_GENDERS, AGE_BANDS=AGE_BANDS,
    ), (422 if errors else 200)  # fmt: skip


@bp.route("/mes-sites/<int:site_id>/enquete")
def site_survey(site_id: int):
    site = site_services.load_site(require(SEE_VISITORS), site_id, SEE_VISITORS)
    return render_template("jou/bookings/site_survey.html", site=site, results=survey.site_results(site.id))


# --- manage (signed link) -----------------------------------------------------------------------------


@bp.route("/reservations/<token>")
def manage(token: str):
    booking = tokens.managed_booking_or_404(token)
    if booking.anonymised_at:
        return _render_erased()
    return _render_manage(booking, token)


@bp.route("/reservations/<token>/modifier", methods=["POST"])
def change(token: str):
    booking = tokens.managed_booking_or_404(token)
    if booking.anonymised_at:
        return _render_erased()
    values = request.form.to_dict()
    try:
        with attempt():
            services.change_party(booking, load_form(schemas.ChangePartySchema()))
    except AppError as exc:
        booking = tokens.managed_booking_or_404(token)
        return _render_manage(booking, token, values, page_errors(exc))
    flash("Votre réservation est modifiée.", "success")
    return redirect(url_for("bookings.manage", token=token))


@bp.route("/reservations/<token>/annuler", methods=["GET", "POST"])
def cancel(token: str):
    booking = tokens.managed_booking_or_404(token)
    if booking.anonymised_at:
        return _render_erased()
    if request.method == "GET" or not booking.is_confirmed:
        return render_template("jou/bookings/cancel.html", booking=booking, token=token)
    try:
        with attempt():
            services.cancel_booking(booking)
            notify.queue_cancellation(booking)
    except AppError as exc:
        flash(exc.message, "error")
        return redirect(url_for("bookings.manage", token=token))
    flash(
        "Votre réservation est annulée : les places sont libérées. Merci de nous avoir prévenus.", "success"
    )
    return redirect(url_for("bookings.manage", token=token))


# --- personal data (GDPR) of this booking, through its signed link; an address's: privacy_views ------


@bp.route("/reservations/<token>/donnees.json")
def personal_data(token: str):
    booking = tokens.managed_booking_or_404(token)
    if booking.anonymised_at:
        return _render_erased()
    body = json.dumps(privacy.booking_data(booking), ensure_ascii=False, indent=2).encode()
    return attachment(body, "application/json", f"mes-donnees-reservation-{booking.id}.json")


@bp.route("/reservations/<token>/effacer", methods=["GET", "POST"])
def erase(token: str):
    booking = tokens.managed_booking_or_404(token)
    if booking.anonymised_at:
        return _render_erased()
    if request.method == "GET":
        plan = privacy.booking_erasure_plan(booking)
        return render_template("jou/bookings/erase.html", booking=booking, token=token, plan=plan)
    try:
        with attempt():
            done = privacy.erase_booking(booking)  # promotes the waiting list: the promoted get tickets
    except AppError as exc:
        flash(exc.message, "error")
        return redirect(url_for("bookings.manage", token=token))
    return render_template("jou/bookings/erased.html", done=done)


def _render_erased():
    """The link of a booking whose person was erased: one clear sentence, nothing about anyone."""
    return render_template("jou/bookings/erased.html", done=None), 410


# --- factory ------------------------------------------------------------------------------------------


@bp.route("/mes-sites/<int:site_id>/reservations")
def site_bookings(site_id: int):
    site = site_services.load_site(require(SEE_VISITORS), site_id, SEE_VISITORS)
    return render_template(
        "jou/bookings/site_bookings.html", site=site, slots=_slots_with_bookings(site), message_slot_id=None
    )


@bp.route("/mes-sites/<int:site_id>/reservations.csv")
def site_bookings_csv(site_id: int):
    site = site_services.load_site(require(SEE_VISITORS), site_id, SEE_VISITORS)
    rows = (_csv_row(slot, b) for slot, bookings, _waiting in _slots_with_bookings(site) for b in bookings)
    return attachment(excel_csv(CSV_HEADER, rows), "text/csv", f"reservations-site-{site.id}.csv")


@bp.route("/mes-sites/<int:site_id>/creneaux/<int:slot_id>/message", methods=["POST"])
def message_bookers(site_id: int, slot_id: int):
    site = site_services.load_site(require(SEE_VISITORS), site_id, SEE_VISITORS)
    slot = next((s for s in site.slots if s.id == slot_id), None)
    if slot is None:
        raise NotFound("Créneau introuvable.")
    try:
        with attempt():
            data = load_form(schemas.SlotMessageSchema())
            queued = notify.queue_slot_message(
                slot, data["subject"], data["body"], with_waitlist=data["with_waitlist"]
            )
    except AppError as exc:
        return render_template(
            "jou/bookings/site_bookings.html",
            site=site,
            slots=_slots_with_bookings(site),
            message_slot_id=slot.id,
            values=request.form.to_dict(),
            errors=page_errors(exc),
        ), 422
    flash(
        f"Message envoyé aux personnes inscrites ({count_of(len(queued), 'destinataire', 'destinataires')}).",
        "success",
    )
    return redirect(url_for("bookings.site_bookings", site_id=site.id, _anchor=f"creneau-{slot.id}"))


# --- view-side helpers --------------------------------------------------------------------------------


def _booking_schema(slot: Slot) -> Schema:
    if slot.audience == Audience.SCHOOLS:
        return schemas.SchoolBookingInputSchema()
    return schemas.PublicBookingInputSchema()


def _render_booking_form(
    slot: Slot,
    values: dict,
    errors: dict,
    *,
    waitlist_values: dict | None = None,
    waitlist_errors: dict | None = None,
    status: int | None = None,
    queued: tuple[int, str] | None = None,
):
    if slot.audience == Audience.SCHOOLS and "party_size" in errors:
        # A class has no party-size field: "not enough seats for the class" goes above the form.
        errors = {**errors, "_form": errors.get("_form", []) + errors.pop("party_size")}
    status = status or (422 if errors or waitlist_errors else 200)
    edition = slot.site.edition
    return render_template(
        "jou/bookings/book.html",
        slot=slot,
        site=slot.site,
        values=values,
        errors=errors,
        # A visitor turned away by "complet" finds the waiting-list form filled with what they typed.
        waitlist_values=waitlist_values or {"party_size": "1", **_without(values, "consent")},
        waitlist_errors=waitlist_errors or {},
        party_choices=[(str(n), str(n)) for n in range(1, edition.max_party_size + 1)],
        level_choices=list(SCHOOL_LEVELS.items()),
        full=slot.seats_left <= 0,
        # Seconds before the page sends the kept form ("booking" or "waitlist") again by itself
        # (admission control said busy).
        queued=queued[0] if queued else None,
        queued_form=queued[1] if queued else None,
    ), status


def _render_manage(booking: Booking, token: str, values: dict | None = None, errors: dict | None = None):
    slot = booking.slot
    edition = slot.site.edition
    if values is None:
        values = {
            "party_size": str(booking.party_size),
            "female": str(booking.female),
            "male": str(booking.male),
            "unspecified": str(booking.unspecified),
            "adults": str(booking.adults),
        }
    # The party may grow by the seats still free, within the edition's limit per booking.
    largest = min(edition.max_party_size, booking.party_size + max(slot.seats_left, 0))
    return render_template(
        "jou/bookings/manage.html",
        booking=booking,
        slot=slot,
        site=slot.site,
        token=token,
        ticket=tokens.ticket_token(booking),
        values=values,
        errors=errors or {},
        party_choices=[(str(n), str(n)) for n in range(1, max(largest, booking.party_size) + 1)],
    ), (422 if errors else 200)


def _without(values: dict, *names: str) -> dict:
    return {k: v for k, v in values.items() if k not in names}


def _slots_with_bookings(site: Site) -> list[tuple[Slot, list[Booking], list[WaitlistEntry]]]:
    """Each slot with its bookings and its waiting list (the parties waiting, and those offered seats)."""
    return [(slot, services.bookings_of_slot(slot.id), services.waitlist_of_slot(slot.id, offered=True))
            for slot in site.slots]  # fmt: skip


def _csv_row(slot: Slot, booking: Booking) -> list[object]:
    return [
        french_date(slot.day),
        french_time(slot.start),
        french_time(slot.end),
        AUDIENCE_LABELS.get(slot.audience, slot.audience),
        STATUS_LABELS.get(booking.status, booking.status),
        booking.name,
        booking.email,
        display_phone(booking.phone),
        booking.party_size,
        booking.female,
        booking.male,
        booking.unspecified,
        booking.adults,
        booking.school.name if booking.school else "",
        booking.uai or "",
        SCHOOL_LEVELS.get(booking.level or "", booking.level or ""),
        french_datetime(booking.created_at),
    ]
