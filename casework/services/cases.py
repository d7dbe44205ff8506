"""Opening, editing, assigning and moving cases through their workflow; the scoped case list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, text
from sqlalchemy.orm.exc import StaleDataError

from casework import policies
from casework.errors import Conflict, InvalidTransition, ValidationFailed
from casework.extensions import db
from casework.models.cases import (
    CASE_TRANSITIONS,
    FACET_COLUMNS,
    Case,
    CaseStatus,
    Evidence,
    Victim,
    case_facets,
    facet_key,
)
from casework.models.identifiers import CaseIdentifier, Identifier
from casework.models.reference import AbuseType, OffenceCode, Platform, State
from casework.models.users import Role, User
from casework.services import audit, identifiers, offences, reference, versions, victims
from casework.services.scoping import SUMMARY_OPTIONS, get_visible_case, scope_within_organisation, scoped

# Input groups that map onto prefixed columns.
_GROUPS = {"demands": "demand_", "payments": "payments_", "risk": "risk_"}
_RENAMED = {"state": "state_code"}
_CASE_ROLES = {Role.SUPERVISOR, Role.INVESTIGATOR, Role.CASEWORKER}


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    """Flatten API field groups (demands, payments, risk) into case columns."""
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in _GROUPS:
            values.update({f"{_GROUPS[name]}{k}": v for k, v in value.items()})
        else:
            values[_RENAMED.get(name, name)] = value
    return values


def _check_reference_codes(data: dict[str, Any]) -> None:
    reference.require_known("state", State, [data.get("state")])
    reference.require_known("contact_platform", Platform, [data.get("contact_platform")])
    reference.require_known("moved_to_platforms", Platform, data.get("moved_to_platforms") or [])
    reference.require_known("abuse_types", AbuseType, data.get("abuse_types") or [])


def _next_reference(organisation_id: int, code: str, year: int) -> tuple[int, str]:
    """Next number for this organisation and year; the row lock makes it gap-free and safe
    under concurrent creation (held until commit)."""
    number = db.session.execute(
        text(
            "INSERT INTO case_counters (organisation_id, year, last_number) VALUES (:org, :year, 1) "
            "ON CONFLICT (organisation_id, year) DO UPDATE SET last_number = case_counters.last_number + 1 "
            "RETURNING last_number"
        ),
        {"org": organisation_id, "year": year},
    ).scalar_one()
    return number, f"{code}-{year}-{number:06d}"


def _check_assignee(actor: User, assignee_id: int | None, organisation_id: int) -> None:
    if assignee_id is None:
        return
    assignee = db.session.get(User, assignee_id)
    if assignee is None or assignee.organisation_id != organisation_id:
        raise ValidationFailed("No such colleague.", {"assignee_id": ["Not a user of this organisation."]})
    if not assignee.is_active or assignee.role not in _CASE_ROLES:
        raise ValidationFailed("Cannot assign.", {"assignee_id": ["Not an active user with a case-working role."]})


def create_case(*, actor: User, data: dict[str, Any]) -> Case:
    """Open a case with its victims, offences, identifiers and evidence, all or nothing.

    Needs case.create (edge); setting someone else as assignee needs case.assign. Audits.
    Raises ValidationFailed (422) naming the field for unknown codes or colleagues.
    """
    data = dict(data)
    nested = {name: data.pop(name) for name in ("victims", "offences", "identifiers", "evidence")}
    _check_reference_codes(data)
    reference.require_known("evidence", Platform, [e.get("platform") for e in nested["evidence"]])
    codes = reference.offence_codes_by_code(o["code"] for o in nested["offences"])
    unknown = {
        i: {"code": [reference.unknown_offence_message(o["code"])]}
        for i, o in enumerate(nested["offences"])
        if reference.normalise_offence_code(o["code"]) not in codes
    }
    if unknown:
        raise ValidationFailed("Unknown offence code.", {"offences": unknown})
    assignee_id = data.pop("assignee_id", None)
    if assignee_id not in (None, actor.id):
        policies.require(actor, "case.assign")
    if assignee_id is None and actor.role in {Role.INVESTIGATOR, Role.CASEWORKER}:
        assignee_id = actor.id
    _check_assignee(actor, assignee_id, actor.organisation_id)

    received = data["received_on"]
    number, ref = _next_reference(actor.organisation_id, actor.organisation.code, received.year)
    case = Case(
        organisation_id=actor.organisation_id,
        organisation=actor.organisation,
        reference=ref,
        year=received.year,
        number=number,
        status=CaseStatus.OPEN,
        assignee_id=assignee_id,
        created_by_id=actor.id,
        **{"moved_to_platforms": [], "abuse_types": [], "offence_code_ids": [], **_columns(data)},
        # Empty, not unloaded: a new case has nothing to lazy-load.
        victims=[],
        offences=[],
        identifiers=[],
        evidence=[],
    )
    db.session.add(case)
    by_key: dict[str, Victim] = {}
    for position, item in enumerate(nested["victims"], start=1):
        by_key[item.get("key") or f"v{position}"] = victims.new_victim(case, item, position)
    case.has_minor_victim = any(v.is_minor for v in by_key.values())
    wanted = []
    refused = {}
    for index, item in enumerate(nested["offences"]):
        named = item.get("victims")
        keys = list(by_key) if named is None else list(named)
        linked = [by_key[k] for k in keys]
        code = codes[reference.normalise_offence_code(item["code"])]
        message = offences.check_ages(code, linked, [f"victim {k!r}" for k in keys], item.get("age_rule_reason"))
        if message:
            refused[f"offences.{index}.victims"] = [message]
        wanted.append((code, item, linked))
    if refused:
        raise ValidationFailed("A children-only offence and an adult victim.", refused)
    case.offence_code_ids = [code.id for code, _, _ in wanted]
    for item in nested["evidence"]:
        case.evidence.append(_build_evidence(actor, item))
    db.session.flush()
    identifiers.attach_to_new_case(case, nested["identifiers"])
    victims.insert_new_victims(case, list(by_key.values()))
    offences.insert_new_offences(case, wanted)
    audit.record(
        actor,
        "case.created",
        case,
        reference=case.reference,
        victims=len(case.victims),
        offences=[o.offence_code.code for o in case.offences],
        identifiers=len(case.identifiers),
    )
    return case


def _build_evidence(actor: User, item: dict[str, Any]) -> Evidence:
    custody = [{"at": datetime.now(UTC).isoformat(), "by_user_id": actor.id, "event": "recorded"}]
    return Evidence(recorded_by_id=actor.id, custody_log=custody, **item)


def add_evidence(*, actor: User, case: Case, data: dict[str, Any]) -> Evidence:
    """Record evidence metadata (the file stays with its holder; the SHA-256 proves integrity). Audits."""
    reference.require_known("platform", Platform, [data.get("platform")])
    evidence = _build_evidence(actor, data)
    case.evidence.append(evidence)
    case.touch()
    db.session.flush()
    audit.record(actor, "evidence.added", case, evidence_id=evidence.id, kind=evidence.kind.value)
    return evidence


def update_case(*, actor: User, case_id: int, data: dict[str, Any], if_match: int | None) -> Case:
    """Change case fields. Needs case.update (edge) and the version last read (If-Match or
    `version`); a stale version is 412/409 and nothing changes. Audits the field names only."""
    data = dict(data)
    body_version = data.pop("version", None)
    versions.require_version(if_match, body_version)
    case = get_visible_case(actor, case_id, for_update=True)
    versions.check_version(
        actor, case, if_match if if_match is not None else body_version, from_header=if_match is not None
    )
    _check_reference_codes(data)
    merged = {
        "reported_to_police": case.reported_to_police,
        "reported_to_police_on": case.reported_to_police_on,
        "received_on": case.received_on,
        "incident_started_on": case.incident_started_on,
        "incident_ended_on": case.incident_ended_on,
        **data,
    }
    _check_merged_dates(merged)
    changed = []
    for column, value in _columns(data).items():
        if getattr(case, column) != value:
            setattr(case, column, value)
            changed.append(column)
    if {"incident_started_on", "received_on"} & set(changed):
        for victim in case.victims:
            victims.refresh_derived(victim, case)
        case.has_minor_victim = any(v.is_minor for v in case.victims)
        _recheck_ages(case, "incident_started_on" if "incident_started_on" in changed else "received_on")
    if changed:
        flush_or_conflict()
        audit.record(actor, "case.updated", case, fields=sorted(changed))
    return case


def _recheck_ages(case: Case, field: str) -> None:
    """Ages are taken at the incident: a new date may make a victim of a children-only offence
    older than it allows. Refused (422 on the date) unless the offence records a reason."""
    for offence in case.offences:
        names = [f"victim {v.id}" for v in offence.victims]
        message = offences.check_ages(offence.offence_code, offence.victims, names, offence.age_rule_reason)
        if message:
            raise ValidationFailed("A children-only offence and an adult victim.", {field: [message]})


def _check_merged_dates(values: dict[str, Any]) -> None:
    start, end, received = values["incident_started_on"], values["incident_ended_on"], values["received_on"]
    errors = {}
    if start and end and end < start:
        errors["incident_ended_on"] = ["Must not be before incident_started_on."]
    if start and received and start > received:
        errors["incident_started_on"] = ["Must not be after received_on."]
    if not values["reported_to_police"] and values["reported_to_police_on"]:
        errors["reported_to_police"] = ["Must be true when a police report date is recorded."]
    if errors:
        raise ValidationFailed("The dates do not fit together.", errors)


def flush_or_conflict() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict("The case was changed by someone else; reload it and try again.") from exc


def transition(*, actor: User, case_id: int, to: CaseStatus, outcome: Any, note: str | None) -> Case:
    """Move a case along open -> under_investigation -> charged -> closed (with an outcome).
    Needs case.transition (edge). InvalidTransition (409) otherwise. Audits."""
    case = get_visible_case(actor, case_id, for_update=True)
    if to not in CASE_TRANSITIONS[case.status]:
        allowed = sorted(CASE_TRANSITIONS[case.status], key=list(CaseStatus).index)
        first = next((s.value for s in allowed if to in CASE_TRANSITIONS[s]), None)
        raise InvalidTransition("case", case.status.value, f"go to {to.value}", [s.value for s in allowed], first=first)
    previous, case.status = case.status, to
    if to == CaseStatus.CLOSED:
        case.outcome, case.closed_at = outcome, datetime.now(UTC)
    flush_or_conflict()
    audit.record(
        actor,
        "case.status_changed",
        case,
        previous=previous.value,
        new=to.value,
        case_outcome=outcome.value if outcome else None,
        has_note=bool(note),
    )
    return case


def assign(*, actor: User, case_id: int, assignee_id: int | None) -> Case:
    """Assign (or unassign) a case of the actor's organisation. Needs case.assign (edge). Audits."""
    case = get_visible_case(actor, case_id, for_update=True)
    _check_assignee(actor, assignee_id, case.organisation_id)
    case.assignee_id = assignee_id
    flush_or_conflict()
    audit.record(actor, "case.assigned", case, assignee_id=assignee_id)
    return case


def get_case(*, actor: User, case_id: int, include_identity: bool = False) -> Case:
    """A case in scope; with include_identity, victims' identity is released and audited."""
    case = get_visible_case(actor, case_id)
    if include_identity:
        victims.release_identity(actor=actor, case=case, victims=case.victims)
    return case


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    page: int
    per_page: int
    total: int
    total_is_capped: bool


# Counting every match of a broad filter over a million cases costs more than the page itself
# (170 ms for "PC 383 and financial sextortion" in a large unit): totals stop at this many.
COUNT_CAP = 500
# A filtered list first looks for COUNT_CAP matches among this many newest cases (see _newest_matches).
COUNT_PROBE = 5000


_SORTS = {
    "received_on": (Case.received_on.asc(), Case.id.asc()),
    "-received_on": (Case.received_on.desc(), Case.id.desc()),
    "reference": (Case.reference.asc(),),
    "-reference": (Case.reference.desc(),),
    "updated_at": (Case.updated_at.asc(), Case.id.asc()),
    "-updated_at": (Case.updated_at.desc(), Case.id.desc()),
}


def list_cases(*, actor: User, filters: dict[str, Any]) -> CasePage:
    """Cases in the actor's scope, filtered, sorted and paginated (per_page at most 100).
    The total stops at COUNT_CAP (total_is_capped says so); pages go on beyond it."""
    conditions: list[ColumnElement[bool]] = []
    if "reference" in filters:
        conditions.append(_reference_is(filters["reference"]))
    if "police_report_number" in filters:
        number = normalise_police_report_number(filters["police_report_number"])
        conditions.append(func.upper(Case.police_report_number) == number)
    if "status" in filters:
        conditions.append(Case.status == filters["status"])
    if "state" in filters:
        conditions.append(Case.state_code == filters["state"])
    if "assignee_id" in filters:
        conditions.append(Case.assignee_id == filters["assignee_id"])
    if "received_from" in filters:
        conditions.append(Case.received_on >= filters["received_from"])
    if "received_to" in filters:
        conditions.append(Case.received_on <= filters["received_to"])
    if "identifier_normalised" in filters:
        conditions.append(_names_identifier(filters))
    page, per_page, order = filters["page"], filters["per_page"], _SORTS[filters["sort"]]
    offset = (page - 1) * per_page
    facets = _Facets.from_filters(actor, filters)
    if not facets.keys:
        total = _count_capped(scoped(actor, select(Case.id)).where(*conditions))
        query = scoped(actor).where(*conditions).options(*SUMMARY_OPTIONS)
        items = list(db.session.scalars(query.order_by(*order).limit(per_page).offset(offset)))
    else:
        newest = _newest_matches(actor, conditions, facets)
        total = len(newest)
        if total <= COUNT_CAP:
            total = _count_capped(_by_facet_keys(actor, facets, select(Case.id)).where(*conditions))
        if filters["sort"] == "-received_on" and (len(newest) >= offset + per_page or total == len(newest)):
            ids = newest[offset : offset + per_page]  # the page is among the newest matches already found
        else:
            query = (
                _by_facet_keys(actor, facets, select(Case.id))
                if total <= COUNT_CAP
                else scoped(actor, select(Case.id)).where(*facets.tests(Case))
            )
            ids = list(db.session.scalars(query.where(*conditions).order_by(*order).limit(per_page).offset(offset)))
        items = _in_order(actor, ids)
    return CasePage(items, page, per_page, min(total, COUNT_CAP), total > COUNT_CAP)


_FULL_REFERENCE = re.compile(r"^[A-Z0-9]+-\d{4}-\d{6}$")


def _reference_is(reference: str) -> ColumnElement[bool]:
    """A whole reference by equality, a start of one by prefix: both on an index of reference
    (ix_cases_reference_prefix, pattern ops, so LIKE 'D11-2026-00%' uses it in any collation)."""
    wanted = reference.strip().upper()
    if _FULL_REFERENCE.match(wanted):
        return Case.reference == wanted
    return Case.reference.like(wanted + "%")  # the schema lets only letters, digits and '-' through


def normalise_police_report_number(number: str) -> str:
    """How report numbers are compared: upper case, no surrounding or doubled spaces."""
    return " ".join(number.upper().split())


@dataclass(frozen=True)
class _Facets:
    """The offence, abuse-type and platform filters: tests on a case's columns, and the same as
    organisation-qualified keys of case_facets()."""

    abuse_type: str | None
    platform: str | None
    offence_code_id: int | None
    keys: list[str]

    @classmethod
    def from_filters(cls, actor: User, filters: dict[str, Any]) -> _Facets:
        code_id = None
        if "offence" in filters:
            code = reference.normalise_offence_code(filters["offence"])
            code_id = db.session.scalar(select(OffenceCode.id).where(OffenceCode.code == code)) or 0
        abuse_type, platform = filters.get("abuse_type"), filters.get("platform")
        wanted = {"a": abuse_type, "p": platform, "o": code_id}
        if code_id is not None and abuse_type is not None:  # one key holds exactly the cases with both
            wanted = {"oa": f"{code_id}:{abuse_type}", "p": platform}
        keys = [facet_key(actor.organisation_id, facet, value) for facet, value in wanted.items() if value is not None]
        return cls(abuse_type, platform, code_id, keys)

    def tests(self, cases: Any) -> list[ColumnElement[bool]]:
        """The filters on `cases` (Case, or the columns of a subquery of it)."""
        tests = []
        if self.abuse_type is not None:
            tests.append(cases.abuse_types.contains([self.abuse_type]))
        if self.platform is not None:
            platform = self.platform
            tests.append(or_(cases.contact_platform == platform, cases.moved_to_platforms.contains([platform])))
        if self.offence_code_id is not None:
            tests.append(cases.offence_code_ids.contains([self.offence_code_id]))
        return tests


def _count_capped(query: Select[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.limit(COUNT_CAP + 1).subquery())) or 0


def _newest_matches(actor: User, conditions: list[ColumnElement[bool]], facets: _Facets) -> list[int]:
    """Ids of the matches among the newest COUNT_PROBE cases in scope, newest first, at most
    COUNT_CAP + 1 of them: a walk of ix_cases_org_received_covering that reads no table rows.

    A common combination fills the cap there (the total is capped and the first pages are these ids).
    Fewer matches, and they are counted by the organisation-qualified keys (ix_cases_facets), which hold
    only the organisation's matches. Either alone was slow for the other kind of combination (a scan
    of the organisation, or a GIN scan of huge key lists).
    """
    window = (
        scoped(actor, select(Case.id, Case.received_on, *(getattr(Case, name) for name in FACET_COLUMNS)))
        .where(*conditions)
        .order_by(Case.received_on.desc(), Case.id.desc())
        .limit(COUNT_PROBE)
        .subquery()
    )
    newest_first = (window.c.received_on.desc(), window.c.id.desc())
    matches = select(window.c.id).where(*facets.tests(window.c)).order_by(*newest_first).limit(COUNT_CAP + 1)
    return list(db.session.scalars(matches))


def _by_facet_keys(actor: User, facets: _Facets, query: Select[Any]) -> Select[Any]:
    """The cases in scope with these facets, by their keys alone: the keys carry the organisation and
    say exactly what the column tests say, so the planner has no other index to combine them with."""
    return query.where(case_facets().contains(facets.keys), scope_within_organisation(actor))


def _in_order(actor: User, ids: list[int]) -> list[Case]:
    """These cases' summaries, in the order of ids (a page found by id first)."""
    if not ids:
        return []
    found = {c.id: c for c in db.session.scalars(scoped(actor).where(Case.id.in_(ids)).options(*SUMMARY_OPTIONS))}
    return [found[i] for i in ids if i in found]


def _names_identifier(filters: dict[str, Any]) -> ColumnElement[bool]:
    qualifier, value = filters["identifier_normalised"]
    match = (
        exists()
        .where(CaseIdentifier.case_id == Case.id)
        .where(CaseIdentifier.identifier_id == Identifier.id)
        .where(Identifier.kind == filters["identifier_kind"], Identifier.value == value)
    )
    if filters.get("qualifier") or qualifier:
        match = match.where(Identifier.qualifier == qualifier)
    return match
