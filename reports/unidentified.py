"""Victims believed affected but not identified: a figure of its own, never a victim count.

A case opened on a group or channel (the "V2K" Telegram group: over 30,000 members sharing women's
photos) records how many victims are believed affected though nobody knows who they are yet. They
are not victims of the case (no rows, no ages, no offences linked to them), so the victim counts
of every other table leave them out; this table shows them beside those counts, with the number
of cases carrying such an estimate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reports.records import ScopedCase
from reports.tables import FigureBook, Row, TableSpec

DESCRIPTION = (
    "Cases opened on a group or channel may record how many victims are believed affected but not yet "
    "identified (an investigator's estimate). They are counted here only: never in the victim counts of "
    "other tables, which hold identified victims. Cases are counted once (see Known to)."
)


@dataclass(frozen=True, slots=True)
class UnidentifiedCount:
    cases: int = 0  # cases recording victims believed affected but not identified
    victims: int = 0  # the sum of those estimates


def count_unidentified(cases: Iterable[ScopedCase]) -> UnidentifiedCount:
    """Over the counted cases (the counted-once rule and the filter applied already)."""
    estimates = [c.case.unidentified_victims for c in cases if c.case.unidentified_victims]
    return UnidentifiedCount(cases=len(estimates), victims=sum(estimates))


def unidentified_table(book: FigureBook, count: UnidentifiedCount) -> TableSpec:
    """The table and its two figures (protected with the rest of the report)."""
    cases = book.add(("unidentified", "cases"), count.cases)
    victims = book.add(("unidentified", "victims"), count.victims)
    return TableSpec(
        "Unidentified victims",
        "Victims believed affected but not identified",
        DESCRIPTION,
        ("Measure",),
        ("Count",),
        (
            Row(("Cases with victims believed affected, not identified",), (cases,), in_charts=False),
            Row(("Victims believed affected, not identified (estimated)",), (victims,), in_charts=False),
        ),
        topic="cases",
    )
