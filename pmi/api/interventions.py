"""JSON API of PMI interventions: volunteers record them, organisers and the Soce team read them, and the
figures over what the caller may see (/api/v1/pmi/stats).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import jsonify

from core.api import ErrorSchema, api_blueprint
from core.auth.access import require
from core.auth.models import User
from core.auth.permissions import Permission
from pmi import interventions as services
from pmi.models import Intervention
from pmi.schemas import (
    InterventionInputSchema,
    InterventionQuerySchema,
    InterventionSchema,
    InterventionUpdateSchema,
    StatsQuerySchema,
    StatsSchema,
)

interventions_blp = api_blueprint(
    "interventions_api", __name__, "/interventions", description="Interventions PMI des bénévoles"
)
pmi_stats_blp = api_blueprint("pmi_stats_api", __name__, "/pmi", description="Chiffres PMI")


def pmi_members(view: Callable) -> Callable:
    """401/403 before the body is even read."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, user=require(Permission.LOG_INTERVENTION), **kwargs)

    return wrapped


def with_intervention(edit: bool = False) -> Callable:
    """Permission (401/403), then the intervention: 404 when the caller may not see it, 403 when they
    may see but not edit it; before the body is validated (decorate above @blp.arguments)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, intervention_id: int, **kwargs):
            user = require(Permission.LOG_INTERVENTION)
            intervention = services.load_intervention(user, intervention_id, edit=edit)
            return view(*args, intervention=intervention, user=user, **kwargs)

        return wrapped

    return decorator


@interventions_blp.route("", methods=["GET"])
@interventions_blp.response(200, InterventionSchema(many=True))
@interventions_blp.alt_response(401, schema=ErrorSchema)
@pmi_members
@interventions_blp.arguments(InterventionQuerySchema(), location="query")
def list_interventions(args: dict, *, user: User):
    """Interventions visibles, les plus récentes d'abord.

    Un bénévole voit les siennes, un organisateur celles de son GR, l'équipe Soce toutes. Filtres :
    `year`, `volunteer` (profil), `gr`, `region`."""
    return services.list_interventions(user, **args)


@interventions_blp.route("", methods=["POST"])
@interventions_blp.response(201, InterventionSchema)
@interventions_blp.alt_response(
    422, schema=ErrorSchema, description="Champs invalides (date future, effectifs…)"
)
@interventions_blp.alt_response(
    409, schema=ErrorSchema, description="`duplicate` : déjà enregistrée (`error.existing_id`)"
)
@pmi_members
@interventions_blp.arguments(InterventionInputSchema)
def create_intervention(payload: dict, *, user: User):
    """Enregistre une intervention.

    `school_uai` ou `venue`, jamais les deux ; l'appelant en fait partie (sauf l'équipe Soce).
    Effectifs : au moins 1 élève ; au plus 2000 pour un forum, un salon ou l'exposition, 200 sinon.
    Une intervention identique à une autre déjà enregistrée (même date, même lieu, mêmes intervenants,
    mêmes effectifs) répond 409 `duplicate` avec `existing_id`, sauf `second_session: true`."""
    return services.create_intervention(user, payload)


@interventions_blp.route("/<int:intervention_id>", methods=["GET"])
@interventions_blp.response(200, InterventionSchema)
@interventions_blp.alt_response(404, schema=ErrorSchema)
@with_intervention()
def get_intervention(*, intervention: Intervention, user: User):
    """Une intervention visible par l'appelant (sinon 404)."""
    return intervention


@interventions_blp.route("/<int:intervention_id>", methods=["PATCH"])
@interventions_blp.response(200, InterventionSchema)
@interventions_blp.alt_response(403, schema=ErrorSchema, description="Visible mais pas la vôtre")
@with_intervention(edit=True)
@interventions_blp.arguments(InterventionUpdateSchema)
def update_intervention(payload: dict, *, intervention: Intervention, user: User):
    """Modifie une intervention dont l'appelant est intervenant ou auteur (ou l'équipe Soce)."""
    return services.update_intervention(user, intervention, payload)


@interventions_blp.route("/<int:intervention_id>", methods=["DELETE"])
@interventions_blp.response(204)
@with_intervention(edit=True)
def delete_intervention(*, intervention: Intervention, user: User):
    """Supprime une intervention."""
    services.delete_intervention(intervention, actor=user)
    return "", 204


@pmi_stats_blp.route("/stats", methods=["GET"])
@pmi_stats_blp.response(200, StatsSchema)
@pmi_members
@pmi_stats_blp.arguments(StatsQuerySchema(), location="query")
def pmi_stats(args: dict, *, user: User):
    """Chiffres par intervenant (`by=volunteer`) ou par GR (`by=gr`), sur ce que l'appelant voit.

    Chaque ligne : interventions, filles (`female`), garçons (`male`), non précisé, total, part des
    filles parmi les élèves au genre précisé, établissements distincts, intervenants distincts. Une
    intervention à plusieurs compte ses élèves une fois par GR et au total."""
    return jsonify(services.stats(user, args["by"], year=args.get("year")))
