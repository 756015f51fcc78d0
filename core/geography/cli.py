"""`flask geo …`: load the gazetteer. `flask geo refresh` (re-geocode sites) is jou's: jou.cli, added to
this group by the app factory."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from tqdm import tqdm

from core.errors import AppError
from core.geography.gazetteer import import_gazetteer, read_gazetteer
from core.uow import analyze, committed

geo_cli = AppGroup("geo", help="Géographie : communes, géocodage.")


@geo_cli.command("import-gazetteer")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_gazetteer_command(file: Path) -> None:
    """Load communes from FILE (CSV or .csv.xz: insee,nom,codes_postaux,dep,reg,lat,lon)."""
    try:
        with committed(), tqdm(desc="Communes", unit=" communes", leave=False) as bar:
            summary = import_gazetteer(read_gazetteer(file), progress=bar.update)
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    analyze()
    click.echo(str(summary))
