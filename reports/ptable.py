"""The perturbation table (ptable) of the cell-key method, generated reproducibly.

``python -m reports.ptable`` writes ``reports/data/ptable.csv`` from the parameters below; the
file is committed, and a test checks it equals what this module generates. No randomness is
involved: the table is a function of its parameters.

For a true count n, the published count is n + a, where the adjustment a is drawn from a fixed
distribution over -MAX_ADJUSTMENT..+MAX_ADJUSTMENT: probabilities proportional to
exp(-a^2 / (2 s^2)), with s chosen so that the variance is VARIANCE when every adjustment is
possible. The draw is not random at publication: the cell key (a number in [0, 1), see
``reports.cellkey``) picks the adjustment whose interval [key_from, key_to) contains it, so the
same cases always give the same published count.

Constraints: a true zero stays zero (it has no records, hence no key); a count of 1 or more is
never published as 0 or less, so the adjustments that would go there are dropped for n = 1 and
n = 2 (which makes those two slightly biased upwards). From n = 3 ("3+" in the file) on, the
distribution is the same and has mean zero.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

MAX_ADJUSTMENT = 2  # D: no count moves by more than this
VARIANCE = 1.0  # V: variance of the adjustment for counts of 3 or more
PRECISION = 6  # decimals of the probabilities in the file
PATH = Path(__file__).parent / "data" / "ptable.csv"


@dataclass(frozen=True, slots=True)
class Entry:
    count: int  # true count; the last one stands for itself and every larger count
    adjustment: int
    probability: float
    key_from: float
    key_to: float


def _weights(sigma: float, support: range) -> list[float]:
    return [math.exp(-(a * a) / (2 * sigma * sigma)) for a in support]


def _variance(sigma: float) -> float:
    support = range(-MAX_ADJUSTMENT, MAX_ADJUSTMENT + 1)
    weights = _weights(sigma, support)
    return sum(w * a * a for w, a in zip(weights, support, strict=True)) / sum(weights)


def _sigma(variance: float) -> float:
    """The s whose full-support distribution has the given variance (bisection)."""
    if not 0 < variance < MAX_ADJUSTMENT**2 * 0.5:
        raise ValueError("variance out of range for the maximum adjustment")
    low, high = 1e-3, 100.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if _variance(middle) < variance else (low, middle)
    return (low + high) / 2


def generate(max_adjustment: int = MAX_ADJUSTMENT, variance: float = VARIANCE) -> list[Entry]:
    """Every (count, adjustment) with its probability and key interval."""
    if max_adjustment != MAX_ADJUSTMENT:
        raise ValueError("change MAX_ADJUSTMENT itself so that the file and the code agree")
    sigma = _sigma(variance)
    entries: list[Entry] = []
    for count in range(1, max_adjustment + 2):
        support = range(max(-max_adjustment, 1 - count), max_adjustment + 1)
        weights = _weights(sigma, support)
        total = sum(weights)
        probabilities = [round(w / total, PRECISION) for w in weights]
        middle = support.index(0)
        probabilities[middle] = round(probabilities[middle] + 1 - sum(probabilities), PRECISION)  # sum to 1
        edge = 0.0
        for adjustment, probability in zip(support, probabilities, strict=True):
            upper = 1.0 if adjustment == support[-1] else round(edge + probability, PRECISION)
            entries.append(Entry(count, adjustment, probability, edge, upper))
            edge = upper
    return entries


def write(entries: list[Entry], path: Path = PATH) -> None:
    with path.open("w", newline="") as file:
        out = csv.writer(file, lineterminator="\n")
        out.writerow(["count", "adjustment", "probability", "key_from", "key_to"])
        last = max(e.count for e in entries)
        for e in entries:
            count = f"{e.count}+" if e.count == last else str(e.count)
            out.writerow(
                [
                    count,
                    e.adjustment,
                    f"{e.probability:.{PRECISION}f}",
                    f"{e.key_from:.{PRECISION}f}",
                    f"{e.key_to:.{PRECISION}f}",
                ]
            )


def read(path: Path = PATH) -> list[Entry]:
    with path.open(newline="") as file:
        return [
            Entry(
                int(row["count"].rstrip("+")),
                int(row["adjustment"]),
                float(row["probability"]),
                float(row["key_from"]),
                float(row["key_to"]),
            )
            for row in csv.DictReader(file)
        ]


if __name__ == "__main__":
    write(generate())
    print(f"wrote {PATH} (maximum adjustment {MAX_ADJUSTMENT}, variance {VARIANCE})")
