"""JSON API of the gate: check a ticket in or out, undo a scan, merge an offline phone's check-ins, the
signed offline list, walk-ins in and out, who is on site, refused scans, attendance. For the site's own
factory accounts and admins (bearer token); another factory's slot or event is a 404 and nothing is
recorded. The request's unit of work commits once (core.uow)."""

from __future__ import annotations

from flask import jsonify

from core.api import ErrorSchema, api_blueprint, json_object
from core.auth.access import require
from core.auth.permissions import Permission
from core.errors import NotFound
from core.extensions import db
from core.inputs import load_json
from jou import services as site_services
from jou.checkin import attendance, offline, schemas, services, walk_ins
from jou.checkin.models import CheckIn, RefusedScan, WalkIn

blp = api_blueprint("checkin_api", __name__, "", description="Contrôle des billets à l'entrée des usines")


def _steward():
    return require(Permission.CHECK_IN)


def load_event(user, model: type[CheckIn] | type[WalkIn], event_id: int) -> CheckIn | WalkIn:
    """A check-in or walk-in of a slot the caller may check in; 404 otherwise."""
    event = db.session.get(model, event_id)
    if event is None:
        raise NotFound("Contrôle introuvable.")
    site_services.load_slot(user, event.slot_id, Permission.CHECK_IN)
    return event


def scan_answer(user, slot, data: dict) -> dict:
    """Check the body's ticket in or out of the slot: the API's and the scanner page's one way."""
    answer = services.check_in(
        user,
        slot,
        data["token"],
        admitted=data["admitted"],
        direction=data["direction"],
        female=data["female"],
        male=data["male"],
        client_key=data["client_key"],
    )
    return answer.to_dict()


@blp.route("/checkins", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": schemas.CheckInInputSchema}}}
)
@blp.response(200, schemas.CheckInAnswerSchema, description="valid, already_checked_in ou refused (motif)")
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site que les vôtres")
@blp.alt_response(409, schema=ErrorSchema, description="`client_key` déjà utilisée pour un autre contrôle")
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides (admitted > personnes restantes…)")
def create_checkin():
    """Contrôle un billet pour un créneau : `{token, slot_id, admitted?, direction?, female?, male?,
    client_key?}`.

    `token` est le jeton du billet ou l'URL complète du QR code. Refus (`refused`, journalisé pour
    l'usine) : billet d'un autre site, d'un autre jour, d'un autre créneau ou d'une autre édition,
    réservation annulée, code falsifié ou tronqué, sortie sans entrée. `admitted` < personnes restantes :
    arrivée partielle (le scan suivant répond `valid` avec `remaining` jusqu'à ce que tout le groupe soit
    entré). `direction: "exit"` : sortie. `female`/`male` : répartition comptée à l'entrée."""
    user = _steward()
    data = load_json(schemas.CheckInInputSchema())
    slot = site_services.load_slot(user, data["slot_id"], Permission.CHECK_IN)
    return jsonify(scan_answer(user, slot, data))


@blp.route("/checkins/<int:checkin_id>/undo", methods=["POST"])
@blp.response(200, schemas.CheckInEventSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Contrôle enregistré par une autre personne")
@blp.alt_response(404, schema=ErrorSchema, description="Contrôle inconnu ou d'un autre site")
@blp.alt_response(409, schema=ErrorSchema, description="Déjà annulé, pas du jour, ou groupe déjà ressorti")
def undo_checkin(checkin_id: int):
    """Annule une entrée ou une sortie, le jour même, par la personne qui l'a enregistrée (ou l'équipe
    Soce) ; inscrit au journal. Les comptes suivent."""
    user = _steward()
    event = services.undo_check_in(user, load_event(user, CheckIn, checkin_id))
    return jsonify(schemas.CheckInEventSchema().dump(event))


@blp.route("/checkins/<int:checkin_id>", methods=["PATCH"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": schemas.BreakdownInputSchema}}}
)
@blp.response(200, schemas.CheckInEventSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Contrôle enregistré par une autre personne")
@blp.alt_response(404, schema=ErrorSchema, description="Contrôle inconnu ou d'un autre site")
@blp.alt_response(409, schema=ErrorSchema, description="Pas une entrée en cours, ou pas du jour")
@blp.alt_response(422, schema=ErrorSchema, description="Plus de femmes et d'hommes que de personnes entrées")
def set_breakdown(checkin_id: int):
    """Répartition par genre d'une entrée dont la réservation ne la donnait pas : `{female, male}` (le
    reste : non précisé)."""
    user = _steward()
    data = load_json(schemas.BreakdownInputSchema())
    event = services.set_breakdown(user, load_event(user, CheckIn, checkin_id), data["female"], data["male"])
    return jsonify(schemas.CheckInEventSchema().dump(event))


@blp.route("/checkins/offline", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": schemas.OfflineBatchSchema}}}
)
@blp.response(200, schemas.OfflineResultsSchema, description="Une réponse par entrée, dans l'ordre")
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides")
def merge_offline():
    """Envoie les contrôles faits hors connexion : `{slot_id, device?, entries: [{token, admitted?,
    direction?, checked_in_at?, client_key?}]}`. Chaque billet compte une seule fois, même contrôlé sur
    deux téléphones ; un lot renvoyé deux fois n'ajoute rien."""
    user = _steward()
    data = load_json(schemas.OfflineBatchSchema())
    slot = site_services.load_slot(user, data["slot_id"], Permission.CHECK_IN)
    results = offline.merge_offline(user, slot, data["entries"], device=data["device"])
    return jsonify({"results": results})


@blp.route("/slots/<int:slot_id>/checkin-list", methods=["GET"])
@blp.doc(
    responses=json_object("`{alg, key, payload: {site_id, slot_id, day, generated_at, tickets}, signature}`")
)
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
def checkin_list(slot_id: int):
    """Liste signée (HMAC-SHA256) des billets valides du créneau, pour contrôler sans réseau : empreinte
    SHA-256 de chaque billet, nom, taille du groupe, personnes déjà entrées."""
    slot = site_services.load_slot(_steward(), slot_id, Permission.CHECK_IN)
    return jsonify(offline.offline_list(slot))


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
    walk_in = walk_ins.admit_walk_in(user, slot, data, override=override, client_key=key)
    return jsonify(schemas.WalkInSchema().dump(walk_in)), 201


@blp.route("/walk-ins/<int:walk_in_id>/undo", methods=["POST"])
@blp.response(200, schemas.WalkInSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Entrée enregistrée par une autre personne")
@blp.alt_response(404, schema=ErrorSchema, description="Entrée inconnue ou d'un autre site")
@blp.alt_response(409, schema=ErrorSchema, description="Déjà annulée, pas du jour, ou déjà ressortis")
def undo_walk_in(walk_in_id: int):
    """Annule une entrée sans réservation, le jour même ; ses places reviennent au créneau ; inscrit au
    journal."""
    user = _steward()
    walk_in = walk_ins.undo_walk_in(user, load_event(user, WalkIn, walk_in_id))
    return jsonify(schemas.WalkInSchema().dump(walk_in))


@blp.route("/slots/<int:slot_id>/walk-outs", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": schemas.WalkOutInputSchema}}}
)
@blp.response(201, schemas.CheckInEventSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Plus de sorties que d'entrées sans billet")
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
@blp.alt_response(422, schema=ErrorSchema, description="Champs invalides")
def create_walk_out(slot_id: int):
    """Personnes sans billet qui sortent : `{persons, client_key?}`."""
    user = _steward()
    slot = site_services.load_slot(user, slot_id, Permission.CHECK_IN)
    data = load_json(schemas.WalkOutInputSchema())
    event = walk_ins.walk_out(user, slot, data["persons"], client_key=data["client_key"])
    return jsonify(schemas.CheckInEventSchema().dump(event)), 201


@blp.route("/slots/<int:slot_id>/presence", methods=["GET"])
@blp.response(200, schemas.SlotPresenceSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
def slot_presence(slot_id: int):
    """Qui est là : personnes attendues, entrées, sorties, sur le site maintenant."""
    slot = site_services.load_slot(_steward(), slot_id, Permission.CHECK_IN)
    return jsonify({"slot_id": slot.id, **attendance.presence([slot.id])[slot.id].to_dict()})


@blp.route("/sites/<int:site_id>/presence", methods=["GET"])
@blp.response(200, schemas.SitePresenceSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Site inconnu ou d'un autre contact")
def site_presence(site_id: int):
    """Qui est là, par créneau et pour tout le site."""
    site = site_services.load_site(_steward(), site_id, Permission.CHECK_IN)
    return jsonify(presence_json(site))


def presence_json(site) -> dict:
    per_slot, total = attendance.site_presence(site)
    return {
        "site_id": site.id,
        "total": total.to_dict(),
        "slots": [{"slot_id": slot_id, **p.to_dict()} for slot_id, p in per_slot.items()],
    }


@blp.route("/sites/<int:site_id>/refused-scans", methods=["GET"])
@blp.doc(responses=json_object("`{results: [{at, slot_id, reason_code, reason, source, by, booking_id}]}`"))
@blp.alt_response(404, schema=ErrorSchema, description="Site inconnu ou d'un autre contact")
def refused_scans(site_id: int):
    """Billets refusés à l'entrée (les 200 derniers), avec leur motif, pour vérification."""
    site = site_services.load_site(_steward(), site_id, Permission.CHECK_IN)
    return jsonify({"results": [refusal_json(r) for r in services.refused_scans([s.id for s in site.slots])]})


def refusal_json(refusal: RefusedScan) -> dict:
    return {
        "at": refusal.at.isoformat(),
        "slot_id": refusal.slot_id,
        "reason_code": refusal.reason_code,
        "reason": refusal.reason,
        "source": refusal.source,
        "fingerprint": refusal.fingerprint,
        "by": refusal.by.name if refusal.by else None,
        "booking_id": refusal.booking_id,
    }


@blp.route("/slots/<int:slot_id>/attendance", methods=["GET"])
@blp.doc(responses=json_object("`{measured, booked, checked_in, walk_ins, no_show_rate, confirmed, final}`"))
@blp.alt_response(404, schema=ErrorSchema, description="Créneau inconnu ou d'un autre site")
def slot_attendance(slot_id: int):
    """Fréquentation réelle du créneau : comptage à l'entrée par genre, absents, chiffres confirmés."""
    slot = site_services.load_slot(_steward(), slot_id, Permission.CHECK_IN)
    return jsonify(attendance_json(attendance.slot_attendance(slot)))


def attendance_json(att: attendance.Attendance) -> dict:
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
