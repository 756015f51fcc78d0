"""The JSON API under /api/v1: flask-smorest builds the OpenAPI document from the marshmallow schemas."""

from flask import jsonify
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from marshmallow import fields

from core.errors import http_error_response
from core.validation import BaseSchema


class ErrorDetailSchema(BaseSchema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(BaseSchema):
    """{"error": {"code", "message", "fields": {field: [messages]}}} — every API error."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class Api(SmorestApi):
    """flask-smorest with our error format instead of its own."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):  # noqa: ANN001, ANN201
        return http_error_response(error)


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
