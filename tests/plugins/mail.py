"""Test fixtures: mail (see conftest).

`smtp_server` is a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives in memory; the
app sends to it for the duration of the test. `smtp_down` points the app at a port where nothing
listens. `outbox` gives the test its own .eml folder. Helpers read messages back.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Collector:
    received: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.received.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: _Collector

    @property
    def messages(self) -> list[EmailMessage]:
        return [e.message for e in self.collector.received]

    @property
    def envelopes(self) -> list[Envelope]:
        return list(self.collector.received)

    def to(self, address: str) -> list[EmailMessage]:
        return [e.message for e in self.collector.received if address in e.rcpt_tos]

    def clear(self) -> None:
        self.collector.received.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _point_app_at(app, monkeypatch: pytest.MonkeyPatch, port: int) -> None:  # noqa: ANN001
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
        "MAIL_TIMEOUT": 5.0,
    }.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def smtp_server(app, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A running SMTP server the app delivers to; app.config is restored afterwards."""
    collector = _Collector()
    # aiosmtpd's Controller cannot take port 0 (it connects to its own port to check it started),
    # so pick a free port and retry if another process grabs it in between.
    for _ in range(5):
        port = free_port()
        controller = Controller(collector, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        break
    else:
        pytest.fail("Impossible de démarrer le serveur SMTP de test.")
    _point_app_at(app, monkeypatch, port)
    try:
        yield SmtpServer("127.0.0.1", port, collector)
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(app, monkeypatch: pytest.MonkeyPatch) -> int:
    """The app's SMTP server is unreachable (nothing listens on the port); returns the port."""
    port = free_port()
    _point_app_at(app, monkeypatch, port)
    return port


@pytest.fixture
def outbox(app, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SMTP server: messages are written as .eml files into a folder of this test's own."""
    folder = tmp_path / "outbox"
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(folder))
    return folder


def read_eml(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def text_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def links(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", text_body(message))


def link_path(message: EmailMessage, contains: str) -> str:
    """The path (what a test client requests) of the first link in the text part containing `contains`."""
    for url in links(message):
        if contains in url:
            parts = urlsplit(url)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"Aucun lien contenant {contains!r} dans :\n{text_body(message)}")
