"""Statistics for dashboards and workbooks: the reports/ counting rules run in the database,
scoped to what the actor may count, and suppressed before anything leaves.

Analysts count every organisation; other staff with statistics.read count their own
organisation only. Nothing here returns case-level data.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass

from flask import current_app

from casework import policies
from casework.errors import PermissionDenied
from casework.extensions import db
from casework.models.users import Role, User
from reports.cellkey import default_table
from reports.counting import COUNTING_RULES
from reports.dimensions import MULTI_VALUED, TITLES, VICTIM_LEVEL, Dimension, closed_values, label
from reports.layouts import EstimateSummary, build_report, estimate_summary, published_estimate
from reports.queries import aggregates_from_database
from reports.scope import ReportFilter
from reports.tables import SuppressedReport, SuppressedTable, exact_report, perturb_report

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


def cell_key_secret() -> str:
    """The secret behind keys of figures whose records carry none (reports.cellkey.value_key),
    derived from the app's secret key: changing that key changes those figures' adjustments."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"statistics cell keys", hashlib.sha256).hexdigest()


def exact_for(scope: StatisticsScope) -> bool:
    """Exact counts where no one is protected from anyone: a supervisor's own organisation (its
    staff can open every case counted), or a threshold of 1 (allowed outside production only)."""
    return scope.organisation_id is not None or current_app.config["SUPPRESSION_THRESHOLD"] == 1


def compute_report(
    scope: StatisticsScope, report_filter: ReportFilter, group_by: Dimension | None = None, *, exact: bool = False
) -> SuppressedReport:
    """Every table of the standard report: exact counts when ``exact`` (or a threshold of 1),
    otherwise protected by the cell-key method (reports.cellkey) with the configured threshold.

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
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    if exact or threshold == 1:
        return exact_report(build_report(aggregates, organisation_labels=labels))
    table, secret = default_table(), cell_key_secret()
    estimate = published_estimate(aggregates.lists, table, secret)
    spec = build_report(aggregates, estimate=estimate, organisation_labels=labels)
    return perturb_report(spec, threshold=threshold, table=table, secret=secret)


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
    suppressed = compute_report(scope, report_filter, group_by, exact=exact_for(scope))
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
            "exact": suppressed.method == "exact",
            "max_adjustment": 0 if suppressed.method == "exact" else default_table().max_adjustment,
            "variance": 0.0 if suppressed.method == "exact" else round(default_table().variance, 3),
            "method": dict(suppressed.notes).get("Protection", ""),
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
                "values": None if values is None else [{"value": v, "label": label(v, dimension)} for v in values],
            }
        )
    return found
