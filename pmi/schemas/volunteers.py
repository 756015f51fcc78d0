"""Volunteers: their profile form and how an intervention names them."""

from marshmallow import fields, validate

from core.validation import BaseSchema, FrenchPhone, line


class VolunteerRefSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()


class ProfileSchema(BaseSchema):
    name = line(120)
    promo = line(20, required=False, load_default="")
    regional_group = fields.String(required=True, validate=validate.Length(max=20))
    phone = FrenchPhone(load_default=None)
