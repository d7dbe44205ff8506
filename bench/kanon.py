"""Peak memory of the line list's k-anonymity planner alone, the current one vs the first one.

    python -m bench.kanon --rows 2100000   # the size of the 1M-case line list; ~6 min a planner
    python -m bench.kanon --rows 50000     # quick run

Each planner (and a baseline that only builds the rows) runs in its own process over the same
synthetic rows, streamed as the export streams them (never held in a list); printed: the level
chosen, the rows suppressed, seconds and peak RSS (``ru_maxrss``). The first planner is the one
kept in tests/reports/test_kanon_plan.py, where the two are checked to decide alike.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator

from reports.kanon import REGIONS, WIDE_AGE, plan
from reports.linelist import LineListRow

STATES = (*REGIONS, "unknown")
BANDS = tuple(WIDE_AGE)
GENDERS = ("female", "male", "non_binary", "undisclosed")
PLATFORMS = ("telegram", "instagram", "whatsapp", "facebook", "tiktok", "other")
CODES = tuple(f"S{i}" for i in range(20))
MONTHS = (*(f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)), "unknown")


def rows(count: int) -> Iterator[LineListRow]:
    """Evenly spread quasi-identifiers: about one class per row at the finest level."""
    rng = random.Random(7)
    for i in range(count):
        bands = "; ".join(sorted({rng.choice(BANDS) for _ in range(1 if rng.random() < 0.85 else 2)}))
        yield LineListRow(
            case_key=f"k{i}",
            received_month=rng.choice(MONTHS),
            incident_month=rng.choice(MONTHS),
            state=rng.choice(STATES),
            organisation_kind="police",
            intake_channel="walk_in",
            known_to="no",
            platforms="; ".join(sorted(rng.sample(PLATFORMS, rng.randint(1, 2)))),
            abuse_types="financial_sextortion",
            offence_code=rng.choice(CODES),
            severity_rank=1,
            is_most_serious=True,
            victims=1,
            minor_victims=0,
            victim_age_bands=bands,
            victim_genders=rng.choice(GENDERS),
            payments="none",
            material_released="no",
        )


def measure(planner: str, count: int) -> None:
    start = time.perf_counter()
    if planner == "rows":
        for _ in rows(count):
            pass
        outcome = "rows only"
    else:
        if planner == "first":
            from tests.reports.test_kanon_plan import first_plan as chosen
        else:
            chosen = plan
        result, small = chosen(rows(count), 5)
        outcome = f"level {result.level_index}, {result.suppressed:,} suppressed, {len(small):,} small classes"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{planner:>7}: {outcome}; {time.perf_counter() - start:.0f} s, peak {peak:.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_100_000)
    parser.add_argument("--planner", choices=("rows", "first", "current"))
    args = parser.parse_args()
    if args.planner:
        measure(args.planner, args.rows)
        return
    for planner in ("rows", "first", "current"):
        subprocess.run(
            [sys.executable, "-m", "bench.kanon", "--rows", str(args.rows), "--planner", planner], check=True
        )


if __name__ == "__main__":
    main()
