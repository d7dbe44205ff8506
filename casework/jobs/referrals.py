"""Referral jobs: the overdue scan, and keeping it scheduled every few minutes in the worker.

The scan runs in the normal worker (`flask worker` starts RQ's scheduler): each scheduled run
first schedules the next one, then scans, so a failing scan does not break the chain. The next
run's job id is derived from its time slot, and scheduled with unique=True, so however many
workers (or restarts) schedule it, one job per slot exists. Cron users can run
`flask referrals mark-overdue` instead; the scan itself is safe to run twice.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from flask import current_app
from rq.exceptions import DuplicateJobError
from rq.job import Job

from casework import queue
from casework.extensions import db
from casework.services import referrals

SCAN = "casework.jobs.referrals.mark_overdue"
SCHEDULED_SCAN = "casework.jobs.referrals.scheduled_scan"
DEFAULT_INTERVAL_SECONDS = 900


def mark_overdue() -> dict[str, int]:
    """Mark overdue referrals and notify (idempotent). Commits: a job is an edge, like a view."""
    try:
        counts = referrals.mark_overdue()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts


def scheduled_scan(slot: int | None = None) -> dict[str, int]:
    """The periodic run for a time slot: schedule the next slot, then scan."""
    schedule_next_scan(after_slot=slot)
    return mark_overdue()


def interval_seconds() -> int:
    return int(current_app.config.get("REFERRAL_OVERDUE_SCAN_SECONDS", DEFAULT_INTERVAL_SECONDS))


def schedule_next_scan(*, after_slot: int | None = None, now: float | None = None) -> Job | None:
    """Schedule the scan for the next time slot (after `after_slot`, and never in the past, so
    a worker that was down does not replay the missed slots); None when already scheduled."""
    interval = interval_seconds()
    slot = math.floor((now if now is not None else time.time()) / interval) + 1
    if after_slot is not None:
        slot = max(slot, after_slot + 1)
    rq_queue = queue.get_queue("default")
    prefix = current_app.config.get("QUEUE_PREFIX", "")
    job = rq_queue.create_job(
        SCHEDULED_SCAN, args=(slot,), job_id=f"{prefix}referrals-overdue-{slot}", result_ttl=interval * 2
    )
    try:
        return rq_queue.schedule_job(job, datetime.fromtimestamp(slot * interval, UTC), unique=True)
    except DuplicateJobError:
        return None
