"""Admission control: a booking rush must not take every worker thread from the people who only browse.

Routes marked `@limited(...)` (creating a booking, joining a waiting list) get a turn from their process's
`Admission` before their unit of work begins, and give it back after its commit: at most
`BOOKINGS_IN_FLIGHT` of them run at once per process, at most `BOOKINGS_WAITING` more wait for a turn
(`BOOKING_WAIT_SECONDS` at most), and the rest are answered at once: 503, code `busy`, `Retry-After`. Nothing
was read or written for them, so the same request (same Idempotency-Key) can simply be sent again.

With threaded workers (gunicorn `--worker-class gthread --threads T`), the T − in-flight − waiting threads
left stay free for pages whatever the number of bookers; bench/README.md ("Browsing during a rush") has the
figures that chose the defaults, README.md ("Production") how to size workers and threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, request

from core.errors import AppError


class Busy(AppError):
    """More bookings than this process takes at once: try again in `retry_after` seconds."""

    status = 503
    code = "busy"
    message = "Beaucoup de réservations arrivent en même temps : réessayez dans un instant."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


class Admission:
    """Turns for one process: `in_flight` at once, `waiting` more queued for `wait_seconds` at most."""

    def __init__(self, in_flight: int, waiting: int, wait_seconds: float, retry_after: int) -> None:
        self.in_flight, self.waiting, self.wait_seconds = in_flight, waiting, wait_seconds
        self.retry_after = retry_after
        self._turns = threading.BoundedSemaphore(max(in_flight, 1))
        self._lock = threading.Lock()
        self._queued = 0

    @property
    def enabled(self) -> bool:
        return self.in_flight > 0

    def enter(self) -> None:
        """Take a turn, or raise Busy (at once when the queue is full, else after `wait_seconds`)."""
        if self._turns.acquire(blocking=False):
            return
        with self._lock:
            if self._queued >= self.waiting:
                raise Busy(self.retry_after)
            self._queued += 1
        try:
            if not self._turns.acquire(timeout=self.wait_seconds):
                raise Busy(self.retry_after)
        finally:
            with self._lock:
                self._queued -= 1

    def leave(self) -> None:
        self._turns.release()


def limited(on_busy: Callable | None = None) -> Callable:
    """Marks a route for admission control (its writes only: GET and HEAD pass freely). `on_busy(exc,
    **view_args)` answers a page's refusal itself (the form again, kept, with a waiting message); without
    it the error handler answers (JSON under /api)."""

    def mark(view: Callable) -> Callable:
        view.admission_on_busy = on_busy or _raise  # type: ignore[attr-defined]
        return view

    return mark


def _raise(exc: Busy, **_view_args) -> None:
    raise exc


def _admitted(view: Callable, on_busy: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        admission: Admission = current_app.extensions["admission"]
        if request.method in {"GET", "HEAD"} or not admission.enabled:
            return view(*args, **kwargs)
        try:
            admission.enter()
        except Busy as exc:
            return on_busy(exc, **kwargs)
        try:
            return view(*args, **kwargs)
        finally:
            admission.leave()

    return wrapped


def init_app(app: Flask) -> None:
    """One Admission per process (each gunicorn worker forks its own); the marked views are wrapped
    outermost, so the turn covers the whole unit of work, its retry and its commit."""
    config = app.config
    app.extensions["admission"] = Admission(
        in_flight=config["BOOKINGS_IN_FLIGHT"],
        waiting=config["BOOKINGS_WAITING"],
        wait_seconds=config["BOOKING_WAIT_SECONDS"],
        retry_after=config["BOOKING_RETRY_AFTER"],
    )
    for endpoint, view in list(app.view_functions.items()):
        on_busy = getattr(view, "admission_on_busy", None)
        if on_busy is not None:
            app.view_functions[endpoint] = _admitted(view, on_busy)
