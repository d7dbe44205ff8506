"""Hidden-population estimate: how many victims there are in all, known to anyone or to no one,
from the overlap of two lists (victims known to police, victims known to NGOs), matched by the
keyed hash of national ID or phone (capture-recapture, two lists).

Chapman's estimator (nearly unbiased for small overlaps):
    N = (n1 + 1)(n2 + 1) / (m + 1) - 1
    var = (n1 + 1)(n2 + 1)(n1 - m)(n2 - m) / ((m + 1)^2 (m + 2))        (Seber 1970)
95% interval: Chao's log-normal interval (Chao 1987), not the symmetric normal one: the unseen
part f0 = N - M (M = n1 + n2 - m victims actually observed) is taken as log-normal, so
    C = exp(1.96 * sqrt(ln(1 + var / f0^2))),  interval = [M + f0 / C, M + f0 * C].
It never goes below the number of victims actually seen and is skewed upwards like the estimator.
Withheld below 7 matched victims (m < 7): with so few, the estimate's bias and spread make it
meaningless (common guidance for Lincoln-Petersen/Chapman asks for at least 7 recaptures).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from reports.records import ScopedCase

MIN_OVERLAP = 7
Z_95 = 1.959963984540054

ASSUMPTIONS: tuple[str, ...] = (
    "Closed population: no victims enter or leave between the two lists (same period, same area).",
    "Independence: being known to police does not change the chance of being known to an NGO. Victims "
    "referred from one to the other break this and make the estimate too low.",
    "Homogeneity: every victim has the same chance of appearing on each list. Victims who never come "
    "forward to anyone break this, also making the estimate too low.",
    "Perfect matching: the keyed hash of national ID or phone identifies the same person on both lists, "
    "and only them. Victims recorded without either cannot be matched and are left out of both lists.",
)


@dataclass(frozen=True, slots=True)
class ListCounts:
    """Distinct matchable victims known to police (n1), to NGOs (n2) and to both (m)."""

    police: int
    ngo: int
    both: int

    @property
    def observed(self) -> int:
        return self.police + self.ngo - self.both


@dataclass(frozen=True)
class PopulationEstimate:
    """A Chapman estimate with its interval, or why it was withheld (then the numbers are None)."""

    counts: ListCounts
    withheld: bool
    reason: str | None
    estimate: float | None
    standard_error: float | None
    lower: float | None
    upper: float | None
    method: str = "Chapman two-list estimator; 95% log-normal interval (Chao 1987)"
    assumptions: tuple[str, ...] = ASSUMPTIONS

    @property
    def unseen(self) -> float | None:
        """Estimated victims known to neither list."""
        return None if self.estimate is None else self.estimate - self.counts.observed


def chapman(counts: ListCounts, *, min_overlap: int = MIN_OVERLAP, z: float = Z_95) -> PopulationEstimate:
    n1, n2, m = counts.police, counts.ngo, counts.both
    if min(n1, n2, m) < 0 or m > min(n1, n2):
        raise ValueError(f"inconsistent list counts: n1={n1}, n2={n2}, m={m}")
    if m < min_overlap:
        # The reason must not state m itself: it may be a small count.
        reason = f"fewer than {min_overlap} victims are known to both police and an NGO (matched by keyed hash)"
        return PopulationEstimate(counts, True, reason, None, None, None, None)
    estimate = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    observed = counts.observed
    unseen = estimate - observed  # = (n1 - m)(n2 - m) / (m + 1) >= 0
    if unseen <= 0 or variance <= 0:
        lower = upper = float(observed)
    else:
        c = math.exp(z * math.sqrt(math.log(1 + variance / unseen**2)))
        lower, upper = observed + unseen / c, observed + unseen * c
    return PopulationEstimate(counts, False, None, estimate, math.sqrt(variance), lower, upper)


def two_list_counts(cases: Iterable[ScopedCase]) -> ListCounts:
    """The two lists from each organisation's own records: pass cases scoped with
    ``counted_once=False`` (an NGO case linked to a police case is the NGO's own capture)."""
    police: set[str] = set()
    ngo: set[str] = set()
    for scoped in cases:
        kind = scoped.case.organisation_kind
        target = police if kind == "police_unit" else ngo if kind == "ngo" else None
        if target is None:
            continue
        target.update(v.match_hash for v in scoped.case.victims if v.match_hash)
    return ListCounts(len(police), len(ngo), len(police & ngo))
