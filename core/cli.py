"""`flask users …`: account administration from the command line."""

import click
from flask.cli import AppGroup

from core.auth.models import Role
from core.auth.services import create_user
from core.errors import AppError
from core.extensions import db

users_cli = AppGroup("users", help="Comptes utilisateurs.")


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
