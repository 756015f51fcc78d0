"""marshmallow in French, and the field types every form and API shares.

marshmallow's built-in messages are English; the platform speaks French on pages and in the API, so the
defaults are replaced once, here, for every schema of every package.
"""

import html
import re

import phonenumbers
from marshmallow import Schema, ValidationError, fields, validate

from core.identifiers import normalise_siret, siret_is_valid

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
        if "\x00" in value:
            raise ValidationError("Caractère non autorisé.")
        if not value and self.required:
            raise ValidationError(self.error_messages["required"])
        return value


def text(max_length: int, *, required: bool = True, **kwargs) -> Text:
    return Text(required=required, validate=validate.Length(max=max_length), **kwargs)


class Siret(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        siret = normalise_siret(super()._deserialize(value, attr, data, **kwargs))
        if not re.fullmatch(r"\d{14}", siret):
            raise ValidationError("Le SIRET compte 14 chiffres.")
        if not siret_is_valid(siret):
            raise ValidationError("SIRET invalide (la clé de contrôle ne correspond pas).")
        return siret


class Postcode(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        code = super()._deserialize(value, attr, data, **kwargs).replace(" ", "")
        if not re.fullmatch(r"\d{5}", code):
            raise ValidationError("Le code postal compte 5 chiffres.")
        return code


class FrenchPhone(fields.String):
    """A French phone number (metropolitan or overseas), stored in E.164 (+33…)."""

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
