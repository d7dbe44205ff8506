"""Jobs that keep exports from staying `running` after their worker died: the failure
callback of every export job, and the periodic sweep."""

from __future__ import annotations

from typing import Any

from rq.job import Job

from casework.extensions import db
from casework.jobs import periodic
from casework.services import export_sweep

SCHEDULED_SWEEP = "casework.jobs.export_sweep.scheduled_sweep"


def export_job_failed(job: Job, connection: Any, *exc_info: Any) -> None:
    """RQ failure callback (also run by RQ for a job abandoned by a dead worker)."""
    if job.args and export_sweep.mark_interrupted(int(job.args[0])):
        db.session.commit()


def sweep() -> list[int]:
    swept = export_sweep.sweep_stuck_exports()
    db.session.commit()
    return swept


def scheduled_sweep(slot: int | None = None) -> list[int]:
    schedule_next_sweep(after_slot=slot)
    return sweep()


def schedule_next_sweep(*, after_slot: int | None = None, now: float | None = None) -> Job | None:
    return periodic.schedule_next(
        SCHEDULED_SWEEP, "exports-sweep", export_sweep.SWEEP_INTERVAL_SECONDS, after_slot=after_slot, now=now
    )
