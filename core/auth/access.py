"""Who is calling, and may they? Routes on pages and in the API ask for a named permission here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask_login import current_user

from core.auth.models import User
from core.auth.permissions import Permission, can
from core.auth.services import user_from_api_token
from core.errors import Forbidden, Unauthorized


def api_user() -> User | None:
    """The bearer token's user for API calls (cached on g); the session cookie is ignored here."""
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        g.api_user = user_from_api_token(token.strip()) if scheme.lower() == "bearer" and token else None
    return g.api_user


def page_user() -> User | None:
    return current_user if current_user.is_authenticated else None


def caller() -> User | None:
    return api_user() if request.path.startswith("/api/") else page_user()


def require(permission: Permission | None = None) -> User:
    """The caller, who must be signed in (401) and hold `permission` if given (403)."""
    user = caller()
    if user is None:
        raise Unauthorized()
    if permission is not None and not can(user, permission):
        raise Forbidden()
    return user


def requires(permission: Permission) -> Callable:
    """A route for the holders of `permission` (401/403 before the view runs)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(permission)
            return view(*args, **kwargs)

        return wrapped

    return decorator
