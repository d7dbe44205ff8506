"""Referral figures: referrals by agency and purpose and how they went, and takedown items.

Which referrals: those *sent* (a draft shared nothing) for the cases a report keeps, each counted
from the case record that made it. The counted-once rule is not applied here: a referral is one
event of one record, so an NGO's referrals count even when its case is counted as the police case
it became, and nothing is counted twice. The filter (period, dimensions, organisation scope)
applies to that record's own values.

Per agency and purpose, with the margin over all of them:
  sent = acknowledged on time + acknowledged late + not acknowledged
       = completed + declined + withdrawn (after sending) + still open
Acknowledged on time: acknowledged no later than the acknowledgement deadline set when it was sent.
Median days to acknowledge: over acknowledged referrals, sent -> acknowledged. Median days to
complete: over completed referrals, sent -> completed.

Takedown items (one per address), per agency: items = removed + refused + not resolved (still
requested, or re-uploaded after a removal), by their current status. Median days to removal: over
items now removed, request -> first removal.

Medians are not counts, but a median describes the few referrals it is based on: the layout
withholds it when fewer than ``MIN_MEDIAN_BASE`` referrals (or items) underlie it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reports.records import ScopedCase

MIN_MEDIAN_BASE = 5
SECONDS_PER_DAY = 86_400

OPEN_STATUSES = frozenset({"sent", "acknowledged", "in_progress"})
UNRESOLVED_ITEMS = frozenset({"requested", "reuploaded"})

PURPOSE_LABELS: dict[str, str] = {
    "takedown": "Takedown of posted material",
    "legal_aid": "Free legal aid",
    "counselling": "Counselling and case support",
    "incident_help": "Cyber incident help",
    "police_report": "Report to police",
    "helpline": "Helpline",
}


@dataclass(frozen=True, slots=True)
class ReferralCountRow:
    """Sent referrals of one (agency, purpose); None in both is the margin over all of them."""

    agency: str | None
    purpose: str | None
    sent: int
    acknowledged_on_time: int
    acknowledged_late: int
    not_acknowledged: int
    completed: int
    declined: int
    withdrawn: int
    still_open: int
    median_days_to_acknowledge: float | None
    median_days_to_complete: float | None

    @property
    def acknowledged(self) -> int:
        return self.acknowledged_on_time + self.acknowledged_late


@dataclass(frozen=True, slots=True)
class TakedownCountRow:
    """Takedown items of one agency's referrals; None is the margin over all agencies."""

    agency: str | None
    items: int
    removed: int
    refused: int
    unresolved: int
    median_days_to_removal: float | None


def days(seconds: float | None) -> float | None:
    """A duration in days, rounded to 0.01 (the SQL and Python medians then agree exactly)."""
    return None if seconds is None else round(float(seconds) / SECONDS_PER_DAY, 2)


def median_days(seconds: list[float]) -> float | None:
    return days(statistics.median(seconds)) if seconds else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


@dataclass
class _Tally:
    sent: int = 0
    on_time: int = 0
    late: int = 0
    completed: int = 0
    declined: int = 0
    withdrawn: int = 0
    still_open: int = 0

    def __post_init__(self) -> None:
        self.to_acknowledge: list[float] = []
        self.to_complete: list[float] = []


def count_referrals(cases: Iterable[ScopedCase]) -> list[ReferralCountRow]:
    """Sent referrals per (agency, purpose), with the margin; pass cases scoped with
    ``counted_once=False`` (each record's own referrals)."""
    tallies: dict[tuple[str | None, str | None], _Tally] = defaultdict(_Tally)
    tallies[None, None] = _Tally()
    for scoped in cases:
        for referral in scoped.case.referrals:
            if referral.sent_at is None:
                continue
            for key in ((referral.agency, referral.purpose), (None, None)):
                tally = tallies[key]
                tally.sent += 1
                acknowledged_at, due = referral.acknowledged_at, referral.due_acknowledge_at
                if acknowledged_at is not None:
                    tally.to_acknowledge.append((acknowledged_at - referral.sent_at).total_seconds())
                    on_time = due is not None and acknowledged_at <= due
                    tally.on_time += on_time
                    tally.late += not on_time
                if referral.status == "completed":
                    tally.completed += 1
                    completed = _seconds(referral.sent_at, referral.closed_at)
                    if completed is not None:
                        tally.to_complete.append(completed)
                elif referral.status == "declined":
                    tally.declined += 1
                elif referral.status == "withdrawn":
                    tally.withdrawn += 1
                elif referral.status in OPEN_STATUSES:
                    tally.still_open += 1
    rows = (
        ReferralCountRow(
            agency=agency,
            purpose=purpose,
            sent=t.sent,
            acknowledged_on_time=t.on_time,
            acknowledged_late=t.late,
            not_acknowledged=t.sent - t.on_time - t.late,
            completed=t.completed,
            declined=t.declined,
            withdrawn=t.withdrawn,
            still_open=t.still_open,
            median_days_to_acknowledge=median_days(t.to_acknowledge),
            median_days_to_complete=median_days(t.to_complete),
        )
        for (agency, purpose), t in tallies.items()
    )
    return sort_referral_rows(rows)


def count_takedown_items(cases: Iterable[ScopedCase]) -> list[TakedownCountRow]:
    """Items of sent referrals per agency, by current status, with the margin."""
    found: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # items, removed, refused, unresolved
    to_removal: dict[str | None, list[float]] = defaultdict(list)
    found[None] = [0, 0, 0, 0]
    for scoped in cases:
        for referral in scoped.case.referrals:
            if referral.sent_at is None:
                continue
            for item in referral.takedown_items:
                for key in (referral.agency, None):
                    tally = found[key]
                    tally[0] += 1
                    if item.status == "removed":
                        tally[1] += 1
                        seconds = _seconds(item.requested_at, item.first_removed_at)
                        if seconds is not None:
                            to_removal[key].append(seconds)
                    elif item.status == "refused":
                        tally[2] += 1
                    elif item.status in UNRESOLVED_ITEMS:
                        tally[3] += 1
    rows = (
        TakedownCountRow(agency, items, removed, refused, unresolved, median_days(to_removal.get(agency, [])))
        for agency, (items, removed, refused, unresolved) in found.items()
    )
    return sort_takedown_rows(rows)


def sort_referral_rows(rows: Iterable[ReferralCountRow]) -> list[ReferralCountRow]:
    """The margin first, then by agency and purpose (the same order as the SQL's)."""
    return sorted(rows, key=lambda r: (r.agency is not None, r.agency or "", r.purpose or ""))


def sort_takedown_rows(rows: Iterable[TakedownCountRow]) -> list[TakedownCountRow]:
    return sorted(rows, key=lambda r: (r.agency is not None, r.agency or ""))
