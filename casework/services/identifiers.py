"""Perpetrator identifiers: attaching them to cases (one row per normalised value), and the
links between cases they reveal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm.attributes import set_committed_value

from casework.extensions import db
from casework.models.cases import Case
from casework.models.identifiers import CaseIdentifier, Identifier, IdentifierKind, IdentifierRole
from casework.models.organisations import Organisation
from casework.models.users import User
from casework.services import audit
from casework.services.bulk_insert import insert_persistent
from casework.services.scoping import scoped_case_ids, visible_cases


def upsert_identifiers(
    keys: Sequence[tuple[IdentifierKind, str, str]],
) -> dict[tuple[IdentifierKind, str, str], Identifier]:
    """Identifier rows for (kind, qualifier, value), inserting the missing ones in one statement."""
    # Sorted: concurrent intakes naming the same identifiers lock their rows in one order (no deadlock).
    unique = sorted(set(keys))
    if not unique:
        return {}
    inserting = insert(Identifier).values([{"kind": k, "qualifier": q, "value": v} for k, q, v in unique])
    # A no-op update so RETURNING also yields rows that already existed.
    statement = inserting.on_conflict_do_update(
        index_elements=["kind", "value", "qualifier"], set_={"kind": inserting.excluded.kind}
    ).returning(Identifier)
    rows = db.session.scalars(select(Identifier).from_statement(statement))
    return {(row.kind, row.qualifier, row.value): row for row in rows}


def _identified(items: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], Identifier, IdentifierRole]]:
    """Each validated input (with 'normalised' = (qualifier, value)) with its identifier row and role."""
    keys = [(item["kind"], *item["normalised"]) for item in items]
    rows = upsert_identifiers(keys)
    return [
        (item, rows[key], item.get("role") or IdentifierRole.CONTACT) for item, key in zip(items, keys, strict=True)
    ]


def attach(case: Case, items: Sequence[dict[str, Any]]) -> list[tuple[CaseIdentifier, bool]]:
    """Link validated inputs to the case.

    Returns (link, is_new) per input: the same identifier in the same role twice is one fact.
    """
    existing = {(ci.identifier_id, ci.role): ci for ci in case.identifiers}
    result = []
    for item, identifier, role in _identified(items):
        link = existing.get((identifier.id, role))
        if link is not None:
            result.append((link, False))
            continue
        link = CaseIdentifier(
            identifier=identifier, role=role, raw_value=item["value"], first_seen_on=item.get("first_seen_on")
        )
        case.identifiers.append(link)
        existing[(identifier.id, role)] = link
        result.append((link, True))
    return result


def attach_to_new_case(case: Case, items: Sequence[dict[str, Any]]) -> None:
    """attach() for a case just created (flushed): every link is new, all stored in one statement."""
    links: dict[tuple[int, IdentifierRole], tuple[CaseIdentifier, Identifier]] = {}
    for item, identifier, role in _identified(items):
        link = CaseIdentifier(
            case_id=case.id,
            identifier_id=identifier.id,
            role=role,
            raw_value=item["value"],
            first_seen_on=item.get("first_seen_on"),
        )
        links.setdefault((identifier.id, role), (link, identifier))
    insert_persistent([link for link, _ in links.values()])
    for link, identifier in links.values():
        set_committed_value(link, "identifier", identifier)
    set_committed_value(case, "identifiers", [link for link, _ in links.values()])


def add_identifier(*, actor: User, case: Case, data: dict[str, Any]) -> CaseIdentifier:
    """Attach one identifier to a case in scope (idempotent). Needs case.update (edge). Audits."""
    [(link, is_new)] = attach(case, [data])
    if is_new:
        case.touch()
        db.session.flush()
        audit.record(actor, "identifier.added", case, identifier_id=link.identifier_id)
    return link


def _describe(identifier: Identifier) -> dict[str, str]:
    return {"kind": identifier.kind.value, "qualifier": identifier.qualifier, "value": identifier.value}


def links(*, actor: User, case: Case) -> list[dict[str, Any]]:
    """Other cases naming any identifier of this case. In scope: the case summary. Out of scope:
    only the organisation and how many of its cases match, so investigators can coordinate."""
    mine = [ci.identifier_id for ci in case.identifiers]
    if not mine:
        return []
    rows = db.session.execute(
        select(CaseIdentifier.identifier_id, CaseIdentifier.case_id, Case.organisation_id)
        .join(Case, Case.id == CaseIdentifier.case_id)
        .where(CaseIdentifier.identifier_id.in_(mine), CaseIdentifier.case_id != case.id)
        .distinct()
    ).all()
    if not rows:
        return []
    in_scope = scoped_case_ids(actor, {r.case_id for r in rows})
    cases = {c.id: c for c in visible_cases(actor, in_scope)}
    identifiers = {i.id: i for i in db.session.scalars(select(Identifier).where(Identifier.id.in_(mine)))}
    organisations = {
        o.id: o
        for o in db.session.scalars(select(Organisation).where(Organisation.id.in_({r.organisation_id for r in rows})))
    }
    result: list[dict[str, Any]] = []
    elsewhere: dict[tuple[int, int], set[int]] = {}
    for row in rows:
        if row.case_id in cases:
            result.append(
                {
                    "identifier": _describe(identifiers[row.identifier_id]),
                    "in_scope": True,
                    "case": cases[row.case_id],
                    "organisation": cases[row.case_id].organisation,
                    "case_count": 1,
                }
            )
        else:
            elsewhere.setdefault((row.identifier_id, row.organisation_id), set()).add(row.case_id)
    for (identifier_id, organisation_id), case_ids in sorted(elsewhere.items()):
        result.append(
            {
                "identifier": _describe(identifiers[identifier_id]),
                "in_scope": False,
                "case": None,
                "organisation": organisations[organisation_id],
                "case_count": len(case_ids),
            }
        )
    return result


# A serial offender's phone can be named in a thousand cases: show the newest, count them all.
LOOKUP_LIMIT = 100


def lookup(*, actor: User, kind: IdentifierKind, qualifier: str, value: str, qualifier_given: bool) -> dict[str, Any]:
    """Cases naming an identifier: the newest LOOKUP_LIMIT in scope (and how many there are),
    organisations for the rest.
    Needs identifier.lookup (edge). Audits every look-up (kind and whether it matched)."""
    query = select(Identifier).where(Identifier.kind == kind, Identifier.value == value)
    if qualifier_given:
        query = query.where(Identifier.qualifier == qualifier)
    identifiers = db.session.scalars(query).all()
    ids = [i.id for i in identifiers]
    rows = (
        db.session.execute(
            select(CaseIdentifier.case_id, Case.organisation_id)
            .join(Case, Case.id == CaseIdentifier.case_id)
            .where(CaseIdentifier.identifier_id.in_(ids))
            .distinct()
        ).all()
        if ids
        else []
    )
    in_scope = scoped_case_ids(actor, {r.case_id for r in rows})
    elsewhere: dict[int, int] = {}
    for row in rows:
        if row.case_id not in in_scope:
            elsewhere[row.organisation_id] = elsewhere.get(row.organisation_id, 0) + 1
    organisations = (
        {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(elsewhere)))}
        if elsewhere
        else {}
    )
    audit.record(
        actor,
        "identifier.lookup",
        object_type="identifiers",
        object_id=ids[0] if len(ids) == 1 else None,
        kind=kind.value,
        matched_cases=len(rows),
    )
    return {
        "identifier": _describe(identifiers[0]) if len(identifiers) == 1 else None,
        "cases": visible_cases(actor, in_scope, limit=LOOKUP_LIMIT),
        "cases_total": len(in_scope),
        "elsewhere": [
            {"organisation": {"id": o, "code": organisations[o].code, "name": organisations[o].name}, "case_count": n}
            for o, n in sorted(elsewhere.items())
        ],
    }
