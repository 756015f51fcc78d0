"""`flask users …`: account administration; `flask mail …`: the outgoing mail queue; `flask messages …`:
the scheduled messages (reminders); `flask backup`: an online copy of the database."""

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from core import schedule
from core.auth.models import Role
from core.auth.services import create_user
from core.errors import AppError
from core.extensions import db
from core.formatting import count_of
from core.mail import BATCH, DeliveryReport, OutgoingMail, deliver_pending, pending_query, run_worker
from core.models import utcnow
from core.uow import committed

users_cli = AppGroup("users", help="Comptes utilisateurs.")
mail_cli = AppGroup("mail", help="File d'attente des courriels.")
messages_cli = AppGroup("messages", help="Messages programmés : rappels avant les visites…")
SCHEDULE_TICK = 60.0  # seconds between two looks for due messages in `flask mail worker`


@users_cli.command("create")
@click.option("--email", required=True)
@click.option(
    "--password", required=True, help="Au moins 10 caractères, ni courant ni facile à deviner (zxcvbn)."
)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="")
def create_user_command(email: str, password: str, role: str, name: str) -> None:
    """Create a confirmed account with the given role."""
    try:
        with committed():
            user = create_user(email, password, role, name)
    except AppError as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from exc
    click.echo(f"Compte créé : {user.email} ({user.role}), id {user.id}.")


@mail_cli.command("retry")
def retry_command() -> None:
    """Send the messages still waiting (SMTP was down, or the process stopped before sending)."""
    waiting = len(db.session.scalars(pending_query()).all())
    click.echo(f"{count_of(waiting, 'courriel', 'courriels')} en attente.")
    report = deliver_pending()
    left = db.session.scalar(
        select(func.count()).select_from(pending_query(include_exhausted=True).subquery())
    )
    click.echo(f"{report.summary()} Reste en attente : {left}.")
    if report.failed:
        raise SystemExit(1)


@mail_cli.command("worker")
@click.option("--interval", default=1.0, show_default=True, help="Secondes entre deux passages à vide.")
@click.option("--batch", default=BATCH, show_default=True, help="Courriels pris par passage.")
def worker_command(interval: float, batch: int) -> None:
    """Send the queue continuously (MAIL_DELIVERY=worker), with backoff; stops cleanly on SIGTERM/SIGINT
    after the message in hand. Several workers may run: each message is sent once."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    total = DeliveryReport()

    def progress(report: DeliveryReport) -> None:
        total.sent += report.sent
        total.failed += report.failed
        total.dropped += report.dropped
        click.echo(report.summary())

    def queue_due() -> None:
        with committed():
            queued = schedule.send_due(utcnow())
        if any(queued.values()):
            click.echo(_queued_summary(queued))

    click.echo(f"Envoi des courriels en continu (toutes les {interval:g} s à vide) ; SIGTERM pour arrêter.")
    run_worker(
        stop, interval=interval, batch=batch, on_report=progress, tick=queue_due, tick_every=SCHEDULE_TICK
    )
    click.echo(f"Arrêt. {total.summary()}")


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
    click.echo(
        f"Courriels : {sent} envoyé{'s' if sent > 1 else ''}, {waiting} en attente, "
        f"{abandoned} abandonné{'s' if abandoned > 1 else ''}."
    )
    oldest = db.session.scalar(
        select(func.min(OutgoingMail.created_at)).where(
            OutgoingMail.id.in_(pending_query().subquery().select())
        )
    )
    if oldest is not None:
        # A growing age here with MAIL_DELIVERY=worker means no worker runs (or SMTP is down: see below).
        minutes = int((utcnow() - oldest).total_seconds() // 60)
        click.echo(f"Le plus ancien attend depuis {minutes} min.")
    if last:
        click.echo(f"Dernière erreur : {last}")
    for row in schedule.outlook(utcnow()):
        click.echo(f"{row.label} : {row.now} à envoyer maintenant, {row.week} d'ici 7 jours.")


@messages_cli.command("send-due")
@click.option(
    "--now",
    "moment",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"]),
    help="L'instant à considérer (ex. 2027-03-17T09:00+01:00 ; une date seule : minuit UTC). "
    "Par défaut : maintenant.",
)
def send_due_command(moment: datetime | None) -> None:
    """Queue every scheduled message due at that instant and never queued (reminders…), then send them as
    MAIL_DELIVERY says (inline: at once). Running it twice sends nothing twice."""
    now = utcnow() if moment is None else moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    with committed():
        queued = schedule.send_due(now)
    click.echo(_queued_summary(queued))


JOB_LABELS = {"waitlist_offers": "Offres de liste d'attente expirées"}


def _queued_summary(queued: dict[str, int]) -> str:
    parts = [
        f"{JOB_LABELS.get(name, name)} : {n}" if name in schedule.JOBS
        else f"{schedule.SCHEDULES[name].label} : {n} mis en file"
        for name, n in queued.items()
    ]  # fmt: skip
    return " ; ".join(parts) + "."


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Fichier (ou dossier) de destination ; par défaut var/backups/<base>-<date>.",
)
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Copy the database while the app runs: SQLite through its backup API, PostgreSQL with pg_dump."""
    from core.backup import BackupError, backup

    click.echo(f"Sauvegarde de {db.engine.url.render_as_string(hide_password=True)}…")
    try:
        report = backup(db.engine.url, output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())
