"""Case schemas: nested create (victims, offences, identifiers, evidence in one request), edits, output."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_dump, validate, validates_schema

from casework.identifiers import InvalidIdentifier, normalise
from casework.models.cases import (
    TIP_CHANNELS,
    CaseOutcome,
    CaseStatus,
    EvidenceKind,
    Gender,
    IntakeChannel,
    OffenceStatus,
)
from casework.models.identifiers import IdentifierKind, IdentifierRole
from casework.schemas.base import BaseSchema, Id, PageSchema, PaginationQuerySchema

EARLIEST = date(1900, 1, 1)
_CODE = validate.Regexp(r"^[a-z0-9_]{1,40}$", error="Lower-case code, e.g. 'telegram'.")
_CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="ISO 4217 code, e.g. MYR.")
_SHA256 = validate.Regexp(r"^[0-9a-fA-F]{64}$", error="64 hexadecimal characters (SHA-256).")


def _today() -> date:
    return datetime.now(UTC).date()


def _not_future(value: date) -> None:
    if value > _today():
        raise ValidationError("Must not be in the future.")
    if value < EARLIEST:
        raise ValidationError("Must not be before 1900.")


def Money(*, digits: int, **kw: Any) -> fields.Decimal:  # noqa: N802
    """An amount in the currency's units, bounded by its column: `numeric(digits, 2)`."""
    largest = Decimal(10 ** (digits - 2)) - Decimal("0.01")
    bounds = {"minimum": 0, "maximum": float(largest)}  # documented as numbers, not Decimal strings
    return fields.Decimal(places=2, as_string=True, validate=validate.Range(min=0, max=largest), metadata=bounds, **kw)


def PastDate(**kw: Any) -> fields.Date:  # noqa: N802
    return fields.Date(validate=_not_future, **kw)


class DemandsSchema(BaseSchema):
    money = fields.Boolean(load_default=False)
    amount = Money(digits=14, allow_none=True, load_default=None)
    currency = fields.String(allow_none=True, load_default=None, validate=_CURRENCY)
    images = fields.Boolean(load_default=False)
    acts = fields.Boolean(load_default=False)
    notes = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))

    @validates_schema
    def _amount_needs_money(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("amount") is not None and not data.get("money"):
            raise ValidationError("An amount is only meaningful when money is demanded.", "amount")


class PaymentsSchema(BaseSchema):
    count = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=1000))
    total = Money(digits=14, allow_none=True, load_default=None)
    currency = fields.String(allow_none=True, load_default=None, validate=_CURRENCY)

    @validates_schema
    def _total_needs_count(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("total") and not data.get("count"):
            raise ValidationError("A total paid needs the number of payments.", "count")


class RiskSchema(BaseSchema):
    """The four key questions (danger, exposure threat, demands, evidence) and self-harm."""

    immediate_danger = fields.Boolean(allow_none=True, load_default=None)
    threat_of_exposure = fields.Boolean(allow_none=True, load_default=None)
    evidence_held = fields.Boolean(allow_none=True, load_default=None)
    self_harm = fields.Boolean(allow_none=True, load_default=None)
    notes = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=4000))


class VictimCreateSchema(BaseSchema):
    key = fields.String(
        load_default=None, validate=validate.Length(min=1, max=40), metadata={"description": "Request-local name"}
    )
    pseudonym = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    full_name = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    national_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    date_of_birth = PastDate(allow_none=True, load_default=None)
    phone = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=40))
    email = fields.Email(allow_none=True, load_default=None, validate=validate.Length(max=254))
    safe_contact_instructions = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    gender = fields.Enum(Gender, by_value=True, load_default=Gender.UNDISCLOSED)
    age_years = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=0, max=120))
    declared_annual_income = Money(digits=12, allow_none=True, load_default=None)

    @validates_schema
    def _phone_is_valid(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("phone"):
            try:
                normalise(IdentifierKind.PHONE, data["phone"])
            except InvalidIdentifier as exc:
                raise ValidationError(str(exc), "phone") from exc


def AgeRuleReason(**kw: Any) -> fields.String:  # noqa: N802
    return fields.String(
        allow_none=True,
        validate=validate.Length(min=10, max=2000),
        metadata={
            "description": "Why a children-only section (SOAC, CMA 233(3), PC 377E) concerns a victim "
            "who was older at the incident; without it such a link is refused (recorded and audited)"
        },
        **kw,
    )


class OffenceCreateSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=32))
    status = fields.Enum(OffenceStatus, by_value=True, load_default=OffenceStatus.SUSPECTED)
    attempted = fields.Boolean(load_default=False)
    notes = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    age_rule_reason = AgeRuleReason(load_default=None)


class NestedOffenceSchema(OffenceCreateSchema):
    victims = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=None,
        metadata={"description": "Victim keys from this request; omitted = every victim of the case"},
    )


_VERSION = {"description": "The case version last read (or send If-Match with the case's ETag)"}


class OffenceAddSchema(OffenceCreateSchema):
    victim_ids = fields.List(Id(), load_default=None, metadata={"description": "Omitted = every victim"})
    version = fields.Integer(strict=True, validate=validate.Range(min=1), metadata=_VERSION)


class OffenceUpdateSchema(BaseSchema):
    status = fields.Enum(OffenceStatus, by_value=True)
    attempted = fields.Boolean()
    victim_ids = fields.List(Id(), validate=validate.Length(min=1))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    age_rule_reason = AgeRuleReason()
    version = fields.Integer(strict=True, validate=validate.Range(min=1), metadata=_VERSION)


class _NormalisedIdentifier(BaseSchema):
    """Adds data['normalised'] = (qualifier, value), or a field error on 'value' saying why not."""

    @validates_schema
    def _normalises(self, data: dict[str, Any], **_: Any) -> None:
        if "kind" in data and data.get("value"):
            try:
                data["normalised"] = normalise(data["kind"], data["value"], data.get("qualifier"))
            except InvalidIdentifier as exc:
                raise ValidationError(str(exc), "value") from exc


class IdentifierCreateSchema(_NormalisedIdentifier):
    kind = fields.Enum(IdentifierKind, by_value=True, required=True)
    value = fields.String(required=True, validate=validate.Length(min=1, max=512))
    qualifier = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "Platform (username), bank (bank_account) or provider (ewallet)"},
    )
    role = fields.Enum(IdentifierRole, by_value=True, load_default=IdentifierRole.CONTACT)
    first_seen_on = PastDate(allow_none=True, load_default=None)


class EvidenceCreateSchema(BaseSchema):
    kind = fields.Enum(EvidenceKind, by_value=True, required=True)
    description = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=4000))
    url = fields.Url(allow_none=True, load_default=None, schemes={"http", "https"})
    platform = fields.String(allow_none=True, load_default=None, validate=_CODE)
    sha256 = fields.String(allow_none=True, load_default=None, validate=_SHA256)
    captured_at = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=UTC)
    captured_by = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))

    @validates_schema
    def _posted_url_has_url(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == EvidenceKind.POSTED_URL and not data.get("url"):
            raise ValidationError("The address where material was posted is required.", "url")
        if data.get("captured_at") and data["captured_at"] > datetime.now(UTC):
            raise ValidationError("Must not be in the future.", "captured_at")


class _CaseFieldsSchema(BaseSchema):
    """Fields shared by create and update."""

    reported_to_police = fields.Boolean()
    reported_to_police_on = PastDate(allow_none=True)
    police_report_number = fields.String(allow_none=True, validate=validate.Length(max=64))
    received_on = PastDate()
    incident_started_on = PastDate(allow_none=True)
    incident_ended_on = fields.Date(allow_none=True)
    state = fields.String(allow_none=True, validate=validate.Regexp(r"^MY-\d{2}$", error="e.g. MY-14"))
    contact_platform = fields.String(allow_none=True, validate=_CODE)
    moved_to_platforms = fields.List(fields.String(validate=_CODE), validate=validate.Length(max=20))
    abuse_types = fields.List(fields.String(validate=_CODE), validate=validate.Length(max=20))
    demands = fields.Nested(DemandsSchema)
    payments = fields.Nested(PaymentsSchema)
    material_released = fields.Boolean(allow_none=True)
    risk = fields.Nested(RiskSchema)
    notes = fields.String(allow_none=True, validate=validate.Length(max=20000))
    tip_source = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "Who tipped (platform_tip, agency_tip): MCMC, a platform, a foreign hotline"},
    )
    group_member_count = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0, max=100_000_000),
        metadata={"description": "A group or channel at the heart of the case: its members"},
    )
    unidentified_victim_count = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0, max=100_000_000),
        metadata={
            "description": "Victims believed affected but not identified (an estimate; never counted as victims)"
        },
    )

    @validates_schema
    def _unidentified_within_the_group(self, data: dict[str, Any], **_: Any) -> None:
        members, unidentified = data.get("group_member_count"), data.get("unidentified_victim_count")
        if members is not None and unidentified is not None and unidentified > members:
            raise ValidationError("Must not exceed group_member_count.", "unidentified_victim_count")

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("incident_started_on"), data.get("incident_ended_on")
        received, reported = data.get("received_on"), data.get("reported_to_police_on")
        errors: dict[str, list[str]] = {}
        if start and end and end < start:
            errors["incident_ended_on"] = ["Must not be before incident_started_on."]
        if start and received and start > received:
            errors["incident_started_on"] = ["Must not be after received_on."]
        if reported and start and reported < start:
            errors["reported_to_police_on"] = ["Must not be before incident_started_on."]
        if data.get("reported_to_police") is False and (reported or data.get("police_report_number")):
            errors["reported_to_police"] = ["Must be true when a police report date or number is given."]
        if errors:
            raise ValidationError(errors)


class CaseCreateSchema(_CaseFieldsSchema):
    intake_channel = fields.Enum(
        IntakeChannel,
        by_value=True,
        required=True,
        metadata={
            "description": "police_initiative: the unit's own investigation, no report; platform_tip, "
            "agency_tip: a platform's report or an agency's tip (name it in tip_source)"
        },
    )
    received_on = PastDate(required=True)
    assignee_id = Id(allow_none=True, load_default=None)
    victims = fields.List(fields.Nested(VictimCreateSchema), load_default=list, validate=validate.Length(max=500))
    offences = fields.List(fields.Nested(NestedOffenceSchema), load_default=list, validate=validate.Length(max=100))
    identifiers = fields.List(
        fields.Nested(IdentifierCreateSchema), load_default=list, validate=validate.Length(max=500)
    )
    evidence = fields.List(fields.Nested(EvidenceCreateSchema), load_default=list, validate=validate.Length(max=500))

    @validates_schema
    def _tip_source_with_a_tip(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("tip_source") and data.get("intake_channel") not in TIP_CHANNELS:
            raise ValidationError("Only for the platform_tip and agency_tip intake channels.", "tip_source")

    @validates_schema
    def _victim_keys_resolve(self, data: dict[str, Any], **_: Any) -> None:
        victims = data.get("victims") or []
        keys = [v.get("key") or f"v{i + 1}" for i, v in enumerate(victims)]
        if len(set(keys)) != len(keys):
            raise ValidationError("Victim keys must be unique within the case.", "victims")
        errors: dict[int, dict[str, list[str]]] = {}
        for index, offence in enumerate(data.get("offences") or []):
            named = offence.get("victims")
            if named is None:
                if not victims:
                    errors[index] = {"victims": ["The case has no victims to link this offence to."]}
                continue
            unknown = sorted(set(named) - set(keys))
            if unknown:
                errors[index] = {"victims": [f"Not a victim of this case: {', '.join(unknown)}."]}
            elif not named:
                errors[index] = {"victims": ["An offence is committed against at least one victim."]}
        codes = [" ".join(o.get("code", "").upper().split()) for o in data.get("offences") or []]
        for index, code in enumerate(codes):
            if code and codes.index(code) != index:
                errors.setdefault(index, {})["code"] = ["The same offence code twice; link both victims instead."]
        if errors:
            raise ValidationError({"offences": errors})


class CaseUpdateSchema(_CaseFieldsSchema):
    """PATCH: only the fields sent change. Send the version (or If-Match) you last read."""

    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class TransitionSchema(BaseSchema):
    to = fields.Enum(CaseStatus, by_value=True, required=True)
    outcome = fields.Enum(CaseOutcome, by_value=True, load_default=None)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))

    @validates_schema
    def _closing_needs_outcome(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("to") == CaseStatus.CLOSED and not data.get("outcome"):
            raise ValidationError("Closing a case needs an outcome.", "outcome")
        if data.get("to") != CaseStatus.CLOSED and data.get("outcome"):
            raise ValidationError("An outcome is only given when closing.", "outcome")


class AssignmentSchema(BaseSchema):
    assignee_id = Id(required=True, allow_none=True)


class CaseQuerySchema(PaginationQuerySchema):
    reference = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9-]{1,32}$", error="A case reference or its start, e.g. D11-2026-0001."),
        metadata={"description": "A case reference (D11-2026-000123) or its start (D11-2026-00)"},
    )
    police_report_number = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "As on the police report, any case"}
    )
    status = fields.Enum(CaseStatus, by_value=True)
    state = fields.String(validate=validate.Regexp(r"^MY-\d{2}$"))
    offence = fields.String(validate=validate.Length(min=2, max=32), metadata={"description": "e.g. PC 383"})
    abuse_type = fields.String(validate=_CODE)
    platform = fields.String(validate=_CODE)
    received_from = fields.Date()
    received_to = fields.Date()
    assignee_id = Id()
    identifier_kind = fields.Enum(IdentifierKind, by_value=True)
    identifier = fields.String(validate=validate.Length(min=1, max=512))
    qualifier = fields.String(validate=validate.Length(max=64))
    sort = fields.String(
        load_default="-received_on",
        validate=validate.OneOf(
            ["received_on", "-received_on", "reference", "-reference", "updated_at", "-updated_at"]
        ),
    )

    @validates_schema
    def _identifier_pair(self, data: dict[str, Any], **_: Any) -> None:
        if ("identifier" in data) != ("identifier_kind" in data):
            raise ValidationError("identifier and identifier_kind go together.", "identifier")
        if "identifier" in data:
            try:
                data["identifier_normalised"] = normalise(
                    data["identifier_kind"], data["identifier"], data.get("qualifier")
                )
            except InvalidIdentifier as exc:
                raise ValidationError(str(exc), "identifier") from exc
        if data.get("received_from") and data.get("received_to") and data["received_from"] > data["received_to"]:
            raise ValidationError("Must not be after received_to.", "received_from")


class CaseGetQuerySchema(BaseSchema):
    include_identity = fields.Boolean(
        load_default=False, metadata={"description": "Return victims' identity and contact (audited)"}
    )


class LookupQuerySchema(_NormalisedIdentifier):
    kind = fields.Enum(IdentifierKind, by_value=True, required=True)
    value = fields.String(required=True, validate=validate.Length(min=1, max=512))
    qualifier = fields.String(load_default=None, validate=validate.Length(max=64))


# ---------------------------------------------------------------- output


class OrganisationRefSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String(attribute="kind.value")


class VictimSchema(BaseSchema):
    """Pseudonymised by default; identity fields are added only for allowed roles on request."""

    IDENTITY_FIELDS = ("full_name", "national_id", "date_of_birth", "phone", "email", "safe_contact_instructions")

    id = fields.Integer()
    pseudonym = fields.String()
    gender = fields.Enum(Gender, by_value=True)
    age_years = fields.Integer(allow_none=True)
    is_minor = fields.Boolean()
    full_name = fields.String(allow_none=True)
    national_id = fields.String(allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    safe_contact_instructions = fields.String(allow_none=True)
    declared_annual_income = fields.Decimal(
        as_string=True, allow_none=True, metadata={"type": "string", "format": "decimal", "example": "24000.00"}
    )

    @post_dump(pass_original=True)
    def _need_to_know(self, data: dict[str, Any], original: Any, **_: Any) -> dict[str, Any]:
        if not getattr(original, "_identity_released", False):
            for name in (*self.IDENTITY_FIELDS, "declared_annual_income"):
                data.pop(name, None)
        return data


class OffenceSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String(attribute="offence_code.code")
    statute = fields.String(attribute="offence_code.statute")
    section = fields.String(attribute="offence_code.section")
    title = fields.String(attribute="offence_code.title")
    severity_rank = fields.Integer(attribute="offence_code.severity_rank")
    is_confirmed = fields.Boolean(attribute="offence_code.is_confirmed")
    status = fields.Enum(OffenceStatus, by_value=True)
    attempted = fields.Boolean()
    notes = fields.String(allow_none=True)
    age_rule_reason = fields.String(allow_none=True)
    victim_ids = fields.Method("_victim_ids")

    def _victim_ids(self, offence: Any) -> list[int]:
        return [v.id for v in offence.victims]


class CaseIdentifierSchema(BaseSchema):
    id = fields.Integer()
    identifier_id = fields.Integer()
    kind = fields.String(attribute="identifier.kind.value")
    qualifier = fields.String(attribute="identifier.qualifier")
    value = fields.String(attribute="identifier.value")
    raw_value = fields.String()
    role = fields.Enum(IdentifierRole, by_value=True)
    first_seen_on = fields.Date(allow_none=True)


class EvidenceSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.Enum(EvidenceKind, by_value=True)
    description = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    captured_at = fields.DateTime(allow_none=True)
    captured_by = fields.String(allow_none=True)
    custody_log = fields.List(fields.Dict())
    created_at = fields.DateTime()


def _group(prefix: str, names: tuple[str, ...]) -> Any:
    return lambda case: {name: getattr(case, f"{prefix}{name}") for name in names}


class CaseSummarySchema(BaseSchema):
    id = fields.Integer()
    reference = fields.String()
    organisation = fields.Nested(OrganisationRefSchema)
    intake_channel = fields.Enum(IntakeChannel, by_value=True)
    status = fields.Enum(CaseStatus, by_value=True)
    outcome = fields.Enum(CaseOutcome, by_value=True, allow_none=True)
    received_on = fields.Date()
    state = fields.String(attribute="state_code", allow_none=True)
    reported_to_police = fields.Boolean()
    has_minor_victim = fields.Boolean()
    risk_level = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    offence_codes = fields.Method("_codes")
    most_serious_offence = fields.Method("_most_serious")
    victim_count = fields.Method("_victim_count")
    version = fields.Integer()
    updated_at = fields.DateTime()

    def _codes(self, case: Any) -> list[str]:
        return [o.offence_code.code for o in case.offences]

    def _most_serious(self, case: Any) -> str | None:
        offence = case.most_serious_offence()
        return offence.offence_code.code if offence else None

    def _victim_count(self, case: Any) -> int:
        return len(case.victims)


class CaseSchema(CaseSummarySchema):
    reported_to_police_on = fields.Date(allow_none=True)
    police_report_number = fields.String(allow_none=True)
    incident_started_on = fields.Date(allow_none=True)
    incident_ended_on = fields.Date(allow_none=True)
    contact_platform = fields.String(allow_none=True)
    moved_to_platforms = fields.List(fields.String())
    abuse_types = fields.List(fields.String())
    demands = fields.Function(_group("demand_", ("money", "amount", "currency", "images", "acts", "notes")))
    payments = fields.Function(_group("payments_", ("count", "total", "currency")))
    material_released = fields.Boolean(allow_none=True)
    risk = fields.Method("_risk")
    notes = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    police_case_id = fields.Integer(allow_none=True)
    tip_source = fields.String(allow_none=True)
    group_member_count = fields.Integer(allow_none=True)
    unidentified_victim_count = fields.Integer(
        allow_none=True, metadata={"description": "Believed affected, not identified: not in victim_count"}
    )
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    victims = fields.List(fields.Nested(VictimSchema))
    offences = fields.List(fields.Nested(OffenceSchema))
    identifiers = fields.List(fields.Nested(CaseIdentifierSchema))
    evidence = fields.List(fields.Nested(EvidenceSchema))

    def _risk(self, case: Any) -> dict[str, Any]:
        names = ("immediate_danger", "threat_of_exposure", "evidence_held", "self_harm", "notes")
        risk = {name: getattr(case, f"risk_{name}") for name in names}
        return {**risk, "victim_is_minor": case.has_minor_victim, "level": case.risk_level}

    @post_dump
    def _money_as_strings(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for group, key in (("demands", "amount"), ("payments", "total")):
            value = data.get(group, {}).get(key)
            if value is not None:
                data[group][key] = str(value)
        return data


class CasePageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSummarySchema))
    total_is_capped = fields.Boolean(
        metadata={"description": "True when more than 500 cases match: total is then 500; narrow the filter"}
    )


class LinkedCaseSchema(BaseSchema):
    """Another case naming the same identifier: full summary in scope, organisation only outside."""

    identifier = fields.Dict()
    in_scope = fields.Boolean()
    case = fields.Nested(CaseSummarySchema, allow_none=True)
    organisation = fields.Nested(OrganisationRefSchema)
    case_count = fields.Integer()


class LookupResultSchema(BaseSchema):
    identifier = fields.Dict(allow_none=True)
    cases = fields.List(fields.Nested(CaseSummarySchema), metadata={"description": "The newest 100 in your scope"})
    cases_total = fields.Integer(metadata={"description": "All cases in your scope naming it"})
    elsewhere = fields.List(fields.Dict(), metadata={"description": "Organisations with matching cases you cannot see"})
