"""`flask geo …`: load the gazetteer, re-geocode sites."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select
from tqdm import tqdm

from core.errors import AppError
from core.extensions import db
from core.geography.gazetteer import import_gazetteer, read_gazetteer
from core.geography.geocoder import PRECISIONS, apply_location, locate, online_geocoder, precision_rank

geo_cli = AppGroup("geo", help="Géographie : communes, géocodage.")

REFRESH_BATCH = 50


@geo_cli.command("import-gazetteer")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_gazetteer_command(file: Path) -> None:
    """Load communes from FILE (CSV or .csv.xz: insee,nom,codes_postaux,dep,reg,lat,lon)."""
    try:
        with tqdm(desc="Communes", unit=" communes", leave=False) as bar:
            summary = import_gazetteer(read_gazetteer(file), progress=bar.update)
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(str(summary))


@geo_cli.command("refresh")
@click.option("--limit", type=int, default=None, help="Au plus N sites.")
def refresh_command(limit: int | None) -> None:
    """Geocode sites without coordinates, and, with an online geocoder, those coarser than an address."""
    from jou.models import Site  # jou depends on core, not the other way round

    coarse = [p for p in PRECISIONS if p != "address"]
    condition = Site.lat.is_(None)
    if online_geocoder():
        condition = or_(condition, Site.geo_precision.in_(coarse), Site.geo_precision.is_(None))
    ids = list(db.session.scalars(select(Site.id).where(condition).order_by(Site.id).limit(limit)))
    improved = unchanged = 0
    for start in tqdm(range(0, len(ids), REFRESH_BATCH), desc="Sites", unit=" lots", leave=False):
        for site in db.session.scalars(select(Site).where(Site.id.in_(ids[start : start + REFRESH_BATCH]))):
            location = locate(site.street, site.postcode, site.city)
            # A worse answer (geocoder down) never replaces a better one already stored.
            if location.lat is not None and (
                site.lat is None or precision_rank(location.precision) < precision_rank(site.geo_precision)
            ):
                apply_location(site, location)
                improved += 1
            else:
                unchanged += 1
        db.session.commit()
    click.echo(
        f"{len(ids)} sites examinés : {improved} mieux localisés, {unchanged} inchangés "
        f"(géocodeur : {online_geocoder() or 'hors ligne'})."
    )
