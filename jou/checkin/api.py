"""JSON API of the gate: check a ticket in, merge an offline phone's check-ins, the signed offline list,
walk-ins, attendance. For the site's own factory accounts and admins (bearer token); another factory's
slot is a 404 and nothing is recorded. The request's unit of work commits once (core.uow)."""

from __future__ import annotations

from flask import jsonify

from core.api import ErrorSchema, api_blueprint, json_object
from core.auth.access import require
from core.auth.permissions import Permission
from core.inputs import load_json
from jou import services as site_services
from jou.checkin import schemas, services

blp = api_blueprint("checkin_api", __name__, "", description="Contrôle des billets à l'entrée des usines")


def _steward():
    return require(Permission.CHECK_IN)


@blp.route("/checkins", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": schemas.CheckInInputSchema}}}
)
@blp.response(200, schemas.CheckInAnswerSchema, description="valid, already_checked_in ou refused (motif)")
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site que les vôtres")
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides (admitted > taille du groupe…)")
def create_checkin():
    """Contrôle un billet pour un créneau : `{token, slot_id, admitted?}`.

    `token` est le jeton du billet ou l'URL complète du QR code. Refus (`refused`) : billet d'un autre
    site, d'un autre jour, d'un autre créneau ou d'une autre édition, réservation annulée, code falsifié
    ou tronqué — rien n'est enregistré. `admitted` < taille du groupe : arrivée partielle."""
    user = _steward()
    data = load_json(schemas.CheckInInputSchema())
    slot = site_services.load_slot(user, data["slot_id"], Permission.CHECK_IN)
    answer = services.check_in(user, slot, data["token"], admitted=data["admitted"])
    return jsonify(answer.to_dict())


@blp.route("/checkins/offline", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": schemas.OfflineBatchSchema}}}
)
@blp.response(200, schemas.OfflineResultsSchema, description="Une réponse par entrée, dans l'ordre")
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides")
def merge_offline():
    """Envoie les contrôles faits hors connexion : `{slot_id, device?, entries: [{token, admitted?,
    checked_in_at?}]}`. Chaque billet compte une seule fois, même contrôlé sur deux téléphones ; un lot
    renvoyé deux fois n'ajoute rien."""
    user = _steward()
    data = load_json(schemas.OfflineBatchSchema())
    slot = site_services.load_slot(user, data["slot_id"], Permission.CHECK_IN)
    results = services.merge_offline(user, slot, data["entries"], device=data["device"])
    return jsonify({"results": results})


@blp.route("/slots/<int:slot_id>/checkin-list", methods=["GET"])
@blp.doc(
    responses=json_object("`{alg, key, payload: {site_id, slot_id, day, generated_at, tickets}, signature}`")
)
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
def checkin_list(slot_id: int):
    """Liste signée (HMAC-SHA256) des billets valides du créneau, pour contrôler sans réseau : empreinte
    SHA-256 de chaque billet, nom, taille du groupe."""
    slot = site_services.load_slot(_steward(), slot_id, Permission.CHECK_IN)
    return jsonify(services.offline_list(slot))


@blp.route("/slots/<int:slot_id>/walk-ins", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": schemas.WalkInInputSchema}}}
)
@blp.response(201, schemas.WalkInSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Capacité atteinte (slot_full) sans `override`")
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides")
def create_walk_in(slot_id: int):
    """Visiteurs sans réservation : `{female, male, unspecified, adults, override?, client_key?}`."""
    user = _steward()
    slot = site_services.load_slot(user, slot_id, Permission.CHECK_IN)
    data = load_json(schemas.WalkInInputSchema())
    override, key = data.pop("override"), data.pop("client_key")
    walk_in = services.admit_walk_in(user, slot, data, override=override, client_key=key)
    return jsonify(schemas.WalkInSchema().dump(walk_in)), 201


@blp.route("/slots/<int:slot_id>/attendance", methods=["GET"])
@blp.doc(responses=json_object("`{measured, booked, checked_in, walk_ins, no_show_rate, confirmed, final}`"))
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
def slot_attendance(slot_id: int):
    """Fréquentation réelle du créneau : comptage à l'entrée par genre, absents, chiffres confirmés."""
    slot = site_services.load_slot(_steward(), slot_id, Permission.CHECK_IN)
    return jsonify(attendance_json(services.slot_attendance(slot)))


def attendance_json(att: services.Attendance) -> dict:
    return {
        "measured": {"female": att.female, "male": att.male, "unspecified": att.unspecified},
        "booked": att.booked,
        "checked_in": att.checked_in,
        "walk_ins": att.walk_ins,
        "no_show_rate": att.no_show_rate,
        "confirmed": att.reported is not None,
        "final": att.final,
    }


blueprints: tuple = (blp,)
