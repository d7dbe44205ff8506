"""Statistics workbooks and line lists as background exports: request, run, serve, purge.

The request is checked and recorded here, the work runs in an RQ worker (casework.jobs.exports),
the file is stored in the database so any web node can serve it, and it expires after
EXPORT_TTL. Who exported what, and every download, is audited.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from flask import current_app
from marshmallow import ValidationError
from msoffcrypto.format.ooxml import OOXMLFile
from rq import Callback
from sqlalchemy import delete, insert, select, update

from casework import policies, queue
from casework.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from casework.extensions import db
from casework.models.exports import Export, ExportKind, ExportPart, ExportStatus
from casework.models.users import User
from casework.schemas.statistics import ReportQuerySchema, report_filter_from
from casework.services import audit, case_records, sealed, statistics
from reports.kanon import anonymise
from reports.linelist import LineListRow, line_list_rows, new_export_key, write_line_list
from reports.scope import iter_scope
from reports.workbook import write_workbook

log = logging.getLogger(__name__)

EXPORT_TTL = timedelta(days=7)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PART_BYTES = 4 * 1024 * 1024
RUN_JOB = "casework.jobs.exports.run_export"
ON_FAILURE = "casework.jobs.export_sweep.export_job_failed"  # marks the export failed (export_sweep)
Progress = Callable[[float], None]


def check_filters(filters: dict[str, Any]) -> None:
    """422 with field errors under 'filters' unless they are valid statistics filters."""
    try:
        ReportQuerySchema().load(filters)
    except ValidationError as exc:
        raise ValidationFailed("The filters are not valid.", {"filters": exc.messages}) from exc


def request_export(*, actor: User, kind: ExportKind, filters: dict[str, Any], protected: bool = False) -> Export:
    """Record an export request. Needs export.create (edge), and export.linelist for line lists.
    ``protected``: a password comes with it (given to dispatch(), never to this row). Line lists
    need one when CASEWORK_LINE_LIST_REQUIRES_PASSWORD is set (ValidationFailed otherwise).

    Answers 503 before anything is written when the job queue is down. Audits. The caller
    commits, then calls dispatch().
    """
    if kind == ExportKind.LINE_LIST:
        policies.require(actor, "export.linelist")
        if current_app.config.get("LINE_LIST_REQUIRES_PASSWORD") and not protected:
            raise ValidationFailed(
                "A line list must be protected with a password.", {"password": ["Required for line lists."]}
            )
    scope = statistics.scope_for(actor)
    check_filters(filters)
    queue.ping_or_unavailable()
    export = Export(
        requested_by_id=actor.id,
        scope_organisation_id=scope.organisation_id,
        kind=kind,
        filters=filters,
        status=ExportStatus.QUEUED,
        progress=0,
        is_protected=protected,
    )
    db.session.add(export)
    db.session.flush()
    audit.record(actor, "export.requested", export, kind=kind.value, scope=scope.label, filters=sorted(filters))
    return export


def dispatch(export: Export, *, password: str | None = None) -> None:
    """Enqueue the committed export. If Redis went away since the check, the export is marked
    failed (committed) and ServiceUnavailable raised, so the client sees 503 and no stuck job.
    A password travels sealed (casework.services.sealed) in the job's arguments, and the job is
    dropped from Redis as soon as it has run."""
    try:
        on_failure = Callback(ON_FAILURE)
        if password is not None:
            job = queue.get_queue("exports").enqueue(
                RUN_JOB,
                export.id,
                sealed.seal(password, export.id),
                job_timeout=3600,
                result_ttl=0,
                failure_ttl=0,
                on_failure=on_failure,
            )
        else:
            job = queue.get_queue("exports").enqueue(
                RUN_JOB, export.id, job_timeout=3600, result_ttl=86400, on_failure=on_failure
            )
    except Exception as exc:  # noqa: BLE001 - any Redis failure
        export.status, export.error = ExportStatus.FAILED, "The job queue was unavailable; request the export again."
        db.session.commit()
        raise ServiceUnavailable("The job queue is unavailable; try again shortly.") from exc
    export.job_id = job.id
    db.session.commit()


def get_export(*, actor: User, export_id: int) -> Export:
    """The requester's own export; anyone else's is NotFound."""
    export = db.session.get(Export, export_id)
    if export is None or export.requested_by_id != actor.id:
        raise NotFound()
    return export


def list_exports(*, actor: User) -> list[Export]:
    query = select(Export).where(Export.requested_by_id == actor.id).order_by(Export.id.desc()).limit(50)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    size: int
    parts: Iterator[bytes]


def download(*, actor: User, export_id: int) -> Download:
    """The file of a finished, unexpired export, as an iterator of parts read one at a time.
    Conflict while not ready or after expiry. Audits."""
    export = get_export(actor=actor, export_id=export_id)
    if export.status == ExportStatus.EXPIRED:
        raise Conflict("This export has expired and its file was deleted; request a new one.")
    if export.status != ExportStatus.DONE:
        raise Conflict(f"This export is {export.status.value}, not ready to download.")
    audit.record(actor, "export.downloaded", export, kind=export.kind.value, size=export.size_bytes)
    return Download(
        export.filename or f"export-{export.id}.xlsx",
        export.content_type or XLSX,
        export.size_bytes or 0,
        _parts(export.id),
    )


def _parts(export_id: int) -> Iterator[bytes]:
    seqs = db.session.scalars(select(ExportPart.seq).where(ExportPart.export_id == export_id).order_by(ExportPart.seq))
    for seq in list(seqs):
        yield db.session.execute(
            select(ExportPart.data).where(ExportPart.export_id == export_id, ExportPart.seq == seq)
        ).scalar_one()


def _encrypt(plain: BinaryIO, encrypted: BinaryIO, password: str) -> None:
    """An encrypted OOXML file (ECMA-376 agile encryption) that Excel and LibreOffice open with the
    password. msoffcrypto-tool reads the plain file and writes the encrypted one."""
    plain.seek(0)
    OOXMLFile(plain).encrypt(password, encrypted)


def _store(export_id: int, handle: BinaryIO) -> int:
    """Copy a finished file into the database part by part; returns its size."""
    handle.seek(0)
    size = 0
    for seq, chunk in enumerate(iter(lambda: handle.read(PART_BYTES), b"")):
        db.session.execute(insert(ExportPart).values(export_id=export_id, seq=seq, data=chunk))
        size += len(chunk)
    return size


# ----------------------------------------------------------------------- the work itself


def export_to_file(
    *, kind: ExportKind, filters: dict[str, Any], organisation_id: int | None, output: BinaryIO, progress: Progress
) -> int | None:
    """Build an export directly (the CLI's scheduled use): validated filters, audited as the operator."""
    check_filters(filters)
    export = Export(kind=kind, filters=filters, scope_organisation_id=organisation_id)
    audit.record(None, "export.cli", object_type="exports", kind=kind.value, filters=sorted(filters))
    return build_file(export, output, progress, generated_by="command line (flask reports export)")


def build_file(export: Export, output: BinaryIO, progress: Progress, generated_by: str) -> int | None:
    """Write an export's file from its stored filters and scope; returns its rows (line lists)."""
    args = ReportQuerySchema().load(export.filters)
    report_filter, group_by = report_filter_from(args)
    scope = statistics.StatisticsScope(export.scope_organisation_id)
    if export.kind == ExportKind.STATISTICS:
        progress(0.05)
        report = statistics.compute_report(scope, report_filter, group_by)
        progress(0.8)
        write_workbook(report, output, generated_by=generated_by, progress=lambda f: progress(0.8 + 0.2 * f))
        return None
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            scoped_filter = statistics.restrict_to(scope, report_filter)
            total = case_records.count_rows(connection, scope.organisation_id)
            linked = case_records.linked_police_case_ids(connection)
            in_scope = case_records.in_scope_police_case_ids(connection, scope.organisation_id)
            key = new_export_key()

            def rows() -> Iterator[LineListRow]:
                # streamed twice from the same snapshot: once to count classes, once to write
                records = case_records.stream_case_records(connection, scope.organisation_id)
                return line_list_rows(iter_scope(records, scoped_filter, linked, in_scope_ids=in_scope), key)

            anonymisation, anonymous = anonymise(rows, current_app.config["SUPPRESSION_THRESHOLD"])
            count = write_line_list(
                anonymous,
                output,
                generated_by=generated_by,
                filter_lines=scoped_filter.describe(),
                total_rows=total,
                progress=progress,
                anonymisation=anonymisation.describe(),
            )
    return count


def run_export(export_id: int, sealed_password: str | None = None) -> ExportStatus | None:
    """The job body: build and store the file. Safe to run twice (only a queued or interrupted
    export is worked on). Commits progress as it goes; a failure is recorded with a safe message."""
    export = db.session.get(Export, export_id)
    if export is None or export.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return export.status if export else None
    export.status, export.started_at, export.progress, export.error = ExportStatus.RUNNING, _now(), 0, None
    db.session.commit()
    last = [0]

    def progress(fraction: float) -> None:
        percent = max(0, min(99, int(fraction * 100)))
        if percent >= last[0] + 5:
            last[0] = percent
            db.session.execute(update(Export).where(Export.id == export_id).values(progress=percent))
            db.session.commit()

    requester = db.session.get(User, export.requested_by_id)
    generated_by = f"user {export.requested_by_id} ({requester.role.value if requester else 'unknown'})"
    try:
        if export.is_protected and sealed_password is None:
            raise ValueError("a protected export was queued without its password")
        with tempfile.TemporaryFile() as output:  # on disk: a million-row list never sits in memory
            rows = build_file(export, output, progress, generated_by)
            if sealed_password is not None:
                with tempfile.TemporaryFile() as encrypted:
                    _encrypt(output, encrypted, sealed.open_sealed(sealed_password, export_id))
                    size = _store(export_id, encrypted)
            else:
                size = _store(export_id, output)
    except Exception:  # noqa: BLE001 - recorded for the requester, logged for operators
        db.session.rollback()
        log.exception("export %s failed", export_id)  # ids only: no filters, no data
        export = db.session.get_one(Export, export_id)
        export.status, export.finished_at = ExportStatus.FAILED, _now()
        export.error = "The export could not be produced. It has been logged; please try again or report it."
        db.session.commit()
        return ExportStatus.FAILED
    stamp = _now()
    export.size_bytes, export.row_count = size, rows
    export.filename = f"casework-{export.kind.value.replace('_', '-')}-{stamp:%Y%m%d-%H%M}-{export.id}.xlsx"
    export.content_type, export.status, export.progress = XLSX, ExportStatus.DONE, 100
    export.finished_at, export.expires_at = stamp, stamp + current_app.config.get("EXPORT_TTL", EXPORT_TTL)
    audit.record(None, "export.completed", export, kind=export.kind.value, size=size, rows=rows)
    db.session.commit()
    return ExportStatus.DONE


def purge_expired() -> int:
    """Delete the files of exports past their expiry (the row stays, as a record). Flushes."""
    expired = list(
        db.session.scalars(
            update(Export)
            .where(Export.status == ExportStatus.DONE, Export.expires_at < _now())
            .values(status=ExportStatus.EXPIRED)
            .returning(Export.id)
        )
    )
    if expired:
        db.session.execute(delete(ExportPart).where(ExportPart.export_id.in_(expired)))
    return len(expired)


def _now() -> datetime:
    return datetime.now(UTC)
