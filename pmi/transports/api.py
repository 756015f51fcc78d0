"""JSON API of campus transports: /api/v1/transports, their stops, and their numbers.

Organisers of a GR manage its transports, the Soce team all; other roles get 403, another GR's transport
404. Every change of a transport or of its stops begins with the transport's lock, taken by the service
(pmi.transports.services); the request's unit of work commits once (core.uow).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import jsonify

from core.api import ErrorSchema, api_blueprint, json_object
from core.auth.access import require
from core.auth.models import User
from core.auth.permissions import Permission
from pmi.transports import services
from pmi.transports.schemas import (
    StopInputSchema,
    StopSchema,
    StopUpdateSchema,
    TransportInputSchema,
    TransportQuerySchema,
    TransportSchema,
    TransportStatsQuerySchema,
    TransportUpdateSchema,
)

transports_blp = api_blueprint(
    "transports_api", __name__, "/transports", description="Transports vers les campus (GR)"
)


def managers(view: Callable) -> Callable:
    """401/403, and 404 for a transport of another GR, before the body is even read (decorate above
    @blp.arguments): a refused caller learns nothing from validation errors."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = require(Permission.ORGANISE_TRANSPORT)
        if "transport_id" in kwargs:
            services.managed_transport(user, kwargs["transport_id"])
        return view(*args, user=user, **kwargs)

    return wrapped


@transports_blp.route("", methods=["GET"])
@transports_blp.response(200, TransportSchema(many=True))
@transports_blp.alt_response(401, schema=ErrorSchema)
@managers
@transports_blp.arguments(TransportQuerySchema, location="query")
def list_transports(args: dict, *, user: User):
    """Transports visibles : ceux de votre GR (organisateur), tous (équipe Soce). Filtres : `year`, `gr`,
    `campus`, `status`."""
    return services.list_transports(user, **args)


@transports_blp.route("", methods=["POST"])
@transports_blp.response(201, TransportSchema)
@transports_blp.alt_response(422, schema=ErrorSchema, description="Date passée, retour avant le départ…")
@managers
@transports_blp.arguments(TransportInputSchema)
def create_transport(payload: dict, *, user: User):
    """Crée un transport pour votre GR (l'équipe Soce indique `regional_group`)."""
    return services.create_transport(user, payload)


@transports_blp.route("/stats", methods=["GET"])
@transports_blp.doc(responses=json_object("Les chiffres, regroupés selon `by`"))
@transports_blp.alt_response(401, schema=ErrorSchema)
@managers
@transports_blp.arguments(TransportStatsQuerySchema, location="query")
def transport_stats(args: dict, *, user: User):
    """Chiffres des transports non annulés : nombre, élèves par genre (réels une fois saisis, prévus
    sinon), enseignants, établissements, places et taux de remplissage, coût et coût par élève ; par GR
    (`by=gr`), par campus (`by=campus`) ou par région des établissements (`by=region`)."""
    return jsonify(services.stats(user, **args))


@transports_blp.route("/<int:transport_id>", methods=["GET"])
@transports_blp.response(200, TransportSchema)
@transports_blp.alt_response(404, schema=ErrorSchema)
@managers
def get_transport(transport_id: int, *, user: User):
    """Un transport et ses arrêts."""
    return services.managed_transport(user, transport_id)


@transports_blp.route("/<int:transport_id>", methods=["PATCH"])
@transports_blp.response(200, TransportSchema)
@transports_blp.alt_response(422, schema=ErrorSchema)
@managers
@transports_blp.arguments(TransportUpdateSchema)
def update_transport(payload: dict, transport_id: int, *, user: User):
    """Modifie un transport (statut, horaires, places…) ; moins de places que d'occupées est refusé."""
    return services.update_transport(user, services.locked_transport(user, transport_id), payload)


@transports_blp.route("/<int:transport_id>", methods=["DELETE"])
@transports_blp.response(204)
@transports_blp.alt_response(404, schema=ErrorSchema)
@managers
def delete_transport(transport_id: int, *, user: User):
    """Supprime un transport et ses arrêts."""
    services.delete_transport(user, transport_id)
    return "", 204


@transports_blp.route("/<int:transport_id>/stops", methods=["GET"])
@transports_blp.response(200, StopSchema(many=True))
@transports_blp.alt_response(404, schema=ErrorSchema)
@managers
def list_stops(transport_id: int, *, user: User):
    """Les arrêts dans l'ordre de ramassage."""
    return services.managed_transport(user, transport_id).stops


@transports_blp.route("/<int:transport_id>/stops", methods=["POST"])
@transports_blp.response(201, StopSchema)
@transports_blp.alt_response(409, schema=ErrorSchema, description="Le car serait trop plein (`bus_full`)")
@transports_blp.alt_response(422, schema=ErrorSchema, description="Établissement inconnu, aucun élève…")
@managers
@transports_blp.arguments(StopInputSchema)
def add_stop(payload: dict, transport_id: int, *, user: User):
    """Ajoute un arrêt (établissement par UAI) ; élèves + enseignants ne dépassent jamais les places."""
    return services.add_stop(user, transport_id, payload)


@transports_blp.route("/<int:transport_id>/stops/<int:stop_id>", methods=["PATCH"])
@transports_blp.response(200, StopSchema)
@transports_blp.alt_response(409, schema=ErrorSchema)
@managers
@transports_blp.arguments(StopUpdateSchema)
def update_stop(payload: dict, transport_id: int, stop_id: int, *, user: User):
    """Modifie un arrêt : effectifs prévus (dans la limite des places), horaire, contact, ou effectifs
    réels après le voyage (`actual_female`, `actual_male`, `actual_unspecified`, `actual_teachers`)."""
    return services.update_stop(user, transport_id, stop_id, payload)


@transports_blp.route("/<int:transport_id>/stops/<int:stop_id>", methods=["DELETE"])
@transports_blp.response(204)
@managers
def delete_stop(transport_id: int, stop_id: int, *, user: User):
    """Supprime un arrêt et rend ses places."""
    services.delete_stop(user, transport_id, stop_id)
    return "", 204


blueprints: tuple = (transports_blp,)
