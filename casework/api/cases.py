"""Cases: open with everything at once, read (identity on request, audited), list, edit with
optimistic concurrency, assign, move through the workflow, and add victims, offences,
identifiers and evidence."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import request

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.schemas.cases import (
    AssignmentSchema,
    CaseCreateSchema,
    CaseGetQuerySchema,
    CaseIdentifierSchema,
    CasePageSchema,
    CaseQuerySchema,
    CaseSchema,
    CaseUpdateSchema,
    EvidenceCreateSchema,
    EvidenceSchema,
    IdentifierCreateSchema,
    LinkedCaseSchema,
    OffenceAddSchema,
    OffenceSchema,
    OffenceUpdateSchema,
    TransitionSchema,
    VictimCreateSchema,
    VictimSchema,
)
from casework.services import cases, identifiers, offences, victims
from casework.services.scoping import get_visible_case

if TYPE_CHECKING:
    from casework.models.cases import Case

blp = Blueprint("cases", __name__, description="Case records")

_ETAG = re.compile(r'^(?:W/)?"?v?(\d+)"?$')


def _if_match() -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    match = _ETAG.match(raw.strip())
    if not match:
        raise ValidationFailed("Bad If-Match header.", {"headers.If-Match": ['Use the ETag you received, e.g. "v3".']})
    return int(match.group(1))


# Documented on every operation that answers a case, and the If-Match that PATCH reads.
ETAG = {"ETag": {"description": 'The case version, e.g. "v3": send it back as If-Match', "schema": {"type": "string"}}}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string", "example": '"v3"'},
    "description": "The ETag last read; a stale one is 412 and changes nothing (or send `version` in the body)",
}
CASE_EXAMPLE = {
    "intake_channel": "police_report",
    "received_on": "2026-03-02",
    "state": "MY-14",
    "contact_platform": "instagram",
    "moved_to_platforms": ["telegram"],
    "abuse_types": ["financial_sextortion"],
    "demands": {"money": True, "amount": "1000.00", "currency": "MYR"},
    "payments": {"count": 2, "total": "1000.00", "currency": "MYR"},
    "victims": [{"key": "v1", "full_name": "Example Person", "gender": "female", "age_years": 24}],
    "offences": [{"code": "PC 383", "victims": ["v1"]}, {"code": "CMA 233(1)"}],
    "identifiers": [{"kind": "phone", "value": "012-345 6789", "role": "contact"}],
    "evidence": [{"kind": "screenshot", "description": "Chat with the demand", "captured_at": "2026-03-02T10:00:00Z"}],
}


def _with_etag(case: Case) -> tuple[Case, dict[str, str]]:
    """The case with its ETag (the version), which the client sends back as If-Match."""
    return case, {"ETag": f'"v{case.version}"'}


@blp.route("", methods=["POST"])
@requires("case.create")
@blp.arguments(CaseCreateSchema(), example=CASE_EXAMPLE)
@blp.response(201, CaseSchema, headers=ETAG)
def create_case(data: dict[str, Any]) -> Any:
    """Open a case with its victims, offences, identifiers and evidence in one atomic request."""
    case = cases.create_case(actor=actor(), data=data)
    db.session.commit()
    return _with_etag(case)


@blp.route("", methods=["GET"])
@requires("case.read")
@blp.arguments(CaseQuerySchema(), location="query")
@blp.response(200, CasePageSchema)
def list_cases(filters: dict[str, Any]) -> Any:
    """Cases in your scope, filtered and paginated (victims are never named in lists)."""
    return cases.list_cases(actor=actor(), filters=filters)


@blp.route("/<int:case_id>", methods=["GET"])
@requires("case.read")
@blp.arguments(CaseGetQuerySchema(), location="query")
@blp.response(200, CaseSchema, headers=ETAG)
def get_case(args: dict[str, Any], case_id: int) -> Any:
    """One case. `include_identity=true` adds victims' identity for allowed roles (audited)."""
    case = cases.get_case(actor=actor(), case_id=case_id, include_identity=args["include_identity"])
    db.session.commit()  # the audit row of an identity read
    return _with_etag(case)


@blp.route("/<int:case_id>", methods=["PATCH"])
@requires("case.update")
@blp.arguments(CaseUpdateSchema(), example={"version": 1, "state": "MY-10", "notes": "Victim moved to Selangor."})
@blp.response(200, CaseSchema, headers=ETAG)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(412, response="PRECONDITION_FAILED")
@blp.doc(parameters=[IF_MATCH])
def update_case(data: dict[str, Any], case_id: int) -> Any:
    """Edit case fields. Send If-Match with the ETag (or `version`): a stale one gets 412/409."""
    case = cases.update_case(actor=actor(), case_id=case_id, data=data, if_match=_if_match())
    db.session.commit()
    return _with_etag(case)


@blp.route("/<int:case_id>/transitions", methods=["POST"])
@requires("case.transition")
@blp.arguments(TransitionSchema(), example={"to": "under_investigation", "note": "IO assigned"})
@blp.response(200, CaseSchema, headers=ETAG)
def transition(data: dict[str, Any], case_id: int) -> Any:
    """Move the case to its next status (closing needs an outcome); invalid moves are 409."""
    case = cases.transition(actor=actor(), case_id=case_id, **data)
    db.session.commit()
    return _with_etag(case)


@blp.route("/<int:case_id>/assignment", methods=["POST"])
@requires("case.assign")
@blp.arguments(AssignmentSchema())
@blp.response(200, CaseSchema, headers=ETAG)
def assign(data: dict[str, Any], case_id: int) -> Any:
    case = cases.assign(actor=actor(), case_id=case_id, assignee_id=data["assignee_id"])
    db.session.commit()
    return _with_etag(case)


@blp.route("/<int:case_id>/victims", methods=["POST"])
@requires("case.update")
@blp.arguments(VictimCreateSchema())
@blp.response(201, VictimSchema)
def add_victim(data: dict[str, Any], case_id: int) -> Any:
    me = actor()
    data.pop("key", None)
    victim = victims.add_victim(actor=me, case=get_visible_case(me, case_id, for_update=True), data=data)
    db.session.commit()
    return victim


@blp.route("/<int:case_id>/offences", methods=["POST"])
@requires("case.update")
@blp.arguments(OffenceAddSchema())
@blp.response(201, OffenceSchema)
def add_offence(data: dict[str, Any], case_id: int) -> Any:
    """Add a section; the others stay. Without victim_ids it concerns every victim of the case.
    Send the case version (If-Match or `version`). A children-only section (SOAC, CMA 233(3),
    PC 377E) linked to a victim who was older at the incident needs `age_rule_reason`."""
    me = actor()
    case = get_visible_case(me, case_id, for_update=True)
    offence = offences.add_offence(actor=me, case=case, data=data, if_match=_if_match())
    db.session.commit()
    return offence


@blp.route("/<int:case_id>/offences/<int:offence_id>", methods=["PATCH"])
@requires("case.update")
@blp.arguments(OffenceUpdateSchema())
@blp.response(200, OffenceSchema)
def update_offence(data: dict[str, Any], case_id: int, offence_id: int) -> Any:
    me = actor()
    case = get_visible_case(me, case_id, for_update=True)
    offence = offences.update_offence(actor=me, case=case, offence_id=offence_id, data=data, if_match=_if_match())
    db.session.commit()
    return offence


@blp.route("/<int:case_id>/identifiers", methods=["POST"])
@requires("case.update")
@blp.arguments(IdentifierCreateSchema())
@blp.response(201, CaseIdentifierSchema)
def add_identifier(data: dict[str, Any], case_id: int) -> Any:
    """Attach a perpetrator identifier (normalised; the raw value is kept)."""
    me = actor()
    case = get_visible_case(me, case_id, for_update=True)
    link = identifiers.add_identifier(actor=me, case=case, data=data)
    db.session.commit()
    return link


@blp.route("/<int:case_id>/evidence", methods=["POST"])
@requires("case.update")
@blp.arguments(EvidenceCreateSchema())
@blp.response(201, EvidenceSchema)
def add_evidence(data: dict[str, Any], case_id: int) -> Any:
    me = actor()
    evidence = cases.add_evidence(actor=me, case=get_visible_case(me, case_id, for_update=True), data=data)
    db.session.commit()
    return evidence


@blp.route("/<int:case_id>/links", methods=["GET"])
@requires("case.read")
@blp.response(200, LinkedCaseSchema(many=True))
def links(case_id: int) -> Any:
    """Other cases sharing an identifier: details where you may see them, else the organisation."""
    me = actor()
    return identifiers.links(actor=me, case=get_visible_case(me, case_id))
