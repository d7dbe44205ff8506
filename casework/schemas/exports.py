"""Export schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from casework.models.exports import ExportKind, ExportStatus
from casework.schemas.base import BaseSchema


class ExportCreateSchema(BaseSchema):
    kind = fields.Enum(ExportKind, by_value=True, required=True)
    filters = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "The same filters as GET /api/v1/statistics/report"},
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
