"""Offences of a case: every statute section, each linked to the victims it concerns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm.attributes import set_committed_value

from casework import offence_ages
from casework.errors import Conflict, NotFound, ValidationFailed
from casework.extensions import db
from casework.models.cases import Case, CaseOffence, Victim, case_offence_victims
from casework.models.reference import OffenceCode
from casework.models.users import User
from casework.services import audit, reference, versions
from casework.services.bulk_insert import insert_persistent


def build_offence(case: Case, code: OffenceCode, data: dict[str, Any], linked: Sequence[Victim]) -> CaseOffence:
    offence = CaseOffence(
        offence_code=code,
        status=data["status"],
        attempted=data.get("attempted", False),
        notes=data.get("notes"),
        age_rule_reason=data.get("age_rule_reason"),
        victims=list(linked),
    )
    case.offences.append(offence)
    case.offence_code_ids = [*(case.offence_code_ids or []), code.id]
    return offence


def insert_new_offences(case: Case, wanted: Sequence[tuple[OffenceCode, dict[str, Any], Sequence[Victim]]]) -> None:
    """Store the offences of a case just created (flushed) and their victims (stored already):
    two statements in all. They become the case's offences, each with its code and victims."""
    created = [
        CaseOffence(
            case_id=case.id,
            offence_code_id=code.id,
            status=data["status"],
            attempted=data.get("attempted", False),
            notes=data.get("notes"),
            age_rule_reason=data.get("age_rule_reason"),
        )
        for code, data, _ in wanted
    ]
    insert_persistent(created)
    links = [
        {"case_offence_id": offence.id, "victim_id": victim.id}
        for offence, (_, _, linked) in zip(created, wanted, strict=True)
        for victim in linked
    ]
    if links:
        db.session.execute(insert(case_offence_victims), links)
    for offence, (code, _, linked) in zip(created, wanted, strict=True):
        set_committed_value(offence, "offence_code", code)
        set_committed_value(offence, "victims", sorted(linked, key=lambda v: v.id))
    set_committed_value(case, "offences", created)


def _victims_by_id(case: Case, victim_ids: Sequence[int] | None) -> list[Victim]:
    if victim_ids is None:
        if not case.victims:
            raise ValidationFailed("No victims.", {"victim_ids": ["The case has no victims to link this offence to."]})
        return list(case.victims)
    known = {v.id: v for v in case.victims}
    unknown = sorted(set(victim_ids) - set(known))
    if unknown:
        raise ValidationFailed(
            "Unknown victim.", {"victim_ids": [f"Not a victim of this case: {', '.join(map(str, unknown))}."]}
        )
    return [known[i] for i in dict.fromkeys(victim_ids)]


def check_ages(code: OffenceCode, linked: Sequence[Victim], names: Sequence[str], reason: str | None) -> str | None:
    """The refusal message when a children-only section is linked to a victim who was older at
    the incident and no reason is given; None when the link stands."""
    older = offence_ages.too_old(code, linked)
    if not older or reason:
        return None
    return offence_ages.refusal(code, [names[i] for i in older])


def _victim_names(victims: Sequence[Victim]) -> list[str]:
    return [f"victim {v.id}" for v in victims]


def add_offence(*, actor: User, case: Case, data: dict[str, Any], if_match: int | None = None) -> CaseOffence:
    """Add a section to a case; existing offences stay (383 beside 376). Needs case.update (edge)
    and the case version last read (If-Match or `version`: 412/409 when stale). Conflict if the
    section is already recorded (link more victims to it instead); 422 for a children-only
    section linked to an older victim without age_rule_reason. Audits."""
    versions.check_edit(actor, case, if_match, data.get("version"))
    codes = reference.offence_codes_by_code([data["code"]])
    code = codes.get(reference.normalise_offence_code(data["code"]))
    if code is None:
        raise ValidationFailed("Unknown offence code.", {"code": [reference.unknown_offence_message(data["code"])]})
    if any(o.offence_code_id == code.id for o in case.offences):
        raise Conflict(f"{code.code} is already recorded in this case; link more victims to it instead.")
    linked = _victims_by_id(case, data.get("victim_ids"))
    refused = check_ages(code, linked, _victim_names(linked), data.get("age_rule_reason"))
    if refused:
        raise ValidationFailed("A children-only offence and an adult victim.", {"victim_ids": [refused]})
    offence = build_offence(case, code, data, linked)
    case.touch()
    db.session.flush()
    audit.record(
        actor,
        "offence.added",
        case,
        offence_id=offence.id,
        code=code.code,
        has_age_rule_reason=bool(data.get("age_rule_reason")),
    )
    return offence


def update_offence(
    *, actor: User, case: Case, offence_id: int, data: dict[str, Any], if_match: int | None = None
) -> CaseOffence:
    """Change an offence's status, attempted flag, notes, victims or age-rule reason. Needs the
    case version last read, like add_offence, and keeps its age check. Audits the field names."""
    data = dict(data)
    body_version = data.pop("version", None)
    offence = next((o for o in case.offences if o.id == offence_id), None)
    if offence is None:
        raise NotFound()
    versions.check_edit(actor, case, if_match, body_version)
    linked = _victims_by_id(case, data["victim_ids"]) if "victim_ids" in data else list(offence.victims)
    reason = data["age_rule_reason"] if "age_rule_reason" in data else offence.age_rule_reason
    refused = check_ages(offence.offence_code, linked, _victim_names(linked), reason)
    if refused:
        field = "victim_ids" if "victim_ids" in data else "age_rule_reason"
        raise ValidationFailed("A children-only offence and an adult victim.", {field: [refused]})
    if "victim_ids" in data:
        offence.victims = linked
    for name in ("status", "attempted", "notes", "age_rule_reason"):
        if name in data:
            setattr(offence, name, data[name])
    case.touch()
    db.session.flush()
    audit.record(actor, "offence.updated", case, offence_id=offence.id, fields=sorted(data))
    return offence
