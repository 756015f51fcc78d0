"""Map pages: the factory map (public), the PMI map (public counts), the schools map (staff)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from core.auth.access import requires
from core.auth.permissions import Permission
from core.errors import ValidationFailed
from core.geography import DEPARTMENTS, REGIONS
from core.geography.territories import FRANCE_AREAS
from core.maps.assets import cluster_css, cluster_js, map_parts
from core.validation import MAX_YEAR, MIN_YEAR, query_int
from jou import services
from jou.sectors import SECTORS, sector_label
from maps import factories, pmi, transports

bp = Blueprint("maps", __name__)


@bp.route("/carte")
def factory_map():
    filters = factories.MapFilters.from_args(request.args)
    _body, _etag, located = factories.site_data_json(filters)
    near, near_label, near_error, center = [], None, None, None
    postcode = (request.args.get("cp") or "").strip()
    if postcode:
        try:
            lat, lon, near_label = factories.postcode_point(postcode)
            near = factories.nearest_sites(filters, lat, lon)
            center = (lat, lon)
        except ValidationFailed as exc:
            near_error = exc.fields["postcode"][0]
    return render_template(
        "maps/factories.html",
        edition=services.current_edition() if filters.edition is None else None,
        filters=filters,
        values=filters.query_args(),
        parts=factories.map_shell(),
        extra_js=cluster_js(),
        extra_css=cluster_css(),
        data_url=url_for("maps_api.site_data", **filters.query_args()),
        near_url=url_for("maps_api.near_sites"),
        located=located,
        unlocated=factories.unlocated_sites(filters),
        postcode=postcode,
        near=near,
        near_label=near_label,
        near_error=near_error,
        center=center,
        areas=FRANCE_AREAS,
        REGIONS=REGIONS,
        DEPARTMENTS=DEPARTMENTS,
        SECTORS=SECTORS,
    )


@bp.route("/carte/sites/<int:site_id>/fiche")
def site_popup(site_id: int):
    """The popup of a site, loaded when its marker is opened: slots and seats left are always current."""
    site = services.load_site(None, site_id)
    return render_template(
        "maps/_site_popup.html", site=site, sector=sector_label(site.sector), DEPARTMENTS=DEPARTMENTS
    )


def _year() -> int | None:
    return query_int("annee", min=MIN_YEAR, max=MAX_YEAR)


@bp.route("/carte/pmi")
def pmi_map():
    level = "department" if request.args.get("niveau") == "departement" else "region"
    year = _year()
    stats = pmi.territory_stats(level, year)
    return render_template(
        "maps/pmi.html", stats=stats, level=level, year=year, parts=map_parts(pmi.territory_map(stats))
    )


@bp.route("/carte/transports")
def transports_map():
    """Campus transports of a year (all years by default): lines from the schools to the campus."""
    year = _year()
    collection = transports.transports_geojson(year)
    return render_template(
        "maps/transports.html",
        year=year,
        features=collection["features"],
        parts=map_parts(transports.transports_map(collection)),
    )


@bp.route("/carte/pmi/etablissements")
@requires(Permission.SEE_STATISTICS)
def pmi_schools_map():
    year = _year()
    schools = pmi.school_stats(year)
    return render_template(
        "maps/pmi_schools.html", schools=schools, year=year, parts=map_parts(pmi.school_map(schools))
    )
