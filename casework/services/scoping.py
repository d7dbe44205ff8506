"""Which cases an actor may see: the record scope of policies.py as SQL, and scoped loading.

A case outside the scope is NotFound, exactly like a case that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import selectinload

from casework import policies
from casework.errors import NotFound
from casework.extensions import db
from casework.models.cases import Case, CaseOffence, Victim
from casework.models.identifiers import CaseIdentifier
from casework.models.reference import OffenceCode
from casework.models.users import User
from casework.policies import Scope


def scope_clause(actor: User) -> ColumnElement[bool]:
    scope = policies.case_scope(actor)
    if scope == Scope.ORGANISATION:
        return Case.organisation_id == actor.organisation_id
    if scope == Scope.ASSIGNED:
        return (Case.organisation_id == actor.organisation_id) & or_(
            Case.assignee_id == actor.id, Case.created_by_id == actor.id
        )
    return false()


def scope_within_organisation(actor: User) -> ColumnElement[bool]:
    """The scope's condition beyond "in the actor's organisation", for queries whose other
    conditions (organisation-qualified facet keys) already confine them to it."""
    scope = policies.case_scope(actor)
    if scope == Scope.ORGANISATION:
        return true()
    if scope == Scope.ASSIGNED:
        return or_(Case.assignee_id == actor.id, Case.created_by_id == actor.id)
    return false()


def scoped(actor: User, query: Select[Any] | None = None) -> Select[Any]:
    return (query if query is not None else select(Case)).where(scope_clause(actor))


# A summary shows offence codes, the most serious one and how many victims: nothing else of them
# is loaded (no victim's identity either).
SUMMARY_OPTIONS = (
    selectinload(Case.offences)
    .load_only(CaseOffence.offence_code_id)
    .joinedload(CaseOffence.offence_code)
    .load_only(OffenceCode.code, OffenceCode.severity_rank),
    selectinload(Case.victims).load_only(Victim.id),
)
DETAIL_OPTIONS = (
    selectinload(Case.offences).options(selectinload(CaseOffence.victims)),
    selectinload(Case.victims),
    selectinload(Case.identifiers).joinedload(CaseIdentifier.identifier),
    selectinload(Case.evidence),
)


def get_visible_case(actor: User, case_id: int, *, for_update: bool = False, detail: bool = True) -> Case:
    """The case if it exists and is in the actor's scope, else NotFound (the same answer)."""
    query = scoped(actor).where(Case.id == case_id)
    if for_update:
        # NO KEY UPDATE: rows referencing the case (victims, offences) can still be inserted.
        query = query.with_for_update(of=Case, key_share=True)
    if detail:
        query = query.options(*DETAIL_OPTIONS)
    case = db.session.scalars(query).first()
    if case is None:
        raise NotFound()
    return case


def scoped_case_ids(actor: User, case_ids: Collection[int]) -> set[int]:
    if not case_ids:
        return set()
    return set(db.session.scalars(scoped(actor, select(Case.id)).where(Case.id.in_(case_ids))))


def visible_cases(actor: User, case_ids: Collection[int], *, limit: int | None = None) -> list[Case]:
    """Summaries of these cases that are in scope: all in id order, or the newest `limit`."""
    if not case_ids:
        return []
    query = scoped(actor).where(Case.id.in_(case_ids)).options(*SUMMARY_OPTIONS)
    if limit is not None:
        query = query.order_by(Case.received_on.desc(), Case.id.desc()).limit(limit)
    else:
        query = query.order_by(Case.id)
    return list(db.session.scalars(query))
