"""Repeat perpetrators: identifiers named in two or more counted cases, and the groups of cases
they join (cases sharing an identifier, directly or through a chain, form one group).

Input is (case id, identifier id, kind) links, from records or from the SQL in
``reports.queries``; output is counts only: which cases and which identifiers never leave here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reports.records import ScopedCase

# Groups of linked cases by size: (label, smallest, largest).
GROUP_SIZES: tuple[tuple[str, int, int | None], ...] = (
    ("2 cases", 2, 2),
    ("3-5 cases", 3, 5),
    ("6-10 cases", 6, 10),
    ("11 or more cases", 11, None),
)


@dataclass(frozen=True, slots=True)
class IdentifierLink:
    case_id: int
    identifier_id: int
    kind: str


@dataclass(frozen=True)
class RepeatSummary:
    """identifiers[kind], cases[kind]: identifiers seen in 2+ cases and the distinct cases naming them;
    cases_total: distinct cases naming any of them; groups[size label] = (groups, cases in them)."""

    identifiers: dict[str, int]
    cases: dict[str, int]
    cases_total: int
    groups: dict[str, tuple[int, int]]


def links_from_cases(cases: Iterable[ScopedCase]) -> list[IdentifierLink]:
    """Every (case, identifier) pair of the counted cases (one per identifier, whatever its roles)."""
    return [
        IdentifierLink(scoped.case.case_id, ref.identifier_id, ref.kind)
        for scoped in cases
        for ref in {(r.identifier_id, r.kind): r for r in scoped.case.identifiers}.values()
    ]


def repeat_links(links: Iterable[IdentifierLink], min_cases: int = 2) -> list[IdentifierLink]:
    """Only the links of identifiers named in ``min_cases`` or more distinct cases."""
    links = list(set(links))
    cases_of: dict[int, set[int]] = defaultdict(set)
    for link in links:
        cases_of[link.identifier_id].add(link.case_id)
    return sorted(
        (link for link in links if len(cases_of[link.identifier_id]) >= min_cases),
        key=lambda link: (link.identifier_id, link.case_id),
    )


def case_groups(links: Iterable[IdentifierLink]) -> list[frozenset[int]]:
    """Connected components of cases joined by shared identifiers (union-find), singletons left out."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_case: dict[int, int] = {}
    for link in links:
        find(link.case_id)
        anchor = first_case.setdefault(link.identifier_id, link.case_id)
        parent[find(link.case_id)] = find(anchor)
    members: dict[int, set[int]] = defaultdict(set)
    for case_id in parent:
        members[find(case_id)].add(case_id)
    return sorted((frozenset(m) for m in members.values() if len(m) >= 2), key=lambda g: (-len(g), min(g)))


def summarise(links: Iterable[IdentifierLink]) -> RepeatSummary:
    """Counts of repeat identifiers by kind and of linked-case groups by size."""
    repeats = repeat_links(links)
    identifiers: dict[str, set[int]] = defaultdict(set)
    cases: dict[str, set[int]] = defaultdict(set)
    for link in repeats:
        identifiers[link.kind].add(link.identifier_id)
        cases[link.kind].add(link.case_id)
    groups: dict[str, tuple[int, int]] = {name: (0, 0) for name, _, _ in GROUP_SIZES}
    for group in case_groups(repeats):
        for name, low, high in GROUP_SIZES:
            if len(group) >= low and (high is None or len(group) <= high):
                count, members = groups[name]
                groups[name] = (count + 1, members + len(group))
    return RepeatSummary(
        identifiers={k: len(v) for k, v in identifiers.items()},
        cases={k: len(v) for k, v in cases.items()},
        cases_total=len({link.case_id for link in repeats}),
        groups=groups,
    )
