"""The standard statistics report: which tables it has and how each is laid out, from ``Aggregates``.

Every count becomes a named figure (``("cases", conditions)``, ``("most_serious", code,
conditions)``, ...) so the same number in two tables is one figure, and every structural sum is
declared as an equation so suppression protects the tables together. Margins of multi-valued
breakdowns (platforms, abuse types, victims' genders and ages) are distinct counts, not sums, and
get no equation.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from reports.aggregates import Aggregates, period_dimension
from reports.cellkey import PerturbationTable, value_key
from reports.counting import COUNTING_RULES, CaseCountRow, OffenceCountRow, code_order
from reports.dimensions import (
    KNOWN_TO_VALUES,
    MULTI_VALUED,
    ORDER,
    TITLES,
    UNKNOWN,
    VICTIM_LEVEL,
    Dimension,
    closed_values,
    label,
    sort_values,
)
from reports.estimates import ListCounts, PopulationEstimate, chapman
from reports.perpetrators import GROUP_SIZES
from reports.referrals import MIN_MEDIAN_BASE, PURPOSE_LABELS, ReferralCountRow, TakedownCountRow
from reports.tables import (
    WITHHELD,
    Cell,
    Chart,
    Derived,
    Figure,
    FigureBook,
    ReportSpec,
    Row,
    Share,
    Shown,
    SuppressedReport,
    TableSpec,
)
from reports.unidentified import unidentified_table

# Short names for sheet names ("Most serious - <short>" must fit Excel's 31 characters).
SHORT: dict[Dimension, str] = {
    Dimension.RECEIVED_MONTH: "month",
    Dimension.RECEIVED_QUARTER: "quarter",
    Dimension.RECEIVED_YEAR: "year",
    Dimension.INCIDENT_MONTH: "incident month",
    Dimension.INCIDENT_QUARTER: "incident quarter",
    Dimension.INCIDENT_YEAR: "incident year",
    Dimension.STATE: "state",
    Dimension.PLATFORM: "platform",
    Dimension.ABUSE_TYPE: "abuse type",
    Dimension.AGE_BAND: "age band",
    Dimension.GENDER: "gender",
    Dimension.MINOR: "minor",
    Dimension.ORGANISATION_KIND: "organisation",
    Dimension.INTAKE_CHANNEL: "intake channel",
    Dimension.KNOWN_TO: "known to",
    Dimension.PAYMENTS: "payments",
    Dimension.MATERIAL_RELEASED: "material",
}

MEASURES = {
    "most_serious": "(a) Most serious offence",
    "involving": "(b) Cases involving",
    "offences": "(c) Offences",
    "victims": "(d) Victims",
    "hidden": "Hidden number (b) - (a)",
}

REFERRAL_MEASURES = (
    "sent",
    "acknowledged_on_time",
    "acknowledged_late",
    "not_acknowledged",
    "completed",
    "declined",
    "withdrawn",
    "still_open",
)
# Two ways every sent referral is counted exactly once: whether it was acknowledged, and how it ended.
REFERRAL_PARTITIONS = (
    ("acknowledged_on_time", "acknowledged_late", "not_acknowledged"),
    ("completed", "declined", "withdrawn", "still_open"),
)

Conditions = frozenset[tuple[str, str]]


def where(*pairs: tuple[Dimension, str | None]) -> Conditions:
    """Canonical conditions of a figure: (dimension, value) pairs, None meaning "any"."""
    return frozenset((str(d), v) for d, v in pairs if v is not None)


def cases_key(conditions: Conditions) -> Hashable:
    return ("cases", conditions)


def offence_key(measure: str, code: str | None, conditions: Conditions) -> Hashable:
    return (measure, code, conditions)


def _case_cells(rows: Iterable[CaseCountRow]) -> dict[tuple[str | None, str | None], int]:
    return {(r.row, r.column): r.cases for r in rows}


def _case_keys(rows: Iterable[CaseCountRow]) -> dict[tuple[str | None, str | None], int]:
    """Cell keys of the same cells (0 for a cell with no cases)."""
    return {(r.row, r.column): r.key for r in rows}


def _months(date_from: date | None, date_to: date | None, seen: Iterable[str]) -> list[str]:
    """Every month of the filter's period (or from the first to the last month seen), so months
    without cases show as 0 rather than disappearing from the chart."""
    months_seen = sorted(v for v in seen if v != UNKNOWN)
    if not (date_from and date_to) and not months_seen:
        return []
    first = (date_from.year, date_from.month) if date_from else (int(months_seen[0][:4]), int(months_seen[0][5:7]))
    last = (date_to.year, date_to.month) if date_to else (int(months_seen[-1][:4]), int(months_seen[-1][5:7]))
    months = []
    year, month = first
    while (year, month) <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _column(rows: Sequence[Row], index: int) -> list[Hashable]:
    """The figures of one column of the rows (every one of them a count)."""
    keys = []
    for row in rows:
        cell = row.cells[index]
        if not isinstance(cell, Figure):
            raise TypeError(f"column {index} of row {row.labels!r} is not a count")
        keys.append(cell.key)
    return keys


class _Builder:
    def __init__(self, agg: Aggregates) -> None:
        self.agg = agg
        self.book = FigureBook()
        self.tables: list[TableSpec] = []
        offences = [r for r in agg.offences if r.group is None and r.code is not None]
        self.codes: list[OffenceCountRow] = sorted(
            offences, key=lambda r: (-(r.severity_rank or 0), code_order(r.code or ""))
        )
        overall = _case_cells(agg.cases_by_period)
        self.total_cases = overall.get((None, None), 0)
        self.total_key = _case_keys(agg.cases_by_period).get((None, None), 0)
        # columns of "known to": the three that matter always, "other" only when it occurs
        self.known_to = [v for v in KNOWN_TO_VALUES if v != "other" or overall.get((None, v), 0)]

    # -- shared figures ---------------------------------------------------------------------------
    def cases(self, conditions: Conditions, value: int, cell_key: int) -> Figure:
        return self.book.add(cases_key(conditions), value, total=len(conditions) < 2, cell_key=cell_key)

    def all_cases(self) -> Figure:
        return self.cases(where(), self.total_cases, self.total_key)

    def offence_figures(self, rows: Sequence[OffenceCountRow], by: Dimension | None) -> None:
        """Figures (a)-(d) and hidden for every (code, group) of the rows, with their identities."""
        for r in rows:
            conditions = where((by, r.group)) if by else where()
            total = r.code is None or r.group is None
            keys = {m: offence_key(m, r.code, conditions) for m in MEASURES}
            self.book.add(keys["most_serious"], r.most_serious, total=total, cell_key=r.most_serious_key)
            self.book.add(keys["involving"], r.involving, total=total, cell_key=r.involving_key)
            self.book.add(keys["offences"], r.offences, total=total, cell_key=r.offences_key)
            self.book.add(keys["victims"], r.victims, total=total, cell_key=r.victims_key)
            if r.code is not None:
                self.book.add(keys["hidden"], r.hidden, total=total, cell_key=r.hidden_key)
                self.book.relation([(keys["involving"], 1), (keys["most_serious"], -1), (keys["hidden"], -1)])
                if r.involving == r.offences:  # one case-offence per code and case (a database constraint)
                    self.book.relation([(keys["involving"], 1), (keys["offences"], -1)])

    def hidden_sum(self, conditions: Conditions, codes: Sequence[str]) -> Figure:
        """Hidden numbers summed over codes (the total row of hidden-number tables)."""
        parts = [offence_key("hidden", code, conditions) for code in codes]
        key = ("hidden_sum", conditions)
        present = [p for p in parts if p in self.book.values]
        figure = self.book.add(
            key,
            sum(self.book.values[p] for p in present),
            total=True,
            cell_key=sum(self.book.cell_keys.get(p, 0) for p in present),
        )
        self.book.adds_up(key, [p for p in parts if p in self.book.values])
        return figure

    def get(self, key: Hashable) -> Figure:
        """A figure that may not occur in the aggregates (no such case): zero."""
        if key not in self.book.values:
            self.book.add(key, 0, cell_key=0)
        return Figure(key)

    # -- tables -----------------------------------------------------------------------------------
    def known_to_table(self) -> None:
        overall = _case_cells(self.agg.cases_by_period)
        keys = _case_keys(self.agg.cases_by_period)
        total = self.all_cases()
        rows = []
        for value in self.known_to:
            figure = self.cases(
                where((Dimension.KNOWN_TO, value)), overall.get((None, value), 0), keys.get((None, value), 0)
            )
            rows.append(Row((label(value, Dimension.KNOWN_TO),), (figure, Share(figure.key, total.key))))
        self.book.adds_up(total.key, _column(rows, 0))
        rows.append(Row(("All cases",), (total, None), is_total=True, in_charts=False))
        self.tables.append(
            TableSpec(
                "Known to",
                "Cases known to police and to NGOs",
                "Cases known to any organisation, and how many reached police. "
                + COUNTING_RULES["counted_once"]
                + " Shares are of all cases, shown only from 20 cases.",
                ("Known to",),
                ("Cases", "Share of cases"),
                tuple(rows),
                topic="cases",
            )
        )

    def offences_table(self) -> None:
        self.offence_figures(self.agg.offences, None)
        none = where()
        rows = []
        for r in self.codes:
            rows.append(
                Row(
                    (r.code, r.title, r.severity_rank),
                    tuple(Figure(offence_key(m, r.code, none)) for m in MEASURES),
                )
            )
        margin = next(r for r in self.agg.offences if r.group is None and r.code is None)
        no_offence = self.book.add(
            ("no_offence", none),
            self.total_cases - margin.most_serious,
            cell_key=self.total_key - margin.most_serious_key,
        )
        rows.append(Row((None, "No offence recorded", None), (no_offence, None, None, None, None), in_charts=False))
        total = self.all_cases()
        codes = [r.code for r in self.codes if r.code]
        self.book.adds_up(total.key, [offence_key("most_serious", c, none) for c in codes] + [no_offence.key])
        for measure in ("offences", "victims"):
            self.book.adds_up(offence_key(measure, None, none), [offence_key(measure, c, none) for c in codes])
        hidden_total = self.hidden_sum(none, codes)
        rows.append(
            Row(
                ("Total", None, None),
                (
                    total,
                    None,
                    Figure(offence_key("offences", None, none)),
                    Figure(offence_key("victims", None, none)),
                    hidden_total,
                ),
                is_total=True,
                in_charts=False,
            )
        )
        description = " ".join(
            COUNTING_RULES[k] for k in ("most_serious", "involving", "offences", "victims", "hidden")
        )
        self.tables.append(
            TableSpec(
                "Offences",
                "Offences counted four ways, by statute and section",
                description + " The total of (b) is left blank: a case counts under several sections.",
                ("Code", "Offence", "Severity rank"),
                tuple(MEASURES.values()),
                tuple(rows),
                charts=(
                    Chart(
                        "bar",
                        "Most serious offence vs every offence, by section",
                        series=(0, 1),
                        x_title="Section",
                    ),
                    Chart(
                        "bar",
                        "Hidden number by section: cases counted under a more serious offence",
                        series=(4,),
                        x_title="Section",
                    ),
                ),
                topic="offences",
            )
        )

    def case_crosstab(
        self,
        name: str,
        title: str,
        rows_dim: Dimension,
        row_values: Sequence[str],
        cells: list[CaseCountRow],
        *,
        chart: bool = False,
    ) -> TableSpec:
        """Cases by a dimension (rows) and known to (columns), with totals."""
        found = _case_cells(cells)
        keys = _case_keys(cells)
        additive_down = rows_dim not in MULTI_VALUED
        rows = []
        for value in row_values:
            parts = [
                self.cases(
                    where((rows_dim, value), (Dimension.KNOWN_TO, kt)),
                    found.get((value, kt), 0),
                    keys.get((value, kt), 0),
                )
                for kt in self.known_to
            ]
            row_total = self.cases(where((rows_dim, value)), found.get((value, None), 0), keys.get((value, None), 0))
            self.book.adds_up(row_total.key, [p.key for p in parts])
            rows.append(Row((label(value, rows_dim),), (*parts, row_total), in_charts=value != UNKNOWN))
        column_totals = [
            self.cases(where((Dimension.KNOWN_TO, kt)), found.get((None, kt), 0), keys.get((None, kt), 0))
            for kt in self.known_to
        ]
        grand = self.all_cases()
        self.book.adds_up(grand.key, [c.key for c in column_totals])
        if additive_down:
            for index, column_total in enumerate(column_totals):
                self.book.adds_up(column_total.key, _column(rows, index))
            self.book.adds_up(grand.key, _column(rows, -1))
        rows.append(Row(("All cases",), (*column_totals, grand), is_total=True, in_charts=False))
        note = "" if additive_down else " A case counts under each of its values, so rows do not add up to the total."
        return TableSpec(
            name,
            title,
            f"Cases (each counted once; linked NGO and police records once) by {TITLES[rows_dim].lower()} and by "
            f"whether police and NGOs know of them.{note}",
            (TITLES[rows_dim],),
            (*(label(kt, Dimension.KNOWN_TO) for kt in self.known_to), "All cases"),
            tuple(rows),
            charts=(Chart("line", title, series=(len(self.known_to),), x_title=TITLES[rows_dim]),) if chart else (),
            topic="cases",
        )

    def cases_by_month_table(self) -> None:
        dimension = period_dimension(self.agg.report_filter)
        seen = {r.row for r in self.agg.cases_by_period if r.row is not None}
        months = _months(self.agg.report_filter.date_from, self.agg.report_filter.date_to, seen)
        months += [UNKNOWN] if UNKNOWN in seen else []
        self.tables.append(
            self.case_crosstab(
                "Cases by month", "Cases by month", dimension, months, list(self.agg.cases_by_period), chart=True
            )
        )

    def grouped_tables(self, by: Dimension) -> None:
        agg = self.agg
        # every value of a closed dimension, not only those that occur: a row's presence would say
        # "at least one case" to anyone reading adjusted figures
        values = sort_values(by, [*(r.row for r in agg.cases_by if r.row is not None), *(closed_values(by) or ())])
        short = SHORT[by]
        self.tables.append(
            self.case_crosstab(f"Cases - {short}", f"Cases by {TITLES[by].lower()}", by, values, list(agg.cases_by))
        )
        self.offence_figures(agg.offences_by, by)
        cases_in = _case_cells(agg.cases_by)
        keys_in = _case_keys(agg.cases_by)
        with_offence = {r.group: r for r in agg.offences_by if r.code is None}
        codes = [r.code for r in self.codes if r.code]
        single = by not in MULTI_VALUED
        victims_add_up = single or by in VICTIM_LEVEL
        for measure in ("most_serious", "involving", "hidden", "victims"):
            rows = []
            for r in self.codes:
                cells = [self.get(offence_key(measure, r.code, where((by, g)))) for g in values]
                row_total = Figure(offence_key(measure, r.code, where()))
                if single or (measure == "victims" and victims_add_up):
                    self.book.adds_up(row_total.key, [c.key for c in cells])
                rows.append(Row((r.code, r.title), (*cells, row_total)))
            if measure == "most_serious":
                no_offence = [
                    self.book.add(
                        ("no_offence", where((by, g))),
                        cases_in.get((g, None), 0) - (with_offence[g].most_serious if g in with_offence else 0),
                        cell_key=keys_in.get((g, None), 0)
                        - (with_offence[g].most_serious_key if g in with_offence else 0),
                    )
                    for g in values
                ]
                no_offence_total = Figure(("no_offence", where()))
                if single:
                    self.book.adds_up(no_offence_total.key, [c.key for c in no_offence])
                rows.append(Row((None, "No offence recorded"), (*no_offence, no_offence_total), in_charts=False))
                totals = [
                    self.cases(where((by, g)), cases_in.get((g, None), 0), keys_in.get((g, None), 0)) for g in values
                ]
                for index, column_total in enumerate(totals):
                    self.book.adds_up(column_total.key, _column(rows, index))
                grand = self.all_cases()
                if single:
                    self.book.adds_up(grand.key, [t.key for t in totals])
                rows.append(Row(("Total", None), (*totals, grand), is_total=True, in_charts=False))
            elif measure == "hidden":
                totals = [self.hidden_sum(where((by, g)), codes) for g in values]
                grand_hidden = Figure(("hidden_sum", where()))
                if single:
                    self.book.adds_up(grand_hidden.key, [t.key for t in totals])
                rows.append(Row(("Total", None), (*totals, grand_hidden), is_total=True, in_charts=False))
            elif measure == "victims":
                totals = [self.get(offence_key("victims", None, where((by, g)))) for g in values]
                for index, column_total in enumerate(totals):
                    self.book.adds_up(column_total.key, _column(rows, index))
                grand_victims = Figure(offence_key("victims", None, where()))
                if victims_add_up:
                    self.book.adds_up(grand_victims.key, [t.key for t in totals])
                rows.append(Row(("Total", None), (*totals, grand_victims), is_total=True, in_charts=False))
            adds_up = single or (measure == "victims" and victims_add_up)
            note = (
                "" if adds_up else " A case counts under each of its values, so the columns do not add up to the total."
            )
            name = {"most_serious": "Most serious", "involving": "Involving", "hidden": "Hidden", "victims": "Victims"}
            self.tables.append(
                TableSpec(
                    f"{name[measure]} - {short}",
                    f"{MEASURES[measure]} by {TITLES[by].lower()}",
                    COUNTING_RULES[measure] + note,
                    ("Code", "Offence"),
                    (*(label(g, by) for g in values), "All"),
                    tuple(rows),
                    topic="offences",
                )
            )

    def payments_table(self) -> None:
        found = _case_cells(self.agg.payments)
        found_keys = _case_keys(self.agg.payments)
        material = [*ORDER[Dimension.MATERIAL_RELEASED], UNKNOWN]
        buckets = list(ORDER[Dimension.PAYMENTS])
        grand = self.all_cases()
        rows: list[Row] = []
        keys: dict[str, list[Hashable]] = {}
        for bucket in buckets:
            parts = [
                self.cases(
                    where((Dimension.PAYMENTS, bucket), (Dimension.MATERIAL_RELEASED, m)),
                    found.get((bucket, m), 0),
                    found_keys.get((bucket, m), 0),
                )
                for m in material
            ]
            row_total = self.cases(
                where((Dimension.PAYMENTS, bucket)), found.get((bucket, None), 0), found_keys.get((bucket, None), 0)
            )
            self.book.adds_up(row_total.key, [p.key for p in parts])
            keys[bucket] = [p.key for p in parts] + [row_total.key]
            rows.append(Row((label(bucket, Dimension.PAYMENTS),), (*parts, row_total, Share(row_total.key, grand.key))))
        paid: list[Figure] = []
        for index, m in enumerate([*material, None]):
            key = ("paid", where((Dimension.MATERIAL_RELEASED, m)))
            paid_parts = [keys[b][index] for b in buckets if b != "none"]
            paid.append(
                self.book.add(
                    key,
                    sum(self.book.values[p] for p in paid_parts),
                    total=True,
                    cell_key=sum(self.book.cell_keys[p] for p in paid_parts),
                )
            )
            self.book.adds_up(key, paid_parts)
        rows.append(Row(("Paid at least once",), (*paid, Share(paid[-1].key, grand.key)), in_charts=False))
        totals = [
            self.cases(where((Dimension.MATERIAL_RELEASED, m)), found.get((None, m), 0), found_keys.get((None, m), 0))
            for m in material
        ]
        for index, column_total in enumerate([*totals, grand]):
            self.book.adds_up(column_total.key, [keys[b][index] for b in buckets])
        self.book.adds_up(grand.key, [t.key for t in totals])
        rows.append(Row(("All cases",), (*totals, grand, None), is_total=True, in_charts=False))
        self.tables.append(
            TableSpec(
                "Payments",
                "Payments made before reporting, and whether material was released",
                "Cases by how many payments the victim made before reporting and whether the material was released. "
                "Shares are of all cases, shown only from 20 cases.",
                ("Payments before reporting",),
                (*(label(m, Dimension.MATERIAL_RELEASED) for m in material), "All cases", "Share of cases"),
                tuple(rows),
                topic="cases",
            )
        )

    def repeat_tables(self) -> None:
        repeat = self.agg.repeat
        rows = []
        for kind in sorted(repeat.identifiers):
            rows.append(
                Row(
                    (kind.replace("_", " ").capitalize(),),
                    (
                        self.book.add(("repeat_identifiers", kind), repeat.identifiers[kind]),
                        self.book.add(("repeat_cases", kind), repeat.cases[kind]),
                    ),
                )
            )
        identifiers_total = self.book.add(("repeat_identifiers", None), sum(repeat.identifiers.values()), total=True)
        self.book.adds_up(identifiers_total.key, _column(rows, 0))
        cases_total = self.book.add(("repeat_cases", None), repeat.cases_total, total=True)
        rows.append(Row(("All kinds",), (identifiers_total, cases_total), is_total=True, in_charts=False))
        self.tables.append(
            TableSpec(
                "Repeat identifiers",
                "Perpetrator identifiers named in two or more cases",
                "Identifiers (phone numbers, bank accounts, chat groups, ...) named in two or more counted cases, and "
                "the cases naming them. A case naming identifiers of several kinds counts under each kind.",
                ("Identifier kind",),
                ("Identifiers in 2+ cases", "Cases naming them"),
                tuple(rows),
                topic="perpetrators",
            )
        )
        rows = []
        for size, _, _ in GROUP_SIZES:
            groups, members = repeat.groups.get(size, (0, 0))
            rows.append(
                Row(
                    (size,),
                    (self.book.add(("case_groups", size), groups), self.book.add(("grouped_cases", size), members)),
                )
            )
        groups_total = self.book.add(("case_groups", None), sum(g for g, _ in repeat.groups.values()), total=True)
        self.book.adds_up(groups_total.key, _column(rows, 0))
        self.book.adds_up(cases_total.key, _column(rows, 1))
        rows.append(Row(("All groups",), (groups_total, cases_total), is_total=True, in_charts=False))
        self.tables.append(
            TableSpec(
                "Linked cases",
                "Groups of cases joined by shared identifiers",
                "Cases that share an identifier, directly or through a chain of shared identifiers, form one group "
                "(a possible serial offender or organised group).",
                ("Group size",),
                ("Groups", "Cases in them"),
                tuple(rows),
                topic="perpetrators",
            )
        )

    def estimate_table(self, estimate: PopulationEstimate) -> None:
        counts = self.agg.lists  # true counts: an estimate made from published ones is only shown beside them
        police = self.book.add(("list", "police"), counts.police)
        ngo = self.book.add(("list", "ngo"), counts.ngo)
        both = self.book.add(("list", "both"), counts.both)
        seen = self.book.add(("list", "observed"), counts.observed, total=True)
        self.book.relation([(seen.key, -1), (police.key, 1), (ngo.key, 1), (both.key, -1)])
        inputs = (police.key, ngo.key, both.key)

        def number(value: float | None) -> Derived:
            shown: float | str = round(value) if value is not None else f"withheld: {estimate.reason}"
            return Derived(shown, inputs)

        rows = [
            Row(("Victims known to police (matched by keyed hash)",), (police,)),
            Row(("Victims known to an NGO (matched by keyed hash)",), (ngo,)),
            Row(("Victims known to both",), (both,)),
            Row(("Victims known to either",), (seen,)),
            Row(("Estimated victims in all (estimate)",), (number(estimate.estimate),)),
            Row(("95% interval, lower (estimate)",), (number(estimate.lower),)),
            Row(("95% interval, upper (estimate)",), (number(estimate.upper),)),
            Row(("Estimated victims known to neither (estimate)",), (number(estimate.unseen),)),
        ]
        self.tables.append(
            TableSpec(
                "Estimate",
                "Estimated number of victims, known or not (capture-recapture)",
                f"{estimate.method}. An estimate, not a count: it rests on the assumptions on the About sheet and is "
                "withheld when too few victims are known to both.",
                ("Measure",),
                ("Value",),
                tuple(rows),
                topic="estimate",
            )
        )

    def median(self, value: float | None, base: int, inputs: tuple[Hashable, ...]) -> Derived:
        """A median in days, withheld when fewer than MIN_MEDIAN_BASE referrals (or items) underlie
        it, and (by suppression) whenever a count it rests on is hidden."""
        if value is None or base < MIN_MEDIAN_BASE:
            return Derived(WITHHELD, inputs)
        return Derived(value, inputs)

    def referrals_table(self) -> None:
        rows: list[Row] = []
        margin: dict[str, Hashable] = {}
        total_cells: tuple[Cell, ...] = ()
        found = list(self.agg.referrals) or [ReferralCountRow(None, None, 0, 0, 0, 0, 0, 0, 0, 0, None, None)]
        column_keys: dict[str, list[Hashable]] = {measure: [] for measure in REFERRAL_MEASURES}
        for r in found:
            total = r.agency is None
            keys = {
                m: self.book.add(("referrals", m, r.agency, r.purpose), getattr(r, m), total=total).key
                for m in REFERRAL_MEASURES
            }
            for parts in REFERRAL_PARTITIONS:
                self.book.adds_up(keys["sent"], [keys[m] for m in parts])
            cells: tuple[Cell, ...] = (
                *(Figure(keys[m]) for m in REFERRAL_MEASURES),
                self.median(
                    r.median_days_to_acknowledge,
                    r.acknowledged,
                    (keys["acknowledged_on_time"], keys["acknowledged_late"]),
                ),
                self.median(r.median_days_to_complete, r.completed, (keys["completed"],)),
            )
            if total:
                margin = keys
                total_cells = cells
                continue
            for m in REFERRAL_MEASURES:
                column_keys[m].append(keys[m])
            rows.append(Row((r.agency, PURPOSE_LABELS.get(r.purpose or "", r.purpose)), cells))
        for m in REFERRAL_MEASURES:
            self.book.adds_up(margin[m], column_keys[m])
        rows.append(Row(("All referrals", None), total_cells, is_total=True, in_charts=False))
        self.tables.append(
            TableSpec(
                "Referrals",
                "Referrals to agencies by agency and purpose, and how they went",
                "Referrals sent for the cases counted (drafts are not), each from the record that made it: an NGO's "
                "referrals count even when its case is counted as the police case it became. On time: acknowledged "
                "by the deadline set when it was sent. Medians are in days from sending, and are shown only when "
                f"based on {MIN_MEDIAN_BASE} or more referrals.",
                ("Agency", "Purpose"),
                (
                    "Sent",
                    "Acknowledged on time",
                    "Acknowledged late",
                    "Not acknowledged",
                    "Completed",
                    "Declined",
                    "Withdrawn after sending",
                    "Still open",
                    "Median days to acknowledge",
                    "Median days to complete",
                ),
                tuple(rows),
                topic="referrals",
            )
        )

    def takedown_table(self) -> None:
        rows: list[Row] = []
        found = list(self.agg.takedown) or [TakedownCountRow(None, 0, 0, 0, 0, None)]
        measures = ("items", "removed", "refused", "unresolved")
        column_keys: dict[str, list[Hashable]] = {m: [] for m in measures}
        margin: dict[str, Hashable] = {}
        total_cells: tuple[Cell, ...] = ()
        for r in found:
            total = r.agency is None
            keys = {m: self.book.add(("takedown", m, r.agency), getattr(r, m), total=total).key for m in measures}
            self.book.adds_up(keys["items"], [keys[m] for m in measures[1:]])
            cells: tuple[Cell, ...] = (
                *(Figure(keys[m]) for m in measures),
                self.median(r.median_days_to_removal, r.removed, (keys["removed"],)),
            )
            if total:
                margin, total_cells = keys, cells
                continue
            for m in measures:
                column_keys[m].append(keys[m])
            rows.append(Row((r.agency,), cells))
        for m in measures:
            self.book.adds_up(margin[m], column_keys[m])
        rows.append(Row(("All agencies",), total_cells, is_total=True, in_charts=False))
        self.tables.append(
            TableSpec(
                "Takedown items",
                "Addresses of posted material referred for takedown: removed, refused, not resolved",
                "Each address in a sent takedown referral, by where it stands now; not resolved = still requested, or "
                "found re-uploaded after a removal. Median days from the request to the first removal, over addresses "
                f"now removed, shown only when based on {MIN_MEDIAN_BASE} or more.",
                ("Agency",),
                ("Addresses", "Removed", "Refused", "Not resolved", "Median days to removal"),
                tuple(rows),
                topic="referrals",
            )
        )


def build_report(
    agg: Aggregates,
    *,
    estimate: PopulationEstimate | None = None,
    organisation_labels: Mapping[int, str] | None = None,
) -> ReportSpec:
    """Every table of the standard report, its figures and their equations (not yet suppressed).
    ``organisation_labels`` names the organisations of a scope on the About sheet (codes, e.g. D11)."""
    estimate = estimate or chapman(agg.lists)
    builder = _Builder(agg)
    builder.known_to_table()
    builder.offences_table()
    builder.cases_by_month_table()
    if agg.group_by is not None:
        builder.grouped_tables(agg.group_by)
    builder.payments_table()
    builder.repeat_tables()
    builder.estimate_table(estimate)
    builder.referrals_table()
    builder.takedown_table()
    builder.tables.append(unidentified_table(builder.book, agg.unidentified))
    filter_lines = list(agg.report_filter.describe(organisation_labels))
    if agg.group_by is not None:
        filter_lines.append(("Broken down by", TITLES[agg.group_by]))
    notes = [
        *((f"Counting rule: {key.replace('_', ' ')}", text) for key, text in COUNTING_RULES.items()),
        (
            "Breakdowns",
            "Platforms, abuse types, and the genders and age bands of victims can take several values per case: a "
            "case counts once under each, so such breakdowns do not add up to the total. Victims are counted under "
            "their own gender and age band. Missing values are shown as 'Not recorded'.",
        ),
        ("Estimate method", estimate.method),
        *((f"Estimate assumption {i}", text) for i, text in enumerate(estimate.assumptions, start=1)),
        ("Estimate status", estimate.reason or "estimated (see the Estimate sheet)"),
    ]
    return ReportSpec(builder.book, tuple(builder.tables), tuple(filter_lines), tuple(notes))


def published_estimate(lists: ListCounts, table: PerturbationTable, secret: str) -> PopulationEstimate:
    """Chapman's estimate from the published (perturbed) list counts, so that the estimate reveals
    no more than the counts shown beside it (the keys are those ``perturb_report`` gives them)."""

    def publish(name: str, value: int) -> int:
        return table.publish(value, value_key(secret, ("list", name), value))

    police, ngo = publish("police", lists.police), publish("ngo", lists.ngo)
    return chapman(ListCounts(police, ngo, min(publish("both", lists.both), police, ngo)))


@dataclass(frozen=True)
class EstimateSummary:
    """The estimate as a suppressed report shows it: its method, assumptions, and figures or why not."""

    method: str
    assumptions: tuple[str, ...]
    status: str  # estimated | withheld
    reason: str | None
    figures: tuple[tuple[str, Shown], ...]  # (measure, value as shown)


def estimate_summary(report: SuppressedReport) -> EstimateSummary:
    """Read the estimate back from a suppressed report (its Estimate table and About notes), so it
    says no more than the tables do: withheld when too few victims are matched, and also when the
    counts it rests on are hidden."""
    notes = dict(report.notes)
    table = next(t for t in report.tables if t.topic == "estimate")
    figures = tuple((str(row.labels[0]), row.values[0]) for row in table.rows)
    estimated = [value for measure, value in figures if measure.endswith("(estimate)")]
    status = notes.get("Estimate status", "")
    reason: str | None = None
    if not status.startswith("estimated"):
        reason = status
    elif any(value == WITHHELD for value in estimated):
        reason = "the counts it rests on include small numbers hidden by suppression"
    return EstimateSummary(
        method=notes.get("Estimate method", ""),
        assumptions=tuple(text for heading, text in report.notes if heading.startswith("Estimate assumption")),
        status="withheld" if reason else "estimated",
        reason=reason,
        figures=figures,
    )
