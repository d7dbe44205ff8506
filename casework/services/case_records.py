"""Streaming cases out of the database as reports.records.CaseRecord, for the line list.

Three ordered streams (cases, their offences, their victims) are merged by case id in Python:
three index scans instead of a correlated sub-select per case, and memory stays flat because
each stream is read through a server-side cursor in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.engine import Connection

from casework.models.cases import Case, CaseOffence, Victim, case_offence_victims
from casework.models.organisations import Organisation
from casework.models.reference import OffenceCode
from reports.records import CaseRecord, OffenceRecord, VictimRecord

BATCH = 5_000


def _cases(organisation_id: int | None) -> sa.Select[Any]:
    query = (
        sa.select(
            Case.id,
            Case.organisation_id,
            Organisation.kind,
            Case.intake_channel,
            Case.received_on,
            Case.incident_started_on,
            Case.reported_to_police,
            Case.police_case_id,
            Case.state_code,
            Case.contact_platform,
            Case.moved_to_platforms,
            Case.abuse_types,
            Case.has_minor_victim,
            Case.payments_count,
            Case.material_released,
            Case.unidentified_victim_count,
        )
        .join(Organisation, Organisation.id == Case.organisation_id)
        .order_by(Case.id)
    )
    return query if organisation_id is None else query.where(Case.organisation_id == organisation_id)


def _offences(organisation_id: int | None) -> sa.Select[Any]:
    victims = (
        sa.select(sa.func.array_agg(case_offence_victims.c.victim_id))
        .where(case_offence_victims.c.case_offence_id == CaseOffence.id)
        .scalar_subquery()
    )
    query = (
        sa.select(CaseOffence.case_id, OffenceCode.code, OffenceCode.severity_rank, OffenceCode.title, victims)
        .join(OffenceCode, OffenceCode.id == CaseOffence.offence_code_id)
        .order_by(CaseOffence.case_id, CaseOffence.id)
    )
    if organisation_id is not None:
        query = query.join(Case, Case.id == CaseOffence.case_id).where(Case.organisation_id == organisation_id)
    return query


def _victims(organisation_id: int | None) -> sa.Select[Any]:
    query = sa.select(
        Victim.case_id,
        Victim.id,
        Victim.gender,
        Victim.age_years,
        Victim.is_minor,
        sa.func.coalesce(Victim.national_id_hash, Victim.phone_hash),
    ).order_by(Victim.case_id, Victim.id)
    if organisation_id is not None:
        query = query.join(Case, Case.id == Victim.case_id).where(Case.organisation_id == organisation_id)
    return query


def _by_case(connection: Connection, query: sa.Select[Any]) -> Iterator[tuple[int, list[Any]]]:
    rows = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    for case_id, group in groupby(rows, key=lambda row: row[0]):
        yield case_id, list(group)


def _value(enum_or_str: Any) -> str:
    return getattr(enum_or_str, "value", enum_or_str)


def stream_case_records(connection: Connection, organisation_id: int | None = None) -> Iterator[CaseRecord]:
    """Every case (of one organisation, or all) with its offences and victims, in id order."""
    offences = _by_case(connection, _offences(organisation_id))
    victims = _by_case(connection, _victims(organisation_id))
    next_offences, next_victims = next(offences, None), next(victims, None)
    for row in connection.execution_options(stream_results=True, yield_per=BATCH).execute(_cases(organisation_id)):
        case_offences: list[Any] = []
        case_victims: list[Any] = []
        while next_offences is not None and next_offences[0] < row.id:
            next_offences = next(offences, None)
        if next_offences is not None and next_offences[0] == row.id:
            case_offences, next_offences = next_offences[1], next(offences, None)
        while next_victims is not None and next_victims[0] < row.id:
            next_victims = next(victims, None)
        if next_victims is not None and next_victims[0] == row.id:
            case_victims, next_victims = next_victims[1], next(victims, None)
        yield CaseRecord(
            case_id=row.id,
            organisation_id=row.organisation_id,
            organisation_kind=_value(row.kind),
            intake_channel=_value(row.intake_channel),
            received_on=row.received_on,
            incident_on=row.incident_started_on,
            reported_to_police=row.reported_to_police,
            police_case_id=row.police_case_id,
            state=row.state_code,
            contact_platform=row.contact_platform,
            moved_to_platforms=tuple(row.moved_to_platforms or ()),
            abuse_types=tuple(row.abuse_types or ()),
            has_minor=row.has_minor_victim,
            payments_count=row.payments_count,
            material_released=row.material_released,
            unidentified_victims=row.unidentified_victim_count or 0,
            offences=tuple(
                OffenceRecord(code=o[1], severity_rank=o[2], title=o[3], victim_ids=tuple(o[4] or ()))
                for o in case_offences
            ),
            victims=tuple(
                VictimRecord(victim_id=v[1], gender=_value(v[2]), age_years=v[3], is_minor=v[4], match_hash=v[5])
                for v in case_victims
            ),
        )


def linked_police_case_ids(connection: Connection) -> frozenset[int]:
    """Police cases that an NGO case names as the case it became (over all cases)."""
    rows = connection.execute(sa.select(Case.police_case_id).where(Case.police_case_id.is_not(None)).distinct())
    return frozenset(r[0] for r in rows)


def in_scope_police_case_ids(connection: Connection, organisation_id: int | None) -> frozenset[int] | None:
    """Police cases of this organisation that its own linked records point to (None: all
    organisations). A linked record is counted as its police case only when that case is in scope."""
    if organisation_id is None:
        return None
    police = sa.orm.aliased(Case)
    rows = connection.execute(
        sa.select(Case.police_case_id)
        .join(police, police.id == Case.police_case_id)
        .where(Case.organisation_id == organisation_id, police.organisation_id == organisation_id)
        .distinct()
    )
    return frozenset(r[0] for r in rows)


def count_rows(connection: Connection, organisation_id: int | None = None) -> int:
    """Line-list rows to expect (one per case-offence, one per case without offences): for progress."""
    offences = sa.select(sa.func.count()).select_from(CaseOffence)
    bare = sa.select(sa.func.count()).select_from(Case).where(sa.func.cardinality(Case.offence_code_ids) == 0)
    if organisation_id is not None:
        offences = offences.join(Case, Case.id == CaseOffence.case_id).where(Case.organisation_id == organisation_id)
        bare = bare.where(Case.organisation_id == organisation_id)
    return int(connection.execute(offences).scalar_one() + connection.execute(bare).scalar_one())
