"""Repeat perpetrators: identifiers named in two or more counted cases, and the groups of cases
they join (cases sharing an identifier, directly or through a chain, form one group).

Input is (case id, identifier id, kind) links, from records or from the SQL in
``reports.queries``; output is counts only: which cases and which identifiers never leave here.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import NamedTuple

from reports.records import ScopedCase

# Groups of linked cases by size: (label, smallest, largest).
GROUP_SIZES: tuple[tuple[str, int, int | None], ...] = (
    ("2 cases", 2, 2),
    ("3-5 cases", 3, 5),
    ("6-10 cases", 6, 10),
    ("11 or more cases", 11, None),
)


class IdentifierLink(NamedTuple):
    """One identifier named in one case (a tuple: a million of them come from the database)."""

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


def _cases_by_identifier(links: Iterable[IdentifierLink], min_cases: int) -> tuple[dict[int, set[int]], dict[int, str]]:
    cases_of: dict[int, set[int]] = defaultdict(set)
    kind_of: dict[int, str] = {}
    for case_id, identifier_id, kind in links:
        cases_of[identifier_id].add(case_id)
        kind_of[identifier_id] = kind
    return {i: c for i, c in cases_of.items() if len(c) >= min_cases}, kind_of


def repeat_links(links: Iterable[IdentifierLink], min_cases: int = 2) -> list[IdentifierLink]:
    """Only the links of identifiers named in ``min_cases`` or more distinct cases."""
    repeated, kind_of = _cases_by_identifier(links, min_cases)
    return sorted(IdentifierLink(c, i, kind_of[i]) for i, cases in repeated.items() for c in cases)


def _components(case_sets: Iterable[set[int]]) -> list[frozenset[int]]:
    """Connected components of cases, each set joining its members (union-find, path halving)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for cases in case_sets:
        anchor = None
        for case_id in cases:
            parent.setdefault(case_id, case_id)
            if anchor is None:
                anchor = find(case_id)
            else:
                root = find(case_id)
                if root != anchor:
                    parent[root] = anchor
    members: dict[int, set[int]] = defaultdict(set)
    for case_id in parent:
        members[find(case_id)].add(case_id)
    return sorted((frozenset(m) for m in members.values() if len(m) >= 2), key=lambda g: (-len(g), min(g)))


def case_groups(links: Iterable[IdentifierLink]) -> list[frozenset[int]]:
    """Groups of cases joined by identifiers they share, directly or through a chain (pairs and up)."""
    repeated, _ = _cases_by_identifier(links, 2)
    return _components(repeated.values())


def summarise(links: Iterable[IdentifierLink], *, grouped: bool = False) -> RepeatSummary:
    """Counts of repeat identifiers by kind and of linked-case groups by size.

    With ``grouped=True`` the links arrive ordered by identifier (as the SQL sends them) and are
    consumed in one pass: only one identifier's links are held at a time, and the union-find runs
    over compact arrays indexed densely by case, so a million-case report stays within the export
    job's memory budget.
    """
    ordered = links if grouped else sorted(links, key=lambda link: link.identifier_id)
    index: dict[int, int] = {}  # case id -> dense position
    parent = array("q")  # union-find over positions
    by_kind: dict[str, bytearray] = {}  # per kind, 1 where the case is named by such an identifier
    identifiers: dict[str, int] = defaultdict(int)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, group in groupby(ordered, key=lambda link: link.identifier_id):
        members = list(group)
        cases = {link.case_id for link in members}
        if len(cases) < 2:
            continue
        kind = members[0].kind
        identifiers[kind] += 1
        seen = by_kind.setdefault(kind, bytearray())
        anchor = -1
        for case_id in cases:
            position = index.get(case_id)
            if position is None:
                position = index[case_id] = len(parent)
                parent.append(position)
            if len(seen) <= position:
                seen.extend(bytes(position + 1 - len(seen)))
            seen[position] = 1
            root = find(position)
            if anchor == -1:
                anchor = root
            elif root != anchor:
                parent[root] = anchor
    sizes: dict[int, int] = defaultdict(int)
    for position in range(len(parent)):
        sizes[find(position)] += 1
    groups: dict[str, tuple[int, int]] = {name: (0, 0) for name, _, _ in GROUP_SIZES}
    for size in sizes.values():
        for name, low, high in GROUP_SIZES:
            if size >= low and (high is None or size <= high):
                count, total = groups[name]
                groups[name] = (count + 1, total + size)
    return RepeatSummary(
        identifiers=dict(identifiers),
        cases={kind: seen.count(1) for kind, seen in by_kind.items()},
        cases_total=len(parent),
        groups=groups,
    )
