"""JSON API of JOU: editions and sites.

Every route: load the site (404) → authorise (403) → validate the body (422) → service; the request's
unit of work commits once (core.uow).
A site the caller may not see answers 404, never 403, so its existence stays private. Sites are shown
with their contact only to their owner and the Soce staff (SitePrivateSchema), otherwise SiteSchema.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, jsonify, url_for
from sqlalchemy import select

from core.api import ErrorSchema, api_blueprint
from core.auth.access import api_user, require
from core.auth.models import User
from core.auth.permissions import Permission, can
from core.extensions import db
from jou import services
from jou.bookings.api import blp as bookings_blp
from jou.models import Edition, Site
from jou.schemas import (
    EditionSchema,
    FeatureCollectionSchema,
    LocationInputSchema,
    RejectSchema,
    SiteInputSchema,
    SiteMapQuerySchema,
    SitePageSchema,
    SitePrivateSchema,
    SiteQuerySchema,
    SiteSchema,
    SiteUpdateSchema,
)
from jou.sectors import sector_label

editions_blp = api_blueprint(
    "editions_api", __name__, "/editions", description="Éditions des Journées Usines Ouvertes"
)
sites_blp = api_blueprint("sites_api", __name__, "", description="Sites des Journées Usines Ouvertes")


@editions_blp.route("")
@editions_blp.response(200, EditionSchema(many=True))
def list_editions():
    """Toutes les éditions, de la plus récente à la plus ancienne."""
    return db.session.scalars(select(Edition).order_by(Edition.year.desc())).all()


# ---- helpers -----------------------------------------------------------------------------------------

# Stateless, so built once: building a schema deep-copies its fields and its nested slot schema, which
# was a third of the CPU of a page of 50 sites when it was done once per site. The read routes' query
# schemas are instances for the same reason (given a class, webargs builds one on every request).
SITE_PUBLIC, SITE_PRIVATE = SiteSchema(), SitePrivateSchema()


def site_json(user: User | None, site: Site) -> dict:
    schema = SITE_PRIVATE if can(user, Permission.MANAGE_SITE, site) else SITE_PUBLIC
    return schema.dump(site)


def with_site(permission: Permission | None = None) -> Callable:
    """Load and authorise before the body is validated (decorate above @blp.arguments): 401/403 for the
    permission, 404 for a site the caller may not see, 403 for a public site that is not theirs."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, site_id: int, **kwargs):
            user = require(permission) if permission else api_user()
            return view(*args, site=services.load_site(user, site_id, permission), user=user, **kwargs)

        return wrapped

    return decorator


def writers_only(view: Callable) -> Callable:
    """401/403 before the body is even read."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, user=require(Permission.MANAGE_SITE), **kwargs)

    return wrapped


# ---- sites -------------------------------------------------------------------------------------------


@sites_blp.route("/sites", methods=["GET"])
@sites_blp.arguments(SiteQuerySchema(), location="query")
@sites_blp.response(200, SitePageSchema)
def list_sites(args: dict):
    """Liste paginée des sites d'une édition.

    Par défaut l'édition en cours ; réponse `{items, total, page, per_page, pages}`. Tout le monde voit les sites publiés ; l'équipe Soce voit tous les statuts (filtre `status`) ;
    un contact usine voit ses propres sites avec `mine=true`. Tri par nom de site."""
    user = api_user()
    mine = args.pop("mine", False)
    filters = services.SiteFilters.from_dict(args)
    if mine:
        user = require(Permission.MANAGE_SITE)
        page = services.search_sites(filters, published_only=False, owner=user)
    else:
        page = services.search_sites(filters, published_only=not can(user, Permission.MODERATE))
    return jsonify(
        {
            "items": [site_json(user, site) for site in page.items],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
        }
    )


@sites_blp.route("/sites", methods=["POST"])
@sites_blp.response(201, SitePrivateSchema)
@sites_blp.alt_response(401, schema=ErrorSchema, description="Jeton manquant ou invalide")
@sites_blp.alt_response(403, schema=ErrorSchema, description="Réservé aux contacts usine et à l'équipe Soce")
@sites_blp.alt_response(409, schema=ErrorSchema, description="SIRET déjà inscrit, inscriptions closes")
@writers_only
@sites_blp.arguments(SiteInputSchema)
def create_site(payload: dict, *, user: User):
    """Inscrit un site (brouillon) avec ses créneaux.

    Pour l'édition `edition` (année) ou, à défaut, celle ouverte aux inscriptions."""
    edition = services.edition_for_registration(payload.pop("edition", None))
    site = services.create_site(user, edition, payload)
    return site


@sites_blp.route("/sites/<int:site_id>", methods=["GET"])
@sites_blp.response(200, SitePrivateSchema, description="Les champs de contact et le SIRET ne sont "
                    "présents que pour le contact du site et l'équipe Soce.")  # fmt: skip
@sites_blp.alt_response(404, schema=ErrorSchema, description="Site inconnu ou non publié")
@with_site()
def get_site(*, site: Site, user: User | None):
    """Un site et ses créneaux.

    Un site non publié n'existe (404) que pour son contact et l'équipe Soce."""
    return jsonify(site_json(user, site))


@sites_blp.route("/sites/<int:site_id>", methods=["PATCH"])
@sites_blp.response(200, SitePrivateSchema)
@sites_blp.alt_response(409, schema=ErrorSchema, description="Créneau réservé supprimé ou déplacé")
@with_site(Permission.MANAGE_SITE)
@sites_blp.arguments(SiteUpdateSchema)
def update_site(payload: dict, *, site: Site, user: User):
    """Modifie un site et ses créneaux.

    `slots`, s'il est fourni, est la liste complète des créneaux : avec `id` un
    créneau existant est modifié, sans `id` un créneau est créé, un créneau absent est supprimé.
    Un créneau qui a des réservations ne change ni de jour, ni d'horaire, ni de public, ne descend pas
    sous ses places réservées et n'est pas supprimé (409)."""
    services.update_site(user, site, payload)
    return site


@sites_blp.route("/sites/<int:site_id>/location", methods=["PUT"])
@sites_blp.response(200, SitePrivateSchema)
@with_site(Permission.MANAGE_SITE)
@sites_blp.arguments(LocationInputSchema)
def set_location(payload: dict, *, site: Site, user: User):
    """Corrige le repère du site sur la carte (précision « manual »)."""
    services.set_site_location(user, site, payload["lat"], payload["lon"])
    return site


@sites_blp.route("/sites/<int:site_id>/submit", methods=["POST"])
@sites_blp.response(200, SitePrivateSchema)
@sites_blp.alt_response(409, schema=ErrorSchema, description="Le site n'est ni un brouillon ni refusé")
@with_site(Permission.MANAGE_SITE)
def submit_site(*, site: Site, user: User):
    """Soumet un site à la validation.

    Un brouillon, ou un site refusé puis corrigé ; il faut au moins un créneau."""
    services.submit_site(user, site)
    return site


@sites_blp.route("/sites/<int:site_id>/approve", methods=["POST"])
@sites_blp.response(200, SitePrivateSchema)
@sites_blp.alt_response(409, schema=ErrorSchema, description="Le site n'est pas en attente de validation")
@with_site(Permission.MODERATE)
def approve_site(*, site: Site, user: User):
    """Publie un site soumis (équipe Soce)."""
    services.approve_site(user, site)
    return site


@sites_blp.route("/sites/<int:site_id>/reject", methods=["POST"])
@sites_blp.response(200, SitePrivateSchema)
@sites_blp.alt_response(409, schema=ErrorSchema, description="Le site n'est pas en attente de validation")
@with_site(Permission.MODERATE)
@sites_blp.arguments(RejectSchema)
def reject_site(payload: dict, *, site: Site, user: User):
    """Refuse un site soumis (équipe Soce).

    Avec un motif ; le contact peut corriger le site et le soumettre à nouveau."""
    services.reject_site(user, site, payload["reason"])
    return site


@sites_blp.route("/sites.geojson", methods=["GET"])
@sites_blp.arguments(SiteMapQuerySchema(), location="query")
@sites_blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def sites_geojson(args: dict):
    """Carte des sites publiés (GeoJSON).

    Les sites publiés et localisés de l'édition, mêmes filtres que la liste, sans pagination ; champs
    publics seulement, jamais les coordonnées du contact."""
    page_url = _site_page_url()
    features = [
        {
            "type": "Feature",
            "id": site.id,
            "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
            "properties": {
                "id": site.id,
                "name": site.name,
                "company_name": site.company_name,
                "city": site.city,
                "department": site.department,
                "region": site.region,
                "sector": site.sector,
                "sector_label": sector_label(site.sector),
                "days": [day.isoformat() for day in site.days],
                "audiences": site.audiences,
                "seats_left": site.seats_left,
                "wheelchair_accessible": site.wheelchair_accessible,
                "url": page_url(site.id),
            },
        }
        for site in services.map_sites(services.SiteFilters.from_dict(args))
    ]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    return response


def _site_page_url() -> Callable[[int], str]:
    """The public page of a site (jou.site_detail, else the API resource), built once: url_for for each
    of 10,000 features would cost half a second."""
    endpoint = "jou.site_detail" if "jou.site_detail" in current_app.view_functions else "sites_api.get_site"
    prefix, _, suffix = url_for(endpoint, site_id=SITE_ID_MARK).partition(str(SITE_ID_MARK))
    return lambda site_id: f"{prefix}{site_id}{suffix}"


SITE_ID_MARK = 987654321


blueprints = (editions_blp, sites_blp, bookings_blp)
