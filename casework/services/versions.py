"""Optimistic concurrency on a case: every edit sends the version it last read (If-Match or
`version`); a stale one changes nothing and says when and by whom the case last changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from casework.errors import Conflict, PreconditionFailed, ValidationFailed
from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.cases import Case
from casework.models.users import User

# Audit actions that change a case (reads, such as identity views, do not).
CASE_CHANGES = (
    "case.created",
    "case.updated",
    "case.status_changed",
    "case.assigned",
    "case.police_case_linked",
    "victim.added",
    "offence.added",
    "offence.updated",
    "identifier.added",
    "evidence.added",
)


def last_change(actor: User, case: Case) -> dict[str, Any]:
    """When the case last changed (its updated_at, which moves its version) and by whom, from its
    audit trail: the colleague's name within the actor's organisation, only the organisation
    outside it. The actor may see the case, so nothing here is beyond its scope."""
    changed = db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.action)
        .where(AuditEvent.object_type == "cases", AuditEvent.object_id == str(case.id))
        .where(AuditEvent.action.in_(CASE_CHANGES))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    by: dict[str, Any] | None = None
    changer = db.session.get(User, changed.actor_id) if changed and changed.actor_id else None
    if changer is not None:
        by = {"organisation": changer.organisation.name}
        if changer.organisation_id == actor.organisation_id:
            by["name"] = changer.full_name
    return {"at": case.updated_at.isoformat(), "version": case.version, "by": by}


def _describe_change(change: dict[str, Any]) -> str:
    by = change["by"]
    who = f"{by['name']} ({by['organisation']})" if by and "name" in by else (by or {}).get("organisation")
    return f"at {change['at']}" + (f" by {who}" if who else "")


def check_version(actor: User, case: Case, expected: int | None, *, from_header: bool) -> None:
    """PreconditionFailed (If-Match) or Conflict (body version) when someone changed the case;
    both say when and by whom (details.last_changed)."""
    if expected is None:
        return
    if expected != case.version:
        change = last_change(actor, case)
        message = (
            f"The case was changed {_describe_change(change)} (now version {case.version}, you sent "
            f"{expected}); reload it and apply your edit again."
        )
        details = {"last_changed": change}
        raise PreconditionFailed(message, details=details) if from_header else Conflict(message, details=details)


def require_version(if_match: int | None, body_version: int | None) -> None:
    """422 on `version` when neither the If-Match header nor the body names the version read."""
    if if_match is None and body_version is None:
        raise ValidationFailed(
            "Send the version you last read.", {"version": ["Required (or an If-Match header with the ETag)."]}
        )


def check_edit(actor: User, case: Case, if_match: int | None, body_version: int | None) -> None:
    """require_version, then check_version against the header (412) or the body (409)."""
    require_version(if_match, body_version)
    expected = if_match if if_match is not None else body_version
    check_version(actor, case, expected, from_header=if_match is not None)
