"""Disclosure control: small counts are hidden, and so are enough other counts that the hidden ones
cannot be worked out from what is shown. Runs before any figure reaches an analyst or a file.

Figures are named cells (any hashable key) with integer values; equations say which of them add
up (each equation is a list of (key, +1 or -1) terms summing to zero: a row and its total, a
column and its total, or an identity such as hidden = involving - most serious). Tables share
keys, so a figure shown in two tables is hidden in both, and tables that add up to one another are
protected together.

Primary suppression: counts from 1 to threshold-1 are shown as "<threshold" ("<5"). Zero stays 0.
Secondary (complementary) suppression, shown as "x":
  1. no equation may have exactly one hidden cell (it would be its total minus the visible
     cells): the smallest visible non-zero cell of the equation is hidden too, preferring cells
     to totals, until no equation has exactly one;
  2. interval audit: what an analyst can infer from every equation at once, knowing that a "<5"
     cell lies in 1..4 and an "x" cell is 5 or more (zeros are never hidden), is computed by
     bounds propagation; any hidden cell pinned to a single value gets another complementary
     cell hidden (searching outwards through the equations), until none is pinned.
Cells that would stay pinned even if every non-zero cell were hidden (e.g. a "<3" total of two
"<3" cells, which must both be 1) cannot be protected by hiding more; they are listed in
``Suppression.unresolved`` rather than making the whole table disappear. The audit checks the
equations given, by bounds propagation (up to MAX_SWEEPS sweeps); it is not a full linear-programming
audit of every combination.

Rates (shares) are shown only when the denominator is at least 20 and both counts are visible.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 5
MIN_RATE_DENOMINATOR = 20
SECONDARY_MARKER = "x"
MAX_SWEEPS = 200

Key = Hashable
Equation = tuple[tuple[Key, int], ...]


@dataclass(frozen=True)
class Suppression:
    """Which figures are hidden, and why."""

    threshold: int
    primary: frozenset[Key]
    secondary: frozenset[Key]
    unresolved: frozenset[Key] = frozenset()

    @property
    def primary_marker(self) -> str:
        return f"<{self.threshold}"

    def hidden(self, key: Key) -> bool:
        return key in self.primary or key in self.secondary

    def show(self, key: Key, value: int) -> int | str:
        """The value as an analyst may see it."""
        if key in self.primary:
            return self.primary_marker
        if key in self.secondary:
            return SECONDARY_MARKER
        return value


def rate(
    numerator: int,
    denominator: int,
    *,
    visible: bool = True,
    min_denominator: int = MIN_RATE_DENOMINATOR,
) -> float | None:
    """numerator / denominator, or None when the denominator is under ``min_denominator`` or either
    count is hidden (``visible`` False): a rate must not reveal what suppression hid."""
    if not visible or denominator < min_denominator:
        return None
    return numerator / denominator


def _check(values: Mapping[Key, int], equations: Iterable[Iterable[tuple[Key, int]]]) -> list[Equation]:
    checked = []
    for equation in equations:
        terms = tuple(equation)
        for key, coefficient in terms:
            if key not in values:
                raise KeyError(f"equation names unknown figure {key!r}")
            if coefficient not in (1, -1):
                raise ValueError("coefficients must be +1 or -1")
        if sum(c * values[k] for k, c in terms) != 0:
            raise ValueError(f"equation does not hold: {terms!r}")
        if terms:
            checked.append(terms)
    return checked


def bounds(
    values: Mapping[Key, int],
    equations: Sequence[Equation],
    primary: Collection[Key],
    secondary: Collection[Key],
    threshold: int,
) -> dict[Key, tuple[float, float]]:
    """For each hidden figure, the range an analyst can infer from the equations and the visible
    figures, knowing primary cells lie in 1..threshold-1 and secondary ones are >= threshold."""
    low: dict[Key, float] = {}
    high: dict[Key, float] = {}
    for key in primary:
        low[key], high[key] = 1, threshold - 1
    for key in secondary:
        low[key], high[key] = threshold, math.inf
    for _ in range(MAX_SWEEPS):
        changed = False
        for equation in equations:
            hidden = [(k, c) for k, c in equation if k in low]
            if not hidden:
                continue
            rest = -sum(c * values[k] for k, c in equation if k not in low)
            # Each hidden term c*x spans [a, b]; sums over "all but one" handle infinities by counting them.
            spans = [(c * low[k], c * high[k]) if c > 0 else (c * high[k], c * low[k]) for k, c in hidden]
            finite_a = sum(a for a, _ in spans if a != -math.inf)
            infinite_a = sum(1 for a, _ in spans if a == -math.inf)
            finite_b = sum(b for _, b in spans if b != math.inf)
            infinite_b = sum(1 for _, b in spans if b == math.inf)
            for (key, c), (a, b) in zip(hidden, spans, strict=True):
                others_min = -math.inf if infinite_a - (a == -math.inf) else finite_a - (a if a != -math.inf else 0)
                others_max = math.inf if infinite_b - (b == math.inf) else finite_b - (b if b != math.inf else 0)
                term_low, term_high = rest - others_max, rest - others_min  # range of c * x
                new_low, new_high = (term_low, term_high) if c > 0 else (-term_high, -term_low)
                if new_low > low[key]:
                    low[key], changed = new_low, True
                if new_high < high[key]:
                    high[key], changed = new_high, True
        if not changed:
            break
    return {key: (low[key], high[key]) for key in low}


def _pinned(
    values: Mapping[Key, int],
    equations: Sequence[Equation],
    primary: Collection[Key],
    secondary: Collection[Key],
    threshold: int,
) -> set[Key]:
    """Hidden figures whose value can be inferred exactly (beyond what the marker alone says)."""
    found = set()
    for key, (low, high) in bounds(values, equations, primary, secondary, threshold).items():
        point_domain = key in primary and threshold == 2  # "<2" says 1 by itself
        if low == high and not point_domain:
            found.add(key)
    return found


def suppress(
    values: Mapping[Key, int],
    equations: Iterable[Iterable[tuple[Key, int]]] = (),
    *,
    threshold: int = DEFAULT_THRESHOLD,
    totals: Collection[Key] = (),
) -> Suppression:
    """Primary and secondary suppression of ``values`` under ``equations`` (see the module doc).
    ``totals`` are hidden as complements only when no ordinary cell will do. Deterministic: ties go
    to the figure given first in ``values``."""
    if threshold < 2:
        raise ValueError("the suppression threshold must be at least 2")
    if any(v < 0 for v in values.values()):
        raise ValueError("counts cannot be negative")
    system = _check(values, equations)
    order = {key: i for i, key in enumerate(values)}
    total_keys = frozenset(totals)
    containing: dict[Key, list[int]] = {}
    for index, equation in enumerate(system):
        for key, _ in equation:
            containing.setdefault(key, []).append(index)

    primary = {k for k, v in values.items() if 0 < v < threshold}
    secondary: set[Key] = set()

    def hidden(key: Key) -> bool:
        return key in primary or key in secondary

    def candidate(index: int) -> Key | None:
        visible = [k for k, _ in system[index] if not hidden(k) and values[k] > 0]
        return min(visible, key=lambda k: (k in total_keys, values[k], order[k]), default=None)

    def hide(key: Key, queue: deque[int]) -> None:
        secondary.add(key)
        queue.extend(containing.get(key, ()))

    # Pinned even when every non-zero figure is hidden: nothing more can be done for these.
    everything = {k for k, v in values.items() if v > 0 and k not in primary}
    inherent = _pinned(values, system, primary, everything, threshold)
    stuck: set[Key] = set()

    while True:
        queue = deque(range(len(system)))
        while queue:
            index = queue.popleft()
            if sum(1 for k, _ in system[index] if hidden(k)) == 1:
                pick = candidate(index)
                if pick is not None:
                    hide(pick, queue)
        exposed = _pinned(values, system, primary, secondary, threshold) - inherent
        if not exposed:
            break
        progress = False
        for key in sorted(exposed, key=lambda k: order[k]):
            pick = _nearest_candidate(key, system, containing, hidden, candidate)
            if pick is None or hidden(pick):
                continue
            hide(pick, deque())
            progress = True
            break  # re-audit after each addition: one complement often frees several cells
        if not progress:  # cannot happen (hiding everything would free them), but never loop forever
            stuck = exposed
            break
    unresolved = {k for k in inherent | stuck if hidden(k)}
    return Suppression(threshold, frozenset(primary), frozenset(secondary), frozenset(unresolved))


def _nearest_candidate(
    start: Key,
    system: Sequence[Equation],
    containing: Mapping[Key, list[int]],
    hidden: Callable[[Key], bool],
    candidate: Callable[[int], Key | None],
) -> Key | None:
    """Breadth-first through equations linked by hidden figures: the first one with a visible
    non-zero figure to hide."""
    seen_equations: set[int] = set()
    seen_keys = {start}
    frontier = deque([start])
    while frontier:
        key = frontier.popleft()
        for index in containing.get(key, ()):
            if index in seen_equations:
                continue
            seen_equations.add(index)
            pick = candidate(index)
            if pick is not None:
                return pick
            for other, _ in system[index]:
                if hidden(other) and other not in seen_keys:
                    seen_keys.add(other)
                    frontier.append(other)
    return None


def grid_equations(rows: int, columns: int) -> tuple[dict[Key, int], list[Equation]]:
    """Keys and equations of a rows x columns table with row totals, column totals and a grand total:
    ("cell", i, j), ("row_total", i), ("column_total", j), ("grand_total",). Values are zero."""
    keys: dict[Key, int] = {}
    for i in range(rows):
        for j in range(columns):
            keys["cell", i, j] = 0
    for i in range(rows):
        keys["row_total", i] = 0
    for j in range(columns):
        keys["column_total", j] = 0
    keys["grand_total",] = 0
    equations: list[Equation] = []
    for i in range(rows):
        equations.append(((("row_total", i), -1), *((("cell", i, j), 1) for j in range(columns))))
    for j in range(columns):
        equations.append(((("column_total", j), -1), *((("cell", i, j), 1) for i in range(rows))))
    equations.append(((("grand_total",), -1), *((("row_total", i), 1) for i in range(rows))))
    equations.append(((("grand_total",), -1), *((("column_total", j), 1) for j in range(columns))))
    return keys, equations


def suppress_table(
    cells: Sequence[Sequence[int]], *, threshold: int = DEFAULT_THRESHOLD
) -> tuple[list[list[int | str]], Suppression]:
    """Suppress a plain 2-D table of counts: returns the display grid with a total column and a
    total row appended, and the suppression (keys as in ``grid_equations``)."""
    rows, columns = len(cells), len(cells[0]) if cells else 0
    if any(len(row) != columns for row in cells):
        raise ValueError("ragged table")
    values, equations = grid_equations(rows, columns)
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            values["cell", i, j] = value
        values["row_total", i] = sum(row)
    for j in range(columns):
        values["column_total", j] = sum(row[j] for row in cells)
    values["grand_total",] = sum(sum(row) for row in cells)
    totals = [k for k in values if not (isinstance(k, tuple) and k[0] == "cell")]
    result = suppress(values, equations, threshold=threshold, totals=totals)
    grid: list[list[int | str]] = []
    for i in range(rows):
        line = [result.show(("cell", i, j), values["cell", i, j]) for j in range(columns)]
        grid.append([*line, result.show(("row_total", i), values["row_total", i])])
    last = [result.show(("column_total", j), values["column_total", j]) for j in range(columns)]
    grid.append([*last, result.show(("grand_total",), values["grand_total",])])
    return grid, result
