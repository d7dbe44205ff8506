"""Consent and referral schemas: input, the sender's view, and the recipient's view, which dumps
the shared snapshot through one dedicated schema per purpose (only the fields it shares)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from casework.models.referrals import (
    ConsentDecision,
    ConsentMethod,
    ReferralPurpose,
    ReferralStatus,
    TakedownItemStatus,
)
from casework.referral_purposes import PURPOSES
from casework.schemas.base import BaseSchema, Id, PageSchema, PaginationQuerySchema
from casework.schemas.cases import OrganisationRefSchema

_ACRONYM = validate.Regexp(r"^[A-Za-z0-9]{2,32}$", error="An agency acronym, e.g. MCMC.")
_CODE = validate.Regexp(r"^[a-z0-9_]{1,40}$", error="Lower-case code, e.g. 'telegram'.")
_SHA256 = validate.Regexp(r"^[0-9a-fA-F]{64}$", error="64 hexadecimal characters (SHA-256).")
_NOTE = validate.Length(max=2000)


def _not_future(value: datetime) -> None:
    if value > datetime.now(UTC):
        raise ValidationError("Must not be in the future.")


# ---------------------------------------------------------------- input


class ConsentCreateSchema(BaseSchema):
    victim_id = Id(required=True)
    agency = fields.String(required=True, validate=_ACRONYM)
    purpose = fields.Enum(ReferralPurpose, by_value=True, required=True)
    decision = fields.Enum(ConsentDecision, by_value=True, required=True)
    method = fields.Enum(ConsentMethod, by_value=True, required=True, metadata={"description": "How it was given"})
    includes_identity = fields.Boolean(
        load_default=False, metadata={"description": "Takedown only: the victim agrees to be named to the agency"}
    )
    obtained_at = fields.AwareDateTime(
        load_default=None, default_timezone=UTC, validate=_not_future, metadata={"description": "Default: now"}
    )
    note = fields.String(load_default=None, validate=_NOTE)


class ConsentWithdrawalSchema(BaseSchema):
    method = fields.Enum(ConsentMethod, by_value=True, required=True)
    note = fields.String(load_default=None, validate=_NOTE)


class TakedownItemInputSchema(BaseSchema):
    evidence_id = Id(load_default=None, metadata={"description": "Evidence of the case with an address"})
    url = fields.Url(load_default=None, schemes={"http", "https"}, validate=validate.Length(max=2000))
    platform = fields.String(load_default=None, validate=_CODE)
    sha256 = fields.String(load_default=None, validate=_SHA256)

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("evidence_id") is None) == (data.get("url") is None):
            raise ValidationError("Give either evidence_id or url.", "url")
        if data.get("evidence_id") is not None and (data.get("platform") or data.get("sha256")):
            raise ValidationError("Taken from the evidence; leave out.", "platform")


class ReferralCreateSchema(BaseSchema):
    victim_id = Id(required=True)
    agency = fields.String(required=True, validate=_ACRONYM)
    purpose = fields.Enum(ReferralPurpose, by_value=True, required=True)
    recipient_organisation_id = Id(
        load_default=None, metadata={"description": "Needed when several organisations receive for the agency"}
    )
    note = fields.String(load_default=None, validate=_NOTE, metadata={"description": "Covering note to the recipient"})
    override_consent_reason = fields.String(
        load_default=None,
        validate=validate.Length(min=10, max=2000),
        metadata={"description": "Send without the victim's consent (needs referral.override_consent)"},
    )
    takedown_items = fields.List(
        fields.Nested(TakedownItemInputSchema),
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Takedown only; default: every posted address of the case"},
    )

    @validates_schema
    def _reason_is_words(self, data: dict[str, Any], **_: Any) -> None:
        reason = data.get("override_consent_reason")
        if reason is not None and len(reason.strip()) < 10:
            raise ValidationError("Give the reason in words (at least 10 characters).", "override_consent_reason")


class ReferralNoteSchema(BaseSchema):
    note = fields.String(load_default=None, validate=_NOTE)


class ReferralCompleteSchema(BaseSchema):
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    note = fields.String(load_default=None, validate=_NOTE)


class ReferralDeclineSchema(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    note = fields.String(load_default=None, validate=_NOTE)


class TakedownItemUpdateSchema(BaseSchema):
    status = fields.Enum(
        TakedownItemStatus,
        by_value=True,
        required=True,
        validate=validate.OneOf([s for s in TakedownItemStatus if s != TakedownItemStatus.REQUESTED]),
    )
    occurred_at = fields.AwareDateTime(
        load_default=None, default_timezone=UTC, validate=_not_future, metadata={"description": "Default: now"}
    )
    note = fields.String(load_default=None, validate=_NOTE)


class PoliceCaseLinkSchema(BaseSchema):
    police_case_id = Id(required=True)


class ReferralQuerySchema(PaginationQuerySchema):
    box = fields.String(
        validate=validate.OneOf(["inbox", "outbox"]),
        metadata={"description": "inbox: addressed to my organisation; outbox: of cases I work; default both"},
    )
    status = fields.Enum(ReferralStatus, by_value=True)
    agency = fields.String(validate=_ACRONYM)
    purpose = fields.Enum(ReferralPurpose, by_value=True)
    case_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    overdue = fields.Boolean()


# ---------------------------------------------------------------- output: consents


class ConsentSchema(BaseSchema):
    id = fields.Integer()
    victim_id = fields.Integer()
    agency = fields.String(attribute="agency_acronym")
    purpose = fields.Enum(ReferralPurpose, by_value=True)
    decision = fields.Enum(ConsentDecision, by_value=True)
    state = fields.String(metadata={"description": "given, refused, withdrawn or superseded"})
    method = fields.Enum(ConsentMethod, by_value=True)
    includes_identity = fields.Boolean()
    obtained_at = fields.DateTime()
    recorded_at = fields.DateTime()
    recorded_by_id = fields.Integer()
    note = fields.String(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawn_by_id = fields.Integer(allow_none=True)
    withdrawal_method = fields.Enum(ConsentMethod, by_value=True, allow_none=True)
    withdrawal_note = fields.String(allow_none=True)
    superseded_at = fields.DateTime(allow_none=True)


# ---------------------------------------------------------------- output: what each purpose shares
# The snapshot holds plain JSON (dates and money as strings); these schemas pick the fields.


class SharedIdentifierSchema(Schema):
    kind = fields.String()
    qualifier = fields.String()
    value = fields.String()
    role = fields.String()


class SharedEvidenceSchema(Schema):
    kind = fields.String()
    url = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    captured_at = fields.String(allow_none=True)


class SharedDescribedEvidenceSchema(SharedEvidenceSchema):
    description = fields.String(allow_none=True)


class SharedOffenceSchema(Schema):
    code = fields.String()
    title = fields.String()
    status = fields.String()
    attempted = fields.Boolean()


class SharedCaseSummarySchema(Schema):
    received_on = fields.String()
    incident_started_on = fields.String(allow_none=True)
    incident_ended_on = fields.String(allow_none=True)
    intake_channel = fields.String()
    abuse_types = fields.List(fields.String())
    contact_platform = fields.String(allow_none=True)
    moved_to_platforms = fields.List(fields.String())
    material_released = fields.Boolean(allow_none=True)
    reported_to_police = fields.Boolean()
    reported_to_police_on = fields.String(allow_none=True)
    police_report_number = fields.String(allow_none=True)
    risk_level = fields.String()
    has_minor_victim = fields.Boolean()
    demands = fields.Dict()
    payments = fields.Dict()


class EligibilitySchema(Schema):
    scheme = fields.String(metadata={"description": "JBG or YBGK (also the agency acronym)"})
    aid = fields.String(metadata={"description": "full, partial_with_contribution, ministerial_approval, ..."})
    qualifies = fields.Boolean(allow_none=True)
    basis = fields.String(metadata={"description": "annual or monthly income"})
    max_income = fields.String(allow_none=True)
    effective_from = fields.String(allow_none=True)
    source = fields.String(allow_none=True)


class SharedRiskSchema(Schema):
    risk_level = fields.String()
    has_minor_victim = fields.Boolean()


class TakedownVictimSchema(Schema):
    is_minor = fields.Boolean()
    full_name = fields.String(allow_none=True)  # the three below only when the consent includes identity
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class TakedownShareSchema(Schema):
    victim = fields.Nested(TakedownVictimSchema)
    platforms = fields.List(fields.String())
    identifiers = fields.List(fields.Nested(SharedIdentifierSchema))


class LegalAidVictimSchema(Schema):
    full_name = fields.String(allow_none=True)
    national_id = fields.String(allow_none=True)
    date_of_birth = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    safe_contact_instructions = fields.String(allow_none=True)
    gender = fields.String()
    age_years = fields.Integer(allow_none=True)
    is_minor = fields.Boolean()
    declared_annual_income = fields.String(allow_none=True)


class LegalAidShareSchema(Schema):
    victim = fields.Nested(LegalAidVictimSchema)
    case_summary = fields.Nested(SharedCaseSummarySchema)
    offences = fields.List(fields.Nested(SharedOffenceSchema))
    legal_aid_eligibility = fields.List(fields.Nested(EligibilitySchema))


class SafeContactSchema(Schema):
    pseudonym = fields.String()
    phone = fields.String(allow_none=True)
    safe_contact_instructions = fields.String(allow_none=True)


class CounsellingShareSchema(Schema):
    victim = fields.Nested(SafeContactSchema)


class IncidentVictimSchema(SafeContactSchema):
    email = fields.String(allow_none=True)


class IncidentHelpShareSchema(Schema):
    victim = fields.Nested(IncidentVictimSchema)
    platforms = fields.List(fields.String())
    identifiers = fields.List(fields.Nested(SharedIdentifierSchema))
    evidence = fields.List(fields.Nested(SharedEvidenceSchema))


class PoliceVictimSchema(LegalAidVictimSchema):
    class Meta:
        exclude = ("declared_annual_income",)


class PoliceReportShareSchema(Schema):
    victim = fields.Nested(PoliceVictimSchema)
    case_summary = fields.Nested(SharedCaseSummarySchema)
    offences = fields.List(fields.Nested(SharedOffenceSchema))
    identifiers = fields.List(fields.Nested(SharedIdentifierSchema))
    evidence = fields.List(fields.Nested(SharedDescribedEvidenceSchema))


class HelplineVictimSchema(SafeContactSchema):
    is_minor = fields.Boolean()


class HelplineShareSchema(Schema):
    victim = fields.Nested(HelplineVictimSchema)
    risk = fields.Nested(SharedRiskSchema)


SHARE_SCHEMAS: dict[ReferralPurpose, Schema] = {
    ReferralPurpose.TAKEDOWN: TakedownShareSchema(),
    ReferralPurpose.LEGAL_AID: LegalAidShareSchema(),
    ReferralPurpose.COUNSELLING: CounsellingShareSchema(),
    ReferralPurpose.INCIDENT_HELP: IncidentHelpShareSchema(),
    ReferralPurpose.POLICE_REPORT: PoliceReportShareSchema(),
    ReferralPurpose.HELPLINE: HelplineShareSchema(),
}


# ---------------------------------------------------------------- output: referrals


class TakedownItemSchema(BaseSchema):
    id = fields.Integer()
    evidence_id = fields.Integer(allow_none=True)
    url = fields.String()
    platform = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    status = fields.Enum(TakedownItemStatus, by_value=True)
    requested_at = fields.DateTime(allow_none=True)
    first_removed_at = fields.DateTime(allow_none=True)
    removed_at = fields.DateTime(allow_none=True)
    refused_at = fields.DateTime(allow_none=True)
    reuploaded_at = fields.DateTime(allow_none=True)
    hours_to_removal = fields.Float(allow_none=True)
    status_note = fields.String(allow_none=True)


class ReferralEventSchema(BaseSchema):
    id = fields.Integer()
    action = fields.String()
    from_status = fields.Enum(ReferralStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(ReferralStatus, by_value=True, allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor = fields.Method("_actor", metadata={"description": "Who acted: {id, name, organisation}; null: the system"})
    takedown_item_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    occurred_at = fields.DateTime()

    def _actor(self, event: Any) -> dict[str, Any] | None:
        user = event.actor
        if user is None:
            return None
        return {"id": user.id, "name": user.full_name, "organisation": user.organisation.name}


class PoliceCaseRefSchema(BaseSchema):
    """The police case an NGO case became: its reference and unit, not its contents."""

    id = fields.Integer()
    reference = fields.String()
    organisation = fields.Nested(OrganisationRefSchema)


# Fields only the sending side receives.
_SENDER_ONLY = ("victim_id", "consent_override_reason", "shared_fields")


class ReferralSummarySchema(BaseSchema):
    """A referral in a list. Which view (sender or recipient) is set by the service; without
    it, the recipient's (the smaller) is used."""

    id = fields.Integer()
    case_id = fields.Integer()
    case_reference = fields.String(attribute="case.reference")
    victim_id = fields.Integer()
    purpose = fields.Enum(ReferralPurpose, by_value=True)
    agency = fields.String(attribute="agency_acronym")
    sender_organisation = fields.Nested(OrganisationRefSchema)
    recipient_organisation = fields.Nested(OrganisationRefSchema)
    status = fields.Enum(ReferralStatus, by_value=True)
    view = fields.Method("_view", metadata={"description": "sender or recipient: which fields you receive"})
    consent = fields.Method("_consent")
    consent_override_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    due_acknowledge_at = fields.DateTime(allow_none=True)
    due_complete_at = fields.DateTime(allow_none=True)
    is_overdue = fields.Method("_is_overdue")
    acknowledge_overdue_at = fields.DateTime(allow_none=True)
    complete_overdue_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    shared_fields = fields.Method("_shared_fields", metadata={"description": "Sender: what the recipient receives"})
    shared_redacted_at = fields.DateTime(allow_none=True)
    takedown_items = fields.List(fields.Nested(TakedownItemSchema))
    police_case = fields.Method("_police_case")

    def _view(self, referral: Any) -> str:
        return getattr(referral, "_side", "recipient")

    def _consent(self, referral: Any) -> dict[str, Any]:
        withdrawn_at = referral.consent.withdrawn_at if referral.consent else None
        return {
            "basis": "consent" if referral.consent_id else "override",
            "consent_id": referral.consent_id,
            "withdrawn": withdrawn_at is not None,
            "withdrawn_at": withdrawn_at.isoformat() if withdrawn_at else None,
        }

    def _is_overdue(self, referral: Any) -> bool:
        return bool(referral.is_overdue(datetime.now(UTC)))

    def _shared_fields(self, referral: Any) -> list[str]:
        consent = referral.consent
        return PURPOSES[referral.purpose].shared_field_names(with_identity=bool(consent and consent.includes_identity))

    def _police_case(self, referral: Any) -> dict[str, Any] | None:
        police_case = getattr(referral, "_police_case", None)
        return PoliceCaseRefSchema().dump(police_case) if police_case is not None else None

    @post_dump(pass_original=True)
    def _need_to_know(self, data: dict[str, Any], referral: Any, **_: Any) -> dict[str, Any]:
        if getattr(referral, "_side", "recipient") == "sender":
            return data
        for name in _SENDER_ONLY:
            data.pop(name, None)
        data["consent"].pop("consent_id", None)
        for item in data.get("takedown_items") or []:
            item.pop("evidence_id", None)
            if referral.shared_redacted_at is not None:
                item.pop("url", None)
                item.pop("sha256", None)
        return data


class ReferralStateSchema(ReferralSummarySchema):
    """A referral with its events: the answer to an action (no shared data)."""

    events = fields.List(fields.Nested(ReferralEventSchema))


class ReferralSchema(ReferralStateSchema):
    """One referral as read: for the recipient, with the shared data of its purpose."""

    shared = fields.Method("_shared", metadata={"description": "Recipient: the shared data; null once withdrawn"})

    def _shared(self, referral: Any) -> dict[str, Any] | None:
        if getattr(referral, "_side", "recipient") == "sender" or not referral.shared:
            return None
        return SHARE_SCHEMAS[referral.purpose].dump(referral.shared)

    @post_dump(pass_original=True)
    def _sender_sees_names_not_values(self, data: dict[str, Any], referral: Any, **_: Any) -> dict[str, Any]:
        if getattr(referral, "_side", "recipient") == "sender":
            data.pop("shared", None)
        return data


class ReferralPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReferralSummarySchema))


# ---------------------------------------------------------------- output: the referral form


class AgencyOptionSchema(BaseSchema):
    acronym = fields.String()
    name = fields.String()
    recipient_organisations = fields.List(fields.Nested(OrganisationRefSchema))
    acknowledge_within_hours = fields.Float()
    critical_acknowledge_within_hours = fields.Float(allow_none=True)
    complete_within_days = fields.Integer()
    deadline_source = fields.String()


class PurposeOptionSchema(BaseSchema):
    purpose = fields.String()
    title = fields.String()
    shares = fields.List(fields.String())
    shares_with_identity_consent = fields.List(fields.String(), allow_none=True)
    notes = fields.String()
    agencies = fields.List(fields.Nested(AgencyOptionSchema))


class VictimReferralOptionsSchema(BaseSchema):
    victim_id = fields.Integer()
    pseudonym = fields.String()
    is_minor = fields.Boolean()
    legal_aid_eligibility = fields.List(fields.Nested(EligibilitySchema))
    consents = fields.List(fields.Nested(ConsentSchema), metadata={"description": "Current decisions"})


class ReferralFormSchema(BaseSchema):
    case_id = fields.Integer()
    victims = fields.List(fields.Nested(VictimReferralOptionsSchema))
    purposes = fields.List(fields.Nested(PurposeOptionSchema))
