"""k-anonymity of the line list: every combination of quasi-identifiers is shared by at least k rows.

Quasi-identifiers (what someone who knows a victim could look up): month received, month of the
incident, state, the victims' age bands and genders, the platforms and the offence code. Each
row of the line list is one offence of one case and a case records a code once, so rows sharing a
combination (offence code included) are distinct cases.

Global recoding, as ARX and sdcMicro do it: the same generalisation is applied to every row, from
the finest ``LEVELS`` entry to coarser ones (month -> quarter -> year, state -> region, age band ->
wider band -> under 18 / 18 and over), and the first level at which at most
``MAX_SUPPRESSED`` of the rows would still be in classes smaller than k is used. Those rows then
have every quasi-identifier suppressed ("*"); if fewer than k rows are suppressed, they are left
out of the file altogether (else the suppressed rows would be a small class themselves). Two
passes over the rows: the first counts classes (by a 64-bit hash of each combination; a level
with many classes keeps 8 bytes a row rather than a dict entry a class, see ``_Tally``), the
second writes.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from reports.linelist import LineListRow

SUPPRESSED = "*"
MAX_SUPPRESSED = 0.05

REGIONS = {
    "MY-09": "Northern",
    "MY-02": "Northern",
    "MY-07": "Northern",
    "MY-08": "Northern",
    "MY-10": "Central",
    "MY-14": "Central",
    "MY-16": "Central",
    "MY-05": "Central",
    "MY-04": "Southern",
    "MY-01": "Southern",
    "MY-03": "East Coast",
    "MY-11": "East Coast",
    "MY-06": "East Coast",
    "MY-12": "East Malaysia",
    "MY-13": "East Malaysia",
    "MY-15": "East Malaysia",
}
WIDE_AGE = {
    "0-11": "0-17",
    "12-15": "0-17",
    "16-17": "0-17",
    "18-24": "18-34",
    "25-34": "18-34",
    "35-44": "35+",
    "45-54": "35+",
    "55+": "35+",
}
MINOR_AGE = {
    **dict.fromkeys(("0-11", "12-15", "16-17"), "under 18"),
    **dict.fromkeys(WIDE_AGE.keys() - {"0-11", "12-15", "16-17"}, "18 and over"),
}


@dataclass(frozen=True, slots=True)
class Level:
    time: str  # month | quarter | year
    place: str  # state | region
    age: str  # band | wide | minor
    detail: str = "full"  # full | reduced: platforms as how many, several genders as "several"

    def describe(self) -> str:
        ages = {"band": "age bands", "wide": "wide age bands (0-17, 18-34, 35+)", "minor": "under 18 / 18 and over"}
        text = f"dates by {self.time}, place by {self.place}, {ages[self.age]}"
        return text + ("; platforms as how many, genders as one or 'several'" if self.detail == "reduced" else "")


LEVELS = (
    Level("month", "state", "band"),
    Level("quarter", "state", "band"),
    Level("quarter", "region", "wide"),
    Level("year", "region", "wide"),
    Level("year", "region", "minor"),
    Level("year", "region", "minor", "reduced"),
    Level("year", "country", "minor", "reduced"),
)


def _period(value: str, time: str) -> str:
    if time == "month" or len(value) != 7 or value[4] != "-":  # "2026-03"; "unknown" stays
        return value
    year, month = value[:4], int(value[5:7])
    return f"{year}-Q{(month - 1) // 3 + 1}" if time == "quarter" else year


def _ages(value: str | None, age: str) -> str | None:
    if value is None or age == "band":
        return value
    mapping = WIDE_AGE if age == "wide" else MINOR_AGE
    return "; ".join(sorted({mapping.get(part, part) for part in value.split("; ")}))


def _place(state: str, place: str) -> str:
    if place == "state" or state not in REGIONS:
        return state
    return REGIONS[state] if place == "region" else "Malaysia"


def _count(values: str) -> str:
    found = len([v for v in values.split("; ") if v and v != "unknown"])
    return (
        "none recorded"
        if found == 0
        else "1 platform"
        if found == 1
        else f"{min(found, 3)}{'+' if found >= 3 else ''} platforms"
    )


def generalise(row: LineListRow, level: Level) -> LineListRow:
    reduced = level.detail == "reduced"
    genders = row.victim_genders
    return replace(
        row,
        received_month=_period(row.received_month, level.time),
        incident_month=_period(row.incident_month, level.time),
        state=_place(row.state, level.place),
        victim_age_bands=_ages(row.victim_age_bands, level.age),
        platforms=_count(row.platforms) if reduced else row.platforms,
        victim_genders="several" if reduced and genders and ";" in genders else genders,
    )


def _class(row: LineListRow) -> int:
    key = "\x1f".join(
        str(v)
        for v in (
            row.received_month,
            row.incident_month,
            row.state,
            row.victim_age_bands,
            row.victim_genders,
            row.platforms,
            row.offence_code,
        )
    )
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def suppress(row: LineListRow) -> LineListRow:
    return replace(
        row,
        received_month=SUPPRESSED,
        incident_month=SUPPRESSED,
        state=SUPPRESSED,
        victim_age_bands=SUPPRESSED,
        victim_genders=SUPPRESSED,
        platforms=SUPPRESSED,
        offence_code=SUPPRESSED,
    )


@dataclass(frozen=True)
class Anonymisation:
    """What was done to make the list k-anonymous (stated on the file's About sheet)."""

    k: int
    level: Level
    level_index: int
    rows: int  # rows before anything was suppressed or left out
    suppressed: int  # rows whose quasi-identifiers were all replaced by "*"
    removed: int  # rows left out (too few suppressed rows to form a class of k)

    def describe(self) -> list[tuple[str, str]]:
        generalised = "no generalisation needed" if self.level_index == 0 else "generalised"
        return [
            (
                "k-anonymity",
                f"Every combination of month received, month of incident, state, victims' age bands and genders, "
                f"platforms and offence code is shared by at least {self.k} rows.",
            ),
            (
                "Generalisation",
                f"Level {self.level_index} of {len(LEVELS) - 1} ({generalised}): {self.level.describe()}.",
            ),
            (
                "Suppression",
                f"{self.suppressed:,} of {self.rows:,} rows ({self.suppressed / max(self.rows, 1):.1%}) had every "
                f"quasi-identifier replaced by '{SUPPRESSED}'; {self.removed:,} rows were left out.",
            ),
        ]


class _Tally:
    """Class sizes of one level, in memory bounded by rows rather than by Python objects per class.

    A ``Counter`` while the level has few classes (the coarse levels); past ``spill_after`` classes,
    the hashes themselves (8 bytes a row) in ``array('Q')`` buckets by their top bits, each counted
    alone when asked, so at most one bucket's ``Counter`` exists at a time. A Counter of one level
    with a class per row costs ~100 bytes a row; seven of them were the 475 MB peak at 1M cases.
    """

    def __init__(self, spill_after: int) -> None:
        self.spill_after = spill_after
        self.counter: Counter[int] | None = Counter()
        self.buckets: list[array[int]] = []

    def add(self, key: int) -> None:
        if self.counter is None:
            self.buckets[key >> (64 - _BUCKET_BITS)].append(key)
            return
        self.counter[key] += 1
        if len(self.counter) > self.spill_after:
            self.buckets = [array("Q") for _ in range(1 << _BUCKET_BITS)]
            for known, n in self.counter.items():
                self.buckets[known >> (64 - _BUCKET_BITS)].extend([known] * n)
            self.counter = None

    def counts(self) -> Iterator[Counter[int]]:
        """The class sizes, a part at a time (the parts have no class in common)."""
        if self.counter is not None:
            yield self.counter
        else:
            yield from (Counter(bucket) for bucket in self.buckets)


_BUCKET_BITS = 8  # 256 buckets: ~8,000 hashes each at 2M rows
SPILL_AFTER = 1 << 16  # classes kept in a Counter before a level spills to hashes


def plan(rows: Iterable[LineListRow], k: int, max_suppressed: float = MAX_SUPPRESSED) -> tuple[Anonymisation, set[int]]:
    """First pass: the level to use and the classes (hashes) too small at it.

    One pass over the rows tallies every level; the levels are then decided finest first, each
    freed once decided, and only the chosen level's small classes are kept.
    """
    tallies = [_Tally(SPILL_AFTER) for _ in LEVELS]
    total = 0
    for row in rows:
        total += 1
        for tally, level in zip(tallies, LEVELS, strict=True):
            tally.add(_class(generalise(row, level)))
    chosen = len(LEVELS) - 1
    for index, tally in enumerate(tallies):
        small = sum(n for part in tally.counts() for n in part.values() if n < k)
        if small <= max_suppressed * total:
            chosen = index
            break
        if index < chosen:  # decided against: free its hashes (the coarsest is used anyway)
            tallies[index] = _Tally(0)
    small_classes: set[int] = set()
    suppressed = 0
    for part in tallies[chosen].counts():
        for found, n in part.items():
            if n < k:
                small_classes.add(found)
                suppressed += n
    del tallies
    removed = suppressed if 0 < suppressed < k else 0
    return Anonymisation(k, LEVELS[chosen], chosen, total, suppressed - removed, removed), small_classes


def apply(rows: Iterable[LineListRow], result: Anonymisation, small: set[int]) -> Iterator[LineListRow]:
    """Second pass: generalise every row, suppress (or leave out) those of small classes."""
    for row in rows:
        general = generalise(row, result.level)
        if _class(general) in small:
            if result.removed:
                continue
            yield suppress(general)
        else:
            yield general


def anonymise(rows: Callable[[], Iterable[LineListRow]], k: int) -> tuple[Anonymisation, Iterator[LineListRow]]:
    """Both passes over ``rows()`` (called twice: stream the records twice, as from one snapshot)."""
    result, small = plan(rows(), k)
    return result, apply(rows(), result, small)
