"""Referral figures against hand-computed ones: by agency and purpose, on time, medians, takedown items."""

from __future__ import annotations

from dataclasses import replace

from reports.aggregates import from_records
from reports.layouts import build_report
from reports.records import CaseRecord
from reports.referrals import ReferralCountRow, TakedownCountRow, count_referrals, count_takedown_items
from reports.scope import ReportFilter, scope
from reports.tables import SuppressedTable, suppress_report
from tests.reports.dataset import CASE_A, CASES, DAY, HOUR, NGO, POLICE, SENT_A, item, referral


def by_key(rows: list[ReferralCountRow]) -> dict[tuple[str | None, str | None], tuple[object, ...]]:
    """(sent, on time, late, not acknowledged, completed, declined, withdrawn, open, median ack, median complete)"""
    return {
        (r.agency, r.purpose): (
            r.sent,
            r.acknowledged_on_time,
            r.acknowledged_late,
            r.not_acknowledged,
            r.completed,
            r.declined,
            r.withdrawn,
            r.still_open,
            r.median_days_to_acknowledge,
            r.median_days_to_complete,
        )
        for r in rows
    }


def test_referrals_by_agency_and_purpose_of_the_fixed_dataset() -> None:
    rows = count_referrals(scope(CASES, counted_once=False))

    assert by_key(rows) == {
        # 6 h, 12 h, 2 days to acknowledge; 2 and 4 days to complete
        (None, None): (5, 2, 1, 2, 2, 1, 1, 1, 0.5, 3.0),
        ("CYBER999", "incident_help"): (1, 0, 0, 1, 0, 0, 1, 0, None, None),
        ("MCMC", "takedown"): (2, 1, 1, 0, 1, 0, 0, 1, 1.25, 4.0),
        ("PDRM", "police_report"): (1, 1, 0, 0, 1, 0, 0, 0, 0.25, 2.0),
        ("WAO", "counselling"): (1, 0, 0, 1, 0, 1, 0, 0, None, None),
    }  # the draft to JBG shared nothing and is not counted
    assert rows[0].agency is None  # the margin first


def test_takedown_items_removed_refused_and_not_resolved() -> None:
    rows = count_takedown_items(scope(CASES, counted_once=False))

    # A: removed after 1 and 2 days; E: removed after 3 days, refused, still requested
    assert rows == [TakedownCountRow(None, 5, 3, 1, 1, 2.0), TakedownCountRow("MCMC", 5, 3, 1, 1, 2.0)]


def test_referrals_count_from_the_record_that_made_them_whatever_the_counted_once_rule() -> None:
    everyone = from_records(CASES)
    ngo = from_records(CASES, ReportFilter(organisation_ids=frozenset({NGO})))
    police = from_records(CASES, ReportFilter(organisation_ids=frozenset({POLICE})))

    # D's referral to police counts although D itself is counted as police case C
    assert ("PDRM", "police_report") in by_key(list(everyone.referrals))
    assert set(by_key(list(ngo.referrals))) == {
        (None, None),
        ("MCMC", "takedown"),
        ("PDRM", "police_report"),
        ("WAO", "counselling"),
    }
    assert set(by_key(list(police.referrals))) == {(None, None), ("CYBER999", "incident_help"), ("MCMC", "takedown")}
    assert [r.items for r in police.takedown] == [2, 2]  # A's two addresses, not the NGO's three


def test_acknowledged_exactly_at_the_deadline_is_on_time() -> None:
    on_the_dot = replace(
        CASE_A, referrals=(referral("MCMC", "takedown", "acknowledged", SENT_A, acknowledged_after=DAY),)
    )

    (margin, _) = count_referrals(scope([on_the_dot]))

    assert (margin.acknowledged_on_time, margin.acknowledged_late, margin.median_days_to_acknowledge) == (1, 0, 1.0)


def test_no_referrals_still_give_a_zero_margin() -> None:
    assert by_key(count_referrals([])) == {(None, None): (0, 0, 0, 0, 0, 0, 0, 0, None, None)}
    assert count_takedown_items([]) == [TakedownCountRow(None, 0, 0, 0, 0, None)]


def acknowledged_cases(n: int) -> list[CaseRecord]:
    """n cases, each with one takedown referral acknowledged after 1, 2, ..., n hours and one
    address removed after 1, 2, ..., n days."""
    return [
        replace(
            CASE_A,
            case_id=1000 + k,
            referrals=(
                referral(
                    "MCMC",
                    "takedown",
                    "acknowledged",
                    SENT_A,
                    acknowledged_after=k * HOUR,
                    items=(item("removed", SENT_A, k * DAY),),
                ),
            ),
        )
        for k in range(1, n + 1)
    ]


def table(cases: list[CaseRecord], name: str, threshold: int) -> SuppressedTable:
    report = suppress_report(build_report(from_records(cases)), threshold=threshold)
    return next(t for t in report.tables if t.name == name)


def test_a_median_is_withheld_when_fewer_than_five_referrals_underlie_it_even_below_the_threshold() -> None:
    four = table(acknowledged_cases(4), "Referrals", threshold=3)
    five = table(acknowledged_cases(5), "Referrals", threshold=3)
    items = table(acknowledged_cases(5), "Takedown items", threshold=3)

    assert four.rows[-1].values[:2] == (4, 4)  # the counts are shown (threshold 3) ...
    assert four.rows[-1].values[-2] == "n/a"  # ... but not a median of four
    assert five.rows[-1].values[-2] == round(3 / 24, 2)  # 1..5 hours: 3 hours
    assert items.rows[-1].values == (5, 5, 0, 0, 3.0)


def test_a_median_is_withheld_when_a_count_it_rests_on_is_suppressed() -> None:
    cases = acknowledged_cases(6)
    cases[0] = replace(cases[0], referrals=(replace(cases[0].referrals[0], acknowledged_at=SENT_A + 2 * DAY),))

    referrals = table(cases, "Referrals", threshold=5)

    on_time, late = referrals.rows[-1].values[1:3]
    assert (on_time, late) == ("x", "<5")  # one late: hidden, and its complement too
    assert referrals.rows[-1].values[-2] == "n/a"


def test_referral_tables_add_up_for_suppression() -> None:
    spec = build_report(from_records(CASES))

    sent = ("referrals", "sent", None, None)
    parts = {("referrals", m, None, None) for m in ("completed", "declined", "withdrawn", "still_open")}
    assert any({key for key, _ in eq} == parts | {sent} for eq in spec.book.equations.values())
