"""Export jobs: build one export, and purge expired files every hour."""

from __future__ import annotations

from rq.job import Job

from casework.extensions import db
from casework.jobs import periodic
from casework.models.exports import ExportStatus
from casework.services import exports

PURGE_INTERVAL_SECONDS = 3600
SCHEDULED_PURGE = "casework.jobs.exports.scheduled_purge"


def run_export(export_id: int, sealed_password: str | None = None) -> str | None:
    """Build and store the export (the service commits its own progress). Safe to run twice.
    ``sealed_password``: see casework.services.sealed (never logged)."""
    status: ExportStatus | None = exports.run_export(export_id, sealed_password)
    return status.value if status else None


def purge_expired() -> int:
    """Delete expired export files. Commits: a job is an edge, like a view."""
    count = exports.purge_expired()
    db.session.commit()
    return count


def scheduled_purge(slot: int | None = None) -> int:
    schedule_next_purge(after_slot=slot)
    return purge_expired()


def schedule_next_purge(*, after_slot: int | None = None, now: float | None = None) -> Job | None:
    return periodic.schedule_next(
        SCHEDULED_PURGE, "exports-purge", PURGE_INTERVAL_SECONDS, after_slot=after_slot, now=now
    )
