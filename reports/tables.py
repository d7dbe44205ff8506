"""Tables as people read them, and the one gate every figure passes on its way out: suppression.

A ``ReportSpec`` holds named figures (counts), the equations between them and the tables that lay
them out; its cells name figures rather than hold numbers, so a figure shared by two tables is one
figure and is hidden in both. ``suppress_report`` applies ``reports.suppression`` to all figures at
once and renders the tables into a ``SuppressedReport``: the only input the workbook accepts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Literal

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
        self.equations: dict[frozenset[tuple[Hashable, int]], tuple[tuple[Hashable, int], ...]] = {}
        self.totals: set[Hashable] = set()

    def add(self, key: Hashable, value: int, *, total: bool = False) -> Figure:
        if self.values.setdefault(key, value) != value:
            raise ValueError(f"figure {key!r} has two values: {self.values[key]} and {value}")
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
