"""One unit of work per request (Indico's `RH.process`, indico/web/rh.py, is the model).

Every view runs inside `unit_of_work`: services only flush; when the view has answered, the request's
transaction is committed once and the mail it queued is delivered after the commit (core.mail); on any
exception, or an answer of 400 or more, it is rolled back and its queued mail forgotten, and the error
handler answers as before. Views never commit, roll back or deliver mail themselves.

A view that answers a refusal itself — the form again with the errors beside the fields, or a flash and a
redirect — runs the refused work inside `attempt()`: a refusal (an AppError, a marshmallow
ValidationError) undoes everything at once, before the view reads again to answer, and the request then
ends without a commit.

CLI commands and the demo fixtures use `committed()`, the same unit around a block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import text

from core.errors import AppError
from core.extensions import db
from core.mail import commit_and_deliver, forget_queued

_UNDONE = "soce_unit_undone"
REFUSALS: tuple[type[Exception], ...] = (AppError,)


def _refusals() -> tuple[type[Exception], ...]:
    from marshmallow import ValidationError

    return (*REFUSALS, ValidationError)


def undo() -> None:
    """Throw the work done so far away: rolled back, its queued mail forgotten, nothing committed."""
    db.session.rollback()
    forget_queued()
    if has_request_context():
        g.setdefault(_UNDONE, True)


@contextmanager
def attempt() -> Iterator[None]:
    """Around work whose refusal the view answers itself: a refusal leaves nothing, and is re-raised."""
    try:
        yield
    except _refusals():
        undo()
        raise


def unit_of_work(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        g.pop(_UNDONE, None)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            undo()
            raise
        if response.status_code >= 400 or g.pop(_UNDONE, False):
            undo()
        else:
            commit_and_deliver()
        return response

    return wrapped


@contextmanager
def committed() -> Iterator[None]:
    """The unit of work of a CLI command or a loader: commit once at the end, deliver the mail it queued;
    on an error nothing stays."""
    try:
        yield
    except BaseException:
        undo()
        raise
    commit_and_deliver()


def analyze() -> None:
    """After a bulk load (demo, imports): fresh planner statistics for the tables it filled. With autovacuum
    off or not yet round, PostgreSQL would plan on default estimates (migration 0014 tells what that cost).
    Harmless on SQLite."""
    with committed():
        db.session.execute(text("ANALYZE"))


def init_app(app: Flask) -> None:
    """Wrap every view (after the blueprints are registered, before core.retry wraps them in turn: a
    retried request runs its whole unit again)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = unit_of_work(view)
