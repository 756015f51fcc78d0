"""marshmallow in French, and the field types every form and API shares.

marshmallow's built-in messages are English; the platform speaks French on pages and in the API, so the
defaults are replaced once, here, for every schema of every package.
"""

import html
import json
import re
from collections.abc import Mapping

import phonenumbers
from flask import request
from marshmallow import Schema, ValidationError, fields, validate

from core.errors import AppError, ValidationFailed
from core.identifiers import normalise_siret, normalise_uai, siret_is_valid, uai_is_valid

fields.Field.default_error_messages = {
    "required": "Ce champ est obligatoire.",
    "null": "Ce champ ne peut pas être vide.",
    "validator_failed": "Valeur invalide.",
}
fields.String.default_error_messages = {"invalid": "Texte attendu.", "invalid_utf8": "Texte invalide."}
fields.Integer.default_error_messages = {
    "invalid": "Nombre entier attendu.",
    "too_large": "Nombre trop grand.",
}
fields.Float.default_error_messages = {
    "invalid": "Nombre attendu.",
    "too_large": "Nombre trop grand.",
    "special": "Nombre attendu.",
}
fields.Boolean.default_error_messages = {"invalid": "Oui ou non attendu."}
fields.Email.default_error_messages = {"invalid": "Adresse e-mail invalide."}
fields.Date.default_error_messages = {
    "invalid": "Date invalide (format AAAA-MM-JJ).",
    "format": "Date invalide.",
}
fields.Time.default_error_messages = {
    "invalid": "Heure invalide (format HH:MM).",
    "format": "Heure invalide.",
}
fields.DateTime.default_error_messages = {"invalid": "Date et heure invalides.", "format": "Date invalide."}
fields.List.default_error_messages = {"invalid": "Liste attendue."}
fields.Nested.default_error_messages = {"type": "Objet attendu."}
validate.Length.message_min = "Au moins {min} caractères."
validate.Length.message_max = "Au plus {max} caractères."
validate.Length.message_all = "Entre {min} et {max} caractères."
validate.Length.message_equal = "Exactement {equal} caractères."
# marshmallow fills {min_op}/{max_op} when a Range is built, then {min}/{max} when it fails.
validate.Range.message_min = "Doit être {min_op} {{min}}."
validate.Range.message_max = "Doit être {max_op} {{max}}."
validate.Range.message_all = "Doit être entre {{min}} et {{max}}."
validate.Range.message_gte = "au moins"
validate.Range.message_gt = "strictement supérieur à"
validate.Range.message_lte = "au plus"
validate.Range.message_lt = "strictement inférieur à"
validate.OneOf.default_message = "Valeur non autorisée (choix possibles : {choices})."


# Ids and counts are INTEGER columns (32-bit on PostgreSQL): a larger number in a query or a body must be
# refused (422), not sent to the database to overflow (500).
MAX_INT = 2**31 - 1
MIN_YEAR, MAX_YEAR = 2000, 2100

# --- text the database and the mail headers can hold ---------------------------------------------------

# PostgreSQL refuses NUL in text, and a lone surrogate (a JSON "\ud800") cannot be encoded in UTF-8: both
# would become a 500 deep in a query. Refused at the door, for every input (see `guard_request`).
UNSAFE_CHARACTERS = re.compile(r"[\x00\ud800-\udfff]")
UNSAFE_MESSAGE = "Caractère non autorisé (caractère nul ou invalide)."
# What the OpenAPI document says of every string: no NUL, no lone surrogate (ECMA 262 syntax).
SAFE_TEXT_PATTERN = r"^[^\u0000\ud800-\udfff]*$"
LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
SINGLE_LINE_MESSAGE = "Une seule ligne attendue (sans retour à la ligne)."
# A JSON body deeper than this is no input of ours (the deepest, a site's slots, is 3): a 400, long before
# the parser's or a schema's recursion limit.
MAX_JSON_DEPTH = 32


def id_field(**kwargs) -> fields.Integer:
    """The id of an object, in a body or a query."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_INT), **kwargs)


class BaseSchema(Schema):
    """Unknown fields are errors, in French."""

    error_messages = {
        "unknown": "Champ inconnu.",
        "type": "Objet JSON attendu.",
    }


class Text(fields.String):
    """Trimmed text; an empty string counts as missing. HTML is kept as typed and escaped on output."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        value = super()._deserialize(value, attr, data, **kwargs)
        value = value.strip()
        if UNSAFE_CHARACTERS.search(value):
            raise ValidationError(UNSAFE_MESSAGE)
        if not value and self.required:
            raise ValidationError(self.error_messages["required"])
        return value


def single_line(value: str) -> bool:
    """Validator of what may end up in a mail header (a name, a subject): no line break of any kind."""
    if isinstance(value, str) and LINE_BREAKS.search(value):
        raise ValidationError(SINGLE_LINE_MESSAGE)
    return True


def text(max_length: int, *, required: bool = True, line: bool = False, **kwargs) -> Text:
    """Trimmed text of at most max_length characters; `line=True` for one line (names, subjects)."""
    checks = [validate.Length(max=max_length), *([single_line] if line else [])]
    return Text(required=required, validate=checks, **kwargs)


def line(max_length: int, *, required: bool = True, **kwargs) -> Text:
    return text(max_length, required=required, line=True, **kwargs)


class DocumentedString(fields.String):
    """A string whose OpenAPI property says what it accepts (`documented`: pattern, maxLength, example), so
    that a value valid by the document is one the API takes."""

    documented: dict = {}

    def __init__(self, **kwargs) -> None:
        kwargs["metadata"] = {**self.documented, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)


class Siret(DocumentedString):
    documented = {"pattern": r"^([0-9][ .\-]?){13}[0-9]$", "example": "73282932000074"}

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        siret = normalise_siret(super()._deserialize(value, attr, data, **kwargs))
        if not re.fullmatch(r"\d{14}", siret):
            raise ValidationError("Le SIRET compte 14 chiffres.")
        if not siret_is_valid(siret):
            raise ValidationError("SIRET invalide (la clé de contrôle ne correspond pas).")
        return siret


class Postcode(DocumentedString):
    documented = {"pattern": r"^( *[0-9]){5} *$", "example": "75013"}

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        code = super()._deserialize(value, attr, data, **kwargs).replace(" ", "")
        if not re.fullmatch(r"\d{5}", code):
            raise ValidationError("Le code postal compte 5 chiffres.")
        return code


# The one message for a school's UAI, wherever it is typed (bookings, PMI, transports, the schools import).
UAI_MESSAGE = "Code UAI invalide : 7 chiffres et une lettre de contrôle, par exemple 0750001U."


def valid_uai(value: str | None) -> str:
    """The validator of a school's UAI (core.identifiers.uai_is_valid): the code trimmed and upper-cased,
    or a ValidationError with UAI_MESSAGE. Services use it too, and report the message on their field."""
    uai = normalise_uai(value or "")
    if not uai_is_valid(uai):
        raise ValidationError(UAI_MESSAGE)
    return uai


class Uai(DocumentedString):
    """A school's UAI, trimmed and upper-cased. `check=False` leaves the check letter to the service that
    looks the school up, so that its message comes with the place's other problems (PMI)."""

    documented = {"example": "0750001U"}

    def __init__(self, *, check: bool = True, **kwargs) -> None:
        self.check = check
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        uai = normalise_uai(super()._deserialize(value, attr, data, **kwargs))
        return valid_uai(uai) if self.check else uai


class FrenchPhone(DocumentedString):
    """A French phone number (metropolitan or overseas), stored in E.164 (+33…)."""

    documented = {"maxLength": 30, "example": "01 42 00 00 00"}

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            number = phonenumbers.parse(raw, "FR")
        except phonenumbers.NumberParseException as exc:
            raise ValidationError("Numéro de téléphone invalide.") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValidationError("Numéro de téléphone invalide.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, "FR"), phonenumbers.PhoneNumberFormat.NATIONAL
        )
    except phonenumbers.NumberParseException:
        return html.escape(e164)


class FrenchDecimal(fields.Decimal):
    """An amount as people type it in France: « 1 250,50 », « 1250.50 », « 1 250,50 € » (spaces, no-break
    spaces and the euro sign ignored; a decimal comma or point). JSON numbers load as themselves."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        if isinstance(value, str):
            cleaned = re.sub(r"[\s\u00a0\u202f€]", "", value)
            if cleaned.count(",") == 1 and "." not in cleaned:
                cleaned = cleaned.replace(",", ".")
            value = cleaned
        return super()._deserialize(value, attr, data, **kwargs)


class LowerEmail(fields.Email):
    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


def form_data(form, schema: Schema) -> dict:  # noqa: ANN001 - a werkzeug MultiDict
    """An HTML form as the dict the schema loads: lists for List fields, booleans for checkboxes,
    empty optional inputs dropped (a blank optional input means 'not given')."""
    out: dict = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, fields.List):
            values = [v for v in form.getlist(key) if v != ""]
            if values or key in form:
                out[key] = values
        elif isinstance(field, fields.Boolean):
            out[key] = key in form and form.get(key) not in {"", "0", "false", "off"}
        elif key in form:
            value = form.get(key)
            if value == "" and not field.required:
                continue
            out[key] = value
    return out


# --- integers from a query string or a form ------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,18}")


def parse_int(value: str | None, *, min: int = 0, max: int = MAX_INT) -> int | None:  # noqa: A002
    """ASCII digits within [min, max], else None. Never `str.isdigit()`: '²' and '٢' are digits to it,
    and int() then fails or reads what nobody typed; the length bound keeps int() cheap."""
    value = (value or "").strip()
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if min <= number <= max else None


def query_int(
    name: str,
    default: int | None = None,
    *,
    min: int = 0,  # noqa: A002
    max: int = MAX_INT,  # noqa: A002
    strict: bool = False,
    message: str | None = None,
    args: Mapping | None = None,
) -> int | None:
    """An integer of the query string (or of `args`): missing or blank gives `default`; anything else that
    is not ASCII digits within [min, max] gives `default` too (a hand-edited URL is ignored), or with
    `strict` a ValidationFailed naming the parameter."""
    raw = (request.args if args is None else args).get(name)
    if raw is None or not raw.strip():
        return default
    number = parse_int(raw, min=min, max=max)
    if number is not None:
        return number
    if strict:
        raise ValidationFailed.on(name, message or f"Nombre entier entre {min} et {max} attendu.")
    return default


# --- the guard every request goes through ---------------------------------------------------------------


def guard_request() -> None:
    """`before_request`: refuse what no view can store or answer, before any view reads it.

    NUL bytes and lone surrogates in the path, the query string, a form or a JSON body (by field path:
    `slots[0].name`), and JSON that is not valid UTF-8, holds a number beyond Python's digit limit or nests
    deeper than MAX_JSON_DEPTH. The body's size is bounded by MAX_CONTENT_LENGTH (413) when it is read."""
    bad: list[str] = []
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and UNSAFE_CHARACTERS.search(value):
            bad.append(name)
    sources = [request.args]
    if request.mimetype in FORM_TYPES:
        sources.append(request.form)
    for source in sources:
        for name, values in source.lists():
            if UNSAFE_CHARACTERS.search(name) or any(UNSAFE_CHARACTERS.search(v) for v in values):
                bad.append(_printable(name))
    for name in GUARDED_HEADERS:
        if UNSAFE_CHARACTERS.search(request.headers.get(name, "")):
            bad.append(name)
    if not bad and request.is_json and request.method not in ("GET", "HEAD"):
        bad += _unsafe_json_fields(_json_body())
    if bad:
        fields_ = {name: [UNSAFE_MESSAGE] for name in dict.fromkeys(bad)}
        if request.path.startswith("/api/"):
            raise ValidationFailed(fields=fields_)
        names = ", ".join(f"« {name} »" for name in fields_)
        # A page has no field to show it beside: a French 400 page.
        raise AppError(f"Caractère non autorisé dans {names} : la requête ne peut pas être lue.")


# Request headers whose value a view stores.
GUARDED_HEADERS = ("Idempotency-Key",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _json_body() -> object:
    raw = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH: RequestEntityTooLarge, a 413
    if not raw.strip():
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        # Not UTF-8, not JSON, or a number of more than 4,300 digits (int's limit raises ValueError).
        raise AppError("Corps JSON invalide.") from None
    if _json_depth(body) > MAX_JSON_DEPTH:
        raise AppError(f"Corps JSON trop imbriqué (au plus {MAX_JSON_DEPTH} niveaux).")
    return body


def _json_depth(body: object) -> int:
    deepest, stack = 0, [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            stack.extend(
                (child, depth + 1) for child in (value.values() if isinstance(value, dict) else value)
            )
    return deepest


def _unsafe_json_fields(body: object) -> list[str]:
    """Paths of the strings (values or keys) holding a NUL or a lone surrogate, as the API names fields."""
    bad, stack = [], [(body, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if UNSAFE_CHARACTERS.search(value):
                bad.append(path or "_schema")
        elif isinstance(value, dict):
            for key, child in value.items():
                name = _printable(key)
                child_path = f"{path}.{name}" if path else name
                if UNSAFE_CHARACTERS.search(key):
                    bad.append(child_path)
                stack.append((child, child_path))
        elif isinstance(value, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(value))
    return sorted(bad)


def _printable(name: str) -> str:
    """A field name as it can be shown back: NUL as \\x00, a lone surrogate as U+FFFD."""
    return UNSAFE_CHARACTERS.sub(lambda m: "\\x00" if m.group() == "\x00" else "\ufffd", name)
