from marshmallow import fields

from core.validation import BaseSchema


class EditionSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    year = fields.Integer()
    friday = fields.Date()
    saturday = fields.Date()
    registration_opens = fields.Date()
    registration_closes = fields.Date()
    booking_opens = fields.Date()
    booking_closes = fields.Date()
