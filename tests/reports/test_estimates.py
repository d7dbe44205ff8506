"""The capture-recapture estimate of the total number of victims."""

from __future__ import annotations

import pytest

from reports.estimates import ASSUMPTIONS, ListCounts, chapman, two_list_counts
from reports.scope import scope
from tests.reports.dataset import CASES


def test_chapman_estimate_variance_and_log_normal_interval() -> None:
    result = chapman(ListCounts(police=100, ngo=80, both=20))

    assert not result.withheld
    assert result.counts.observed == 160
    assert result.estimate == pytest.approx(101 * 81 / 21 - 1)  # 388.57
    assert result.standard_error == pytest.approx((101 * 81 * 80 * 60 / (21**2 * 22)) ** 0.5)  # 63.62
    assert result.unseen == pytest.approx(80 * 60 / 21)  # (n1 - m)(n2 - m) / (m + 1)
    # worked by hand: C = exp(1.96 sqrt(ln(1 + 4047.49 / 228.571^2))) = 1.7081
    assert result.lower == pytest.approx(293.81, abs=0.01)
    assert result.upper == pytest.approx(550.43, abs=0.01)
    assert result.lower > result.counts.observed


def test_withheld_below_seven_matched_victims_with_a_reason_that_does_not_state_the_count() -> None:
    result = chapman(ListCounts(police=50, ngo=40, both=6))

    assert result.withheld
    assert result.estimate is None and result.lower is None and result.upper is None
    assert result.reason == "fewer than 7 victims are known to both police and an NGO (matched by keyed hash)"
    assert not chapman(ListCounts(police=50, ngo=40, both=7)).withheld


def test_complete_overlap_means_nobody_unseen() -> None:
    result = chapman(ListCounts(police=10, ngo=10, both=10))

    assert result.estimate == pytest.approx(10)
    assert (result.lower, result.upper) == (10, 10)


@pytest.mark.parametrize("counts", [ListCounts(5, 10, 6), ListCounts(-1, 3, 0), ListCounts(10, 5, 8)])
def test_inconsistent_lists_are_refused(counts: ListCounts) -> None:
    with pytest.raises(ValueError):
        chapman(counts)


def test_the_assumptions_are_written_out() -> None:
    text = " ".join(ASSUMPTIONS).lower()

    for word in ("closed population", "independence", "same chance", "keyed hash"):
        assert word in text


def test_each_organisation_counts_its_own_records_including_linked_ones() -> None:
    # police: Alia (A), B's four hashed victims, Chen (C), G; NGOs: Chen (D, linked), E, Alia (F)
    assert two_list_counts(scope(CASES, counted_once=False)) == ListCounts(police=7, ngo=3, both=2)
    # counted once, D disappears and Chen is no longer on the NGO list
    assert two_list_counts(scope(CASES)) == ListCounts(police=7, ngo=2, both=1)
