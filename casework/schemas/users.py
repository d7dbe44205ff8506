"""User and login schemas. Passwords are load-only and never dumped."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import fields, validate

from casework.models.access_grants import AccessGrantStatus
from casework.models.users import Role, User
from casework.schemas.base import BaseSchema, Id
from casework.schemas.organisations import OrganisationSchema


class UserSchema(BaseSchema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    organisation = fields.Nested(OrganisationSchema)
    is_active = fields.Boolean()
    is_locked = fields.Method("_is_locked")
    has_second_factor = fields.Boolean(metadata={"description": "Enrolled in TOTP (an admin can reset it)"})
    last_login_at = fields.DateTime(allow_none=True)

    def _is_locked(self, user: User) -> bool:
        return user.is_locked(datetime.now(UTC))


class UserCreateSchema(BaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.Enum(Role, by_value=True, required=True)
    organisation_id = Id(required=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))


class UserUpdateSchema(BaseSchema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.Enum(Role, by_value=True)
    is_active = fields.Boolean()


class PasswordSetSchema(BaseSchema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))


class UserQuerySchema(BaseSchema):
    # A query string is text: not strict (Id() refused every value here), still a positive id.
    organisation_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


class LoginSchema(BaseSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class SecondFactorStateSchema(BaseSchema):
    next_step = fields.String(
        allow_none=True,
        metadata={"description": "mfa_required or mfa_enrolment_required while the login is half-way; else null"},
    )
    required = fields.Boolean(metadata={"description": "The role must use a second factor"})
    enrolled = fields.Boolean()
    recovery_codes_left = fields.Integer()


class MeSchema(BaseSchema):
    user = fields.Nested(UserSchema)
    permissions = fields.List(fields.String(), metadata={"description": "Empty until the second factor passes"})
    csrf_token = fields.String()
    session_expires_at = fields.DateTime()
    mfa = fields.Nested(SecondFactorStateSchema)


class SecondFactorCodeSchema(BaseSchema):
    code = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=6, max=64),
        metadata={"description": "6-digit code from the authenticator app, or a recovery code (at verification)"},
    )


class EnrolmentSchema(BaseSchema):
    secret = fields.String(metadata={"description": "Base32 secret, for typing into the app by hand"})
    otpauth_uri = fields.String()
    qr_svg_data_uri = fields.String(metadata={"description": "The otpauth URI as a QR code (SVG data URI)"})
    qr_png_data_uri = fields.String(metadata={"description": "The same QR code as a PNG data URI"})


class EnrolmentConfirmedSchema(MeSchema):
    recovery_codes = fields.List(fields.String(), metadata={"description": "Single-use; shown this once only"})


class AccessGrantSchema(BaseSchema):
    """A requested account; never its password."""

    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    organisation = fields.Nested(OrganisationSchema)
    status = fields.Enum(AccessGrantStatus, by_value=True)
    requested_by_id = fields.Integer()
    requested_at = fields.DateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    user_id = fields.Integer(allow_none=True)


class AccessGrantQuerySchema(BaseSchema):
    status = fields.Enum(AccessGrantStatus, by_value=True, load_default=None)
