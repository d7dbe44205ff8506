"""Exports: request a workbook or line list (202), follow its progress, download the file."""

from __future__ import annotations

from typing import Any

from flask import Response, stream_with_context

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.exports import ExportCreateSchema, ExportSchema
from casework.services import exports

blp = Blueprint("exports", __name__, description="Statistics workbooks and line lists (background jobs)")


@blp.route("", methods=["POST"])
@requires("export.create")
@blp.arguments(ExportCreateSchema())
@blp.response(202, ExportSchema)
def request_export(data: dict[str, Any]) -> Any:
    """Queue an export; poll its URL for progress. 503 (and nothing created) if the queue is down."""
    password = data.get("password")
    export = exports.request_export(
        actor=actor(), kind=data["kind"], filters=data["filters"], protected=password is not None
    )
    db.session.commit()
    exports.dispatch(export, password=password)
    return export, {"Location": f"/api/v1/exports/{export.id}"}


@blp.route("", methods=["GET"])
@requires("export.create")
@blp.response(200, ExportSchema(many=True))
def list_exports() -> Any:
    """Your exports, newest first."""
    return exports.list_exports(actor=actor())


@blp.route("/<int:export_id>", methods=["GET"])
@requires("export.create")
@blp.response(200, ExportSchema)
def get_export(export_id: int) -> Any:
    return exports.get_export(actor=actor(), export_id=export_id)


@blp.route("/<int:export_id>/download", methods=["GET"])
@requires("export.create")
@blp.response(200, description="The .xlsx file")
def download(export_id: int) -> Any:
    """The finished file (409 while not ready or once expired)."""
    file = exports.download(actor=actor(), export_id=export_id)
    db.session.commit()  # the audit row of the download
    return Response(
        stream_with_context(file.parts),
        mimetype=file.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Content-Length": str(file.size),
            "Cache-Control": "no-store",
        },
    )
