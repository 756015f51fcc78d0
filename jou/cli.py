"""jou's commands: `flask doctor` (recount the seats of the visit slots) and `flask geo refresh` (geocode
the sites again; in the `geo` group of core.geography.cli). The app factory registers both."""

from __future__ import annotations

import statistics

import click
from flask.cli import with_appcontext
from geopy.distance import geodesic
from sqlalchemy import or_, select
from tqdm import tqdm

from core.extensions import db
from core.formatting import count_of, french_number
from core.geography.geocoder import PRECISIONS, apply_location, locate, online_geocoder, precision_rank
from core.uow import committed
from jou.integrity import seat_drifts, slots_checked
from jou.models import Site

REFRESH_BATCH = 50


@click.command("refresh")
@click.option("--limit", type=int, default=None, help="Au plus N sites.")
@with_appcontext
def refresh_command(limit: int | None) -> None:
    """Geocode again every site without coordinates or placed coarser than what can be had now: an
    address with an online geocoder, a commune with the gazetteer alone (after a richer commune file is
    imported, sites left at their department's seat move to their commune). A pin set by hand is never
    moved. Reports how many sites moved, and by how much."""
    best = "address" if online_geocoder() else "commune"
    coarser = [p for p in PRECISIONS if precision_rank(p) > precision_rank(best)]
    condition = or_(Site.lat.is_(None), Site.geo_precision.in_(coarser), Site.geo_precision.is_(None))
    ids = list(db.session.scalars(select(Site.id).where(condition).order_by(Site.id).limit(limit)))
    improved = unchanged = 0
    moves: list[float] = []
    for start in tqdm(range(0, len(ids), REFRESH_BATCH), desc="Sites", unit=" lots", leave=False):
        # One unit of work per batch: an interrupted refresh keeps the batches already done.
        with committed():
            batch = select(Site).where(Site.id.in_(ids[start : start + REFRESH_BATCH]))
            for site in db.session.scalars(batch):
                location = locate(site.street, site.postcode, site.city)
                # A worse answer (geocoder down) never replaces a better one already stored.
                if location.lat is not None and (
                    site.lat is None
                    or precision_rank(location.precision) < precision_rank(site.geo_precision)
                ):
                    if site.lat is not None:
                        moves.append(geodesic((site.lat, site.lon), (location.lat, location.lon)).km)
                    apply_location(site, location)
                    improved += 1
                else:
                    unchanged += 1
    moved = ""
    if len(moves) == 1:
        moved = f" ; déplacé de {french_number(round(moves[0]))} km"
    elif moves:
        moved = (
            f" ; déplacés de {french_number(round(statistics.median(moves)))} km en médiane, "
            f"{french_number(round(max(moves)))} km au plus"
        )
    click.echo(
        f"{count_of(len(ids), 'site examiné', 'sites examinés')} : "
        f"{count_of(improved, 'mieux localisé', 'mieux localisés')}, {count_of(unchanged, 'inchangé', 'inchangés')}"
        f"{moved} (géocodeur : {online_geocoder() or 'hors ligne'})."
    )


@click.command("doctor")
def doctor_command() -> None:
    """Recount every counter from the records it summarises (seats of the visit slots) and report any
    difference; exits 1 when there is one."""
    drifts = seat_drifts()
    for drift in drifts:
        click.echo(drift.describe())
    checked = slots_checked()
    click.echo(
        f"{count_of(checked, 'créneau vérifié', 'créneaux vérifiés')} : "
        + ("aucun écart." if not drifts else count_of(len(drifts), "écart", "écarts") + ".")
    )
    if drifts:
        raise SystemExit(1)
