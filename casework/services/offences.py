"""Offences of a case: every statute section, each linked to the victims it concerns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm.attributes import set_committed_value

from casework.errors import Conflict, NotFound, ValidationFailed
from casework.extensions import db
from casework.models.cases import Case, CaseOffence, Victim, case_offence_victims
from casework.models.reference import OffenceCode
from casework.models.users import User
from casework.services import audit, reference
from casework.services.bulk_insert import insert_persistent


def build_offence(case: Case, code: OffenceCode, data: dict[str, Any], linked: Sequence[Victim]) -> CaseOffence:
    offence = CaseOffence(
        offence_code=code,
        status=data["status"],
        attempted=data.get("attempted", False),
        notes=data.get("notes"),
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


def add_offence(*, actor: User, case: Case, data: dict[str, Any]) -> CaseOffence:
    """Add a section to a case; existing offences stay (383 beside 376). Needs case.update (edge).
    Conflict if the section is already recorded (link more victims to it instead). Audits."""
    codes = reference.offence_codes_by_code([data["code"]])
    code = codes.get(reference.normalise_offence_code(data["code"]))
    if code is None:
        raise ValidationFailed("Unknown offence code.", {"code": [reference.unknown_offence_message(data["code"])]})
    if any(o.offence_code_id == code.id for o in case.offences):
        raise Conflict(f"{code.code} is already recorded in this case; link more victims to it instead.")
    offence = build_offence(case, code, data, _victims_by_id(case, data.get("victim_ids")))
    case.touch()
    db.session.flush()
    audit.record(actor, "offence.added", case, offence_id=offence.id, code=code.code)
    return offence


def update_offence(*, actor: User, case: Case, offence_id: int, data: dict[str, Any]) -> CaseOffence:
    """Change an offence's status, attempted flag, notes or victims. Audits the field names."""
    offence = next((o for o in case.offences if o.id == offence_id), None)
    if offence is None:
        raise NotFound()
    if "victim_ids" in data:
        offence.victims = _victims_by_id(case, data["victim_ids"])
    for name in ("status", "attempted", "notes"):
        if name in data:
            setattr(offence, name, data[name])
    case.touch()
    db.session.flush()
    audit.record(actor, "offence.updated", case, offence_id=offence.id, fields=sorted(data))
    return offence
