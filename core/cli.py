"""`flask users …`: account administration; `flask mail …`: the outgoing mail queue."""

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from core.auth.models import Role
from core.auth.services import create_user
from core.errors import AppError
from core.extensions import db
from core.mail import OutgoingMail, deliver_pending, pending_query

users_cli = AppGroup("users", help="Comptes utilisateurs.")
mail_cli = AppGroup("mail", help="File d'attente des courriels.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="Au moins 10 caractères.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="")
def create_user_command(email: str, password: str, role: str, name: str) -> None:
    """Create a confirmed account with the given role."""
    try:
        user = create_user(email, password, role, name)
    except AppError as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from exc
    db.session.commit()
    click.echo(f"Compte créé : {user.email} ({user.role}), id {user.id}.")


@mail_cli.command("retry")
def retry_command() -> None:
    """Send the messages still waiting (SMTP was down, or the process stopped before sending)."""
    waiting = len(db.session.scalars(pending_query()).all())
    click.echo(f"{waiting} courriel(s) en attente.")
    report = deliver_pending()
    left = db.session.scalar(
        select(func.count()).select_from(pending_query(include_exhausted=True).subquery())
    )
    click.echo(f"{report.summary()} Reste en attente : {left}.")
    if report.failed:
        raise SystemExit(1)


@mail_cli.command("status")
def status_command() -> None:
    """Counts of sent, waiting and abandoned messages, and the last error seen."""
    sent = db.session.scalar(select(func.count()).where(OutgoingMail.sent_at.is_not(None)))
    waiting = db.session.scalar(select(func.count()).select_from(pending_query().subquery()))
    every_unsent = pending_query(include_exhausted=True).subquery()
    abandoned = db.session.scalar(select(func.count()).select_from(every_unsent)) - waiting
    last = db.session.scalar(
        select(OutgoingMail.last_error)
        .where(OutgoingMail.sent_at.is_(None), OutgoingMail.last_error != "")
        .order_by(OutgoingMail.last_attempt_at.desc())
        .limit(1)
    )
    click.echo(f"Courriels : {sent} envoyé(s), {waiting} en attente, {abandoned} abandonné(s).")
    if last:
        click.echo(f"Dernière erreur : {last}")
