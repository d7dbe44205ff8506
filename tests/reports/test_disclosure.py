"""Statistics that cannot be unpicked: the cell-key method against an attacker with many queries.

The attacker runs the report under many filters, date ranges (some one day apart) and breakdowns,
and is told more than any analyst knows: exactly which cases each published cell counts (so which
cells contain, overlap or difference one another). From every published cell at once, the audit
asks whether any true count from 1 to threshold-1 is certain; it proves it is not by finding a
second assignment of counts consistent with everything published in which that count differs.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Hashable, Iterator
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reports import ptable
from reports.aggregates import from_records
from reports.cellkey import PerturbationTable, default_table
from reports.counting import most_serious
from reports.dimensions import KNOWN_TO_VALUES, Dimension, case_values
from reports.layouts import build_report
from reports.records import CaseRecord, ScopedCase
from reports.scope import ReportFilter, scope
from reports.tables import perturb_report, published_values
from tests.reports.synthetic import STATES, generate

THRESHOLD = 5


def test_the_ptable_file_is_what_its_generator_makes() -> None:
    assert ptable.read() == ptable.generate()
    table = default_table()
    assert (table.max_adjustment, round(table.variance, 3)) == (ptable.MAX_ADJUSTMENT, ptable.VARIANCE)


def test_zero_stays_zero_and_nothing_goes_below_one() -> None:
    table = default_table()
    keys = range(0, 1 << 60, (1 << 60) // 997)
    assert {table.publish(0, k) for k in keys} == {0}
    for count in range(1, 30):
        published = {table.publish(count, k) for k in keys}
        assert min(published) >= 1 and max(abs(p - count) for p in published) <= 2


# -- the attacker's view ----------------------------------------------------------------------------


def _records_of(cases: list[ScopedCase], key: Hashable) -> frozenset[int] | None:
    """The cases a case-level figure counts (None for figures counting something else)."""
    if not isinstance(key, tuple) or key[0] not in {"cases", "most_serious", "involving", "hidden", "no_offence"}:
        return None
    conditions = key[-1]
    chosen = [s for s in cases if all(value in case_values(s, Dimension(dimension)) for dimension, value in conditions)]
    if key[0] == "cases":
        return frozenset(s.case.case_id for s in chosen)
    if key[0] == "no_offence":
        return frozenset(s.case.case_id for s in chosen if not s.case.offences)
    code = key[1]

    def top(s: ScopedCase) -> bool:
        found = most_serious(s.case.offences)
        return found is not None and (code is None or found.code == code)

    def involves(s: ScopedCase) -> bool:
        return bool(s.case.offences) and (code is None or any(o.code == code for o in s.case.offences))

    test = {"most_serious": top, "involving": involves, "hidden": lambda s: involves(s) and not top(s)}[key[0]]
    return frozenset(s.case.case_id for s in chosen if test(s))


def _shown(value: int) -> int | str:
    """As perturb_report shows a published count: 0 to threshold-1 as "<5"."""
    return f"<{THRESHOLD}" if value < THRESHOLD else value


def _queries(cases: tuple[CaseRecord, ...]) -> Iterator[tuple[ReportFilter, Dimension | None]]:
    days = sorted({c.received_on for c in cases})
    # closed dimensions list every value as a row; open ones (state, platform) list those that
    # occur, which says "at least one case" of each row: not modelled here (see the README)
    breakdowns = [None, Dimension.KNOWN_TO, Dimension.GENDER, Dimension.INTAKE_CHANNEL, Dimension.AGE_BAND]
    filters = [ReportFilter()]
    filters += [ReportFilter(only={Dimension.KNOWN_TO: frozenset({v})}) for v in KNOWN_TO_VALUES]
    filters += [ReportFilter(only={Dimension.STATE: frozenset({s})}) for s in STATES[:3]]
    filters += [ReportFilter(only={Dimension.GENDER: frozenset({"male"})})]
    for day in days[:: max(1, len(days) // 6)]:  # date ranges one day apart
        filters += [ReportFilter(date_to=day), ReportFilter(date_to=day + timedelta(days=1))]
        filters += [ReportFilter(date_from=day, date_to=day + timedelta(days=40))]
    for report_filter in filters:
        for by in breakdowns:
            yield report_filter, by


class Audit:
    """Cells as sets of cases; unknowns: how many cases fall in each atom (cases in exactly the same
    cells); what each published cell allows its count to be."""

    def __init__(self, table: PerturbationTable) -> None:
        self.table = table
        self.cells: dict[frozenset[int], int | str] = {}
        self.true: dict[frozenset[int], int] = {}

    def add(self, records: frozenset[int], shown: int | str) -> None:
        # the same cases must be published the same, whichever query asked
        assert self.cells.setdefault(records, shown) == shown, (sorted(records), shown, self.cells[records])
        self.true[records] = len(records)

    def allowed(self, shown: int | str) -> tuple[int, int]:
        """The true counts consistent with what is shown (an interval)."""
        published = range(0, THRESHOLD) if isinstance(shown, str) else range(shown, shown + 1)
        found = [n for n in range(0, max(published) + 4) if any(self.table.publish(n, k) in published for k in _KEYS)]
        return min(found), max(found)

    def solve(self) -> list[frozenset[int]]:
        """The small cells whose count the attacker can be certain of (none, we hope)."""
        cells = list(self.cells)
        bounds = [self.allowed(self.cells[c]) for c in cells]
        members: dict[int, list[int]] = defaultdict(list)
        for index, cell in enumerate(cells):
            for case in cell:
                members[case].append(index)
        atoms: dict[tuple[int, ...], int] = defaultdict(int)
        for signature in members.values():
            atoms[tuple(signature)] += 1
        atom_list = list(atoms)
        in_cell: dict[int, list[int]] = defaultdict(list)
        for a, signature in enumerate(atom_list):
            for index in signature:
                in_cell[index].append(a)
        counts = [atoms[s] for s in atom_list]
        sums = [len(c) for c in cells]
        assert all(low <= s <= high for s, (low, high) in zip(sums, bounds, strict=True))
        pinned = []
        for index, cell in enumerate(cells):
            if 0 < len(cell) < THRESHOLD and not self._witness(index, counts, sums, bounds, atom_list, in_cell):
                pinned.append(cell)
        return pinned

    def _witness(self, target, counts, sums, bounds, atom_list, in_cell) -> bool:  # type: ignore[no-untyped-def]
        """Look for counts consistent with every published cell in which the target's differs: move
        one of its atoms by one, then repair violated cells by moving other atoms (a randomised
        local search, as WalkSAT does). Finding one proves the attacker cannot be certain."""
        original = sums[target]
        rng = random.Random(target)
        locked = set(in_cell[target])

        def move(atom: int, step: int) -> None:
            counts[atom] += step
            for index in atom_list[atom]:
                sums[index] += step

        for first in in_cell[target]:
            for step in (1, -1):
                if counts[first] + step < 0:
                    continue
                saved = counts[:], sums[:]
                move(first, step)
                for _ in range(400):
                    bad = [i for i, (low, high) in enumerate(bounds) if not low <= sums[i] <= high]
                    if not bad:
                        if sums[target] != original:
                            counts[:], sums[:] = saved
                            return True
                        break
                    cell = rng.choice(bad)
                    direction = 1 if sums[cell] < bounds[cell][0] else -1
                    options = [a for a in in_cell[cell] if a not in locked and counts[a] + direction >= 0]
                    if not options:
                        break
                    move(rng.choice(options), direction)
                counts[:], sums[:] = saved
        return False


_KEYS = range(0, 1 << 60, (1 << 60) // 4093)


def _audit(cases: tuple[CaseRecord, ...], queries: list[tuple[ReportFilter, Dimension | None]]) -> Audit:
    """Every case-level figure of the reports, as the attacker sees it (with the cases it counts)."""
    audit = Audit(default_table())
    for report_filter, by in queries:
        counted = scope(cases, report_filter)
        spec = build_report(from_records(cases, report_filter, by))
        published = published_values(spec, default_table(), "")
        for key, value in spec.book.values.items():
            records = _records_of(counted, key)
            if records is not None:
                assert len(records) == value, key
                audit.add(records, _shown(published[key]))
    return audit


CASES = generate(50, seed=3, days=120)
QUERIES = list(_queries(CASES))


def test_no_small_count_is_certain_from_one_reports_linked_tables() -> None:
    """Every table of a report at once (totals, breakdowns, identities such as hidden = involving -
    most serious), for a sample of filters, date ranges and breakdowns."""
    small = 0
    for query in QUERIES[::12]:
        audit = _audit(CASES, [query])
        small += sum(1 for c in audit.cells if 0 < len(c) < THRESHOLD)
        assert audit.solve() == [], query
    assert small > 50  # the audit had plenty to work on


def test_no_small_count_is_certain_from_pairs_of_reports() -> None:
    """Differencing: reports one day apart, a filter against the breakdown by the same dimension."""
    days = sorted({c.received_on for c in CASES})
    pairs = [
        [(ReportFilter(date_to=day), Dimension.GENDER), (ReportFilter(date_to=day + timedelta(days=1)), None)]
        for day in days[10:40:20]
    ]
    pairs += [
        [(ReportFilter(only={Dimension.KNOWN_TO: frozenset({v})}), None), (ReportFilter(), Dimension.KNOWN_TO)]
        for v in ("police_only", "ngo_only")
    ]
    for pair in pairs:
        assert _audit(CASES, pair).solve() == [], pair


# -- properties ---------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(1, 40), known_to=st.sampled_from(KNOWN_TO_VALUES))
def test_the_same_cases_get_the_same_figure_from_any_query(seed: int, size: int, known_to: str) -> None:
    """A breakdown's cell and a filter's total over exactly the same cases are published alike."""
    cases = generate(size, seed=seed)
    broken_down = perturb_report(build_report(from_records(cases, group_by=Dimension.KNOWN_TO)))
    filtered = perturb_report(
        build_report(from_records(cases, ReportFilter(only={Dimension.KNOWN_TO: frozenset({known_to})})))
    )
    label = next(t for t in filtered.tables if t.name == "Known to").rows[-1].values[0]  # all cases of the filter
    row = {r.labels[0]: r.values for r in next(t for t in broken_down.tables if t.name == "Cases - known to").rows}
    from reports.dimensions import label as label_of

    assert row[label_of(known_to, Dimension.KNOWN_TO)][-1] == label


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(0, 40), by=st.sampled_from([None, *Dimension]))
def test_zeros_stay_zero_and_nothing_is_negative(seed: int, size: int, by: Dimension | None) -> None:
    cases = generate(size, seed=seed)
    spec = build_report(from_records(cases, group_by=by))
    published = published_values(spec, default_table(), "secret")
    for key, value in spec.book.values.items():
        assert published[key] >= 0
        assert (published[key] == 0) == (value == 0), key
    report = perturb_report(spec, secret="secret")
    for table in report.tables:
        for row in table.rows:
            assert all(not isinstance(v, int | float) or v >= 0 for v in row.values)


# -- utility -------------------------------------------------------------------------------------------


def test_known_only_to_ngos_and_every_large_hidden_number_are_shown_nationally() -> None:
    cases = generate(10_000, seed=11)
    spec = build_report(from_records(cases, group_by=Dimension.STATE))
    report = perturb_report(spec)
    known_to = {r.labels[0]: r.values[0] for r in next(t for t in report.tables if t.name == "Known to").rows}
    assert isinstance(known_to["Known only to an NGO"], int) and known_to["Known only to an NGO"] > 1000
    published = published_values(spec, default_table(), "")
    for key, value in spec.book.values.items():
        if value >= 20:
            assert published[key] >= THRESHOLD, key  # shown as a number, never "<5" or hidden
    hidden = [k for k, v in spec.book.values.items() if isinstance(k, tuple) and k[0] == "hidden" and v >= 20]
    assert len(hidden) > 20  # hidden numbers per code and per state: each shown as a number (above)
    mentioned = [c for t in report.tables for r in t.rows for c in r.values if c == "x"]
    assert mentioned == []  # nothing is hidden as a complement any more
