"""The numbers one report is made of, computed from records in Python.

``reports.queries.aggregates_from_database`` computes the same ``Aggregates`` in PostgreSQL (for
a million cases); the tests hold the two to equality. Tables and suppression start from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reports.counting import CaseCountRow, OffenceCountRow, count_cases, count_offences
from reports.dimensions import Dimension
from reports.estimates import ListCounts, two_list_counts
from reports.perpetrators import RepeatSummary, links_from_cases, summarise
from reports.records import CaseRecord
from reports.referrals import ReferralCountRow, TakedownCountRow, count_referrals, count_takedown_items
from reports.scope import ReportFilter, scope
from reports.unidentified import UnidentifiedCount, count_unidentified


@dataclass(frozen=True)
class Aggregates:
    report_filter: ReportFilter
    group_by: Dimension | None
    offences: tuple[OffenceCountRow, ...]  # rules (a)-(d) per code, ungrouped
    offences_by: tuple[OffenceCountRow, ...]  # the same per value of group_by (empty without it)
    cases_by_period: tuple[CaseCountRow, ...]  # rows: month (by the filter's date basis), columns: known to
    cases_by: tuple[CaseCountRow, ...]  # rows: group_by, columns: known to (empty without group_by)
    payments: tuple[CaseCountRow, ...]  # rows: payments before reporting, columns: material released
    repeat: RepeatSummary
    lists: ListCounts  # for the capture-recapture estimate
    referrals: tuple[ReferralCountRow, ...] = ()  # sent referrals per (agency, purpose), margin first
    takedown: tuple[TakedownCountRow, ...] = ()  # takedown items per agency, margin first
    unidentified: UnidentifiedCount = UnidentifiedCount()  # victims believed affected, not identified


def period_dimension(report_filter: ReportFilter) -> Dimension:
    """Months by the date the filter uses."""
    return Dimension.RECEIVED_MONTH if report_filter.date_basis == "received" else Dimension.INCIDENT_MONTH


def from_records(
    cases: Iterable[CaseRecord], report_filter: ReportFilter | None = None, group_by: Dimension | None = None
) -> Aggregates:
    report_filter = report_filter or ReportFilter()
    everything = list(cases)
    counted = scope(everything, report_filter)
    own_records = scope(everything, report_filter, counted_once=False)
    return Aggregates(
        report_filter=report_filter,
        group_by=group_by,
        offences=tuple(count_offences(counted)),
        offences_by=tuple(count_offences(counted, group_by)) if group_by else (),
        cases_by_period=tuple(count_cases(counted, period_dimension(report_filter), Dimension.KNOWN_TO)),
        cases_by=tuple(count_cases(counted, group_by, Dimension.KNOWN_TO)) if group_by else (),
        payments=tuple(count_cases(counted, Dimension.PAYMENTS, Dimension.MATERIAL_RELEASED)),
        repeat=summarise(links_from_cases(counted)),
        lists=two_list_counts(own_records),
        referrals=tuple(count_referrals(own_records)),
        takedown=tuple(count_takedown_items(own_records)),
        unidentified=count_unidentified(counted),
    )
