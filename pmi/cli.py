"""`flask pmi …`: the schools directory import."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from flask.cli import AppGroup
from tqdm import tqdm

from core.errors import AppError
from core.formatting import french_number
from core.schools.directory import import_schools, read_annuaire
from core.uow import analyze, committed

pmi_cli = AppGroup("pmi", help="Promotion des Métiers de l'Ingénieur : annuaire des établissements.")

MAX_REJECTIONS_SHOWN = 50


@pmi_cli.command("import-schools")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Écrire toutes les lignes rejetées dans ce fichier CSV (ligne;uai;motif).",
)
def import_schools_command(file: Path, report: Path | None) -> None:
    """Upsert schools by UAI from an Annuaire de l'éducation CSV (`;`-separated). A bad row is reported
    (line and reason) and skipped; the good ones are imported and the command exits 0."""
    try:
        with committed():
            encoding, rows = read_annuaire(file)
            if encoding != "utf-8":
                click.echo(f"Fichier lu en {encoding} (pas en UTF-8).", err=True)
            with tqdm(desc="Établissements", unit=" lignes", leave=False) as bar:
                summary = import_schools(rows, progress=bar.update)
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    analyze()
    for rejection in summary.rejected[:MAX_REJECTIONS_SHOWN]:
        click.echo(f"Rejetée : {rejection}", err=True)
    if len(summary.rejected) > MAX_REJECTIONS_SHOWN:
        more = french_number(len(summary.rejected) - MAX_REJECTIONS_SHOWN)
        click.echo(f"… et {more} autres lignes rejetées.", err=True)
    if report:
        with open(report, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\n")
            writer.writerow(["ligne", "uai", "motif"])
            writer.writerows((r.line, r.uai, r.reason) for r in summary.rejected)
    click.echo(str(summary))


@pmi_cli.command("import-interventions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--email", required=True, help="Compte de l'intervenant à qui le tableau appartient.")
def import_interventions_command(file: Path, email: str) -> None:
    """Import a volunteer's spreadsheet (date;type;uai;niveaux;filles;garcons;non_precise;duree_minutes;notes),
    all or nothing: any bad row is reported (line, column, message) and nothing is imported."""
    from core.auth.services import find_user_by_email
    from pmi.interventions import import_csv

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"Aucun compte pour {email}.")
    try:
        with committed(), tqdm(total=1, desc="Interventions", leave=False) as bar:
            summary = import_csv(user, file.read_bytes())
            bar.update()
    except AppError as exc:
        for row in getattr(exc, "rows", [])[:MAX_REJECTIONS_SHOWN]:
            click.echo(f"Erreur : {row}", err=True)
        raise click.ClickException(exc.message) from exc
    analyze()
    click.echo(str(summary))


@pmi_cli.command("set-group")
@click.option("--email", required=True, help="Compte d'un·e intervenant·e ou organisateur·rice.")
@click.option("--gr", "group", required=True, help="Code du groupe régional (voir /admin/groupes-regionaux).")
@click.option("--promo", default=None, help="Promo (ex. « Ch. 180 »), si le profil est créé.")
def set_group_command(email: str, group: str, promo: str | None) -> None:
    """Assign a volunteer's or an organiser's regional group (organisers cannot choose their own)."""
    from core.auth.services import find_user_by_email
    from pmi.volunteers import profile_of, save_profile

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"Aucun compte pour {email}.")
    profile = profile_of(user)
    try:
        with committed():
            save_profile(
                user,
                name=user.name,
                promo=promo if promo is not None else (profile.promo if profile else ""),
                regional_group=group,
                phone=profile.phone if profile else None,
            )
    except AppError as exc:
        raise click.ClickException(
            " ".join(m for ms in exc.fields.values() for m in ms) or exc.message
        ) from exc
    click.echo(f"{user.email} : groupe régional {group}.")
