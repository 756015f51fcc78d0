"""The mail layer: composed in French, queued in the transaction, delivered after commit, retried."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from core.auth.services import find_user_by_email
from core.extensions import db
from core.mail import (
    DEFAULT_MAX_ATTEMPTS,
    Attachment,
    InlineImage,
    OutgoingMail,
    commit_and_deliver,
    compose,
    deliver_pending,
    queue_mail,
    retry_delay,
    run_worker,
)
from tests.plugins.mail import free_port, html_body, link_path, read_eml, text_body

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Visite à l'usine\r\nEND:VCALENDAR\r\n".encode()


def queue_test_mail(to: str = "visiteur@example.org", **kw) -> OutgoingMail:
    return queue_mail(
        to,
        "Réinitialisation de votre mot de passe",
        "auth/reset_password",
        name="Éloïse",
        link="http://127.0.0.1:5000/x",
        valid_minutes=60,
        **kw,
    )


def pending() -> list[OutgoingMail]:
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.sent_at.is_(None))))


def test_message_is_french_text_and_html_with_inline_image_and_attachment(db_session, smtp_server):
    queue_test_mail(
        to_name="Éloïse Dupré",
        inline={"qr": InlineImage(PNG)},
        attachments=[Attachment("visite.ics", ICS, "text/calendar")],
    )
    report = commit_and_deliver()
    assert (report.sent, report.failed) == (1, 0)

    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "no-reply@soce.fr"
    assert envelope.rcpt_tos == ["visiteur@example.org"]
    message: EmailMessage = envelope.message
    assert message["Subject"] == "Réinitialisation de votre mot de passe"
    assert str(message["To"]) == "Éloïse Dupré <visiteur@example.org>"
    assert message["Message-ID"] and message["Date"]
    assert "Bonjour Éloïse" in text_body(message)
    assert "Bonjour Éloïse" in html_body(message)

    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image.get_content() == PNG
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "visite.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_payload(decode=True) == ICS


def test_inline_image_sits_beside_the_html_under_its_content_id(db_session):
    message = compose(
        "a@example.org",
        "Sujet",
        "auth/reset_password",
        inline={"qr": InlineImage(PNG)},
        name="A",
        link="http://x/",
        valid_minutes=60,
    )
    related = message.get_body(preferencelist=("related",))
    assert related is not None and related.get_content_type() == "multipart/related"
    [image] = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert image["Content-ID"].startswith("<") and image["Content-ID"].endswith(">")
    assert message.get_body(preferencelist=("plain",)) is not None


def test_rolled_back_action_sends_nothing(db_session, smtp_server):
    queue_test_mail()
    db_session.rollback()
    assert deliver_pending().sent == 0
    assert smtp_server.messages == []
    assert pending() == []


def test_outbox_mode_writes_a_parseable_eml(db_session, outbox):
    mail = queue_test_mail(attachments=[Attachment("visite.ics", ICS, "text/calendar")])
    commit_and_deliver()
    [path] = list(outbox.glob("*.eml"))
    message = read_eml(path)
    assert message["To"] == "visiteur@example.org"
    assert message["Subject"] == "Réinitialisation de votre mot de passe"
    assert "Bonjour Éloïse" in text_body(message)
    assert [a.get_filename() for a in message.iter_attachments()] == ["visite.ics"]
    assert mail.sent_at is not None


def test_smtp_down_keeps_the_message_then_retry_delivers_it(
    app, client, db_session, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    form = {
        "name": "Alice",
        "email": "alice@usine.example",
        "password": "long-enough-pw",
        "password_confirm": "long-enough-pw",
    }
    response = client.post("/inscription", data=form)

    assert response.status_code == 302  # the sign-up itself succeeded
    assert find_user_by_email("alice@usine.example") is not None
    [queued] = pending()
    assert queued.attempts == 1 and queued.locked_until is None
    assert "ConnectionRefusedError" in queued.last_error
    assert smtp_server.messages == []

    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)  # the server is back
    result = app.test_cli_runner().invoke(args=["mail", "retry"])
    assert result.exit_code == 0, result.output
    assert "1 envoyé, 0 en échec" in result.output
    [message] = smtp_server.to("alice@usine.example")
    assert queued.sent_at is not None and queued.attempts == 2 and queued.last_error == ""

    # The link in the late message still confirms the account.
    client.get(link_path(message, "/inscription/confirmer/"))
    assert find_user_by_email("alice@usine.example").email_confirmed_at is not None


def test_retry_reports_failures_and_stops_at_the_first_unreachable_server(app, db_session, smtp_down):
    for i in range(3):
        queue_test_mail(f"p{i}@example.org")
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "retry"])
    assert result.exit_code == 1
    assert "0 envoyé, 1 en échec, 2 non tentés" in result.output
    assert sorted(m.attempts for m in pending()) == [0, 0, 1]

    status = app.test_cli_runner().invoke(args=["mail", "status"])
    assert "3 en attente" in status.output and "ConnectionRefusedError" in status.output


def test_retry_gives_up_after_max_attempts(app, db_session, smtp_server, monkeypatch):
    mail = queue_test_mail()
    mail.attempts = DEFAULT_MAX_ATTEMPTS
    db_session.commit()
    assert deliver_pending().sent == 0
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS + 1)
    assert deliver_pending().sent == 1


def test_a_message_is_sent_once_even_if_delivered_twice(db_session, smtp_server):
    mail = queue_test_mail()
    db_session.commit()
    assert deliver_pending([mail.id]).sent == 1
    assert deliver_pending([mail.id]).sent == 0
    assert deliver_pending().sent == 0
    assert len(smtp_server.messages) == 1


def test_a_leased_message_is_left_to_its_holder(db_session, smtp_server):
    from datetime import timedelta

    from core.models import utcnow

    mail = queue_test_mail()
    mail.locked_until = utcnow() + timedelta(minutes=1)  # another process is sending it
    db_session.commit()
    assert deliver_pending().sent == 0
    mail.locked_until = utcnow() - timedelta(seconds=1)  # …and died
    db_session.commit()
    assert deliver_pending().sent == 1


# --- Off the request path: the worker ------------------------------------------------------------------


def run_worker_until_it_works(**kw) -> list:
    """Run the worker loop until its first pass that did something (or 5 s: a stuck test fails, never hangs)."""
    stop, reports = threading.Event(), []
    safety = threading.Timer(5, stop.set)
    safety.start()
    try:
        run_worker(stop, interval=0.05, on_report=lambda r: (reports.append(r), stop.set()), **kw)
    finally:
        safety.cancel()
    return reports


SIGN_UP = {
    "name": "Alice",
    "email": "alice@usine.example",
    "password": "long-enough-pw",
    "password_confirm": "long-enough-pw",
}


def test_worker_mode_the_request_only_queues_and_the_worker_sends(
    app, client, db_session, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", "worker")
    assert client.post("/inscription", data=SIGN_UP).status_code == 302
    [queued] = pending()
    assert queued.attempts == 0 and smtp_server.messages == []  # nothing sent by the request

    [report] = run_worker_until_it_works()
    assert (report.sent, report.failed) == (1, 0)
    [message] = smtp_server.to("alice@usine.example")
    assert "Confirmez" in message["Subject"]
    assert pending() == []


def test_failures_back_off_exponentially_up_to_the_ceiling(app, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "MAIL_RETRY_BASE", 30)
        monkeypatch.setitem(app.config, "MAIL_RETRY_MAX", 3600)
        assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 8, 12)] == [
            30,
            60,
            120,
            1920,
            3600,
            3600,
        ]


def test_worker_waits_out_the_backoff_while_mail_retry_sends_at_once(
    app, db_session, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # SMTP down
    mail = queue_test_mail()
    db_session.commit()
    report = deliver_pending(due_only=True)
    assert (report.sent, report.failed, report.unreachable) == (0, 1, True)
    db_session.refresh(mail)
    assert mail.attempts == 1 and mail.locked_until is None
    assert mail.next_attempt_at - mail.last_attempt_at == retry_delay(1)

    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)  # back
    assert deliver_pending(due_only=True).sent == 0  # the worker's pass: not yet due
    result = app.test_cli_runner().invoke(args=["mail", "retry"])  # an operator: now
    assert "1 envoyé, 0 en échec" in result.output
    assert len(smtp_server.messages) == 1


def test_two_deliverers_at_once_send_each_message_once(app, committed_db, smtp_server):
    for i in range(40):
        queue_test_mail(f"p{i}@example.org")
    committed_db.commit()
    barrier, reports = threading.Barrier(3), []

    def deliverer() -> None:
        with app.app_context():
            barrier.wait()
            reports.append(deliver_pending(limit=40, due_only=True))
            db.session.remove()

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.sent for r in reports) == 40 and sum(r.failed for r in reports) == 0
    recipients = [rcpt for envelope in smtp_server.envelopes for rcpt in envelope.rcpt_tos]
    assert sorted(recipients) == sorted(f"p{i}@example.org" for i in range(40))  # each once


def test_mail_worker_command_stops_on_sigterm(app, tmp_path):
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.2"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "SIGTERM pour arrêter" in worker.stdout.readline()
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=20)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    assert "Arrêt. Courriels : 0 envoyé" in out
