"""Referral jobs: the overdue scan, and keeping it scheduled every few minutes in the worker.

The scan runs in the normal worker (`flask worker` starts RQ's scheduler): each scheduled run
first schedules the next one, then scans, so a failing scan does not break the chain (see
casework.jobs.periodic). Cron users can run
`flask referrals mark-overdue` instead; the scan itself is safe to run twice.
"""

from __future__ import annotations

from flask import current_app
from rq.job import Job

from casework.extensions import db
from casework.jobs import periodic
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
    """Schedule the scan for the next time slot (see casework.jobs.periodic)."""
    return periodic.schedule_next(
        SCHEDULED_SCAN, "referrals-overdue", interval_seconds(), after_slot=after_slot, now=now
    )
