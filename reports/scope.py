"""Which cases a report counts: the filter, and the rule that linked records count once.

Counted once: a case that names the police case it became (``police_case_id``: an NGO case whose
victim went on to report) is represented by that police case and not counted itself; the police
case is then "known to police and an NGO". Chains (A -> B -> C) leave only the last case. The
rule is applied before the filter, so a case counts under the police record's dates, state and
offences, and monthly figures add up to the yearly ones.

Organisation scope (``organisation_ids``; None = every organisation): only cases owned by those
organisations count. The counted-once rule then works inside the scope: an NGO case is represented
by its police case only when that police case is counted too. When the police case belongs to an
organisation outside the scope, the NGO case counts as its own record (its own dates, place and
offences), still "known to police and an NGO". So an NGO's own figures count every case the NGO
handled, including those its victims took to police, and never read another organisation's
record; figures over all organisations still count each victim's case once. Whether a case is
known to an NGO by such a link is a fact about the case and is decided over all organisations.

A filter keeps a case when every condition holds: its organisation is in scope, its date
(received, or incident) lies in the inclusive range, and for each restricted dimension at least
one of its values is allowed (a case with several platforms is kept when any of them is). The SQL
in ``reports.queries`` applies the same filter in the database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from reports.dimensions import TITLES, Dimension, case_values, label
from reports.records import CaseRecord, ScopedCase

DateBasis = Literal["received", "incident"]


@dataclass(frozen=True)
class ReportFilter:
    """What to count. Empty means everything; ``only`` maps a dimension to the allowed values."""

    date_basis: DateBasis = "received"
    date_from: date | None = None  # inclusive
    date_to: date | None = None  # inclusive
    only: Mapping[Dimension, frozenset[str]] = field(default_factory=dict)
    # Owning organisations whose cases count; None = every organisation.
    organisation_ids: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.date_basis not in ("received", "incident"):
            raise ValueError(f"date_basis must be 'received' or 'incident', not {self.date_basis!r}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        normalised = {Dimension(d): frozenset(values) for d, values in self.only.items()}
        if any(not values for values in normalised.values()):
            raise ValueError("a restricted dimension needs at least one allowed value")
        object.__setattr__(self, "only", normalised)
        if self.organisation_ids is not None:
            if not self.organisation_ids:
                raise ValueError("organisation_ids needs at least one organisation (None means every organisation)")
            object.__setattr__(self, "organisation_ids", frozenset(self.organisation_ids))

    def in_scope(self, case: CaseRecord) -> bool:
        """Whether the case's owning organisation is one whose cases count."""
        return self.organisation_ids is None or case.organisation_id in self.organisation_ids

    def case_date(self, case: CaseRecord) -> date | None:
        return case.received_on if self.date_basis == "received" else case.incident_on

    def matches(self, scoped: ScopedCase) -> bool:
        if not self.in_scope(scoped.case):
            return False
        if self.date_from or self.date_to:
            day = self.case_date(scoped.case)
            if day is None or (self.date_from and day < self.date_from) or (self.date_to and day > self.date_to):
                return False
        return all(case_values(scoped, dimension) & allowed for dimension, allowed in self.only.items())

    def describe(self, organisation_labels: Mapping[int, str] | None = None) -> list[tuple[str, str]]:
        """(what, how) lines for the About sheet of a workbook. Organisations are named by the
        labels given (their codes, e.g. "D11"), else by id: never anything about a victim."""
        basis = "date received" if self.date_basis == "received" else "date the incident started"
        lines = [
            (
                "Period",
                f"{self.date_from or 'any'} to {self.date_to or 'any'} (inclusive), by {basis}",
            )
        ]
        if self.organisation_ids is None:
            lines.append(("Organisations", "all organisations"))
        else:
            labels = organisation_labels or {}
            names = sorted(labels.get(i, f"organisation {i}") for i in self.organisation_ids)
            lines.append(("Organisations", ", ".join(names)))
        for dimension in sorted(self.only):
            lines.append((TITLES[dimension], ", ".join(label(v, dimension) for v in sorted(self.only[dimension]))))
        return lines


def linked_police_case_ids(cases: Iterable[CaseRecord]) -> frozenset[int]:
    """Police cases that an NGO case names as the case it became."""
    return frozenset(c.police_case_id for c in cases if c.police_case_id is not None and c.organisation_kind == "ngo")


def iter_scope(
    cases: Iterable[CaseRecord],
    report_filter: ReportFilter,
    linked_ids: frozenset[int],
    *,
    counted_once: bool = True,
    in_scope_ids: Collection[int] | None = None,
) -> Iterator[ScopedCase]:
    """Stream the cases a report counts. ``linked_ids`` comes from ``linked_police_case_ids`` over
    all cases (not only these), so streaming callers can compute it in the database first.
    ``counted_once=False`` keeps linked NGO records (each organisation's own list, for estimates).
    With an organisation scope, ``in_scope_ids`` (from ``in_scope_case_ids`` over all cases) says
    which police cases are counted, and so which linked records they represent."""
    if counted_once and report_filter.organisation_ids is not None and in_scope_ids is None:
        raise ValueError("an organisation scope needs in_scope_ids to apply the counted-once rule")
    for case in cases:
        if counted_once and case.police_case_id is not None:
            if in_scope_ids is None or case.police_case_id in in_scope_ids:
                continue
        scoped = ScopedCase(case, known_to_ngo_by_link=case.case_id in linked_ids)
        if report_filter.matches(scoped):
            yield scoped


def in_scope_case_ids(cases: Iterable[CaseRecord], report_filter: ReportFilter) -> frozenset[int] | None:
    """Cases owned by an organisation in the filter's scope (None when every organisation is)."""
    if report_filter.organisation_ids is None:
        return None
    return frozenset(c.case_id for c in cases if report_filter.in_scope(c))


def scope(
    cases: Iterable[CaseRecord], report_filter: ReportFilter | None = None, *, counted_once: bool = True
) -> list[ScopedCase]:
    """The cases a report counts, out of all cases."""
    everything = list(cases)
    report_filter = report_filter or ReportFilter()
    return list(
        iter_scope(
            everything,
            report_filter,
            linked_police_case_ids(everything),
            counted_once=counted_once,
            in_scope_ids=in_scope_case_ids(everything, report_filter),
        )
    )
