"""Offences that apply only to children: the age a victim must have been under at the incident.

Every section of the Sexual Offences against Children Act 2017 concerns a child (under 18), as
does CMA 233(3) (improper use of network facilities, victim under 18); PC 377E concerns a child
under 14. Linking such a section to a victim who was older at the incident is almost always a
slip (the adult section was meant) and is refused unless a reason is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

CHILD_ONLY_STATUTES = {"SOAC": 18}
CHILD_ONLY_SECTIONS = {"CMA 233(3)": 18, "PC 377E": 14}


class _Code(Protocol):
    code: str
    statute_code: str


class _Victim(Protocol):
    age_years: int | None


def victim_age_limit(code: _Code) -> int | None:
    """The age a victim of this section is under, or None when the section applies at any age."""
    return CHILD_ONLY_SECTIONS.get(code.code, CHILD_ONLY_STATUTES.get(code.statute_code))


def too_old(code: _Code, victims: Iterable[_Victim]) -> list[int]:
    """Positions (in `victims`) of those known to have been at or over the limit at the incident;
    a victim whose age is not known is not refused."""
    limit = victim_age_limit(code)
    if limit is None:
        return []
    return [i for i, v in enumerate(victims) if v.age_years is not None and v.age_years >= limit]


def refusal(code: _Code, names: list[str]) -> str:
    """The 422 message: what the section requires and how to go on (no victim data, only the
    request's own names for the victims)."""
    return (
        f"{code.code} applies only to victims under {victim_age_limit(code)} at the incident, and "
        f"{', '.join(names)} {'was' if len(names) == 1 else 'were'} older then. Link it to a child victim, "
        "use the section for adults, or give age_rule_reason."
    )
