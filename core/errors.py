"""One error hierarchy and one handler.

Services raise these; the API answers {"error": {"code", "message", "fields"}} with the status, and
pages show the same French message (beside the field when there is one).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DataError, DisconnectionError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

FieldErrors = dict[str, list[str]]


class AppError(Exception):
    status = 400
    code = "bad_request"
    message = "Requête invalide."

    def __init__(
        self, message: str | None = None, *, fields: FieldErrors | None = None, code: str | None = None
    ):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields or {}
        if code:
            self.code = code

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class ValidationFailed(AppError):
    status = 422
    code = "validation_error"
    message = "Certains champs sont invalides."

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        return cls(fields={field: [message]})


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "Authentification requise."


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "Vous n'avez pas accès à cette ressource."


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "Ressource introuvable."


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "Conflit avec l'état actuel de la ressource."


class TooManyRequests(AppError):
    """Too many attempts; `retry_after` (seconds) becomes the Retry-After header."""

    status = 429
    code = "too_many_requests"
    message = "Trop de tentatives, réessayez dans un instant."

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, code: str | None = None
    ):
        super().__init__(message, code=code)
        self.retry_after = retry_after


# French messages for the HTTP errors Flask raises by itself (unknown URL, wrong method…).
HTTP_MESSAGES = {
    400: ("bad_request", "Requête invalide."),
    401: ("unauthorized", "Authentification requise."),
    403: ("forbidden", "Vous n'avez pas accès à cette ressource."),
    404: ("not_found", "Page ou ressource introuvable."),
    405: ("method_not_allowed", "Méthode non autorisée."),
    409: ("conflict", "Conflit avec l'état actuel de la ressource."),
    413: ("too_large", "Requête trop volumineuse."),
    415: ("unsupported_media_type", "Format de requête non pris en charge (JSON attendu)."),
    422: ("validation_error", "Certains champs sont invalides."),
    429: ("too_many_requests", "Trop de requêtes, réessayez dans un instant."),
    500: ("server_error", "Erreur interne, l'équipe a été prévenue."),
    503: ("unavailable", "Service momentanément indisponible, réessayez dans un instant."),
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_body(status: int, message: str | None = None, fields: FieldErrors | None = None) -> dict:
    code, default = HTTP_MESSAGES.get(status, ("error", "Erreur."))
    return {"error": {"code": code, "message": message or default, "fields": fields or {}}}


def flatten_webargs_messages(messages: dict) -> FieldErrors:
    """webargs nests field errors by location ({"json": {...}}) and marshmallow by nesting
    ({"slots": {0: {"capacity": [...]}}}); the API names fields by path: "slots[0].capacity"."""
    fields: FieldErrors = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            for name, errs in location_errors.items():
                _flatten(str(name), errs, fields)
        else:
            _flatten("_schema", location_errors, fields)
    return fields


def _flatten(path: str, errs, out: FieldErrors) -> None:  # noqa: ANN001 - lists or nested dicts
    if isinstance(errs, dict):
        for key, value in errs.items():
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif key == "_schema":
                child = path
            else:
                child = f"{path}.{key}"
            _flatten(child, value, out)
    elif isinstance(errs, list):
        for e in errs:
            if isinstance(e, dict | list):
                _flatten(path, e, out)
            else:
                out.setdefault(path, []).append(str(e))
    else:
        out.setdefault(path, []).append(str(errs))


def http_error_response(error: HTTPException):
    status = error.code or 500
    # What werkzeug says beside the status (a 405's Allow), without its own Content-Type.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if is_api_request():
        data = getattr(error, "data", None) or {}
        fields = flatten_webargs_messages(data["messages"]) if "messages" in data else {}
        message = None if status in HTTP_MESSAGES else error.description
        return jsonify(error_body(status, message, fields)), status, headers
    _, message = HTTP_MESSAGES.get(status, ("error", error.description))
    return render_template("error.html", status=status, message=message), status, headers


def _retry_after(response, seconds: int | None):  # noqa: ANN001, ANN202 - a (body, status) pair or Response
    body, status = response
    return (body, status, {"Retry-After": str(seconds)}) if seconds else (body, status)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        retry_after = getattr(error, "retry_after", None)
        if is_api_request():
            return _retry_after((jsonify(error.to_dict()), error.status), retry_after)
        if isinstance(error, Unauthorized) and error.code == "unauthorized":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        page = render_template("error.html", status=error.status, message=error.message)
        return _retry_after((page, error.status), retry_after)

    @app.errorhandler(RateLimitExceeded)
    def handle_rate_limited(error: RateLimitExceeded):
        # Flask-Limiter adds Retry-After and the X-RateLimit-* headers to this response.
        if is_api_request():
            return jsonify(error_body(429)), 429
        return render_template("errors/429.html"), 429

    def handle_database_unavailable(error: Exception):
        """The database is down, restarting or locked too long: nothing of the request was committed
        (one commit per request), so say "try again" rather than "error"."""
        log.error("Base de données indisponible pendant %s %s : %s", request.method, request.path, error)
        from core.extensions import db

        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; the session is dropped anyway
            log.debug("Rollback impossible après la perte de la base", exc_info=True)
        db.session.remove()
        headers = {"Retry-After": str(current_app.config.get("DATABASE_RETRY_AFTER", 30))}
        if is_api_request():
            return jsonify(error_body(503)), 503, headers
        # errors/503.html reads nothing from the database (no current_user, no base.html).
        return render_template("errors/503.html", message=HTTP_MESSAGES[503][1]), 503, headers

    for db_error in (OperationalError, InterfaceError, DisconnectionError):
        app.register_error_handler(db_error, handle_database_unavailable)

    @app.errorhandler(DataError)
    @app.errorhandler(IntegrityError)
    def handle_database_refusal(error: DataError | IntegrityError):
        """The database refused what a request asked (a value it cannot hold, a constraint: two racing
        requests on one unique key, a CHECK). Input checks should have said so first; this answer keeps
        any that slips through a 409/422 in our format rather than a 500, and logs it to be fixed."""
        log.warning("Refus de la base pendant %s %s", request.method, request.path, exc_info=error)
        from core.extensions import db
        from core.mail import forget_queued

        db.session.rollback()
        forget_queued()
        if isinstance(error, IntegrityError):
            failure: AppError = Conflict("La demande contredit l'état actuel des données ; réessayez.")
        else:
            failure = ValidationFailed(
                "Une valeur envoyée ne peut pas être enregistrée.", code="invalid_input"
            )
        return handle_app_error(failure)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        return http_error_response(error)

    @app.errorhandler(500)
    def handle_server_error(error: Exception):
        if is_api_request():
            return jsonify(error_body(500)), 500
        return render_template("error.html", status=500, message=HTTP_MESSAGES[500][1]), 500
