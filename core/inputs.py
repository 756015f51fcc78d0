"""One way to read input: a JSON body or an HTML form through a marshmallow schema, and one error shape.

`load_json(schema)` (API) and `load_form(schema, form)` (pages) both raise `ValidationFailed` with the
messages by field: the API answers them as `{"error": {"code", "message", "fields"}}`, pages show them
beside their inputs with `page_errors(exc)`. Nested fields are named by path (`slots[0].end`); a page
whose inputs are named otherwise passes `rename` (a function of that name).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from core.errors import AppError, FieldErrors, ValidationFailed, flatten_webargs_messages
from core.validation import Text, form_data

Rename = Callable[[str], str]


def field_errors(messages: object) -> FieldErrors:
    """marshmallow's nested messages named by path, as the API has always named them: "slots[0].end"."""
    return flatten_webargs_messages({"json": messages})


FORM_KEYS = ("_form", "_schema")  # messages about the whole input, shown above the form


def _same(name: str) -> str:
    return name


def _renamed(errors: FieldErrors, rename: Rename) -> FieldErrors:
    """By input name for a page; a message about the whole input goes above the form."""
    out: FieldErrors = {}
    for name, texts in errors.items():
        out.setdefault(rename(name) if name not in FORM_KEYS else "_form", []).extend(texts)
    return out


def load(schema: Schema, data: object, *, rename: Rename | None = None) -> dict:
    try:
        return schema.load(data)  # type: ignore[arg-type]
    except ValidationError as exc:
        fields = field_errors(exc.messages)
        raise ValidationFailed(fields=_renamed(fields, rename) if rename else fields) from None


def load_json(schema: Schema) -> dict:
    """The request's JSON object through the schema (422 with field errors; not an object: 422 too)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("Objet JSON attendu.")
    return load(schema, body)


def load_form(schema: Schema, form: MultiDict | None = None, *, rename: Rename | None = None) -> dict:
    """An HTML form through the schema. A select or number left blank is a missing value ("Ce champ est
    obligatoire."), not an invalid one; text inputs keep their blank, which Text reports the same way."""
    data = form_data(request.form if form is None else form, schema)
    kept = {k: v for k, v in data.items() if v != "" or isinstance(schema.fields.get(k), Text)}
    return load(schema, kept, rename=rename or _same)


def page_errors(exc: AppError | ValidationError, rename: Rename | None = None) -> FieldErrors:
    """The messages a page shows, by input name; a refusal without a field goes above the form (_form)."""
    if isinstance(exc, ValidationError):
        return _renamed(field_errors(exc.messages), rename or _same)
    if not exc.fields:
        return {"_form": [exc.message]}
    return _renamed({name: list(texts) for name, texts in exc.fields.items()}, rename or _same)
