"""Statistics schemas: what a report counts (period, filters, breakdown) and the suppressed report out.

``ReportQuerySchema`` reads the query string of the statistics API, and any JSON with the same
fields (a stored export request): each dimension filter takes one or more values, repeated
(``state=MY-14&state=MY-10``) or comma-separated (``state=MY-14,MY-10``).
``report_filter_from`` turns what it loads into the ``ReportFilter`` and breakdown the
``reports`` package takes. The output schemas dump figures exactly as suppression left them:
counts, "<5" and "x", shares, "n/a"; there is no case-level field anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from casework.schemas.base import BaseSchema
from reports.dimensions import UNKNOWN, Dimension, closed_values
from reports.scope import ReportFilter

EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
MAX_VALUES = 50  # values of one filter

_UNKNOWN = f"|{UNKNOWN}"
_CODE = validate.Regexp(r"^[a-z0-9_]{1,40}$", error="Lower-case code, e.g. 'telegram'.")
_PERIOD = {
    "month": validate.Regexp(rf"^(\d{{4}}-(0[1-9]|1[0-2]){_UNKNOWN})$", error="A month, e.g. 2026-01."),
    "quarter": validate.Regexp(rf"^(\d{{4}}-Q[1-4]{_UNKNOWN})$", error="A quarter, e.g. 2026-Q1."),
    "year": validate.Regexp(rf"^(\d{{4}}{_UNKNOWN})$", error="A year, e.g. 2026."),
}


def _value_validator(dimension: Dimension) -> validate.Validator:
    values = closed_values(dimension)
    if values is not None:
        return validate.OneOf(values)
    if dimension is Dimension.STATE:
        return validate.Regexp(rf"^(MY-\d{{2}}{_UNKNOWN})$", error="A state code, e.g. MY-14.")
    if dimension in (Dimension.PLATFORM, Dimension.ABUSE_TYPE):
        return _CODE
    return _PERIOD[dimension.value.split("_", 1)[1]]


class ValueList(fields.List):
    """One or more values of a dimension: the parameter repeated, or values separated by commas."""

    def __init__(self, dimension: Dimension, **kwargs: Any) -> None:
        super().__init__(
            fields.String(validate=_value_validator(dimension)),
            validate=validate.Length(min=1, max=MAX_VALUES),
            metadata={"description": f"Only cases with this {dimension.value} (any of the values given)"},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list | tuple):
            parts = [part for v in items for part in (v.split(",") if isinstance(v, str) else [v])]
            items = [part.strip() if isinstance(part, str) else part for part in parts]  # others: "Not a valid string"
        return super()._deserialize(items, attr, data, **kwargs)


class ReportQuerySchema(BaseSchema):
    """The period, the filters (one field per dimension, named like it) and the breakdown."""

    date_basis = fields.String(
        load_default="received",
        validate=validate.OneOf(["received", "incident"]),
        metadata={"description": "Which date the period and the months use: received (default) or incident"},
    )
    date_from = fields.Date(validate=validate.Range(min=EARLIEST, max=LATEST), metadata={"description": "Inclusive"})
    date_to = fields.Date(validate=validate.Range(min=EARLIEST, max=LATEST), metadata={"description": "Inclusive"})
    group_by = fields.Enum(
        Dimension,
        by_value=True,
        metadata={"description": "Break the tables down by this dimension"},
    )
    received_month = ValueList(Dimension.RECEIVED_MONTH)
    received_quarter = ValueList(Dimension.RECEIVED_QUARTER)
    received_year = ValueList(Dimension.RECEIVED_YEAR)
    incident_month = ValueList(Dimension.INCIDENT_MONTH)
    incident_quarter = ValueList(Dimension.INCIDENT_QUARTER)
    incident_year = ValueList(Dimension.INCIDENT_YEAR)
    state = ValueList(Dimension.STATE)
    platform = ValueList(Dimension.PLATFORM)
    abuse_type = ValueList(Dimension.ABUSE_TYPE)
    age_band = ValueList(Dimension.AGE_BAND)
    gender = ValueList(Dimension.GENDER)
    minor = ValueList(Dimension.MINOR)
    organisation_kind = ValueList(Dimension.ORGANISATION_KIND)
    intake_channel = ValueList(Dimension.INTAKE_CHANNEL)
    known_to = ValueList(Dimension.KNOWN_TO)
    payments = ValueList(Dimension.PAYMENTS)
    material_released = ValueList(Dimension.MATERIAL_RELEASED)

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("Must not be before date_from.", "date_to")


def report_filter_from(args: Mapping[str, Any]) -> tuple[ReportFilter, Dimension | None]:
    """The filter and breakdown that ``ReportQuerySchema().load(...)`` describes (organisation scope
    is not a query field: the statistics service sets it from the requesting user)."""
    only = {dimension: frozenset(args[dimension.value]) for dimension in Dimension if args.get(dimension.value)}
    report_filter = ReportFilter(
        date_basis=args.get("date_basis", "received"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        only=only,
    )
    group_by = args.get("group_by")
    return report_filter, Dimension(group_by) if group_by is not None else None


# ---------------------------------------------------------------- output


class NamedTextSchema(Schema):
    name = fields.String()
    text = fields.String()


class StatisticsRowSchema(Schema):
    labels = fields.List(fields.Raw())
    cells = fields.List(fields.Raw(), attribute="values", metadata={"description": 'Counts, "<5", "x", shares, "n/a"'})
    is_total = fields.Boolean()


class StatisticsTableSchema(Schema):
    name = fields.String()
    topic = fields.String(metadata={"description": "cases | offences | perpetrators | estimate | referrals"})
    title = fields.String()
    description = fields.String()
    label_columns = fields.List(fields.String(), attribute="label_headers")
    value_columns = fields.List(fields.String(), attribute="value_headers")
    share_columns = fields.Method(
        "_shares", metadata={"description": "Positions in value_columns holding shares (0 to 1)"}
    )
    rows = fields.List(fields.Nested(StatisticsRowSchema))

    def _shares(self, table: Any) -> list[int]:
        return sorted(table.percent_columns)


class SuppressionSchema(Schema):
    threshold = fields.Integer()
    primary_marker = fields.String()
    secondary_marker = fields.String()
    hidden_primary = fields.Integer()
    hidden_secondary = fields.Integer()
    unresolved = fields.Integer()
    exact = fields.Boolean(
        metadata={"description": "True: exact counts; false: counts adjusted by the cell-key method"}
    )
    max_adjustment = fields.Integer(metadata={"description": "No count is adjusted by more than this (0 when exact)"})
    variance = fields.Float(metadata={"description": "Variance of the adjustment of counts of 3 or more"})
    method = fields.String()


class EstimateFigureSchema(Schema):
    measure = fields.String()
    value = fields.Raw(metadata={"description": 'A count, "<5", "x", a rounded estimate or "n/a"'})


class EstimateSchema(Schema):
    method = fields.String()
    assumptions = fields.List(fields.String())
    status = fields.String(metadata={"description": "estimated | withheld"})
    reason = fields.String(allow_none=True)
    figures = fields.Method("_figures", metadata={"description": "[{measure, value}]"})

    def _figures(self, estimate: Any) -> list[dict[str, Any]]:
        # the summary holds (measure, value) pairs: a nested schema would read attributes of tuples
        return [EstimateFigureSchema().dump({"measure": m, "value": v}) for m, v in estimate.figures]


class StatisticsReportSchema(Schema):
    scope = fields.String(metadata={"description": "Whose cases are counted"})
    group_by = fields.Enum(Dimension, by_value=True, allow_none=True)
    filters = fields.List(fields.Nested(NamedTextSchema))
    counting_rules = fields.Dict(keys=fields.String(), values=fields.String())
    notes = fields.List(fields.Nested(NamedTextSchema))
    suppression = fields.Nested(SuppressionSchema)
    estimate = fields.Nested(EstimateSchema)
    tables = fields.List(fields.Nested(StatisticsTableSchema))


class DimensionValueSchema(Schema):
    value = fields.String()
    label = fields.String()


class DimensionSchema(Schema):
    name = fields.String()
    title = fields.String()
    multi_valued = fields.Boolean(metadata={"description": "A case can take several values"})
    victim_level = fields.Boolean(metadata={"description": "Each victim has its own value"})
    values = fields.List(
        fields.Nested(DimensionValueSchema),
        allow_none=True,
        metadata={"description": "Every value a filter may name; null for open sets (codes, months)"},
    )
