"""`flask privacy …`: visitors' personal data once an edition is over (jou.bookings.privacy)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.errors import AppError
from core.uow import committed, undo
from jou.bookings.privacy import purge_edition

privacy_cli = AppGroup("privacy", help="Données personnelles des visiteurs (RGPD).")


@privacy_cli.command("purge")
@click.option("--edition", "year", required=True, type=int, help="Année de l'édition terminée, par ex. 2025.")
@click.option("--dry-run", is_flag=True, help="Compter seulement, sans rien modifier.")
def purge_command(year: int, dry_run: bool) -> None:
    """Anonymise the visitors of a past edition: names, e-mails and phones of its bookings and waiting
    list, and the e-mails written to them. Every count stays; running it again changes nothing."""
    try:
        with committed():
            report = purge_edition(year, dry_run=dry_run)
            if dry_run:
                undo()  # counted only: nothing of it is kept, not even what counting may have touched
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    if dry_run:
        click.echo("Simulation : rien n'a été modifié.")
    click.echo(report.summary())
