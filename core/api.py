"""The JSON API under /api/v1: flask-smorest builds the OpenAPI document from the marshmallow schemas."""

from flask import jsonify
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from marshmallow import fields
from werkzeug.routing import UnicodeConverter

from core.errors import http_error_response
from core.validation import SAFE_TEXT_PATTERN, BaseSchema


class ErrorDetailSchema(BaseSchema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(BaseSchema):
    """{"error": {"code", "message", "fields": {field: [messages]}}} — every API error."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class Api(SmorestApi):
    """flask-smorest with our error format instead of its own, and a document that says what every string
    may hold (core.validation.guard_request refuses NUL and lone surrogates everywhere)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):  # noqa: ANN001, ANN201
        return http_error_response(error)

    def _init_spec(self, **kwargs) -> None:
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(safe_text2properties)
        self.register_converter(UnicodeConverter, _path_text_schema)


def safe_text2properties(self, field: fields.Field, ret: dict, **_kwargs) -> dict:  # noqa: ANN001, ARG001
    """apispec attribute function: a free string (no enum, format or pattern of its own) gets the pattern
    that bars NUL and lone surrogates, so a request valid by the document is one the API accepts."""
    if ret.get("type") == "string" and not {"enum", "format", "pattern"} & ret.keys():
        return {"pattern": SAFE_TEXT_PATTERN}
    return {}


def _path_text_schema(_converter: UnicodeConverter) -> dict:
    """`<uai>`, `<token>`, `<programme>`: one path segment, without NUL or lone surrogate."""
    return {"type": "string", "minLength": 1, "pattern": r"^[^/\u0000\ud800-\udfff]+$"}


api = Api()


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str = "") -> Blueprint:
    return Blueprint(name, import_name, url_prefix=f"/api/v1{url_prefix}", description=description)


def json_object(description: str) -> dict:
    """`@blp.doc(responses=…)` for a 200 answer built with jsonify rather than dumped by a schema."""
    return {
        "200": {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}
    }


def json_ok(payload: dict, status: int = 200):  # noqa: ANN201
    return jsonify(payload), status
