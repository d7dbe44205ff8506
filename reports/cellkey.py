"""Cell keys: the same cases always give the same published count, whichever query asked.

The cell-key method (ABS TableBuilder, the UK's 2021 Census flexible tables, sdcTools' cellKey):
each case carries a fixed random record key (``cases.record_key``, 60 bits, drawn by the database
when the case is written); a table cell's key is the sum of the record keys of what it counts,
modulo 2^60, read as a number in [0, 1); the perturbation table (``reports.ptable``) turns
(true count, cell key) into a small adjustment. Any two queries whose cells hold exactly the same
records publish the same number, so differencing two answers gives noise rather than a person.

What a cell counts, and so which keys it sums:
  cases (any breakdown)          -> the record key of each case, once per case
  offences of one code           -> the case's key (the same records as "cases involving" it,
                                    so (b) and (c) of one code always publish the same number)
  victims of an offence          -> the offence's key (case key XOR a fixed mix of the code),
                                    once per victim
A figure computed from others (hidden number = involving - most serious, "no offence recorded",
sums of rows) sums the keys of exactly the records it counts, so it too gets its own key.
Figures whose records carry no key (referrals, takedown addresses, repeat identifiers, matched
victims) get a keyed hash of the figure's name and true count instead (``value_key``): the same
count of the same figure publishes the same number, whatever the filter.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Hashable, Iterable
from functools import lru_cache

from reports.ptable import Entry, read

BITS = 60
MODULUS = 1 << BITS
MASK = MODULUS - 1


def _hash60(text: str) -> int:
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[: BITS // 4], 16)


@lru_cache(maxsize=4096)
def code_mix(code: str) -> int:
    """A fixed 60-bit number per offence code (the SQL computes the same with md5)."""
    return _hash60(code)


def default_record_key(case_id: int) -> int:
    """The record key of a hand-built record that names none (tests): fixed per case id."""
    return _hash60(f"case:{case_id}")


def offence_key(case_key: int, code: str) -> int:
    return (case_key ^ code_mix(code)) & MASK


def key_sum(keys: Iterable[int]) -> int:
    return sum(keys) % MODULUS


def value_key(secret: str, name: Hashable, value: int) -> int:
    """The key of a figure whose records carry none: a keyed hash of its name and true count."""
    return _hash60(f"{secret}|{name!r}|{value}")


class PerturbationTable:
    """(true count, cell key) -> published count, from ``reports/data/ptable.csv``."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        by_count: dict[int, list[Entry]] = {}
        for entry in entries:
            by_count.setdefault(entry.count, []).append(entry)
        self.last = max(by_count)
        self.rows = {count: sorted(rows, key=lambda e: e.key_from) for count, rows in by_count.items()}
        self.edges = {count: [e.key_from for e in rows] for count, rows in self.rows.items()}
        self.max_adjustment = max(abs(e.adjustment) for e in self.rows[self.last])
        self.variance = sum(e.probability * e.adjustment**2 for e in self.rows[self.last])

    def adjustment(self, count: int, key: int) -> int:
        if count <= 0:
            return 0  # a true zero has no records: it stays zero
        row = min(count, self.last)
        position = (key % MODULUS) / MODULUS
        return self.rows[row][bisect_right(self.edges[row], position) - 1].adjustment

    def publish(self, count: int, key: int) -> int:
        return count + self.adjustment(count, key)

    def stays(self, count: int) -> float:
        """The probability that a true count is published unchanged."""
        return next(e.probability for e in self.rows[min(count, self.last)] if e.adjustment == 0)


@lru_cache(maxsize=1)
def default_table() -> PerturbationTable:
    return PerturbationTable(read())
