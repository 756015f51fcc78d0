from marshmallow import ValidationError, fields, validate, validates_schema

from core.auth.models import Role
from core.auth.services import MIN_PASSWORD_LENGTH
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


class Password(fields.String):
    """Kept exactly as typed (no trimming); an empty input counts as missing."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001
        value = super()._deserialize(value, attr, data, **kwargs)
        if value == "":
            raise ValidationError(self.error_messages["required"])
        return value


def new_password() -> Password:
    return Password(
        required=True, validate=[validate.Length(min=MIN_PASSWORD_LENGTH), validate.Length(max=200)]
    )


class NewPasswordMixin:
    """A new password typed twice: the second must match the first."""

    password = new_password()
    password_confirm = Password(required=True, validate=validate.Length(max=200))

    @validates_schema
    def passwords_match(self, data: dict, **kwargs) -> None:
        if "password" in data and "password_confirm" in data and data["password"] != data["password_confirm"]:
            raise ValidationError("Les deux mots de passe ne correspondent pas.", "password_confirm")


class SignupFormSchema(NewPasswordMixin, BaseSchema):
    name = text(120)
    email = LowerEmail(required=True, validate=validate.Length(max=254))


class EmailFormSchema(BaseSchema):
    """Resend confirmation, forgotten password: only an address."""

    email = LowerEmail(required=True, validate=validate.Length(max=254))


class ResetPasswordFormSchema(NewPasswordMixin, BaseSchema):
    pass


class ChangePasswordFormSchema(NewPasswordMixin, BaseSchema):
    current_password = Password(required=True, validate=validate.Length(max=200))
