"""Tables as people read them, and the one gate every figure passes on its way out: suppression.

A ``ReportSpec`` holds named figures (counts), the equations between them and the tables that lay
them out; its cells name figures rather than hold numbers, so a figure shared by two tables is one
figure and is hidden in both. ``suppress_report`` applies ``reports.suppression`` to all figures at
once and renders the tables into a ``SuppressedReport``: the only input the workbook accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from reports.cellkey import MODULUS, PerturbationTable, default_table, value_key
from reports.suppression import DEFAULT_THRESHOLD, MIN_RATE_DENOMINATOR, SECONDARY_MARKER, Suppression, suppress

WITHHELD = "n/a"  # a rate or derived number that would reveal a hidden count, or rests on too few cases


@dataclass(frozen=True, slots=True)
class Figure:
    """A cell showing a count."""

    key: Hashable


@dataclass(frozen=True, slots=True)
class Share:
    """A cell showing numerator / denominator (formatted as a percentage)."""

    numerator: Hashable
    denominator: Hashable


@dataclass(frozen=True, slots=True)
class Derived:
    """A number or text computed from counts; withheld when any of them is hidden."""

    value: float | str
    depends_on: tuple[Hashable, ...] = ()


Cell = Figure | Share | Derived | None
Shown = int | float | str | None


@dataclass(frozen=True, slots=True)
class Row:
    labels: tuple[str | int | None, ...]
    cells: tuple[Cell, ...]
    is_total: bool = False
    in_charts: bool = True  # charts use the leading block of rows marked so


@dataclass(frozen=True, slots=True)
class Chart:
    kind: Literal["bar", "line"]
    title: str
    series: tuple[int, ...]  # value columns plotted, one series each
    y_title: str = "Cases"
    x_title: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str  # sheet name: at most 31 characters
    title: str
    description: str
    label_headers: tuple[str, ...]
    value_headers: tuple[str, ...]
    rows: tuple[Row, ...]
    charts: tuple[Chart, ...] = ()
    topic: str = "cases"  # cases | offences | perpetrators | estimate | referrals: for partial views

    def __post_init__(self) -> None:
        if len(self.name) > 31:
            raise ValueError(f"sheet name too long: {self.name!r}")
        for row in self.rows:
            if len(row.labels) != len(self.label_headers) or len(row.cells) != len(self.value_headers):
                raise ValueError(f"row {row.labels!r} does not fit table {self.name!r}")


class FigureBook:
    """Collects figures and the equations between them, refusing one figure with two values."""

    def __init__(self) -> None:
        self.values: dict[Hashable, int] = {}
        self.cell_keys: dict[Hashable, int] = {}  # reports.cellkey: sums of the keys of what each counts
        self.equations: dict[frozenset[tuple[Hashable, int]], tuple[tuple[Hashable, int], ...]] = {}
        self.totals: set[Hashable] = set()

    def add(self, key: Hashable, value: int, *, total: bool = False, cell_key: int | None = None) -> Figure:
        if self.values.setdefault(key, value) != value:
            raise ValueError(f"figure {key!r} has two values: {self.values[key]} and {value}")
        if cell_key is not None:
            self.cell_keys.setdefault(key, cell_key % MODULUS)
        if total:
            self.totals.add(key)
        return Figure(key)

    def adds_up(self, total: Hashable, parts: Iterable[Hashable]) -> None:
        """total = sum(parts)."""
        self.relation([(total, -1), *((p, 1) for p in parts)])

    def relation(self, terms: Iterable[tuple[Hashable, int]]) -> None:
        """sum(coefficient * figure) = 0 (checked when suppressing)."""
        terms = tuple(terms)
        if len(terms) > 1:
            self.equations.setdefault(frozenset(terms), terms)


@dataclass(frozen=True)
class ReportSpec:
    book: FigureBook
    tables: tuple[TableSpec, ...]
    filter_lines: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...] = ()  # (heading, text) for the About sheet


@dataclass(frozen=True, slots=True)
class ShownRow:
    labels: tuple[str | int | None, ...]
    values: tuple[Shown, ...]
    is_total: bool
    in_charts: bool


@dataclass(frozen=True)
class SuppressedTable:
    name: str
    title: str
    description: str
    label_headers: tuple[str, ...]
    value_headers: tuple[str, ...]
    rows: tuple[ShownRow, ...]
    charts: tuple[Chart, ...]
    percent_columns: frozenset[int]  # value columns holding shares
    topic: str = "cases"


@dataclass(frozen=True)
class SuppressedReport:
    """Tables fit for an analyst: small counts and their complements already hidden."""

    tables: tuple[SuppressedTable, ...]
    threshold: int
    primary_marker: str
    secondary_marker: str
    hidden_primary: int
    hidden_secondary: int
    unresolved: int
    filter_lines: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...] = field(default=())
    # suppressed (small counts and complements hidden) | perturbed (cell-key method) | exact
    method: str = "suppressed"


def _show(cell: Cell, values: dict[Hashable, int], suppression: Suppression, min_denominator: int) -> Shown:
    if cell is None:
        return None
    if isinstance(cell, Figure):
        return suppression.show(cell.key, values[cell.key])
    if isinstance(cell, Share):
        numerator, denominator = values[cell.numerator], values[cell.denominator]
        if suppression.hidden(cell.numerator) or suppression.hidden(cell.denominator):
            return WITHHELD
        if denominator < min_denominator:
            return WITHHELD
        return numerator / denominator
    if any(suppression.hidden(k) for k in cell.depends_on):
        return WITHHELD
    return cell.value


def suppress_report(
    spec: ReportSpec, *, threshold: int = DEFAULT_THRESHOLD, min_rate_denominator: int = MIN_RATE_DENOMINATOR
) -> SuppressedReport:
    """Suppress every figure of the report together, then render its tables."""
    book = spec.book
    suppression = suppress(book.values, book.equations.values(), threshold=threshold, totals=book.totals)
    tables = []
    for table in spec.tables:
        rows = tuple(
            ShownRow(
                row.labels,
                tuple(_show(c, book.values, suppression, min_rate_denominator) for c in row.cells),
                row.is_total,
                row.in_charts,
            )
            for row in table.rows
        )
        percent = frozenset(i for row in table.rows for i, c in enumerate(row.cells) if isinstance(c, Share))
        tables.append(
            SuppressedTable(
                table.name,
                table.title,
                table.description,
                table.label_headers,
                table.value_headers,
                rows,
                table.charts,
                percent,
                table.topic,
            )
        )
    return SuppressedReport(
        tables=tuple(tables),
        threshold=threshold,
        primary_marker=suppression.primary_marker,
        secondary_marker=SECONDARY_MARKER,
        hidden_primary=len(suppression.primary),
        hidden_secondary=len(suppression.secondary),
        unresolved=len(suppression.unresolved),
        filter_lines=spec.filter_lines,
        notes=spec.notes,
    )


PERTURBED_NOTE = (
    "Counts are adjusted by a small amount to protect the people counted (see About): rows may not sum to the total."
)
EXACT_NOTE = "Exact counts (not adjusted)."


def _render(
    spec: ReportSpec,
    show: Callable[[Cell], Shown],
    note: str,
) -> tuple[SuppressedTable, ...]:
    tables = []
    for table in spec.tables:
        rows = tuple(
            ShownRow(row.labels, tuple(show(c) for c in row.cells), row.is_total, row.in_charts) for row in table.rows
        )
        percent = frozenset(i for row in table.rows for i, c in enumerate(row.cells) if isinstance(c, Share))
        tables.append(
            SuppressedTable(
                table.name,
                table.title,
                f"{table.description} {note}",
                table.label_headers,
                table.value_headers,
                rows,
                table.charts,
                percent,
                table.topic,
            )
        )
    return tuple(tables)


def published_values(spec: ReportSpec, table: PerturbationTable, secret: str) -> dict[Hashable, int]:
    """Every figure's published count: its true count plus the adjustment its cell key picks (a
    keyed hash of name and count for figures whose records carry no key)."""
    book = spec.book
    return {
        key: table.publish(value, book.cell_keys[key] if key in book.cell_keys else value_key(secret, key, value))
        for key, value in book.values.items()
    }


def perturb_report(
    spec: ReportSpec,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    table: PerturbationTable | None = None,
    secret: str = "",
    min_rate_denominator: int = MIN_RATE_DENOMINATOR,
) -> SuppressedReport:
    """The cell-key method (see ``reports.cellkey``): each count is published with its own small
    adjustment; published counts from 0 to threshold-1 are shown as "<threshold". A true zero is
    published as 0 (inside that band: shown as "<threshold" too).
    Nothing else is hidden: no combination of answers pins a true count, because every answer is
    adjusted and the same records always get the same adjustment."""
    if threshold < 2:
        raise ValueError("the threshold must be at least 2 (1 means exact counts: use exact_report)")
    table = table or default_table()
    published = published_values(spec, table, secret)
    marker = f"<{threshold}"

    def shown_count(key: Hashable) -> int | str:
        # Zero is inside the band too: telling empty cells from small ones would give lower bounds
        # (each non-empty part >= 1) that, against a total adjusted downwards, pin the parts.
        value = published[key]
        return marker if value < threshold else value

    def show(cell: Cell) -> Shown:
        if cell is None:
            return None
        if isinstance(cell, Figure):
            return shown_count(cell.key)
        if isinstance(cell, Share):
            numerator, denominator = shown_count(cell.numerator), shown_count(cell.denominator)
            if isinstance(numerator, str) or isinstance(denominator, str) or denominator < min_rate_denominator:
                return WITHHELD
            return round(numerator / denominator, 3)
        if any(isinstance(shown_count(k), str) for k in cell.depends_on):
            return WITHHELD
        return cell.value

    tables = _render(spec, show, PERTURBED_NOTE)
    small = sum(1 for value in published.values() if value < threshold)
    return SuppressedReport(
        tables=tables,
        threshold=threshold,
        primary_marker=marker,
        secondary_marker=SECONDARY_MARKER,
        hidden_primary=small,
        hidden_secondary=0,
        unresolved=0,
        filter_lines=spec.filter_lines,
        notes=(*spec.notes, *perturbation_notes(table, threshold)),
        method="perturbed",
    )


def perturbation_notes(table: PerturbationTable, threshold: int) -> tuple[tuple[str, str], ...]:
    """The method in words an analyst understands (the About sheet and the JSON notes)."""
    return (
        (
            "Protection",
            "Every count is adjusted by a small amount before it is shown, so that no answer, and no combination "
            "of answers, reveals a small number of people. The adjustment is at most "
            f"{table.max_adjustment} either way (variance {table.variance:.2f}); it is fixed by the cases counted, "
            "so the same cases always give the same figure, whatever the filter or breakdown that asked. A true "
            "zero stays 0 and no case is ever adjusted away (a count of 1 or more stays 1 or more). Adjusted counts "
            f"from 0 to {threshold - 1} are shown as '<{threshold}' (zero included: showing which cells are empty "
            f"would let a total pin the others). A count of 1 is unchanged with probability {table.stays(1):.0%}, "
            f"a count of 3 or more with probability {table.stays(table.last):.0%}.",
        ),
        (
            "Why rows may not add up",
            "Totals are adjusted as their own cells, not summed from the adjusted rows, so rows may not sum to the "
            "total. For counts of 100 or more the adjustment is under 2%.",
        ),
    )


def exact_report(spec: ReportSpec, *, min_rate_denominator: int = MIN_RATE_DENOMINATOR) -> SuppressedReport:
    """Exact counts, for those who may open every record counted (a supervisor's own organisation)."""
    values = spec.book.values

    def show(cell: Cell) -> Shown:
        if cell is None:
            return None
        if isinstance(cell, Figure):
            return values[cell.key]
        if isinstance(cell, Share):
            denominator = values[cell.denominator]
            return None if denominator < min_rate_denominator else round(values[cell.numerator] / denominator, 3)
        return cell.value

    def shown(cell: Cell) -> Shown:
        value = show(cell)
        return WITHHELD if value is None and isinstance(cell, Share) else value

    return SuppressedReport(
        tables=_render(spec, shown, EXACT_NOTE),
        threshold=1,
        primary_marker="",
        secondary_marker="",
        hidden_primary=0,
        hidden_secondary=0,
        unresolved=0,
        filter_lines=spec.filter_lines,
        notes=(*spec.notes, ("Protection", "Exact counts: nothing is adjusted or hidden.")),
        method="exact",
    )
