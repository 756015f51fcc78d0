"""JSON of the maps under /api/v1/maps: public fields and counts only."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, request
from marshmallow import RAISE, fields, validate, validates_schema

from core.api import api_blueprint
from core.errors import ValidationFailed
from core.validation import MAX_INT, BaseSchema
from jou.schemas import SiteMapQuerySchema
from maps import factories, pmi, transports

blp = api_blueprint("maps_api", __name__, "/maps", description="Cartes : usines et PMI")


class SiteDataQuerySchema(SiteMapQuerySchema):
    min_seats = fields.Integer(
        validate=validate.Range(min=1, max=MAX_INT), metadata={"description": "Places restantes"}
    )
    wheelchair = fields.Boolean(metadata={"description": "Accessible en fauteuil"})


class NearQuerySchema(SiteDataQuerySchema):
    postcode = fields.String(metadata={"description": "Code postal de départ", "pattern": "^[0-9]{5}$"})
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _origin(self, data: dict, **_kwargs) -> None:
        if not data.get("postcode") and (data.get("lat") is None or data.get("lon") is None):
            raise ValidationFailed.on("postcode", "Indiquez un code postal, ou lat et lon.")


class NearSiteSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    city = fields.String()
    sector = fields.String()
    seats_left = fields.Integer()
    distance_km = fields.Float()


class NearSchema(BaseSchema):
    origin = fields.String()
    sites = fields.List(fields.Nested(NearSiteSchema))


class TerritoryQuerySchema(BaseSchema):
    level = fields.String(load_default="region", validate=validate.OneOf(pmi.LEVELS))
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


def _filters(args: dict) -> factories.MapFilters:
    return factories.MapFilters(
        **{k: v for k, v in args.items() if k in factories.MapFilters.__dataclass_fields__}
    )


@blp.route("/sites")
@blp.arguments(SiteDataQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, description="`{fields, days, sectors, sites}`: one array per site, in `fields` order")
def site_data(args: dict):
    """Sites publiés et localisés d'une édition, en tableaux compacts pour le regroupement côté navigateur.

    `days` est un masque : 1 vendredi, 2 samedi, 3 les deux. Mise en cache ; ETag."""
    body, etag, _count = factories.site_data_json(_filters(args))
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@blp.route("/sites/near")
@blp.arguments(NearQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, NearSchema)
def near_sites(args: dict):
    """Les sites les plus proches d'un code postal ou d'un point, du plus proche au plus lointain."""
    limit, postcode = args.pop("limit"), args.pop("postcode", None)
    lat, lon = args.pop("lat", None), args.pop("lon", None)
    origin = f"{lat:.3f}, {lon:.3f}" if lat is not None and lon is not None else ""
    if postcode:
        lat, lon, origin = factories.postcode_point(postcode)
    sites = factories.nearest_sites(_filters(args), lat, lon, limit)
    return {"origin": origin, "sites": [asdict(site) for site in sites]}


@blp.route("/pmi/territories")
@blp.arguments(TerritoryQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, description="Interventions, élèves et part des filles par région ou département")
def pmi_territories(args: dict):
    """Interventions PMI par territoire : nombres seulement, aucune donnée personnelle."""
    return pmi.territory_stats(args["level"], args.get("year"))


class TransportsQuerySchema(BaseSchema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


@blp.route("/transports")
@blp.arguments(TransportsQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, description="GeoJSON : une ligne par transport, des établissements au campus")
def transports_data(args: dict):
    """Transports vers les campus : établissements, campus, date et effectifs ; aucun contact."""
    return transports.transports_geojson(args.get("year"))


blueprints: tuple = (blp,)
