"""The error envelope as the OpenAPI document shows it (every error response uses it)."""

from __future__ import annotations

from marshmallow import fields

from casework.schemas.base import BaseSchema

FIELD_ERRORS = (
    "Field errors, one shape for every 422 whether the schema or a service found the problem: keyed by "
    "the field's dotted path in the request, body fields as they are (`victims.1.date_of_birth`, "
    "`offences.0.code`, `filters.state`), query parameters under `query.` (`query.per_page`, "
    "`query.state.0` for the first value of a repeated parameter) and headers under `headers.` "
    "(`headers.If-Match`); `_request` for the request as a whole. Each value is a list of messages."
)


class ErrorSchema(BaseSchema):
    code = fields.Integer(metadata={"description": "The HTTP status code", "example": 422})
    status = fields.String(metadata={"description": "The HTTP status phrase", "example": "Unprocessable Entity"})
    reason = fields.String(
        metadata={"description": "A stable word where one status has several meanings (e.g. mfa_required)"}
    )
    message = fields.String(metadata={"description": "What went wrong and, where possible, what to do next"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": FIELD_ERRORS,
            "example": {"victims.1.date_of_birth": ["Must not be in the future."], "query.per_page": ["..."]},
        },
    )
    current_status = fields.String(metadata={"description": "409 on a workflow move: the record's status now"})
    allowed_moves = fields.List(
        fields.String(), metadata={"description": "409 on a workflow move: the moves allowed from current_status"}
    )
    last_changed = fields.Dict(
        metadata={
            "description": "409/412 on a stale version: when the record last changed and by whom "
            "({at, version, by: {name, organisation}}; the name only for your own organisation's staff)"
        }
    )
    request_id = fields.String(metadata={"description": "Quote it when asking for help; it is in the logs"})
