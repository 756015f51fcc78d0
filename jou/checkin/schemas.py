"""Input and output of the gate's API (and of the page's JSON calls, which load the same schemas)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import fields, validate

from core.validation import BaseSchema, id_field

COUNT = {"load_default": 0, "validate": validate.Range(min=0, max=10_000)}


PERSONS = {"load_default": None, "allow_none": True, "validate": validate.Range(min=1, max=10_000)}
TAPPED = {"load_default": None, "allow_none": True, "validate": validate.Range(min=0, max=10_000)}
DIRECTION = validate.OneOf(["entry", "exit"], error="« entry » (entrée) ou « exit » (sortie).")
CLIENT_KEY = {"load_default": None, "allow_none": True, "validate": validate.Length(max=64)}


class CheckInInputSchema(BaseSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    slot_id = id_field(required=True)
    admitted = fields.Integer(
        **PERSONS, metadata={"description": "Personnes qui passent (défaut : tout le reste du groupe)"}
    )
    direction = fields.String(load_default="entry", validate=DIRECTION)
    female = fields.Integer(**TAPPED, metadata={"description": "Femmes (ou filles) parmi elles, si comptées"})
    male = fields.Integer(**TAPPED, metadata={"description": "Hommes (ou garçons) parmi elles, si comptés"})
    client_key = fields.String(
        **CLIENT_KEY, metadata={"description": "Clé d'envoi : un renvoi n'ajoute rien"}
    )


class CheckInAnswerSchema(BaseSchema):
    status = fields.String(required=True, metadata={"enum": ["valid", "already_checked_in", "refused"]})
    direction = fields.String(metadata={"enum": ["entry", "exit"]})
    id = fields.Integer(allow_none=True, metadata={"description": "Le contrôle enregistré (pour l'annuler)"})
    entered = fields.Integer(metadata={"description": "Personnes du groupe entrées jusqu'ici"})
    remaining = fields.Integer(metadata={"description": "Personnes du groupe encore attendues"})
    on_site = fields.Integer(metadata={"description": "Personnes du groupe sur le site"})
    breakdown_known = fields.Boolean(metadata={"description": "Répartition femmes/hommes donnée au réservé"})
    reason = fields.String(allow_none=True)
    reason_code = fields.String(allow_none=True)
    party_size = fields.Integer(allow_none=True)
    checked_in_at = fields.String(allow_none=True)
    warning = fields.String(allow_none=True)
    booking_id = fields.Integer()
    name = fields.String()
    school = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    kind = fields.String()
    admitted = fields.Integer(allow_none=True)
    checked_in_by = fields.String(allow_none=True)


class OfflineEntrySchema(BaseSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    admitted = fields.Integer(**PERSONS)
    direction = fields.String(load_default="entry", validate=DIRECTION)
    client_key = fields.String(**CLIENT_KEY)
    checked_in_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)


class OfflineBatchSchema(BaseSchema):
    slot_id = id_field(required=True)
    device = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    entries = fields.List(
        fields.Nested(OfflineEntrySchema), required=True, validate=validate.Length(max=2000)
    )


class OfflineResultsSchema(BaseSchema):
    results = fields.List(fields.Nested(CheckInAnswerSchema))


class WalkInInputSchema(BaseSchema):
    female = fields.Integer(**COUNT)
    male = fields.Integer(**COUNT)
    unspecified = fields.Integer(**COUNT)
    adults = fields.Integer(**COUNT)
    override = fields.Boolean(load_default=False)
    client_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class BreakdownInputSchema(BaseSchema):
    female = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000))
    male = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000))


class WalkOutInputSchema(BaseSchema):
    persons = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))
    client_key = fields.String(**CLIENT_KEY)


class CheckInEventSchema(BaseSchema):
    id = fields.Integer()
    slot_id = fields.Integer()
    booking_id = fields.Integer(allow_none=True)
    direction = fields.String()
    admitted = fields.Integer()
    female = fields.Integer(allow_none=True)
    male = fields.Integer(allow_none=True)
    checked_in_at = fields.DateTime()
    undone_at = fields.DateTime(allow_none=True)


class PresenceSchema(BaseSchema):
    expected = fields.Integer(metadata={"description": "Personnes attendues (réservations confirmées)"})
    arrived = fields.Integer(metadata={"description": "Personnes entrées, avec ou sans billet"})
    left = fields.Integer(metadata={"description": "Personnes sorties"})
    on_site = fields.Integer(metadata={"description": "Personnes sur le site maintenant"})


class SlotPresenceSchema(PresenceSchema):
    slot_id = fields.Integer()


class SitePresenceSchema(BaseSchema):
    site_id = fields.Integer()
    total = fields.Nested(PresenceSchema)
    slots = fields.List(fields.Nested(SlotPresenceSchema))


class WalkInSchema(BaseSchema):
    id = fields.Integer()
    slot_id = fields.Integer()
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    adults = fields.Integer()
    over_capacity = fields.Boolean()
    admitted_at = fields.DateTime()
    undone_at = fields.DateTime(allow_none=True)


class AttendanceInputSchema(BaseSchema):
    female = fields.Integer(**COUNT)
    male = fields.Integer(**COUNT)
    unspecified = fields.Integer(**COUNT)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
