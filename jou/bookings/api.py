"""JSON API of bookings: anonymous booking of a slot, waiting list, and the booking behind a signed link.

POST /api/v1/slots/<id>/bookings answers 201 with the new booking; replaying the same `Idempotency-Key`
answers 200 with the same booking (no second booking, no seat taken again).
"""

from __future__ import annotations

import logging

from flask import current_app, jsonify, request
from marshmallow import Schema, fields, validate

from core.admission import limited
from core.api import ErrorSchema, api_blueprint
from core.errors import Forbidden, ValidationFailed
from core.inputs import load_json
from core.mail import external_url
from core.models import utcnow
from core.validation import BaseSchema
from jou.bookings import calendar, interest, notify, privacy, services, survey, tokens
from jou.bookings.models import Booking, BookingKind, WaitlistEntry, waitlist_position
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
    "description": "Même clé et même demande → même réservation (200), sans reprendre de places, pendant "
    "24 h ; la même clé avec une autre demande → 422 idempotency_key_reused.",
}
MAX_KEY_LENGTH = 100
BUSY = (
    "Trop de réservations à la fois (busy) : rien n'a été enregistré ; renvoyer la même demande, avec la "
    "même Idempotency-Key, après le délai de l'en-tête Retry-After"
)

# Stateless, so built once: building a marshmallow schema deep-copies its fields (~1 ms each, three
# per booking request before this).
PUBLIC_INPUT, SCHOOL_INPUT, BOOKING_OUTPUT = (
    PublicBookingInputSchema(),
    SchoolBookingInputSchema(),
    BookingSchema(),
)


# ---- links --------------------------------------------------------------------------------------------

# The pages' endpoints (jou.bookings.views and views_files), or the same paths by hand if absent.
LINKS = {
    "qr_png_url": ("booking_files.ticket_png", "/billets/{ticket}.png"),
    "qr_svg_url": ("booking_files.ticket_svg", "/billets/{ticket}.svg"),
    "pdf_url": ("booking_files.ticket_pdf", "/billets/{ticket}.pdf"),
    "ics_url": ("booking_files.booking_ics", "/reservations/{manage}.ics"),
    "manage_url": ("bookings.manage", "/reservations/{manage}"),
}


def booking_links(booking: Booking) -> dict[str, str]:
    """Absolute links on PUBLIC_BASE_URL, never on the request's Host header (which the client chooses:
    a forged Host would hand out manage links to someone else's server)."""
    ticket, manage = tokens.ticket_token(booking), tokens.manage_token(booking)
    links = {"ticket_token": ticket}
    for key, (endpoint, path) in LINKS.items():
        token = ticket if "{ticket}" in path else manage
        if endpoint in current_app.view_functions:
            links[key] = external_url(endpoint, token=token)
        else:
            links[key] = calendar.public_url(path.format(ticket=ticket, manage=manage))
    return links


def booking_json(booking: Booking) -> dict:
    data = BOOKING_OUTPUT.dump(booking)
    data.update(booking_links(booking))
    if survey.is_open(booking):
        data["survey_url"] = survey.survey_url(booking)
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
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides ; Idempotency-Key déjà utilisée "
                  "pour une autre demande (idempotency_key_reused)")  # fmt: skip
@blp.alt_response(503, schema=ErrorSchema, description=BUSY)
@limited()
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
    # The confirmation is queued inside book(), before the seats are taken (see services). The answer is
    # built from the objects as they are; core.uow commits after the view.
    booking = services.book(slot_id, payload, idempotency_key=key, send_confirmation=True)
    return jsonify(booking_json(booking)), 200 if booking.replayed else 201


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
@blp.alt_response(503, schema=ErrorSchema, description=BUSY)
@limited()
def join_waitlist(payload: dict, slot_id: int):
    """S'inscrit sur la liste d'attente d'un créneau grand public complet (effectifs comme une réservation).

    Un e-mail donne le rang et le lien de l'inscription (`manage_url`). Dès que des places se libèrent,
    elles sont proposées dans l'ordre (un groupe trop grand garde sa place, un plus petit derrière lui peut
    passer) : `status` devient `offered`, les places sont tenues jusqu'à `offer_expires_at` (48 h, moins
    à l'approche de la visite) et un e-mail demande de confirmer (`POST /waitlist/<token>/accept`) ; sans
    réponse, elles passent à la personne suivante."""
    entry = services.join_waitlist(slot_id, payload)
    return jsonify(waitlist_json(entry)), 201


def waitlist_json(entry: WaitlistEntry) -> dict:
    data = WaitlistEntrySchema().dump(entry)
    data["position"] = waitlist_position(entry)
    data["token"] = tokens.waitlist_token(entry)
    data["manage_url"] = notify.waitlist_url(entry)
    return data


def _entry(token: str) -> WaitlistEntry:
    return privacy.ensure_entry_not_erased(tokens.entry_from_waitlist_token(token))


@blp.route("/waitlist/<token>", methods=["GET"])
@blp.response(200, WaitlistEntrySchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(410, schema=ErrorSchema, description="Données personnelles effacées (data_erased)")
def get_waitlist_entry(token: str):
    """L'inscription : son statut, son rang tant qu'elle attend, la fin de l'offre quand des places lui
    sont proposées."""
    return jsonify(waitlist_json(_entry(token)))


@blp.route("/waitlist/<token>", methods=["DELETE"])
@blp.response(200, WaitlistEntrySchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(410, schema=ErrorSchema, description="Données personnelles effacées (data_erased)")
def leave_waitlist(token: str):
    """Quitte la liste d'attente ; une offre en cours est déclinée et ses places proposées à la suite."""
    entry = _entry(token)
    services.cancel_waitlist_entry(entry)
    return jsonify(waitlist_json(entry))


@blp.route("/waitlist/<token>/accept", methods=["POST"])
@blp.response(201, BookingSchema, description="Offre acceptée : la réservation")
@blp.alt_response(200, schema=BookingSchema, description="Déjà acceptée : la même réservation")
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(409, schema=ErrorSchema, description="Pas d'offre en cours (offer_closed), délai passé "
                  "(offer_expired), ou règle par adresse (email_limit…)")  # fmt: skip
@blp.alt_response(410, schema=ErrorSchema, description="Données personnelles effacées (data_erased)")
def accept_waitlist_offer(token: str):
    """Accepte les places proposées : la réservation est confirmée et son billet envoyé par e-mail."""
    booking = services.accept_offer(_entry(token))
    return jsonify(booking_json(booking)), 200 if booking.replayed else 201


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
    booking = _managed(token)
    services.cancel_booking(booking)
    notify.queue_cancellation(booking)
    return jsonify(booking_json(booking))


# ---- personal data (GDPR) ----------------------------------------------------------------------------


class PersonalDataSchema(Schema):
    generated_at = fields.String()
    controller = fields.String()
    email = fields.String(metadata={"description": "L'adresse (seulement par le lien reçu à cette adresse)"})
    bookings = fields.List(fields.Dict(), metadata={"description": "Réservations"})
    waitlist_entries = fields.List(fields.Dict())
    emails = fields.List(fields.Dict(), metadata={"description": "E-mails écrits"})


class ErasureSchema(Schema):
    bookings = fields.Integer(metadata={"description": "Réservations anonymisées"})
    cancelled = fields.Integer(metadata={"description": "Dont visites à venir annulées (places libérées)"})
    waitlist_entries = fields.Integer()
    emails = fields.Integer()


class PrivacyRequestSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    action = fields.String(
        required=True,
        validate=validate.OneOf([a.value for a in privacy.PrivacyAction]),
        metadata={"description": "`export` (télécharger) ou `erase` (effacer)"},
    )


class AcceptedSchema(Schema):
    status = fields.String()
    message = fields.String()


@blp.route("/bookings/<token>/personal-data", methods=["GET"])
@blp.response(200, PersonalDataSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(410, schema=ErrorSchema, description="Données déjà effacées (data_erased)")
def get_personal_data(token: str):
    """Les données personnelles de cette réservation (droit d'accès) : elle et les e-mails écrits à son
    sujet. Pour tout ce qui concerne une adresse e-mail, demandez un lien envoyé à cette adresse :
    `POST /privacy/requests`."""
    return jsonify(privacy.booking_data(_managed(token)))


@blp.route("/bookings/<token>/personal-data", methods=["DELETE"])
@blp.response(200, ErasureSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Lien altéré (invalid_link)")
@blp.alt_response(410, schema=ErrorSchema, description="Données déjà effacées (data_erased)")
def erase_personal_data(token: str):
    """Efface les données personnelles de cette réservation (droit à l'effacement).

    Nom, e-mail et téléphone sont effacés de la réservation et des e-mails écrits à son sujet ; une visite
    à venir est annulée (sans adresse, plus de billet) et ses places libérées ; les effectifs restent, sans
    nom, pour les statistiques. Les autres réservations de la même adresse ne sont effacées que par le
    lien envoyé à cette adresse (`POST /privacy/requests`)."""
    done = privacy.erase_booking(_managed(token))
    return jsonify(done.to_dict())


class ResendSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


@blp.route("/bookings/resend", methods=["POST"])
@blp.arguments(ResendSchema)
@blp.response(202, AcceptedSchema)
def resend_links(payload: dict):
    """Billet perdu : envoie à cette adresse les liens de ses réservations à venir (billet, modification,
    annulation).

    La réponse est toujours 202, la même que l'adresse ait réservé ou non : les liens ne partent qu'à
    cette adresse (au plus un message par heure)."""
    notify.queue_links(payload["email"], utcnow())
    return jsonify(status="accepted", message=LINKS_SENT), 202


LINKS_SENT = (
    "Si cette adresse a des visites à venir, leurs liens viennent de lui être envoyés par e-mail "
    "(au plus un message par heure)."
)


class InterestSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    region = fields.String(load_default=None, validate=validate.Length(max=3),
                           metadata={"description": "Code INSEE de la région (ou department)"})  # fmt: skip
    department = fields.String(load_default=None, validate=validate.Length(max=3))
    consent = fields.Boolean(
        required=True,
        validate=validate.Equal(True, error="Votre accord est nécessaire pour que nous vous écrivions."),
    )


INTEREST_SENT = (
    "Si l'adresse est valide, un lien de confirmation vient de lui être envoyé : sans confirmation, "
    "nous ne lui écrirons pas."
)


@blp.route("/interest", methods=["POST"])
@blp.arguments(InterestSchema)
@blp.response(202, AcceptedSchema)
@blp.alt_response(422, schema=ErrorSchema, description="Adresse, zone ou accord invalides")
def subscribe_interest(payload: dict):
    """Prévenez-moi : un e-mail quand les réservations ouvrent, avec les usines de la région (`region`) ou du
    département (`department`) choisi, un seul des deux. L'adresse est confirmée par un lien qui lui est
    envoyé (double opt-in) ; la réponse est la même, que l'adresse soit déjà inscrite ou non."""
    interest.subscribe(payload["email"], region=payload["region"], department=payload["department"])
    return jsonify(status="accepted", message=INTEREST_SENT), 202


class SurveySchema(BaseSchema):
    open = fields.Boolean(metadata={"description": "Répondre ou changer sa réponse est possible"})
    closes_at = fields.DateTime(metadata={"description": "Clôture de l'enquête"})
    answer = fields.Dict(allow_none=True, metadata={"description": "La réponse enregistrée, ou null"})


def _survey_json(booking: Booking) -> dict:
    answer = survey.answer_of(booking)
    return {
        "open": survey.is_open(booking),
        "closes_at": survey.window(booking)[1].isoformat(),
        "answer": {name: getattr(answer, name) for name in survey.FIELDS} if answer else None,
    }


def _surveyed(token: str) -> Booking:
    return privacy.ensure_not_erased(survey.booking_from_token(token))


@blp.route("/surveys/<token>", methods=["GET"])
@blp.response(200, SurveySchema)
@blp.alt_response(404, schema=ErrorSchema, description="Lien altéré")
def get_survey(token: str):
    """L'enquête d'une visite (le lien envoyé le lendemain) : ouverte ou non, et la réponse déjà donnée."""
    return jsonify(_survey_json(_surveyed(token)))


@blp.route("/surveys/<token>", methods=["POST"])
@blp.arguments(survey.SurveyInputSchema)
@blp.response(200, SurveySchema)
@blp.alt_response(404, schema=ErrorSchema, description="Lien altéré")
@blp.alt_response(409, schema=ErrorSchema, description="Enquête pas encore ouverte ou close (survey_closed)")
def answer_survey(payload: dict, token: str):
    """Répond (ou change sa réponse : une seule par réservation). Seule `satisfaction` (1-5) est
    obligatoire ; `changed_view`, `could_work_before`, `could_work_now` : accord de 1 à 5 ;
    `respondent_gender` (female, male, other), `age_band`, `comment` (transmis à l'usine)."""
    booking = _surveyed(token)
    survey.save(booking, payload)
    return jsonify(_survey_json(booking))


@blp.route("/privacy/requests", methods=["POST"])
@blp.arguments(PrivacyRequestSchema)
@blp.response(202, AcceptedSchema)
def request_privacy_link(payload: dict):
    """Demande, pour une adresse e-mail, un lien pour télécharger (`export`) ou effacer (`erase`) toutes
    ses données.

    La réponse est toujours 202, la même que l'adresse soit connue ou non : le lien part par e-mail à
    cette adresse, et lui seul donne accès aux données (valable 24 h)."""
    privacy.request_link(payload["email"], privacy.PrivacyAction(payload["action"]))
    return jsonify(
        status="accepted",
        message="Si l'adresse est valide, un lien vient de lui être envoyé par e-mail.",
    ), 202


@blp.route("/privacy/requests/<token>", methods=["GET"])
@blp.response(200, PersonalDataSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Lien altéré ou expiré (invalid_link)")
def get_address_data(token: str):
    """Toutes les données d'une adresse, par le lien e-mailé à cette adresse : réservations,
    inscriptions en liste d'attente et e-mails écrits."""
    email, _action = privacy.read_privacy_token(token)
    return jsonify(privacy.personal_data(email))


@blp.route("/privacy/requests/<token>", methods=["DELETE"])
@blp.response(200, ErasureSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Lien de téléchargement, pas d'effacement")
@blp.alt_response(404, schema=ErrorSchema, description="Lien altéré ou expiré (invalid_link)")
def erase_address(token: str):
    """Efface tout ce qui est conservé au nom d'une adresse, par le lien d'effacement e-mailé à cette
    adresse ; les visites à venir sont annulées, les effectifs restent sans nom."""
    email, action = privacy.read_privacy_token(token)
    if action != privacy.PrivacyAction.ERASE:
        raise Forbidden("Ce lien permet de télécharger vos données, pas de les effacer.", code="wrong_link")
    done = privacy.erase_person(email)
    return jsonify(done.to_dict())


blueprints = (blp,)
