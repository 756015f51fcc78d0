"""A temporary lock on an e-mail address after repeated failed sign-ins.

Counted in the rate-limit storage (RATELIMIT_STORAGE_URI: memory per process, or the Redis every app
server shares), not in the database: no migration, and the counters expire by themselves. The key is the
address, whether or not an account has it, so a lock says nothing about which addresses are registered.
A locked address is refused even with the right password until the window ends (LOGIN_LOCKOUT_MINUTES)
or its owner completes a password reset: the e-mailed link proves the mailbox, and lifts the lock
(core.auth.services.reset_password), so failed tries from elsewhere cannot keep the owner out. With
`memory://` each process keeps its own counts, and the reset lifts the lock in the process that served it
only: several processes need the shared Redis.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, current_app
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)
_EXTENSION = "soce_login_lockout"


class LoginLockout:
    """Read LOGIN_LOCKOUT_ATTEMPTS (0: off) and LOGIN_LOCKOUT_MINUTES on every call."""

    def __init__(self, storage_uri: str, prefix: str, options: dict) -> None:
        self.prefix = prefix
        self.strategy = FixedWindowRateLimiter(storage_from_string(storage_uri, **options))
        self._fallback: FixedWindowRateLimiter | None = None

    @property
    def enabled(self) -> bool:
        return current_app.config.get("LOGIN_LOCKOUT_ATTEMPTS", 0) > 0

    @property
    def item(self) -> RateLimitItemPerMinute:
        config = current_app.config
        return RateLimitItemPerMinute(config["LOGIN_LOCKOUT_ATTEMPTS"], config["LOGIN_LOCKOUT_MINUTES"])

    def _key(self, email: str) -> str:
        # Hashed: the shared storage (Redis) holds no addresses.
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()

    def _call(self, method: str, email: str) -> object:
        args = (self.item, self.prefix, "login-failures", self._key(email))
        try:
            return getattr(self._fallback or self.strategy, method)(*args)
        except Exception as exc:  # noqa: BLE001 - a storage outage must not stop sign-ins
            if self._fallback is not None:
                raise
            log.warning("Stockage du verrouillage indisponible (%s) : compte en mémoire locale.", exc)
            self._fallback = FixedWindowRateLimiter(MemoryStorage())
            return getattr(self._fallback, method)(*args)

    def locked_for(self, email: str) -> int:
        """Seconds until the address may try again; 0 when it is not locked."""
        if not self.enabled or self._call("test", email):
            return 0
        reset_at, _remaining = self._call("get_window_stats", email)  # type: ignore[misc]
        return max(1, math.ceil(reset_at - time.time()))

    def failed(self, email: str) -> None:
        if self.enabled:
            self._call("hit", email)

    def clear(self, email: str) -> None:
        """After a successful sign-in or a completed password reset: the count starts again."""
        if self.enabled:
            self._call("clear", email)


def init_app(app: Flask) -> None:
    config = app.config
    app.extensions[_EXTENSION] = LoginLockout(
        config.get("RATELIMIT_STORAGE_URI", "memory://"),
        config.get("RATELIMIT_KEY_PREFIX", "soce"),
        config.get("RATELIMIT_STORAGE_OPTIONS", {}),
    )


def lockout() -> LoginLockout:
    return current_app.extensions[_EXTENSION]
