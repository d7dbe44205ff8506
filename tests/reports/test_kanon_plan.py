"""The bounded-memory planner decides exactly as the first one did (one Counter per level)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pytest

from reports import kanon
from reports.kanon import LEVELS, MAX_SUPPRESSED, Anonymisation, _class, generalise, plan
from reports.linelist import LineListRow, line_list_rows, new_export_key
from reports.scope import scope
from tests.reports.synthetic import generate


def first_plan(
    rows: Iterable[LineListRow], k: int, max_suppressed: float = MAX_SUPPRESSED
) -> tuple[Anonymisation, set[int]]:
    """The planner as merged for issue 14: every level's Counter at once (475 MB at 1M cases)."""
    counts = [Counter[int]() for _ in LEVELS]
    total = 0
    for row in rows:
        total += 1
        for index, level in enumerate(LEVELS):
            counts[index][_class(generalise(row, level))] += 1
    chosen = len(LEVELS) - 1
    for index, found in enumerate(counts):
        small = sum(n for n in found.values() if n < k)
        if small <= max_suppressed * total:
            chosen = index
            break
    small_classes = {c for c, n in counts[chosen].items() if n < k}
    suppressed = sum(counts[chosen][c] for c in small_classes)
    removed = suppressed if 0 < suppressed < k else 0
    return Anonymisation(k, LEVELS[chosen], chosen, total, suppressed - removed, removed), small_classes


@pytest.mark.parametrize("spill_after", [kanon.SPILL_AFTER, 50, 0])  # never, some levels, every level spilled
@pytest.mark.parametrize(
    ("size", "k", "max_suppressed"), [(2000, 5, MAX_SUPPRESSED), (300, 5, MAX_SUPPRESSED), (3, 5, 0.05), (2000, 3, 0.2)]
)
def test_the_planner_returns_what_the_first_one_did(
    monkeypatch: pytest.MonkeyPatch, spill_after: int, size: int, k: int, max_suppressed: float
) -> None:
    rows = list(line_list_rows(scope(generate(size, seed=size)), new_export_key()))
    monkeypatch.setattr(kanon, "SPILL_AFTER", spill_after)

    assert plan(rows, k, max_suppressed) == first_plan(rows, k, max_suppressed)


def test_the_fine_levels_spill_to_hashes_and_the_coarse_ones_stay_counted() -> None:
    rows = list(line_list_rows(scope(generate(2000, seed=4)), new_export_key()))  # ~2,900 and ~380 classes
    tallies = [kanon._Tally(1000) for _ in LEVELS]
    for row in rows:
        for tally, level in zip(tallies, LEVELS, strict=True):
            tally.add(_class(generalise(row, level)))

    assert tallies[0].counter is None and sum(len(b) for b in tallies[0].buckets) == len(rows)
    assert tallies[-1].counter is not None and sum(tallies[-1].counter.values()) == len(rows)
