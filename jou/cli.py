"""jou's commands: `flask doctor` (recount the seats of the visit slots) and `flask geo refresh` (geocode
the sites again; in the `geo` group of core.geography.cli). The app factory registers both."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import or_, select
from tqdm import tqdm

from core.extensions import db
from core.formatting import count_of
from core.geography.geocoder import PRECISIONS, apply_location, locate, online_geocoder, precision_rank
from core.uow import committed
from jou.integrity import seat_drifts, slots_checked
from jou.models import Site

REFRESH_BATCH = 50


@click.command("refresh")
@click.option("--limit", type=int, default=None, help="Au plus N sites.")
@with_appcontext
def refresh_command(limit: int | None) -> None:
    """Geocode sites without coordinates, and, with an online geocoder, those coarser than an address."""
    coarse = [p for p in PRECISIONS if p != "address"]
    condition = Site.lat.is_(None)
    if online_geocoder():
        condition = or_(condition, Site.geo_precision.in_(coarse), Site.geo_precision.is_(None))
    ids = list(db.session.scalars(select(Site.id).where(condition).order_by(Site.id).limit(limit)))
    improved = unchanged = 0
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
                    apply_location(site, location)
                    improved += 1
                else:
                    unchanged += 1
    click.echo(
        f"{len(ids)} sites examinés : {improved} mieux localisés, {unchanged} inchangés "
        f"(géocodeur : {online_geocoder() or 'hors ligne'})."
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
