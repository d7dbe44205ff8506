"""Periodic jobs on RQ's scheduler without cron: each run schedules the next time slot first.

The next run's job id is derived from its slot and scheduled with unique=True, so however many
workers (or restarts) schedule it, one job per slot exists; a worker that was down does not
replay the slots it missed.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from flask import current_app
from rq.exceptions import DuplicateJobError
from rq.job import Job

from casework import queue


def schedule_next(
    func: str, name: str, interval: int, *, after_slot: int | None = None, now: float | None = None
) -> Job | None:
    """Schedule `func(slot)` for the next slot of `interval` seconds; None when already scheduled."""
    slot = math.floor((now if now is not None else time.time()) / interval) + 1
    if after_slot is not None:
        slot = max(slot, after_slot + 1)
    rq_queue = queue.get_queue("default")
    prefix = current_app.config.get("QUEUE_PREFIX", "")
    job = rq_queue.create_job(func, args=(slot,), job_id=f"{prefix}{name}-{slot}", result_ttl=interval * 2)
    try:
        return rq_queue.schedule_job(job, datetime.fromtimestamp(slot * interval, UTC), unique=True)
    except DuplicateJobError:
        return None
