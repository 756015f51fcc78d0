"""Outgoing e-mail: composed from templates, queued in the caller's transaction, delivered after commit.

A message is a row of `outgoing_mail` written in the same transaction as the action that causes it, so a
rolled-back action sends nothing and a committed one is never lost. Delivery never happens inside that
transaction; who delivers is MAIL_DELIVERY:
- `worker` (production default): `flask mail worker` sends the queue, retrying a failing message with
  exponential backoff; a request only queues, so a slow or dead SMTP server never slows a page.
- `inline` (development and tests): `commit_and_deliver()` sends what the request queued right after its
  commit (what failed stays queued for `flask mail retry` or a worker).
Through SMTP when MAIL_SERVER is set, else as .eml files in MAIL_OUTBOX_DIR (development, demos).

    queue_mail(user.email, "Confirmez votre adresse", "auth/confirm_email", name=..., link=...)
    ...
    commit_and_deliver()

`queue_mail` composes at once (the message is what was true then); `queue_mail_later` stores only JSON
arguments and the deliverer composes through the function registered for the template with
`@mail_composer` (a booking ticket's QR code and .ics cost more than the booking itself), once: the
composed bytes are stored before the first attempt, so every retry sends the same message.
Rows are claimed with a lease (`locked_until`, one conditional UPDATE, SKIP LOCKED on PostgreSQL), so
several workers, `mail retry` and requests never send a message twice.

Templates live in templates/mail/<name>.txt (required) and templates/mail/<name>.html (optional).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import TimestampMixin, UTCDateTime, utcnow

log = logging.getLogger(__name__)

# After this many failed attempts the worker and `mail retry` leave a message alone (a refused address never heals).
DEFAULT_MAX_ATTEMPTS = 12
_QUEUED_KEY = "_queued_mail_ids"


class OutgoingMail(TimestampMixin, db.Model):
    """One message waiting for (or done with) delivery."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_nonneg"),
        CheckConstraint("message IS NOT NULL OR compose_args IS NOT NULL", name="composed_or_composable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(80))
    # The whole RFC 5322 message. Composed at queue time (a retry needs neither the templates' context
    # nor the objects it came from), or by the deliverer from compose_args before its first attempt.
    message: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    compose_args: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Backoff: a failed message is not tried again by the worker before this.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A lease taken before sending, so two deliverers (requests, workers, `mail retry`) never send it twice.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # Names a scheduled message ("booking_reminder:123"): UNIQUE, so it is queued once (core.schedule).
    dedup_key: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    def as_email(self) -> EmailMessage:
        return message_from_bytes(self.message or b"", policy=policy.default)  # type: ignore[return-value]

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
    unsubscribe_url: str | None = None,
    **context,
) -> EmailMessage:
    """A French message: plain text, an HTML alternative when the template has one, inline images
    (HTML only) and attachments. With `unsubscribe_url`, the List-Unsubscribe headers a mail client turns
    into a one-click button (RFC 8058: it POSTs to the URL)."""
    sender = current_app.config["MAIL_SENDER"]
    subject, to_name = header_text(subject), header_text(to_name)
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = Address(display_name=to_name, addr_spec=to) if to_name else to
    if reply_to:
        msg["Reply-To"] = header_text(reply_to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=_sender_domain(sender))
    msg["Content-Language"] = "fr"
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        context["unsubscribe_url"] = unsubscribe_url

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


# Line breaks and other control characters, and lone surrogates (which no encoding takes).
_NOT_IN_A_HEADER = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")


def header_text(value: str) -> str:
    """Text of a user (a name, a subject) as one header line: a CR/LF can neither add a header nor make
    the message impossible to build (the email package refuses it), whatever a form let through."""
    return " ".join(_NOT_IN_A_HEADER.sub(" ", value or "").split())


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

Composer = Callable[..., "EmailMessage | None"]
_COMPOSERS: dict[str, Composer] = {}


def mail_composer(template: str) -> Callable[[Composer], Composer]:
    """Register how to compose, at delivery, the messages that `queue_mail_later` queued for `template`.
    The function gets the template's name and the stored JSON arguments as keywords and returns the
    message, or None when it has become pointless (its object was deleted): then it is dropped, unsent."""

    def register(function: Composer) -> Composer:
        _COMPOSERS[template] = function
        return function

    return register


def queue_mail(to: str, subject: str, template: str, **options) -> OutgoingMail:
    """Compose (options and template context as for `compose`) and store a message in the current
    transaction (flushes, never commits). It goes out after the caller commits: `commit_and_deliver()`,
    the mail worker, or `flask mail retry`."""
    msg = compose(to, subject, template, **options)
    mail = OutgoingMail(
        to_address=to, subject=msg["Subject"][:255], template=template, message=msg.as_bytes(), attempts=0
    )
    db.session.add(mail)
    db.session.flush()
    _queued(mail.id)
    return mail


_INSERT_LATER = insert(OutgoingMail.__table__).returning(OutgoingMail.__table__.c.id)


def queue_mail_later(to: str, subject: str, template: str, **args: Any) -> int:
    """Store a message to be composed by the deliverer (see `mail_composer`) and answer its id. The
    request pays one INSERT, at once, without an ORM object (the ORM's flush of one cost a booking more
    CPU than the INSERT itself: bench/booking_cpu.py). args must be JSON (ids, not objects)."""
    if template not in _COMPOSERS:
        raise LookupError(f"No mail_composer registered for {template!r}")
    row = {
        "to_address": to,
        "subject": header_text(subject)[:255],
        "template": template,
        "compose_args": args,
    }
    return _queued(db.session.execute(_INSERT_LATER, row).scalar_one())


def queue_mail_once(key: str, to: str, subject: str, template: str, **args: Any) -> int | None:
    """`queue_mail_later`, unless a message with this key was ever queued: then None. One INSERT … ON
    CONFLICT DO NOTHING, so two callers at once queue it once (the key's UNIQUE constraint decides)."""
    if template not in _COMPOSERS:
        raise LookupError(f"No mail_composer registered for {template!r}")
    dialect = db.session.get_bind().dialect.name
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {"to_address": to, "subject": header_text(subject)[:255], "template": template,
           "compose_args": args, "dedup_key": key, "attempts": 0, "last_error": ""}  # fmt: skip
    now = utcnow()
    stmt = (
        insert_of(OutgoingMail.__table__)
        .values(**row, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(OutgoingMail.__table__.c.id)
    )
    mail_id = db.session.execute(stmt).scalar()
    return None if mail_id is None else _queued(mail_id)


def _queued(mail_id: int) -> int:
    """Remembered for `commit_and_deliver` (inline delivery sends what this request queued)."""
    g.setdefault(_QUEUED_KEY, []).append(mail_id)
    return mail_id


def withdraw(mail_id: int) -> None:
    """Take back a message queued in this transaction (the action that queued it was refused)."""
    db.session.execute(delete(OutgoingMail).where(OutgoingMail.id == mail_id))
    queued = g.get(_QUEUED_KEY, [])
    if mail_id in queued:
        queued.remove(mail_id)


def delivery_mode() -> str:
    mode = current_app.config.get("MAIL_DELIVERY") or "inline"
    if mode not in {"inline", "worker"}:
        raise ValueError(f"MAIL_DELIVERY must be inline or worker, not {mode!r}")
    return mode


def commit_and_deliver() -> DeliveryReport:
    """Commit the request's work; with MAIL_DELIVERY=inline, then send what it queued (a failure never
    undoes the action: the message stays queued). With `worker`, the worker sends it."""
    ids = g.pop(_QUEUED_KEY, [])
    db.session.commit()
    if ids and delivery_mode() == "inline":
        try:
            return deliver_pending(ids)
        except SQLAlchemyError:
            # The action is committed; its mail stays queued for the worker or `flask mail retry` (seen on
            # SQLite under concurrent writers: delivery's claim hits "database is locked").
            db.session.rollback()
            log.warning("Courriel laissé en file d'attente après l'enregistrement", exc_info=True)
    return DeliveryReport()


def forget_queued() -> None:
    """After a rollback: what this request queued no longer exists."""
    g.pop(_QUEUED_KEY, None)


# --- Delivering --------------------------------------------------------------------------------

# Messages claimed at once by `deliver_pending` (the lease covers the whole batch).
BATCH = 20


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # not tried: the server was unreachable, or another process holds it
    dropped: int = 0  # its composer said it has become pointless
    unreachable: bool = False

    def summary(self) -> str:
        def agreed(n: int, word: str) -> str:
            return f"{n} {word}{'s' if n > 1 else ''}"

        text = (
            f"Courriels : {agreed(self.sent, 'envoyé')}, {self.failed} en échec, "
            f"{agreed(self.skipped, 'non tenté')}."
        )
        return f"{text[:-1]}, {self.dropped} sans objet." if self.dropped else text


def pending_query(*, include_exhausted: bool = False, due_only: bool = False):  # noqa: ANN201 - a Select
    """Unsent messages nobody holds; due_only leaves out those waiting out their backoff."""
    return (
        select(OutgoingMail.id)
        .where(*_pending_conditions(utcnow(), include_exhausted, due_only))
        .order_by(OutgoingMail.id)
    )


def _pending_conditions(now: datetime, include_exhausted: bool, due_only: bool) -> list:
    conditions = [
        OutgoingMail.sent_at.is_(None),
        or_(OutgoingMail.locked_until.is_(None), OutgoingMail.locked_until < now),
    ]
    if not include_exhausted:
        conditions.append(OutgoingMail.attempts < _max_attempts())
    if due_only:
        conditions.append(or_(OutgoingMail.next_attempt_at.is_(None), OutgoingMail.next_attempt_at <= now))
    return conditions


def deliver_pending(
    ids: Iterable[int] | None = None, *, limit: int | None = None, due_only: bool = False
) -> DeliveryReport:
    """Send pending messages (those in ids, or all; at most limit), committing each outcome as it
    happens. Call it only after committing the work that queued them: it commits the session.
    The first unreachable server ends the run: what is left stays queued, untouched."""
    # End any read transaction: on SQLite a transaction that reads, then writes after another writer
    # committed, fails with "database is locked". Every write below is its own transaction.
    db.session.commit()
    report = DeliveryReport()
    wanted = None if ids is None else list(ids)
    tried: list[int] = []
    with _transport() as transport:
        while limit is None or len(tried) < limit:
            size = BATCH if limit is None else min(BATCH, limit - len(tried))
            batch = _claim(wanted, tried, size, due_only)
            if not batch:
                break
            tried += [mail.id for mail in batch]
            for position, mail in enumerate(batch):
                outcome = _deliver_one(transport, mail)
                setattr(report, outcome, getattr(report, outcome) + 1)
                if transport.unreachable:
                    rest = [m.id for m in batch[position + 1 :]]
                    _release(rest)
                    report.skipped += len(rest)
                    report.unreachable = True
                    return report
    return report


@dataclass(frozen=True)
class Envelope:
    id: int
    to_address: str
    template: str
    message: bytes | None
    compose_args: dict | None
    attempts: int


def _claim(ids: list[int] | None, exclude: list[int], size: int, due_only: bool) -> list[Envelope]:
    """Lease up to size pending messages with one UPDATE; the conditions are repeated on the UPDATE so
    PostgreSQL re-checks them on the row it locks, and SKIP LOCKED lets concurrent workers take
    different rows instead of queueing behind each other."""
    now = utcnow()
    conditions = _pending_conditions(now, include_exhausted=False, due_only=due_only)
    if ids is not None:
        conditions.append(OutgoingMail.id.in_(ids))
    if exclude:
        conditions.append(OutgoingMail.id.not_in(exclude))
    candidates = (
        select(OutgoingMail.id)
        .where(*conditions)
        .order_by(OutgoingMail.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    lease = timedelta(seconds=(size + 2) * 3 * float(current_app.config["MAIL_TIMEOUT"]) + 30)
    rows = db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id.in_(candidates.scalar_subquery()), *conditions)
        .values(locked_until=now + lease)
        .returning(
            OutgoingMail.id,
            OutgoingMail.to_address,
            OutgoingMail.template,
            OutgoingMail.message,
            OutgoingMail.compose_args,
            OutgoingMail.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted((Envelope(*row) for row in rows), key=lambda mail: mail.id)


def _deliver_one(transport: _Transport, mail: Envelope) -> str:
    """Compose if needed, send, record the outcome; answers the DeliveryReport field to count."""
    message = mail.message
    if message is None:
        try:
            composed = _COMPOSERS[mail.template](template=mail.template, **(mail.compose_args or {}))
        except Exception as exc:  # noqa: BLE001 - any failure of a composer is one failed attempt
            log.exception("Courriel %s (%s) non composé", mail.id, mail.template)
            _failed(mail, exc)
            return "failed"
        if composed is None:
            _finish(
                mail.id, attempts=_max_attempts(), last_error="Sans objet : non envoyé.", locked_until=None
            )
            return "dropped"
        message = composed.as_bytes()
        # Stored before the first attempt: every retry sends these same bytes (same Message-ID).
        _finish(mail.id, message=message)
    try:
        transport.send(mail.id, mail.to_address, message)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("Courriel %s vers %s non envoyé : %s", mail.id, mail.to_address, exc)
        _failed(mail, exc)
        return "failed"
    now = utcnow()
    _finish(
        mail.id,
        sent_at=now,
        attempts=mail.attempts + 1,
        last_attempt_at=now,
        last_error="",
        next_attempt_at=None,
        locked_until=None,
    )
    return "sent"


def _failed(mail: Envelope, exc: Exception) -> None:
    now = utcnow()
    attempts = mail.attempts + 1
    _finish(
        mail.id,
        attempts=attempts,
        last_attempt_at=now,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        next_attempt_at=now + retry_delay(attempts),
        locked_until=None,
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the attempts-th failure: MAIL_RETRY_BASE, twice that, … at most
    MAIL_RETRY_MAX seconds (defaults 30 s and 1 h: 12 attempts span about 7 hours)."""
    config = current_app.config
    base = float(config.get("MAIL_RETRY_BASE", 30))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), float(config.get("MAIL_RETRY_MAX", 3600))))


def _release(ids: list[int]) -> None:
    if ids:
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(ids))
            .values(locked_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


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


def run_worker(
    stop: threading.Event,
    *,
    interval: float = 1.0,
    batch: int = BATCH,
    on_report: Callable[[DeliveryReport], None] | None = None,
    tick: Callable[[], None] | None = None,
    tick_every: float = 60.0,
) -> None:
    """Deliver until stop is set: a batch of due messages, again at once while there is work, else
    every interval seconds (and every `tick_every` seconds, `tick` first); an unreachable server doubles the pause (up to MAIL_RETRY_MAX, 5 min at
    most) so a long outage costs one connection attempt per pause, not one per message."""
    pause = interval
    ceiling = min(float(current_app.config.get("MAIL_RETRY_MAX", 3600)), 300.0)
    last_tick = float("-inf")
    while not stop.is_set():
        if tick is not None and time.monotonic() - last_tick >= tick_every:
            # `tick` (the scheduled messages, core.schedule) queues what became due since.
            last_tick = time.monotonic()
            try:
                tick()
            finally:
                db.session.remove()
        try:
            report = deliver_pending(limit=batch, due_only=True)
        finally:
            db.session.remove()
        worked = bool(report.sent or report.failed or report.dropped)
        if worked and on_report:
            on_report(report)
        if report.unreachable:
            pause = min(max(pause, interval) * 2, ceiling)
        elif worked:
            pause = interval
            continue
        else:
            pause = interval
        stop.wait(pause)


class _Transport:
    unreachable = False

    def send(self, mail_id: int, to_address: str, message: bytes) -> None:
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

    def send(self, mail_id: int, to_address: str, message: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        (self.directory / f"{stamp}-{mail_id:06d}.eml").write_bytes(message)


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

    def send(self, mail_id: int, to_address: str, message: bytes) -> None:
        if self.smtp is None:
            self.smtp = self._connect()
        envelope_from = parseaddr(self.config["MAIL_SENDER"])[1]
        try:
            self.smtp.sendmail(envelope_from, [to_address], message)
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
