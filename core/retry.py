"""A request that lost a deadlock or a serialization conflict is run again once, then answers 409.

When two transactions wait for each other, PostgreSQL aborts one of them (SQLSTATE 40P01,
deadlock_detected); at REPEATABLE READ or SERIALIZABLE it aborts one of two that cannot be serialized
(40001). SQLite answers "database is locked" (SQLITE_BUSY and its variants) to a transaction that has
read and then writes while another writer holds the lock or has committed since (SQLite's own deadlock
avoidance: it does not even wait), or after the busy timeout. Each time the loser's transaction is
rolled back whole and the same work in a new transaction will most likely pass: so the view is run
again, once, after a rollback. Losing twice answers 409 `conflict`, « Conflit avec une autre
modification en cours, réessayez. » — never the 503 of a database that is unreachable (core.errors),
which this is not.

Run again only what left nothing behind: an attempt that committed writes before losing (a view that
commits, then delivers its mail) is not repeated — it answers 409 at once. Mail queued by the lost
attempt is forgotten with its rows (core.mail.forget_queued), and uploaded files are rewound.

init_app wraps every view; call it after the blueprints are registered and before core.security wraps
the rate-limited views, so that a request run twice is counted once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from core.errors import Conflict
from core.extensions import db
from core.mail import forget_queued

log = logging.getLogger(__name__)

MESSAGE = "Conflit avec une autre modification en cours, réessayez."
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
SQLITE_BUSY = 5  # the primary code of SQLITE_BUSY_SNAPSHOT (517), _TIMEOUT (773)…
_WROTE = "soce.wrote"  # on a connection: its open transaction has written
_COMMITTED = "soce_committed_writes"  # on g: this attempt has committed writes
_WRITES = ("INSERT", "UPDATE", "DELETE")


def is_conflict(error: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back and may simply be retried."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    if getattr(orig, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_BUSY


def init_app(app: Flask) -> None:
    with app.app_context():
        _track_committed_writes(db.engine)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = retried_once(view)


def _track_committed_writes(engine) -> None:  # noqa: ANN001 - an Engine
    @event.listens_for(engine, "before_cursor_execute")
    def note_write(conn: Connection, _cursor, statement: str, *_args) -> None:  # noqa: ANN001
        if statement.lstrip()[:6].upper().startswith(_WRITES):
            conn.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    def note_commit(conn: Connection) -> None:
        if conn.info.pop(_WROTE, False) and has_request_context():
            g.setdefault(_COMMITTED, True)

    @event.listens_for(engine, "rollback")
    def forget_writes(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)


def _reset() -> None:
    """Undo what the lost attempt left in this process: the session's transaction, its queued mail."""
    db.session.rollback()
    forget_queued()
    for upload in request.files.values():
        if upload.stream.seekable():
            upload.stream.seek(0)


def retried_once(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        g.pop(_COMMITTED, None)
        try:
            return view(*args, **kwargs)
        except DBAPIError as exc:
            if not is_conflict(exc):
                raise
            lost = exc
        _reset()
        if g.pop(_COMMITTED, False):
            log.warning("Conflit après écriture pendant %s %s : %s", request.method, request.path, lost.orig)
            raise Conflict(MESSAGE) from lost
        log.info("Conflit pendant %s %s, nouvel essai : %s", request.method, request.path, lost.orig)
        try:
            return view(*args, **kwargs)
        except DBAPIError as exc:
            if not is_conflict(exc):
                raise
            _reset()
            log.warning("Nouveau conflit pendant %s %s : %s", request.method, request.path, exc.orig)
            raise Conflict(MESSAGE) from exc

    return wrapped
