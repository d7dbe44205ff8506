"""Exports: a statistics workbook or line list built by a background job, stored in the
database (in parts) so any web node can serve it, and purged after it expires."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, LargeBinary, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import Model


class ExportKind(enum.StrEnum):
    STATISTICS = "statistics"  # the statistics workbook (suppressed aggregates)
    LINE_LIST = "line_list"  # de-identified, one row per case-offence


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


class Export(Model):
    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The organisation whose cases are counted; NULL = every organisation (analysts).
    scope_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[ExportKind] = mapped_column(
        Enum(ExportKind, name="export_kind", values_callable=lambda e: [m.value for m in e])
    )
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, name="export_status", values_callable=lambda e: [m.value for m in e]), index=True
    )
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)  # percent
    job_id: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    row_count: Mapped[int | None] = mapped_column(Integer)
    # The file is encrypted with a password the requester gave (the password itself is never stored).
    is_protected: Mapped[bool] = mapped_column(default=False, server_default="false")
    error: Mapped[str | None] = mapped_column(Text)  # safe to show: no data, no internals
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ExportPart(Model):
    """One slice of an export's file. Files are stored and served part by part, so neither the
    worker nor a web node ever holds a large line list in memory, and no bytea nears its limit."""

    __tablename__ = "export_parts"

    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
