"""The counting rules: the same cases counted four ways, per offence code, and cases by dimension.

(a) most serious offence: each case once, under its most serious offence (the old "hierarchy
    rule", comparable with published police figures). Most serious = highest severity rank; ties
    are broken by code in natural order (statute, section number, subsection: "PC 383" before
    "PC 384", "SOAC 6" before "SOAC 13"), so the result never depends on the order offences were
    recorded in. The SQL orders the same way.
(b) cases involving each offence: a case counts under every code it records (376 and 383 in one
    case: once under each).
(c) offences: every case-offence. A case records each code once, so per code (c) equals (b); the
    totals differ (offences vs distinct cases).
(d) victims per offence: each victim an offence was committed against (an offence recorded with
    no victim linked adds none).
Hidden number per code = (b) - (a): the cases the hierarchy rule counts under another offence.

Every result comes with its margins (group None = all groups, code None = all codes), counted as
distinct cases, offences or victims: for multi-valued dimensions the margins are therefore not the
sums of the cells.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from reports.cellkey import MODULUS, key_sum, offence_key
from reports.dimensions import UNKNOWN, VICTIM_LEVEL, Dimension, case_values, victim_value
from reports.records import OffenceRecord, ScopedCase

COUNTING_RULES: dict[str, str] = {
    "most_serious": (
        "(a) Cases by most serious offence: each case is counted once, under the offence with the highest "
        "severity rank (by maximum punishment); ties go to the lower code (statute, then section number, then "
        "subsection, so SOAC 6 comes before SOAC 13). This is the hierarchy rule behind "
        "published police figures and is comparable with them."
    ),
    "involving": (
        "(b) Cases involving each offence: a case is counted under every offence it records (a case with "
        "PC 376 and PC 383 counts under both). Columns of this count do not add up to the number of cases."
    ),
    "offences": (
        "(c) Offences: every offence recorded in every case. A case records each section once, so per "
        "section this equals (b); the total counts offences, not cases."
    ),
    "victims": (
        "(d) Victims per offence: every victim an offence was committed against. A case with one offence "
        "against 30 victims adds 30."
    ),
    "hidden": (
        "Hidden number = (b) - (a): cases involving the offence that the hierarchy rule counts under a more "
        "serious one, and so are missing from figures counted by most serious offence."
    ),
    "counted_once": (
        "An NGO case linked to the police case it became is counted once, as the police case (with the police "
        "record's dates, place and offences); that case is then known to police and an NGO. In figures limited "
        "to some organisations, this applies only when the police case is among them: otherwise the NGO case "
        "counts as the NGO's own record, so an NGO's figures include every case it handled."
    ),
}


@dataclass(frozen=True, slots=True)
class OffenceCountRow:
    """The four counts for one (group, code); None in group or code is the margin over all of them."""

    group: str | None
    code: str | None
    severity_rank: int | None
    title: str | None
    most_serious: int
    involving: int
    offences: int
    victims: int
    # Cell keys (reports.cellkey) of the four counts: sums of the keys of what each counts.
    most_serious_key: int = 0
    involving_key: int = 0
    offences_key: int = 0
    victims_key: int = 0

    @property
    def hidden(self) -> int:
        return self.involving - self.most_serious

    @property
    def hidden_key(self) -> int:
        """The cases involving the code but counted under another: involving minus most serious."""
        return (self.involving_key - self.most_serious_key) % MODULUS


@dataclass(frozen=True, slots=True)
class CaseCountRow:
    """Distinct cases for one (row value, column value); None is the margin over that dimension."""

    row: str | None
    column: str | None
    cases: int
    key: int = 0  # cell key: the sum of the cases' record keys


_CODE = re.compile(r"^(\S+)\s+(\d+)(?:\((\d+)\))?")


def code_order(code: str) -> tuple[str, int, int, str]:
    """Natural order of offence codes: statute, then section number, then subsection number
    ("SOAC 6" before "SOAC 13", "PC 376(2)" before "PC 376(10)"); the whole code breaks what is
    left. The SQL (reports.queries) orders the same way."""
    found = _CODE.match(code)
    if found is None:
        return (code, -1, -1, code)
    statute, section, subsection = found.groups()
    return (statute, int(section), int(subsection) if subsection is not None else -1, code)


def most_serious(offences: Iterable[OffenceRecord]) -> OffenceRecord | None:
    """The offence a case counts under by the hierarchy rule: highest rank, then the code first
    in natural order (``code_order``)."""
    return min(offences, key=lambda o: (-o.severity_rank, code_order(o.code)), default=None)


def _groups(scoped: ScopedCase, by: Dimension | None) -> tuple[str | None, ...]:
    """The group keys a case contributes to: its values, plus the margin (None)."""
    return (None,) if by is None else (None, *sorted(case_values(scoped, by)))


def count_offences(cases: Iterable[ScopedCase], by: Dimension | None = None) -> list[OffenceCountRow]:
    """Rules (a)-(d) per offence code, per value of ``by`` (and all margins), over scoped cases."""
    most: dict[tuple[str | None, str | None], set[Hashable]] = defaultdict(set)
    involving: dict[tuple[str | None, str | None], set[Hashable]] = defaultdict(set)
    offences: dict[tuple[str | None, str | None], set[Hashable]] = defaultdict(set)
    victims: dict[tuple[str | None, str | None], set[Hashable]] = defaultdict(set)
    codes: dict[str, OffenceRecord] = {}
    case_keys: dict[Hashable, int] = {}
    offence_codes: dict[Hashable, str] = {}
    for scoped in cases:
        case = scoped.case
        case_keys[case.case_id] = case.key
        if not case.offences:
            continue
        groups = _groups(scoped, by)
        victim_groups = {v.victim_id: victim_value(v, by) for v in case.victims} if by in VICTIM_LEVEL else {}
        top = most_serious(case.offences)
        for index, offence in enumerate(case.offences):
            codes.setdefault(offence.code, offence)
            offence_id = (case.case_id, index)
            offence_codes[offence_id] = offence.code
            for group in groups:
                for code in (None, offence.code):
                    involving[group, code].add(case.case_id)
                    offences[group, code].add(offence_id)
                    if offence is top:
                        most[group, code].add(case.case_id)
            for victim_id in offence.victim_ids:
                victim_groups_of: tuple[str | None, ...]
                if by in VICTIM_LEVEL:
                    victim_groups_of = (None, victim_groups.get(victim_id, UNKNOWN))
                else:
                    victim_groups_of = groups
                for group in victim_groups_of:
                    for code in (None, offence.code):
                        victims[group, code].add((offence_id, victim_id))

    def case_key_sum(found: set[Hashable]) -> int:
        return key_sum(case_keys[c] for c in found)

    def offence_key_sum(found: set[Hashable]) -> int:
        return key_sum(case_keys[offence[0]] for offence in found)  # type: ignore[index]

    def victim_key_sum(found: set[Hashable]) -> int:
        pairs: Iterable[tuple[tuple[int, int], int]] = found  # type: ignore[assignment]
        return key_sum(offence_key(case_keys[o[0]], offence_codes[o]) for o, _ in pairs)

    keys = set(involving) | set(victims) | {(None, None)}
    rows = []
    for group, code in keys:
        record = codes.get(code) if code is not None else None
        rows.append(
            OffenceCountRow(
                group=group,
                code=code,
                severity_rank=record.severity_rank if record else None,
                title=record.title if record else None,
                most_serious=len(most.get((group, code), ())),
                involving=len(involving.get((group, code), ())),
                offences=len(offences.get((group, code), ())),
                victims=len(victims.get((group, code), ())),
                most_serious_key=case_key_sum(most.get((group, code), set())),
                involving_key=case_key_sum(involving.get((group, code), set())),
                offences_key=offence_key_sum(offences.get((group, code), set())),
                victims_key=victim_key_sum(victims.get((group, code), set())),
            )
        )
    return sort_offence_rows(rows)


def sort_offence_rows(rows: Iterable[OffenceCountRow]) -> list[OffenceCountRow]:
    """Margins first, then by group, then most serious code first (the same order as the SQL's)."""
    return sorted(
        rows,
        key=lambda r: (
            r.group is not None,
            r.group or "",
            r.code is not None,
            -(r.severity_rank or 0),
            code_order(r.code or ""),
        ),
    )


def count_cases(
    cases: Iterable[ScopedCase], rows: Dimension | None = None, columns: Dimension | None = None
) -> list[CaseCountRow]:
    """Distinct cases per (row value, column value), with every margin (None)."""
    found: dict[tuple[str | None, str | None], set[int]] = defaultdict(set)
    case_keys: dict[int, int] = {}
    for scoped in cases:
        case_keys[scoped.case.case_id] = scoped.case.key
        for row in _groups(scoped, rows):
            for column in _groups(scoped, columns):
                found[row, column].add(scoped.case.case_id)
    if not found:
        found[None, None] = set()
    return sort_case_rows(
        CaseCountRow(row, column, len(ids), key_sum({case_keys[i] for i in ids}))
        for (row, column), ids in found.items()
    )


def sort_case_rows(rows: Iterable[CaseCountRow]) -> list[CaseCountRow]:
    return sorted(rows, key=lambda r: (r.row is not None, r.row or "", r.column is not None, r.column or ""))


def as_table(rows: Sequence[OffenceCountRow]) -> dict[tuple[str | None, str | None], OffenceCountRow]:
    """Index rows by (group, code) for lookups."""
    return {(r.group, r.code): r for r in rows}
