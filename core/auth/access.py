"""Who is calling, and may they? One place for role checks on pages and in the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask_login import current_user

from core.auth.models import Role, User
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


def require(*roles: Role | str) -> User:
    """The caller, who must be signed in (401) and hold one of roles if given (403)."""
    user = caller()
    if user is None:
        raise Unauthorized()
    if roles and not user.has_role(*roles):
        raise Forbidden()
    return user


def roles_required(*roles: Role | str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(*roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator
