"""Legal aid eligibility from a victim's declared means, using the thresholds in
seed/data/legal_aid_thresholds.json (sources R73, R74 in seed/data/SOURCES.md: JBG since 1 May 2023; YBGK's
RM3,000 a month). Pure functions: no Flask, no database. Not legal advice: a first indication
for the referral form; the agency decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

THRESHOLDS_FILE = Path(__file__).resolve().parent.parent / "seed" / "data" / "legal_aid_thresholds.json"
SCHEMES = ("JBG", "YBGK")  # each scheme is also the acronym of the agency that runs it


@dataclass(frozen=True)
class Threshold:
    scheme: str
    aid: str  # full / partial_with_contribution / ministerial_approval
    basis: str  # annual / monthly
    min_income: Decimal | None
    max_income: Decimal | None
    effective_from: date | None
    source: str


@dataclass(frozen=True)
class Assessment:
    scheme: str
    aid: str  # a threshold's aid, or not_eligible, or unknown (no declared income)
    qualifies: bool | None  # None when the income is unknown
    basis: str
    max_income: Decimal | None  # upper bound of the band that matched (None: open-ended or unknown)
    effective_from: date | None
    source: str | None


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parse_thresholds(rows: list[dict[str, Any]]) -> list[Threshold]:
    return [
        Threshold(
            scheme=row["scheme"],
            aid=row["aid"],
            basis=row["basis"],
            min_income=_decimal(row.get("min_income")),
            max_income=_decimal(row.get("max_income")),
            effective_from=date.fromisoformat(row["effective_from"]) if row.get("effective_from") else None,
            source=row.get("source", ""),
        )
        for row in rows
    ]


@lru_cache(maxsize=1)
def load_thresholds() -> tuple[Threshold, ...]:
    """The thresholds file, read once per process (on first use, not at import)."""
    return tuple(parse_thresholds(json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))))


def thresholds_in_force(thresholds: tuple[Threshold, ...] | list[Threshold], scheme: str, on: date) -> list[Threshold]:
    """The bands of one scheme in force on a day: those with the latest effective date not after
    it; undated bands (date unknown) only when no dated band applies."""
    rows = [t for t in thresholds if t.scheme == scheme]
    dated = [t.effective_from for t in rows if t.effective_from is not None and t.effective_from <= on]
    if dated:
        latest = max(dated)
        rows = [t for t in rows if t.effective_from == latest]
    else:
        rows = [t for t in rows if t.effective_from is None]
    return sorted(rows, key=lambda t: (t.max_income is None, t.max_income or Decimal(0)))


def assess(
    annual_income: Decimal | None,
    on: date,
    thresholds: tuple[Threshold, ...] | list[Threshold] | None = None,
) -> list[Assessment]:
    """Which schemes the declared annual income qualifies for, scheme by scheme.

    A band matches when the income is at most its maximum (bands are tried from the lowest), so
    RM50,000.50 falls in JBG's partial band although the file writes its lower bound as 50,001.
    Monthly schemes compare a twelfth of the annual income.
    """
    thresholds = load_thresholds() if thresholds is None else thresholds
    results = []
    for scheme in SCHEMES:
        bands = thresholds_in_force(thresholds, scheme, on)
        if not bands:
            continue
        basis = bands[0].basis
        if annual_income is None:
            results.append(Assessment(scheme, "unknown", None, basis, None, bands[0].effective_from, None))
            continue
        income = annual_income / 12 if basis == "monthly" else annual_income
        band = next((b for b in bands if b.max_income is None or income <= b.max_income), None)
        if band is None:
            top = bands[-1]
            results.append(
                Assessment(scheme, "not_eligible", False, basis, top.max_income, top.effective_from, top.source)
            )
            continue
        qualifies = band.aid in {"full", "partial_with_contribution"}
        results.append(
            Assessment(scheme, band.aid, qualifies, basis, band.max_income, band.effective_from, band.source)
        )
    return results
