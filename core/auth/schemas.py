from marshmallow import fields, validate

from core.auth.models import Role
from core.validation import BaseSchema, LowerEmail, text


class TokenRequestSchema(BaseSchema):
    email = LowerEmail(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(BaseSchema):
    token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    user = fields.Nested(lambda: UserSchema())


class UserSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    email = fields.Email()
    name = fields.String()
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))


class LoginFormSchema(BaseSchema):
    email = LowerEmail(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    next = fields.String(load_default="")


class SignupFormSchema(BaseSchema):
    name = text(120)
    email = LowerEmail(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=10, max=200))
    password_confirm = fields.String(required=True)
