"""Exports whose job can no longer finish are marked failed, so none stays `running` forever.

A worker killed with its work-horse (OOM killer, SIGKILL, a lost machine) never reports back:
RQ moves the job to its failed registry at best, and the export row would still say running.
`sweep_stuck_exports` (every SWEEP_INTERVAL_SECONDS in the worker, see casework.jobs.export_sweep)
and the job's failure callback (`mark_interrupted`) close such exports with a safe message; the
requester sees `failed` and asks again. The file is stored in the same transaction that marks
an export done, so an interrupted one has nothing to download; parts are deleted regardless.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import delete, select, update

from casework import queue
from casework.extensions import db
from casework.models.exports import Export, ExportPart, ExportStatus

log = logging.getLogger(__name__)

JOB_TIMEOUT_SECONDS = 3600  # the export job's RQ timeout (services.exports.dispatch)
SWEEP_INTERVAL_SECONDS = 300
# A queued export gets its job id right after its commit; one without a job after this long
# was never enqueued (the web process died in between).
UNDISPATCHED_GRACE = timedelta(minutes=10)
INTERRUPTED = "The export was interrupted (its worker stopped). Please request it again."
_OPEN = (ExportStatus.QUEUED, ExportStatus.RUNNING)
_DEAD = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED}


def mark_interrupted(export_id: int, *, when: datetime | None = None) -> bool:
    """Mark one queued or running export failed and drop any parts; False if it had moved on
    (done, failed...). Flushes; the caller commits."""
    changed = db.session.execute(
        update(Export)
        .where(Export.id == export_id, Export.status.in_(_OPEN))
        .values(status=ExportStatus.FAILED, error=INTERRUPTED, finished_at=when or datetime.now(UTC))
        .returning(Export.id)
    ).first()
    if changed:
        db.session.execute(delete(ExportPart).where(ExportPart.export_id == export_id))
        log.warning("export %s marked failed: its job can no longer finish", export_id)
    return changed is not None


def _job_gone(job_id: str, abandoned: set[str]) -> bool:
    if job_id in abandoned:
        return True
    try:
        job = Job.fetch(job_id, connection=queue.connection())
    except NoSuchJobError:
        return True
    return job.get_status(refresh=False) in _DEAD


def sweep_stuck_exports(*, now: float | None = None) -> list[int]:
    """Fail every open export whose job is gone, failed or abandoned (its worker's heartbeat
    lapsed), has run past the job timeout, or was never enqueued. Returns their ids. Flushes.

    `now` (seconds since the epoch) is for tests that look past a heartbeat without waiting.
    """
    now = now if now is not None else time.time()
    moment = datetime.fromtimestamp(now, UTC)
    registry = StartedJobRegistry(queue=queue.get_queue("exports"))
    abandoned = set(registry.get_expired_job_ids(now))
    swept = []
    for export in db.session.scalars(select(Export).where(Export.status.in_(_OPEN)).order_by(Export.id)):
        if export.job_id is None:
            stuck = moment - export.created_at > UNDISPATCHED_GRACE
        else:
            overran = export.started_at is not None and (
                moment - export.started_at > timedelta(seconds=JOB_TIMEOUT_SECONDS + 120)
            )
            stuck = overran or _job_gone(export.job_id, abandoned)
        if stuck and mark_interrupted(export.id, when=moment):
            swept.append(export.id)
    return swept
