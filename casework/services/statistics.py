"""Statistics for dashboards and workbooks: the reports/ counting rules run in the database,
scoped to what the actor may count, and suppressed before anything leaves.

Analysts count every organisation; other staff with statistics.read count their own
organisation only. Nothing here returns case-level data.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from casework import policies
from casework.errors import PermissionDenied
from casework.extensions import db
from casework.models.users import Role, User
from reports.dimensions import Dimension
from reports.layouts import build_report
from reports.queries import aggregates_from_database
from reports.scope import ReportFilter
from reports.tables import SuppressedReport, suppress_report


@dataclass(frozen=True)
class StatisticsScope:
    """Whose cases are counted: None = every organisation."""

    organisation_id: int | None

    @property
    def label(self) -> str:
        return "all organisations" if self.organisation_id is None else f"organisation {self.organisation_id}"


def scope_for(actor: User) -> StatisticsScope:
    """Analysts see all organisations, aggregated; other staff their own organisation's figures."""
    policies.require(actor, "statistics.read")
    if actor.role == Role.ANALYST:
        return StatisticsScope(None)
    if actor.organisation_id is None:
        raise PermissionDenied()
    return StatisticsScope(actor.organisation_id)


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
    return suppress_report(build_report(aggregates), threshold=current_app.config["SUPPRESSION_THRESHOLD"])


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
