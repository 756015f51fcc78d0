"""Outgoing e-mail: composed from templates, queued in the caller's transaction, delivered after commit.

A message is a row of `outgoing_mail` written in the same transaction as the action that causes it, so a
rolled-back action sends nothing and a committed one is never lost. Delivery happens after the commit
(`commit_and_deliver()` in views, `flask mail retry` for what failed): through SMTP when MAIL_SERVER is
set, else as .eml files in MAIL_OUTBOX_DIR (development, demos).

    queue_mail(user.email, "Confirmez votre adresse", "auth/confirm_email", name=..., link=...)
    ...
    commit_and_deliver()

Templates live in templates/mail/<name>.txt (required) and templates/mail/<name>.html (optional).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, g, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import CheckConstraint, Integer, LargeBinary, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import TimestampMixin, UTCDateTime, utcnow

log = logging.getLogger(__name__)

# After this many failed attempts `mail retry` leaves a message alone (a refused address never heals).
DEFAULT_MAX_ATTEMPTS = 8
_QUEUED_KEY = "_queued_mail_ids"


class OutgoingMail(TimestampMixin, db.Model):
    """One composed message waiting for (or done with) delivery."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(80))
    # The whole RFC 5322 message, composed at queue time: a retry needs neither the templates'
    # context nor the objects it came from (which may have changed since).
    message: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A lease taken before sending, so a view and a concurrent `mail retry` never send it twice.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    def as_email(self) -> EmailMessage:
        return message_from_bytes(self.message, policy=policy.default)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<OutgoingMail {self.id} {self.template} to {self.to_address} sent={self.is_sent}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML part; the template refers to it as `cid:{{ cids[name] }}`."""

    data: bytes
    mimetype: str = "image/png"


# --- Composing ---------------------------------------------------------------------------------


def compose(
    to: str,
    subject: str,
    template: str,
    *,
    to_name: str = "",
    attachments: Sequence[Attachment] = (),
    inline: Mapping[str, InlineImage] | None = None,
    reply_to: str | None = None,
    **context,
) -> EmailMessage:
    """A French message: plain text, an HTML alternative when the template has one, inline images
    (HTML only) and attachments."""
    sender = current_app.config["MAIL_SENDER"]
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = Address(display_name=to_name, addr_spec=to) if to_name else to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=_sender_domain(sender))
    msg["Content-Language"] = "fr"

    # Content-IDs are made here so templates only name the images.
    cids = {name: make_msgid(domain=_sender_domain(sender))[1:-1] for name in (inline or {})}
    context = {"subject": subject, "cids": cids, **context}
    # quoted-printable keeps the message 7-bit: any SMTP server takes it, accents included.
    msg.set_content(render_template(f"mail/{template}.txt", **context), cte="quoted-printable")
    html = _render_optional(f"mail/{template}.html", context)
    if html is not None:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
        html_part = msg.get_payload()[-1]
        for name, image in (inline or {}).items():
            maintype, _, subtype = image.mimetype.partition("/")
            html_part.add_related(image.data, maintype=maintype, subtype=subtype, cid=f"<{cids[name]}>")
    for item in attachments:
        maintype, _, subtype = item.mimetype.partition("/")
        # Bytes in base64 whatever the type: an .ics arrives exactly as it was made.
        params = {"charset": "utf-8"} if maintype == "text" else None
        msg.add_attachment(
            item.data, maintype=maintype, subtype=subtype, filename=item.filename, params=params
        )
    return msg


def _render_optional(name: str, context: dict) -> str | None:
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return None
    return render_template(name, **context)


def _sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail, always on PUBLIC_BASE_URL: never on the request's Host header,
    which a client chooses (a forged Host would send a reset link to someone else's server)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


# --- Queueing ----------------------------------------------------------------------------------


def queue_mail(to: str, subject: str, template: str, **options) -> OutgoingMail:
    """Compose (options and template context as for `compose`) and store a message in the current
    transaction (flushes, never commits). It goes out after the caller commits: `commit_and_deliver()`,
    or `flask mail retry`."""
    msg = compose(to, subject, template, **options)
    mail = OutgoingMail(
        to_address=to, subject=subject[:255], template=template, message=msg.as_bytes(), attempts=0
    )
    db.session.add(mail)
    db.session.flush()
    g.setdefault(_QUEUED_KEY, []).append(mail.id)
    return mail


def commit_and_deliver() -> DeliveryReport:
    """Commit the request's work, then send what it queued. A delivery failure never undoes the
    action: the message stays queued for `flask mail retry`."""
    ids = g.pop(_QUEUED_KEY, [])
    db.session.commit()
    return deliver_pending(ids) if ids else DeliveryReport()


def forget_queued() -> None:
    """After a rollback: what this request queued no longer exists."""
    g.pop(_QUEUED_KEY, None)


# --- Delivering --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # not tried: the server was unreachable, or another process holds it

    def summary(self) -> str:
        return f"Courriels : {self.sent} envoyé(s), {self.failed} en échec, {self.skipped} non tenté(s)."


def pending_query(*, include_exhausted: bool = False):  # noqa: ANN201 - a Select
    now = utcnow()
    query = select(OutgoingMail.id).where(
        OutgoingMail.sent_at.is_(None),
        or_(OutgoingMail.locked_until.is_(None), OutgoingMail.locked_until < now),
    )
    if not include_exhausted:
        query = query.where(OutgoingMail.attempts < _max_attempts())
    return query.order_by(OutgoingMail.id)


def deliver_pending(ids: Iterable[int] | None = None) -> DeliveryReport:
    """Send pending messages (those in ids, or all), committing each outcome as it happens.
    Call it only after committing the work that queued them: it commits the session."""
    query = pending_query()
    if ids is not None:
        query = query.where(OutgoingMail.id.in_(list(ids)))
    candidates = list(db.session.scalars(query))
    # End the read transaction: on SQLite a transaction that reads, then writes after another writer
    # committed, fails with "database is locked". Every write below starts its own transaction.
    db.session.commit()
    report = DeliveryReport()
    with _transport() as transport:
        for position, mail_id in enumerate(candidates):
            mail = _claim(mail_id)
            if mail is None:
                report.skipped += 1
                continue
            try:
                transport.send(mail)
            except (smtplib.SMTPException, OSError) as exc:
                _finish(mail_id, last_error=f"{type(exc).__name__}: {exc}"[:2000], locked_until=None)
                report.failed += 1
                log.warning("Courriel %s vers %s non envoyé : %s", mail.id, mail.to_address, exc)
                if transport.unreachable:
                    # One timeout is enough: the others stay queued, untouched, for the next retry.
                    report.skipped += len(candidates) - position - 1
                    break
            else:
                _finish(mail_id, sent_at=utcnow(), last_error="", locked_until=None)
                report.sent += 1
    return report


def _finish(mail_id: int, **values) -> None:
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _max_attempts() -> int:
    return int(current_app.config.get("MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


@dataclass(frozen=True)
class Envelope:
    id: int
    to_address: str
    message: bytes


def _claim(mail_id: int) -> Envelope | None:
    """Take the message's lease with one conditional UPDATE; None if someone else has it or sent it."""
    now = utcnow()
    lease = timedelta(seconds=3 * float(current_app.config["MAIL_TIMEOUT"]) + 30)
    result = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.sent_at.is_(None),
            or_(OutgoingMail.locked_until.is_(None), OutgoingMail.locked_until < now),
        )
        .values(locked_until=now + lease, attempts=OutgoingMail.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.commit()
        return None
    # Read inside the claiming transaction, so sending touches no database afterwards.
    row = db.session.execute(
        select(OutgoingMail.id, OutgoingMail.to_address, OutgoingMail.message).where(
            OutgoingMail.id == mail_id
        )
    ).one()
    db.session.commit()
    return Envelope(*row)


class _Transport:
    unreachable = False

    def send(self, mail: Envelope) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Transport:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        pass


class _OutboxTransport(_Transport):
    """Development and demos: each message becomes a .eml file any mail client opens."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, mail: Envelope) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        (self.directory / f"{stamp}-{mail.id:06d}.eml").write_bytes(mail.message)


class _SMTPTransport(_Transport):
    """One connection for the whole batch, opened at the first message."""

    def __init__(self, config: Mapping) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        try:
            if cfg["MAIL_USE_SSL"]:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg["MAIL_SERVER"],
                    cfg["MAIL_PORT"],
                    timeout=cfg["MAIL_TIMEOUT"],
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
            if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        except (smtplib.SMTPException, OSError):
            self.unreachable = True
            raise
        return smtp

    def send(self, mail: Envelope) -> None:
        if self.smtp is None:
            self.smtp = self._connect()
        envelope_from = parseaddr(self.config["MAIL_SENDER"])[1]
        try:
            self.smtp.sendmail(envelope_from, [mail.to_address], mail.message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.unreachable = True
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _transport() -> _Transport:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return _SMTPTransport(config)
    return _OutboxTransport(config["MAIL_OUTBOX_DIR"])
