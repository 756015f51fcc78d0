"""JSON API of the schools directory: autocomplete and detail.

The directory is open data and holds no personal data: its reads are public.
"""

from __future__ import annotations

from core.api import ErrorSchema, api_blueprint
from core.schools.directory import get_school, search_schools
from core.schools.schemas import SchoolQuerySchema, SchoolSchema

schools_blp = api_blueprint("schools_api", __name__, "/schools", description="Annuaire des établissements")


@schools_blp.route("")
@schools_blp.arguments(SchoolQuerySchema(), location="query")
@schools_blp.response(200, SchoolSchema(many=True))
def list_schools(args: dict):
    """Établissements par nom, commune ou UAI : UAI exact d'abord, puis les noms qui commencent ainsi."""
    return search_schools(args["q"], department=args["department"], limit=args["limit"])


@schools_blp.route("/<uai>")
@schools_blp.response(200, SchoolSchema)
@schools_blp.alt_response(404, schema=ErrorSchema)
def school_detail(uai: str):
    """Un établissement par son UAI."""
    return get_school(uai)
