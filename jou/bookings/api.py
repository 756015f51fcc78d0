"""JSON API of bookings: anonymous booking of a slot, waiting list, and the booking behind a signed link.

POST /api/v1/slots/<id>/bookings answers 201 with the new booking; replaying the same `Idempotency-Key`
answers 200 with the same booking (no second booking, no seat taken again).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urljoin

from flask import current_app, jsonify, request, url_for
from marshmallow import Schema, ValidationError, fields
from sqlalchemy.exc import SQLAlchemyError

from core.api import ErrorSchema, api_blueprint
from core.errors import ValidationFailed, flatten_webargs_messages
from core.extensions import db
from core.mail import commit_and_deliver, forget_queued
from jou.bookings import notify, privacy, services, tokens
from jou.bookings.models import Booking, BookingKind, WaitlistEntry
from jou.bookings.schemas import (
    BookingSchema,
    ChangePartySchema,
    PublicBookingInputSchema,
    SchoolBookingInputSchema,
    WaitlistEntrySchema,
    WaitlistInputSchema,
)

log = logging.getLogger(__name__)

blp = api_blueprint("bookings_api", __name__, "", description="Réservations des visites")

IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 100},
    "description": "Même clé → même réservation (200), sans reprendre de places.",
}
MAX_KEY_LENGTH = 100

# Stateless, so built once: building a marshmallow schema deep-copies its fields (~1 ms each, three
# per booking request before this).
PUBLIC_INPUT, SCHOOL_INPUT, BOOKING_OUTPUT = (
    PublicBookingInputSchema(),
    SchoolBookingInputSchema(),
    BookingSchema(),
)


@contextmanager
def committing() -> Iterator[None]:
    """One commit at the end, then the mail it queued is delivered; on error nothing stays."""
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        forget_queued()
        raise
    try:
        commit_and_deliver()
    except SQLAlchemyError:
        # The booking is committed; its mail stays queued for `flask mail retry` (seen on SQLite under
        # a rush: delivery's claim UPDATE after a read hits "database is locked").
        db.session.rollback()
        log.warning("Courriel de réservation laissé en file d'attente", exc_info=True)


def load_json(schema: Schema) -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("Objet JSON attendu.")
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(fields=flatten_webargs_messages({"json": exc.messages})) from None


# ---- links --------------------------------------------------------------------------------------------

# The pages' endpoints (jou.bookings.views and views_files), or the same paths by hand if absent.
LINKS = {
    "qr_png_url": ("booking_files.ticket_png", "/billets/{ticket}.png"),
    "qr_svg_url": ("booking_files.ticket_svg", "/billets/{ticket}.svg"),
    "ics_url": ("booking_files.booking_ics", "/reservations/{manage}.ics"),
    "manage_url": ("bookings.manage", "/reservations/{manage}"),
}


def booking_links(booking: Booking) -> dict[str, str]:
    ticket, manage = tokens.ticket_token(booking), tokens.manage_token(booking)
    links = {"ticket_token": ticket}
    for key, (endpoint, path) in LINKS.items():
        if endpoint in current_app.view_functions:
            url = url_for(endpoint, token=ticket if "{ticket}" in path else manage)
        else:
            url = path.format(ticket=ticket, manage=manage)
        links[key] = urljoin(request.host_url, url)
    return links


def booking_json(booking: Booking) -> dict:
    data = BOOKING_OUTPUT.dump(booking)
    data.update(booking_links(booking))
    return data


# ---- booking -----------------------------------------------------------------------------------------


@blp.route("/slots/<int:slot_id>/bookings", methods=["POST"])
@blp.doc(
    parameters=[IDEMPOTENCY_HEADER],
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [PublicBookingInputSchema, SchoolBookingInputSchema]}}
        },
    },
)
@blp.response(201, BookingSchema, description="Réservation enregistrée")
@blp.alt_response(200, schema=BookingSchema, description="Même Idempotency-Key : la même réservation")
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou site non publié")
@blp.alt_response(409, schema=ErrorSchema, description="Complet (slot_full), réservations closes "
                  "(booking_closed), créneau passé (slot_past), limites par e-mail")  # fmt: skip
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides")
def create_booking(slot_id: int):
    """Réserve un créneau (sans compte).

    Créneau grand public : `{party_size, name, email, phone?, female?, male?, consent, ack_min_age?,
    ack_equipment?}`. Créneau scolaires : `{uai, level, female, male, unspecified, adults, name, email,
    phone?, consent}` (des effectifs, jamais de noms d'élèves). La réponse donne le jeton du billet et
    les liens du QR code, du .ics et de la page de gestion."""
    slot = services.bookable_slot(slot_id)  # kept: book() then finds it in the session (weakly held)
    kind = services.booking_kind(slot)
    payload = load_json(SCHOOL_INPUT if kind == BookingKind.SCHOOL else PUBLIC_INPUT)
    key = _idempotency_key()
    if db.engine.dialect.name == "sqlite":
        # There the booking transaction must begin with its seat write (see services): end this read.
        db.session.commit()
    # The slot's row stays locked from the seat UPDATE to the commit, and every booker of the slot waits
    # for it: nothing runs between the two, the answer is built after the commit from the objects as
    # they were (not expired: reading them again would cost three queries per booking in a rush).
    session = db.session()
    session.expire_on_commit = False
    try:
        with committing():
            # The confirmation is queued inside book(), before the seats are taken (see services).
            booking = services.book(slot_id, payload, idempotency_key=key, send_confirmation=True)
        body = booking_json(booking)
    finally:
        session.expire_on_commit = True
    return jsonify(body), 200 if booking.replayed else 201


def _idempotency_key() -> str | None:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.on("Idempotency-Key", f"Au plus {MAX_KEY_LENGTH} caractères.")
    return key or None


@blp.route("/slots/<int:slot_id>/waitlist", methods=["POST"])
@blp.arguments(WaitlistInputSchema)
@blp.response(201, WaitlistEntrySchema)
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou site non publié")
@blp.alt_response(409, schema=ErrorSchema, description="Il reste des places (seats_available), déjà "
                  "inscrit, créneau scolaire")  # fmt: skip
def join_waitlist(payload: dict, slot_id: int):
    """S'inscrit sur la liste d'attente d'un créneau grand public complet.

    Dès que des places se libèrent, les inscrits sont servis dans l'ordre (un groupe trop grand
    garde sa place, un plus petit derrière lui peut passer) et reçoivent leur billet par e-mail."""
    with committing():
        entry = services.join_waitlist(slot_id, payload)
    return jsonify(waitlist_json(entry)), 201


def waitlist_json(entry: WaitlistEntry) -> dict:
    data = WaitlistEntrySchema().dump(entry)
    waiting = services.waitlist_of_slot(entry.slot_id)
    data["position"] = next((i for i, e in enumerate(waiting, 1) if e.id == entry.id), None)
    return data


# ---- manage through the signed link ------------------------------------------------------------------


@blp.route("/bookings/<token>", methods=["GET"])
@blp.response(200, BookingSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(404, schema=ErrorSchema, description="Réservation effacée")
@blp.alt_response(410, schema=ErrorSchema, description="Données personnelles effacées (data_erased)")
def get_booking(token: str):
    """La réservation derrière un lien de gestion signé."""
    return jsonify(booking_json(_managed(token)))


def _managed(token: str) -> Booking:
    """The booking behind the link; 410 `data_erased` once its person's data was erased."""
    return privacy.ensure_not_erased(tokens.booking_from_manage_token(token))


@blp.route("/bookings/<token>", methods=["PATCH"])
@blp.arguments(ChangePartySchema)
@blp.response(200, BookingSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(409, schema=ErrorSchema, description="Pas assez de places (slot_full), annulée, passée")
@blp.alt_response(410, schema=ErrorSchema, description="Données personnelles effacées (data_erased)")
def change_booking(payload: dict, token: str):
    """Change la taille du groupe, dans la limite des places restantes.

    Grand public : `party_size` (et `female`/`male`) ; classe : `female`, `male`, `unspecified`,
    `adults`. Des places rendues profitent aussitôt à la liste d'attente."""
    with committing():
        booking = _managed(token)
        services.change_party(booking, payload)
    return jsonify(booking_json(booking))


@blp.route("/bookings/<token>", methods=["DELETE"])
@blp.response(200, BookingSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(409, schema=ErrorSchema, description="Déjà annulée ou créneau passé")
@blp.alt_response(410, schema=ErrorSchema, description="Données personnelles effacées (data_erased)")
def cancel_booking(token: str):
    """Annule la réservation : les places sont libérées aussitôt (et la liste d'attente servie)."""
    with committing():
        booking = _managed(token)
        services.cancel_booking(booking)
        notify.queue_cancellation(booking)
    return jsonify(booking_json(booking))


# ---- personal data (GDPR) ----------------------------------------------------------------------------


class PersonalDataSchema(Schema):
    generated_at = fields.String()
    controller = fields.String()
    email = fields.String()
    bookings = fields.List(fields.Dict(), metadata={"description": "Réservations faites avec cette adresse"})
    waitlist_entries = fields.List(fields.Dict())
    emails = fields.List(fields.Dict(), metadata={"description": "E-mails écrits à cette adresse"})


class ErasureSchema(Schema):
    bookings = fields.Integer(metadata={"description": "Réservations anonymisées"})
    cancelled = fields.Integer(metadata={"description": "Dont visites à venir annulées (places libérées)"})
    waitlist_entries = fields.Integer()
    emails = fields.Integer()


@blp.route("/bookings/<token>/personal-data", methods=["GET"])
@blp.response(200, PersonalDataSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(410, schema=ErrorSchema, description="Données déjà effacées (data_erased)")
def get_personal_data(token: str):
    """Tout ce que nous conservons sur l'adresse e-mail de cette réservation (droit d'accès).

    Ses réservations, ses inscriptions en liste d'attente et les e-mails qui lui ont été écrits."""
    response = jsonify(privacy.personal_data(_managed(token)))
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/bookings/<token>/personal-data", methods=["DELETE"])
@blp.response(200, ErasureSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(410, schema=ErrorSchema, description="Données déjà effacées (data_erased)")
def erase_personal_data(token: str):
    """Efface les données personnelles liées à l'adresse e-mail de cette réservation (droit à l'effacement).

    Nom, e-mail et téléphone sont effacés de toutes ses réservations et inscriptions en liste d'attente,
    les e-mails qui lui ont été écrits aussi. Les visites à venir sont annulées (sans adresse, plus de
    billet) et leurs places libérées ; les effectifs restent, sans nom, pour les statistiques."""
    with committing():
        done = privacy.erase_person(_managed(token))
    return jsonify(done.to_dict())


blueprints = (blp,)
