"""Export schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from casework.models.exports import ExportKind, ExportStatus
from casework.schemas.base import BaseSchema
from casework.schemas.statistics import MAX_VALUES, ReportQuerySchema


def _filter_properties() -> dict[str, Any]:
    """The statistics filters as the document's properties of `filters` (validated by
    ReportQuerySchema in the service, so errors come back under `filters`)."""
    properties: dict[str, Any] = {}
    for name, field in ReportQuerySchema().fields.items():
        if isinstance(field, fields.List):
            spec: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
            spec["maxItems"] = MAX_VALUES
        elif isinstance(field, fields.Date):
            spec = {"type": "string", "format": "date"}
        elif isinstance(field, fields.Enum):
            spec = {"type": "string", "enum": [member.value for member in field.enum]}
        else:
            choices = [v.choices for v in field.validators if isinstance(v, validate.OneOf)]
            spec = {"type": "string", **({"enum": list(choices[0])} if choices else {})}
        properties[name] = spec
    return properties


class ExportCreateSchema(BaseSchema):
    kind = fields.Enum(ExportKind, by_value=True, required=True)
    filters = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={
            "description": "The same filters as GET /api/v1/statistics/report",
            "properties": _filter_properties(),
            "additionalProperties": False,
        },
    )
    password = fields.String(
        load_only=True,
        validate=validate.Length(min=8, max=128),
        metadata={
            "description": "Encrypt the file with this password (Excel and LibreOffice ask for it). Never stored "
            "or logged: give it to the recipient another way."
        },
    )


class ExportSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.Enum(ExportKind, by_value=True)
    status = fields.Enum(ExportStatus, by_value=True)
    progress = fields.Integer(metadata={"description": "Percent done"})
    filters = fields.Dict()
    filename = fields.String(allow_none=True)
    size_bytes = fields.Integer(allow_none=True)
    row_count = fields.Integer(allow_none=True)
    is_protected = fields.Boolean(metadata={"description": "The file is encrypted with the password given"})
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    url = fields.Function(lambda e: f"/api/v1/exports/{e.id}")
    download_url = fields.Function(
        lambda e: f"/api/v1/exports/{e.id}/download" if e.status == ExportStatus.DONE else None
    )
