"""Statistics: the standard report as JSON, suppressed, for the caller's scope (analysts: every
organisation; supervisors: their own). Aggregates only: no case, victim or identifier anywhere.

Every view takes the same query (``ReportQuerySchema``): period, filters, breakdown. The partial
views (offences, referrals) are cut from the full report after suppression, so a cell reads the
same in every response.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.schemas.statistics import (
    DimensionSchema,
    ReportQuerySchema,
    StatisticsReportSchema,
    report_filter_from,
)
from casework.services import statistics

blp = Blueprint("statistics", __name__, description="Aggregate statistics (small numbers suppressed)")


def _report(args: dict[str, Any], topics: set[str] | None = None) -> statistics.StatisticsReport:
    """Parse the query into a filter, then one service call for the actor's scope."""
    report_filter, group_by = report_filter_from(args)
    return statistics.report(actor=actor(), report_filter=report_filter, group_by=group_by, topics=topics)


@blp.route("/report", methods=["GET"])
@requires("statistics.read")
@blp.arguments(ReportQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, StatisticsReportSchema)
def report(args: dict[str, Any]) -> Any:
    """Every table of the standard report: known to, offences counted four ways with the hidden
    number, cases by month (and by `group_by`), payments, repeat identifiers, the estimate, referrals."""
    return _report(args)


@blp.route("/offences", methods=["GET"])
@requires("statistics.read")
@blp.arguments(ReportQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, StatisticsReportSchema)
def offences(args: dict[str, Any]) -> Any:
    """Cases by most serious offence vs cases involving each offence, offences and victims, and the
    hidden number per section (by `group_by` too when given)."""
    return _report(args, topics={"offences"})


@blp.route("/referrals", methods=["GET"])
@requires("statistics.read")
@blp.arguments(ReportQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, StatisticsReportSchema)
def referrals(args: dict[str, Any]) -> Any:
    """Referrals by agency and purpose (on time, completed, median days) and takedown items."""
    return _report(args, topics={"referrals"})


@blp.route("/dimensions", methods=["GET"])
@requires("statistics.read")
@blp.response(200, DimensionSchema(many=True))
def dimensions() -> Any:
    """What reports can be filtered and broken down by, and the values of the closed sets."""
    return statistics.dimensions(actor=actor())
