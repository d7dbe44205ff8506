"""Disclosure control: no small count is visible, and none can be worked out from the margins."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import (
    SECONDARY_MARKER,
    bounds,
    grid_equations,
    rate,
    suppress,
    suppress_table,
)

counts = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 60), st.integers(1, 12))
tables = st.integers(1, 6).flatmap(
    lambda columns: st.lists(st.lists(counts, min_size=columns, max_size=columns), min_size=1, max_size=6)
)
thresholds = st.sampled_from([3, 5, 10])


def lines(grid):  # type: ignore[no-untyped-def]
    """Every row and column of the display grid, each with its total last."""
    rows = [list(row) for row in grid]
    columns = [list(column) for column in zip(*grid, strict=True)]
    return rows + columns


def small(value: int, threshold: int) -> bool:
    return 0 < value < threshold


@settings(max_examples=150, deadline=None)
@given(tables, thresholds)
def test_no_visible_cell_or_total_is_a_small_count(cells, threshold) -> None:  # type: ignore[no-untyped-def]
    grid, _ = suppress_table(cells, threshold=threshold)

    for row in grid:
        for value in row:
            assert not (isinstance(value, int) and small(value, threshold))


@settings(max_examples=150, deadline=None)
@given(tables, thresholds)
def test_no_hidden_cell_is_its_total_minus_the_visible_cells(cells, threshold) -> None:  # type: ignore[no-untyped-def]
    grid, _ = suppress_table(cells, threshold=threshold)

    for line in lines(grid):
        hidden = [v for v in line if isinstance(v, str)]
        assert len(hidden) != 1, line


def key_grid(rows: int, columns: int):  # type: ignore[no-untyped-def]
    grid = [[("cell", i, j) for j in range(columns)] + [("row_total", i)] for i in range(rows)]
    grid.append([("column_total", j) for j in range(columns)] + [("grand_total",)])
    return grid


@settings(max_examples=150, deadline=None)
@given(tables, thresholds)
def test_no_hidden_cell_is_pinned_by_one_line_and_what_the_markers_say(cells, threshold) -> None:  # type: ignore[no-untyped-def]
    """Independent check, line by line: '<t' means 1..t-1, 'x' means t or more."""
    grid, result = suppress_table(cells, threshold=threshold)
    keys = key_grid(len(cells), len(cells[0]))

    for shown, names in zip(lines(grid), lines(keys), strict=True):
        # cells - total = 0
        terms = [(v, k, 1) for v, k in zip(shown[:-1], names[:-1], strict=True)] + [(shown[-1], names[-1], -1)]
        rest = -sum(c * v for v, _, c in terms if isinstance(v, int))
        hidden = [
            (k, c, (1, threshold - 1) if v != SECONDARY_MARKER else (threshold, math.inf))
            for v, k, c in terms
            if isinstance(v, str)
        ]
        for key, c, own in hidden:
            others = [(r[0], r[1]) if hc > 0 else (-r[1], -r[0]) for k, hc, r in hidden if k != key]
            low, high = rest - sum(r[1] for r in others), rest - sum(r[0] for r in others)
            low, high = (low, high) if c > 0 else (-high, -low)
            pinned = max(low, own[0]) == min(high, own[1])
            assert not pinned or key in result.unresolved, (shown, key)


@settings(max_examples=100, deadline=None)
@given(tables, thresholds)
def test_bounds_propagation_pins_nothing_but_what_the_markers_alone_give_away(cells, threshold) -> None:  # type: ignore[no-untyped-def]
    grid, result = suppress_table(cells, threshold=threshold)
    values, equations = grid_equations(len(cells), len(cells[0]))
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            values["cell", i, j] = value
        values["row_total", i] = sum(row)
    for j in range(len(cells[0])):
        values["column_total", j] = sum(row[j] for row in cells)
    values["grand_total",] = sum(map(sum, cells))

    inferred = bounds(values, equations, result.primary, result.secondary, threshold)
    pinned = {k for k, (low, high) in inferred.items() if low == high}
    assert pinned <= result.unresolved
    # every range contains the true value (the audit is sound)
    assert all(low <= values[k] <= high for k, (low, high) in inferred.items())
    # what stays pinned is pinned even when every non-zero count is hidden
    everything = {k for k, v in values.items() if v >= threshold}
    worst = bounds(values, equations, result.primary, everything, threshold)
    assert all(worst[k][0] == worst[k][1] for k in result.unresolved)


@settings(max_examples=100, deadline=None)
@given(tables, thresholds)
def test_visible_values_are_the_true_ones_and_zero_stays_zero(cells, threshold) -> None:  # type: ignore[no-untyped-def]
    grid, _ = suppress_table(cells, threshold=threshold)

    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            shown = grid[i][j]
            assert shown == value or isinstance(shown, str)
            if value == 0:
                assert shown == 0


def test_primary_marker_is_less_than_the_threshold_and_complements_are_x() -> None:
    grid, result = suppress_table([[3, 10], [8, 12]])

    assert grid[0][0] == "<5"
    # row 0 and column 0 each need a complement; then row 1 and column 1 do
    assert grid == [["<5", "x", 13], ["x", "x", 20], [11, 22, 33]]
    assert result.primary == {("cell", 0, 0)}


def test_a_complement_of_exactly_threshold_next_to_a_one_is_protected_further() -> None:
    # 1 + 5 = 6 with '<5' in 1..4 and 'x' >= 5 would pin both cells: more must be hidden
    grid, result = suppress_table([[1, 5], [20, 30]])

    values, equations = grid_equations(2, 2)
    for (i, j), v in {(0, 0): 1, (0, 1): 5, (1, 0): 20, (1, 1): 30}.items():
        values["cell", i, j] = v
    values.update({("row_total", 0): 6, ("row_total", 1): 50, ("column_total", 0): 21})
    values.update({("column_total", 1): 35, ("grand_total",): 56})
    inferred = bounds(values, equations, result.primary, result.secondary, 5)
    assert all(low < high for low, high in inferred.values())
    assert not result.unresolved
    assert grid[0][2] == SECONDARY_MARKER


def test_totals_made_only_of_small_counts_are_listed_as_unresolved_not_hidden_away() -> None:
    # '<3' total of two '<3' cells: both must be 1; hiding more cannot change that
    grid, result = suppress_table([[1, 1, 0]], threshold=3)

    assert grid == [["<3", "<3", 0, "<3"], ["<3", "<3", 0, "<3"]]
    assert result.unresolved


def test_an_identity_links_figures_across_tables() -> None:
    # hidden = involving - most serious: hiding most serious must hide one of the others too
    values = {"most": 3, "involving": 10, "hidden": 7}
    result = suppress(values, [(("involving", 1), ("most", -1), ("hidden", -1))])

    assert result.primary == {"most"}
    assert result.secondary == {"hidden"}


def test_equations_must_hold_and_name_known_figures() -> None:
    with pytest.raises(ValueError):
        suppress({"a": 1, "b": 2}, [(("a", 1), ("b", -1))])
    with pytest.raises(KeyError):
        suppress({"a": 1}, [(("a", 1), ("c", -1))])
    with pytest.raises(ValueError):
        suppress({"a": 1}, threshold=1)


@pytest.mark.parametrize(
    ("numerator", "denominator", "visible", "expected"),
    [(5, 20, True, 0.25), (5, 19, True, None), (10, 40, False, None), (0, 25, True, 0.0)],
)
def test_rates_need_twenty_and_visible_counts(numerator, denominator, visible, expected) -> None:  # type: ignore[no-untyped-def]
    assert rate(numerator, denominator, visible=visible) == expected
