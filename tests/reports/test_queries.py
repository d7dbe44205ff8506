"""The SQL counting rules agree with the Python ones, figure for figure, on real PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, CaseIdentifier, CaseOffence, Identifier, OffenceCode, Victim
from casework.models.cases import CaseStatus, Gender, IntakeChannel, OffenceStatus
from casework.models.identifiers import IdentifierKind, IdentifierRole
from casework.models.organisations import OrganisationKind
from casework.models.referrals import Referral, ReferralPurpose, ReferralStatus, TakedownItem, TakedownItemStatus
from casework.models.users import Role
from reports.aggregates import from_records
from reports.dimensions import Dimension
from reports.queries import (
    aggregates_from_database,
    offence_counts_query,
    referral_counts_query,
    takedown_counts_query,
)
from reports.records import CaseRecord
from reports.scope import ReportFilter
from tests.helpers import Factory
from tests.reports.dataset import CASES, RANKS


@dataclass(frozen=True)
class Stored:
    """Dataset ids -> database ids, for cases and organisations."""

    cases: dict[int, int]
    organisations: dict[int, int]

    def records(self, cases: tuple[CaseRecord, ...]) -> tuple[CaseRecord, ...]:
        """The records with their organisations' database ids (what an organisation scope names)."""
        return tuple(replace(c, organisation_id=self.organisations[c.organisation_id or 0]) for c in cases)

    def scoped(self, report_filter: ReportFilter, *dataset_organisation_ids: int) -> ReportFilter:
        owners = frozenset(self.organisations[i] for i in dataset_organisation_ids)
        return replace(report_filter, organisation_ids=owners)


def insert(cases: tuple[CaseRecord, ...]) -> Stored:
    """The dataset as rows (through the ORM models), one organisation per dataset organisation id."""
    factory = Factory()
    organisations = {
        record.organisation_id: factory.organisation(OrganisationKind(record.organisation_kind))
        for record in cases
        if record.organisation_id is not None
    }
    codes = {c.code: c for c in db.session.scalars(select(OffenceCode))}
    identifiers: dict[int, Identifier] = {}
    ids: dict[int, int] = {}
    rows: dict[int, Case] = {}
    for number, record in enumerate(cases, start=1):
        organisation = organisations[record.organisation_id]
        case = Case(
            organisation_id=organisation.id,
            reference=f"{organisation.code}-2026-{number:06d}",
            year=2026,
            number=number,
            intake_channel=IntakeChannel(record.intake_channel),
            reported_to_police=record.reported_to_police,
            received_on=record.received_on,
            incident_started_on=record.incident_on,
            state_code=record.state,
            contact_platform=record.contact_platform,
            moved_to_platforms=list(record.moved_to_platforms),
            abuse_types=list(record.abuse_types),
            has_minor_victim=record.has_minor,
            payments_count=record.payments_count,
            material_released=record.material_released,
            status=CaseStatus.OPEN,
            record_key=record.key,  # the hand-built record's key, so Python and SQL sum the same keys
        )
        victims = {}
        for v in record.victims:
            victims[v.victim_id] = Victim(
                pseudonym=f"V{v.victim_id}",
                gender=Gender(v.gender),
                age_years=v.age_years,
                is_minor=v.is_minor,
                national_id_hash=v.match_hash,
            )
            case.victims.append(victims[v.victim_id])
        for o in record.offences:
            case.offences.append(
                CaseOffence(
                    offence_code_id=codes[o.code].id,
                    status=OffenceStatus.SUSPECTED,
                    victims=[victims[i] for i in o.victim_ids],
                )
            )
        for ref in record.identifiers:
            if ref.identifier_id not in identifiers:
                identifiers[ref.identifier_id] = Identifier(
                    kind=IdentifierKind(ref.kind), value=f"value-{ref.identifier_id}"
                )
            case.identifiers.append(
                CaseIdentifier(
                    identifier=identifiers[ref.identifier_id], role=IdentifierRole.CONTACT, raw_value="as entered"
                )
            )
        db.session.add(case)
        rows[record.case_id] = case
    db.session.flush()
    if any(record.referrals for record in cases):
        add_referrals(cases, rows, factory)
    for record in cases:
        if record.police_case_id is not None:
            rows[record.case_id].police_case_id = rows[record.police_case_id].id
        ids[record.case_id] = rows[record.case_id].id
    db.session.flush()
    return Stored(ids, {key: organisation.id for key, organisation in organisations.items()})


def add_referrals(cases: tuple[CaseRecord, ...], rows: dict[int, Case], factory: Factory) -> None:
    """The records' referrals and takedown items as rows (any recipient will do for the counts)."""
    recipient = factory.organisation(OrganisationKind.AGENCY)
    author = factory.user(Role.CASEWORKER, recipient)
    for record in cases:
        case = rows[record.case_id]
        for r in record.referrals:
            status = ReferralStatus(r.status)
            db.session.add(
                Referral(
                    case_id=case.id,
                    victim_id=case.victims[0].id,
                    sender_organisation_id=case.organisation_id,
                    agency_acronym=r.agency,
                    recipient_organisation_id=recipient.id,
                    purpose=ReferralPurpose(r.purpose),
                    status=status,
                    consent_override_reason="statistics test",
                    created_by_id=author.id,
                    sent_at=r.sent_at,
                    acknowledged_at=r.acknowledged_at,
                    due_acknowledge_at=r.due_acknowledge_at,
                    closed_at=r.closed_at,
                    outcome="done" if status == ReferralStatus.COMPLETED else None,
                    decline_reason="not for us" if status == ReferralStatus.DECLINED else None,
                    shared={},
                    takedown_items=[
                        TakedownItem(
                            url=f"https://example.test/{n}",
                            status=TakedownItemStatus(i.status),
                            requested_at=i.requested_at,
                            first_removed_at=i.first_removed_at,
                            removed_at=i.first_removed_at,
                        )
                        for n, i in enumerate(r.takedown_items)
                    ],
                )
            )
    db.session.flush()


@pytest.fixture
def dataset(app_ctx: Flask) -> Stored:
    return insert(CASES)


def test_seeded_severity_ranks_are_the_ones_the_hand_computed_figures_use(app_ctx: Flask) -> None:
    seeded = {c.code: c.severity_rank for c in db.session.scalars(select(OffenceCode))}

    assert {code: seeded[code] for code in RANKS} == RANKS


FILTERS = [
    ReportFilter(),
    ReportFilter(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28)),
    ReportFilter(date_basis="incident", date_from=date(2026, 1, 1)),
    ReportFilter(only={Dimension.STATE: frozenset({"MY-14", "unknown"})}),
    ReportFilter(only={Dimension.PLATFORM: frozenset({"telegram", "unknown"})}),
    ReportFilter(only={Dimension.ABUSE_TYPE: frozenset({"financial_sextortion"})}),
    ReportFilter(only={Dimension.KNOWN_TO: frozenset({"police_and_ngo", "ngo_only"})}),
    ReportFilter(only={Dimension.AGE_BAND: frozenset({"16-17", "unknown"}), Dimension.MINOR: frozenset({"minor"})}),
    ReportFilter(only={Dimension.GENDER: frozenset({"male"})}),
    ReportFilter(only={Dimension.PAYMENTS: frozenset({"once", "twice"})}),
    ReportFilter(only={Dimension.MATERIAL_RELEASED: frozenset({"unknown"})}),
    ReportFilter(only={Dimension.INTAKE_CHANNEL: frozenset({"ngo_intake"})}),
    ReportFilter(only={Dimension.ORGANISATION_KIND: frozenset({"ngo"})}),
    ReportFilter(only={Dimension.INCIDENT_QUARTER: frozenset({"2026-Q1"})}),
]


@pytest.mark.parametrize("group_by", [None, *Dimension], ids=lambda d: str(d))
def test_sql_and_python_agree_for_every_breakdown(dataset: Stored, group_by: Dimension | None) -> None:
    from_sql = aggregates_from_database(db.session.connection(), ReportFilter(), group_by)

    assert from_sql == from_records(CASES, ReportFilter(), group_by)


@pytest.mark.parametrize("report_filter", FILTERS, ids=lambda f: repr(f.only or (f.date_from, f.date_to)))
@pytest.mark.parametrize("group_by", [Dimension.RECEIVED_QUARTER, Dimension.GENDER, Dimension.PLATFORM])
def test_sql_and_python_agree_under_every_filter(
    dataset: Stored, report_filter: ReportFilter, group_by: Dimension
) -> None:
    from_sql = aggregates_from_database(db.session.connection(), report_filter, group_by)

    assert from_sql == from_records(CASES, report_filter, group_by)


def test_sql_computes_the_hand_computed_offence_table(dataset: Stored) -> None:
    rows = db.session.execute(offence_counts_query(ReportFilter())).all()
    table = {r.code: (r.most_serious, r.involving, r.offences, r.victims) for r in rows if r.group_value is None}

    assert table["PC 383"] == (1, 2, 2, 2)
    assert table["PC 376(1)"] == (1, 1, 1, 1)
    assert table["CMA 233(1)"] == (0, 2, 2, 7)
    assert table[None] == (5, 5, 12, 24)


def test_sql_on_an_empty_database_gives_zero_margins(app_ctx: Flask) -> None:
    agg = aggregates_from_database(db.session.connection(), ReportFilter(), Dimension.STATE)

    assert agg == from_records([], ReportFilter(), Dimension.STATE)


SCOPES = [(1,), (2,), (3,), (1, 2), (2, 3)]


@pytest.mark.parametrize("organisations", SCOPES, ids=str)
@pytest.mark.parametrize(
    ("report_filter", "group_by"),
    [
        (ReportFilter(), None),
        (ReportFilter(), Dimension.KNOWN_TO),
        (ReportFilter(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28)), Dimension.PLATFORM),
        (ReportFilter(only={Dimension.KNOWN_TO: frozenset({"police_and_ngo"})}), Dimension.GENDER),
    ],
)
def test_sql_and_python_agree_within_an_organisation_scope(
    dataset: Stored, organisations: tuple[int, ...], report_filter: ReportFilter, group_by: Dimension | None
) -> None:
    scoped = dataset.scoped(report_filter, *organisations)

    from_sql = aggregates_from_database(db.session.connection(), scoped, group_by)

    assert from_sql == from_records(dataset.records(CASES), scoped, group_by)


def test_an_ngo_scope_counts_its_case_linked_to_a_police_case_elsewhere_as_its_own(dataset: Stored) -> None:
    rows = db.session.execute(offence_counts_query(dataset.scoped(ReportFilter(), 2))).all()
    table = {r.code: (r.most_serious, r.involving) for r in rows if r.group_value is None}

    # D (PC 383, linked to police case C) and E (CMA 233(3)); C's own PC 384 is not the NGO's
    assert table == {"PC 383": (1, 1), "CMA 233(3)": (1, 1), None: (2, 2)}


def test_sql_computes_the_hand_computed_referral_figures(dataset: Stored) -> None:
    rows = db.session.execute(referral_counts_query(ReportFilter())).all()
    found = {(r.agency, r.purpose): r for r in rows}

    margin = found[None, None]
    assert (margin.sent, margin.acknowledged_on_time, margin.acknowledged_late, margin.not_acknowledged) == (5, 2, 1, 2)
    assert (margin.completed, margin.declined, margin.withdrawn, margin.still_open) == (2, 1, 1, 1)
    assert margin.to_acknowledge == 12 * 3600  # 6 h, 12 h, 2 days
    assert found["MCMC", "takedown"].to_acknowledge == (12 + 48) / 2 * 3600
    # the draft to JBG is not counted
    assert set(found) - {(None, None)} == {
        ("CYBER999", "incident_help"),
        ("MCMC", "takedown"),
        ("PDRM", "police_report"),
        ("WAO", "counselling"),
    }
    items = db.session.execute(takedown_counts_query(ReportFilter())).all()
    assert {(r.agency, r.items, r.removed, r.refused, r.unresolved, r.to_removal) for r in items} == {
        ("MCMC", 5, 3, 1, 1, 2 * 86400),
        (None, 5, 3, 1, 1, 2 * 86400),
    }


def test_sql_referral_figures_on_an_empty_database_are_zero_margins(app_ctx: Flask) -> None:
    agg = aggregates_from_database(db.session.connection(), ReportFilter())

    assert agg.referrals == from_records([]).referrals
    assert agg.takedown == from_records([]).takedown
    assert agg.referrals[0].sent == 0 and agg.referrals[0].median_days_to_acknowledge is None
