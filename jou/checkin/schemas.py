"""Input and output of the gate's API (and of the page's JSON calls, which load the same schemas)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import fields, validate

from core.validation import BaseSchema, id_field

COUNT = {"load_default": 0, "validate": validate.Range(min=0, max=10_000)}


class CheckInInputSchema(BaseSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    slot_id = id_field(required=True)
    admitted = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class CheckInAnswerSchema(BaseSchema):
    status = fields.String(required=True, metadata={"enum": ["valid", "already_checked_in", "refused"]})
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
    admitted = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
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


class WalkInSchema(BaseSchema):
    id = fields.Integer()
    slot_id = fields.Integer()
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    adults = fields.Integer()
    over_capacity = fields.Boolean()
    admitted_at = fields.DateTime()


class AttendanceInputSchema(BaseSchema):
    female = fields.Integer(**COUNT)
    male = fields.Integer(**COUNT)
    unspecified = fields.Integer(**COUNT)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
