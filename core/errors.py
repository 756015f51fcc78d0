"""One error hierarchy and one handler.

Services raise these; the API answers {"error": {"code", "message", "fields"}} with the status, and
pages show the same French message (beside the field when there is one).
"""

from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

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
    if is_api_request():
        data = getattr(error, "data", None) or {}
        fields = flatten_webargs_messages(data["messages"]) if "messages" in data else {}
        message = None if status in HTTP_MESSAGES else error.description
        return jsonify(error_body(status, message, fields)), status
    _, message = HTTP_MESSAGES.get(status, ("error", error.description))
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        if is_api_request():
            return jsonify(error.to_dict()), error.status
        if isinstance(error, Unauthorized) and error.code == "unauthorized":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return render_template("error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        return http_error_response(error)

    @app.errorhandler(500)
    def handle_server_error(error: Exception):
        if is_api_request():
            return jsonify(error_body(500)), 500
        return render_template("error.html", status=500, message=HTTP_MESSAGES[500][1]), 500
