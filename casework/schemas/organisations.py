"""Organisation schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from casework.models.organisations import OrganisationKind
from casework.schemas.base import BaseSchema


class OrganisationSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(OrganisationKind, by_value=True)
    code = fields.String()
    agency_acronym = fields.String(allow_none=True)
    is_active = fields.Boolean()


class OrganisationCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9]{2,16}$", error="2 to 16 letters or digits."),
    )
    agency_acronym = fields.String(load_default=None, validate=validate.Length(max=32))


class OrganisationQuerySchema(BaseSchema):
    kind = fields.Enum(OrganisationKind, by_value=True, load_default=None)
