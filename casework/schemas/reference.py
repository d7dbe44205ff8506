"""Reference data schemas (read-only)."""

from __future__ import annotations

from marshmallow import fields, validate

from casework.offence_ages import victim_age_limit
from casework.schemas.base import BaseSchema


class OffenceCodeSchema(BaseSchema):
    code = fields.String()
    statute = fields.String()
    statute_code = fields.String()
    section = fields.String()
    title = fields.String()
    max_punishment = fields.String()
    severity_rank = fields.Integer()
    punished_under = fields.String(attribute="punished_under.code", allow_none=True)
    is_definition = fields.Boolean()
    is_addon = fields.Boolean()
    is_confirmed = fields.Boolean()
    note = fields.String(allow_none=True)
    victim_under_age = fields.Function(
        victim_age_limit,
        allow_none=True,
        metadata={"description": "Children-only sections: the age the victim was under at the incident"},
    )


class OffenceQuerySchema(BaseSchema):
    q = fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "Section (376, 233(3)), statute (PC, SOAC) or words of the title (rape)"},
    )


class PaymentProviderSchema(BaseSchema):
    code = fields.String(metadata={"description": "The qualifier stored for this bank or e-wallet"})
    kind = fields.String(metadata={"description": "bank | ewallet"})
    name = fields.String()
    swift = fields.String(allow_none=True, metadata={"description": "SWIFT/BIC (banks)"})
    aliases = fields.List(fields.String(), metadata={"description": "Other spellings that mean this provider"})
    is_confirmed = fields.Boolean(metadata={"description": "False: the SWIFT/BIC is not yet verified"})
    note = fields.String(allow_none=True)


class CodeNameSchema(BaseSchema):
    code = fields.String()
    name = fields.String()


class AgencySchema(BaseSchema):
    acronym = fields.String()
    name = fields.String()
    type = fields.String()
    channels = fields.List(fields.Dict())
    hours = fields.String(allow_none=True)
    eligibility = fields.Dict()
    referral_consent_required = fields.Boolean()
    is_confirmed = fields.Boolean()
    note = fields.String(allow_none=True)
