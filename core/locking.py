"""Locks taken before the state they guard is read, the same way on PostgreSQL and SQLite.

PostgreSQL locks rows (`SELECT … FOR UPDATE`) and keys (`pg_advisory_xact_lock`), each until the end of
the transaction; concurrent transactions queue on them and then read the committed state.

SQLite has one writer at a time for the whole database, and a transaction that has read and then writes
fails at once ("database is locked") when another writer committed in between, whatever the busy
timeout. So on SQLite every lock below is the same thing: make this transaction the writer *before* it
reads (`begin_write`), which waits its turn like `BEGIN IMMEDIATE`. A transaction that has only read so
far is ended first (it wrote nothing; the objects it loaded are read again, fresh, under the lock).

Lock order, to never deadlock: an address, then a booking, then a slot (see jou.bookings.services).
"""

from __future__ import annotations

import zlib
from typing import TypeVar

from sqlalchemy import Integer, bindparam, event, func, select, text
from sqlalchemy.engine import Connection, Engine

from core.extensions import db

M = TypeVar("M")

# Statements that do not make a SQLite transaction a writer.
_READS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "WITH")
_WRITER = "sqlite_writer"
# Built once (every booking takes one): the keys as the two int4 of pg_advisory_xact_lock(int4, int4).
_KEY = bindparam("first", type_=Integer), bindparam("second", type_=Integer)
_LOCK_KEY = select(func.pg_advisory_xact_lock(*_KEY))
_TRY_LOCK_KEY = select(func.pg_try_advisory_xact_lock(*_KEY))


def track_sqlite_writes(engine: Engine) -> None:
    """Remember, per connection, whether its open transaction has written (so holds the write lock)."""

    @event.listens_for(engine, "after_cursor_execute")
    def after_execute(conn: Connection, _cursor, statement: str, *_args) -> None:  # noqa: ANN001
        if not statement.lstrip().upper().startswith(_READS):
            conn.info[_WRITER] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def after_end(conn: Connection) -> None:
        conn.info.pop(_WRITER, None)


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def begin_write() -> None:
    """SQLite: make the current transaction the database's writer before it reads what it will change.
    PostgreSQL: nothing (row locks do the work there)."""
    if not _is_sqlite():
        return
    session = db.session()
    if session.in_transaction() and session.connection().info.get(_WRITER):
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the first write takes the lock (pending changes are never thrown away)
        return
    if session.in_transaction():
        session.commit()  # only read so far: nothing to lose, and the objects reload under the lock
    # Writes nothing, yet takes the write lock (waiting for it within the busy timeout).
    session.execute(text("UPDATE alembic_version SET version_num = version_num WHERE 0"))


def lock(model: type[M], ident: int) -> M | None:
    """The row, read fresh under its lock (None if it does not exist)."""
    begin_write()
    return db.session.scalars(
        select(model)
        .where(model.id == ident)  # type: ignore[attr-defined]
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _key(namespace: str, value: str) -> tuple[int, int]:
    """Two signed 32-bit ints for PostgreSQL's advisory locks (a collision only makes two keys wait for
    each other, never lets two holders in)."""

    def signed(n: int) -> int:
        return n - (1 << 32) if n >= 1 << 31 else n

    return signed(zlib.crc32(namespace.encode())), signed(zlib.crc32(value.encode()))


def lock_key(namespace: str, value: str) -> None:
    """A lock on a value that is no row (an e-mail address within an edition), held to the end of the
    transaction."""
    if _is_sqlite():
        begin_write()
        return
    first, second = _key(namespace, value)
    db.session.execute(_LOCK_KEY, {"first": first, "second": second})


def try_lock_key(namespace: str, value: str) -> bool:
    """As lock_key, without waiting: False when another transaction holds it (re-entrant for the holder)."""
    if _is_sqlite():
        begin_write()
        return True
    first, second = _key(namespace, value)
    return bool(db.session.scalar(_TRY_LOCK_KEY, {"first": first, "second": second}))
