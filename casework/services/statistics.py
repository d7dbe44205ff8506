"""Statistics for dashboards and workbooks: the reports/ counting rules run in the database,
scoped to what the actor may count, and suppressed before anything leaves.

Analysts count every organisation; other staff with statistics.read count their own
organisation only. Nothing here returns case-level data.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from flask import current_app

from casework import policies
from casework.errors import PermissionDenied
from casework.extensions import db
from casework.models.users import Role, User
from reports.counting import COUNTING_RULES
from reports.dimensions import LABELS, MULTI_VALUED, TITLES, VICTIM_LEVEL, Dimension, closed_values
from reports.layouts import EstimateSummary, build_report, estimate_summary
from reports.queries import aggregates_from_database
from reports.scope import ReportFilter
from reports.tables import SuppressedReport, SuppressedTable, suppress_report

TOPICS = frozenset({"cases", "offences", "perpetrators", "estimate", "referrals"})


@dataclass(frozen=True)
class StatisticsScope:
    """Whose cases are counted: None = every organisation."""

    organisation_id: int | None
    organisation_code: str | None = None  # names the scope on outputs (e.g. "D11")

    @property
    def label(self) -> str:
        if self.organisation_id is None:
            return "all organisations"
        return f"organisation {self.organisation_code or self.organisation_id}"


def scope_for(actor: User) -> StatisticsScope:
    """Analysts see all organisations, aggregated; other staff their own organisation's figures."""
    policies.require(actor, "statistics.read")
    if actor.role == Role.ANALYST:
        return StatisticsScope(None)
    if actor.organisation_id is None:
        raise PermissionDenied()
    return StatisticsScope(actor.organisation_id, actor.organisation.code)


def compute_report(
    scope: StatisticsScope, report_filter: ReportFilter, group_by: Dimension | None = None
) -> SuppressedReport:
    """Every table of the standard report, suppressed with the configured threshold.

    The aggregate queries run in one REPEATABLE READ, read-only transaction on their own
    connection, so every table sees the same cases.
    """
    scoped_filter = restrict_to(scope, report_filter)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            aggregates = aggregates_from_database(connection, scoped_filter, group_by)
    labels: dict[int, str] = {}
    if scope.organisation_id is not None and scope.organisation_code:
        labels[scope.organisation_id] = scope.organisation_code
    spec = build_report(aggregates, organisation_labels=labels)
    return suppress_report(spec, threshold=current_app.config["SUPPRESSION_THRESHOLD"])


def restrict_to(scope: StatisticsScope, report_filter: ReportFilter) -> ReportFilter:
    """The filter narrowed to the scope's organisation."""
    if scope.organisation_id is None:
        return report_filter
    return ReportFilter(
        date_basis=report_filter.date_basis,
        date_from=report_filter.date_from,
        date_to=report_filter.date_to,
        only=report_filter.only,
        organisation_ids=frozenset({scope.organisation_id}),
    )


@dataclass(frozen=True)
class StatisticsReport:
    """A suppressed report as the API returns it (see casework.schemas.statistics)."""

    scope: str
    group_by: Dimension | None
    filters: list[dict[str, str]]
    counting_rules: dict[str, str]
    notes: list[dict[str, str]]
    suppression: dict[str, object]
    estimate: EstimateSummary
    tables: tuple[SuppressedTable, ...]


def report(
    *,
    actor: User,
    report_filter: ReportFilter,
    group_by: Dimension | None = None,
    topics: Collection[str] | None = None,
) -> StatisticsReport:
    """The standard report for the actor's scope, or only its tables of some topics. Needs
    statistics.read (PermissionDenied). Reads only; no audit (aggregates name no one).

    A partial view is cut from the whole suppressed report, never suppressed on its own: a count
    hidden as a complement in one table must stay hidden in every response, or two responses
    together would give it away."""
    if topics is not None and not set(topics) <= TOPICS:
        raise ValueError(f"unknown topics: {sorted(set(topics) - TOPICS)}")
    scope = scope_for(actor)
    suppressed = compute_report(scope, report_filter, group_by)
    tables = tuple(t for t in suppressed.tables if topics is None or t.topic in topics)
    return StatisticsReport(
        scope=scope.label,
        group_by=group_by,
        filters=[{"name": name, "text": text} for name, text in suppressed.filter_lines],
        counting_rules=dict(COUNTING_RULES),
        notes=[{"name": name, "text": text} for name, text in suppressed.notes],
        suppression={
            "threshold": suppressed.threshold,
            "primary_marker": suppressed.primary_marker,
            "secondary_marker": suppressed.secondary_marker,
            "hidden_primary": suppressed.hidden_primary,
            "hidden_secondary": suppressed.hidden_secondary,
            "unresolved": suppressed.unresolved,
            "method": (
                f"Counts from 1 to {suppressed.threshold - 1} are shown as '{suppressed.primary_marker}'; further "
                f"counts are shown as '{suppressed.secondary_marker}' so that no hidden count can be worked out from "
                "totals or related tables. Zero is never hidden. Shares need 20 cases and visible counts; medians "
                "need 5 referrals and visible counts ('n/a' otherwise)."
            ),
        },
        estimate=estimate_summary(suppressed),
        tables=tables,
    )


def dimensions(*, actor: User) -> list[dict[str, object]]:
    """The dimensions a report can be filtered and broken down by, with the values of the closed
    ones (what a filter may name). Needs statistics.read."""
    policies.require(actor, "statistics.read")
    found: list[dict[str, object]] = []
    for dimension in Dimension:
        values = closed_values(dimension)
        found.append(
            {
                "name": dimension.value,
                "title": TITLES[dimension],
                "multi_valued": dimension in MULTI_VALUED,
                "victim_level": dimension in VICTIM_LEVEL,
                "values": None if values is None else [{"value": v, "label": LABELS.get(v, v)} for v in values],
            }
        )
    return found
