"""Dimensions a count can be broken down by, and the value(s) each case or victim takes on them.

A case takes exactly one value on a single-valued dimension (state, intake channel, month, ...)
and one or more on a multi-valued one (platforms, abuse types, and the genders and age bands of its
victims): it then counts once under each of its values, so a multi-valued breakdown does not add
up to the total. Victim-level dimensions (gender, age band) put each victim under its own value
when victims are counted. Missing values are ``UNKNOWN``, never dropped, so no case falls out of
a breakdown. The SQL in ``reports.queries`` computes the same values from the same constants.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

from reports.records import ScopedCase, VictimRecord

UNKNOWN = "unknown"


class Dimension(enum.StrEnum):
    RECEIVED_MONTH = "received_month"
    RECEIVED_QUARTER = "received_quarter"
    RECEIVED_YEAR = "received_year"
    INCIDENT_MONTH = "incident_month"
    INCIDENT_QUARTER = "incident_quarter"
    INCIDENT_YEAR = "incident_year"
    STATE = "state"
    PLATFORM = "platform"
    ABUSE_TYPE = "abuse_type"
    AGE_BAND = "age_band"
    GENDER = "gender"
    MINOR = "minor"
    ORGANISATION_KIND = "organisation_kind"
    INTAKE_CHANNEL = "intake_channel"
    KNOWN_TO = "known_to"
    PAYMENTS = "payments"
    MATERIAL_RELEASED = "material_released"


# Each victim has its own value: victims are counted under it, a case under all of its victims'.
VICTIM_LEVEL = frozenset({Dimension.AGE_BAND, Dimension.GENDER})
# A case can take several values: breakdowns by these do not add up to the total.
MULTI_VALUED = frozenset({Dimension.PLATFORM, Dimension.ABUSE_TYPE}) | VICTIM_LEVEL
PERIODS = {
    Dimension.RECEIVED_MONTH: ("received", "month"),
    Dimension.RECEIVED_QUARTER: ("received", "quarter"),
    Dimension.RECEIVED_YEAR: ("received", "year"),
    Dimension.INCIDENT_MONTH: ("incident", "month"),
    Dimension.INCIDENT_QUARTER: ("incident", "quarter"),
    Dimension.INCIDENT_YEAR: ("incident", "year"),
}

# Age bands follow the legal thresholds: under 12 and under 16 (Penal Code s.376(2)), under 18
# (child under the Sexual Offences against Children Act 2017). (label, lowest age, highest age).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-11", 0, 11),
    ("12-15", 12, 15),
    ("16-17", 16, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55+", 55, None),
)
# Payments made before reporting: (label, fewest payments, most payments).
PAYMENT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("none", 0, 0),
    ("once", 1, 1),
    ("twice", 2, 2),
    ("3_or_more", 3, None),
)

KNOWN_TO_VALUES = ("police_only", "police_and_ngo", "ngo_only", "other")

TITLES: dict[Dimension, str] = {
    Dimension.RECEIVED_MONTH: "Month received",
    Dimension.RECEIVED_QUARTER: "Quarter received",
    Dimension.RECEIVED_YEAR: "Year received",
    Dimension.INCIDENT_MONTH: "Month of incident",
    Dimension.INCIDENT_QUARTER: "Quarter of incident",
    Dimension.INCIDENT_YEAR: "Year of incident",
    Dimension.STATE: "State",
    Dimension.PLATFORM: "Platform",
    Dimension.ABUSE_TYPE: "Abuse type",
    Dimension.AGE_BAND: "Victim age band",
    Dimension.GENDER: "Victim gender",
    Dimension.MINOR: "Minor involved",
    Dimension.ORGANISATION_KIND: "Organisation kind",
    Dimension.INTAKE_CHANNEL: "Intake channel",
    Dimension.KNOWN_TO: "Known to",
    Dimension.PAYMENTS: "Payments before reporting",
    Dimension.MATERIAL_RELEASED: "Material released",
}

# Values in presentation order where the set is closed; open sets (states, platforms, periods)
# sort alphabetically. UNKNOWN always comes last.
ORDER: dict[Dimension, tuple[str, ...]] = {
    Dimension.AGE_BAND: tuple(label for label, _, _ in AGE_BANDS),
    Dimension.GENDER: ("female", "male", "non_binary", "undisclosed"),
    Dimension.MINOR: ("minor", "no_minor"),
    Dimension.ORGANISATION_KIND: ("police_unit", "ngo", "agency"),
    Dimension.INTAKE_CHANNEL: (
        "police_report",
        "ngo_intake",
        "hotline",
        "referral",
        "police_initiative",
        "platform_tip",
        "agency_tip",
    ),
    Dimension.KNOWN_TO: KNOWN_TO_VALUES,
    Dimension.PAYMENTS: tuple(label for label, _, _ in PAYMENT_BUCKETS),
    Dimension.MATERIAL_RELEASED: ("released", "not_released"),
}

LABELS: dict[str, str] = {
    UNKNOWN: "Not recorded",
    "police_only": "Known to police only",
    "police_and_ngo": "Known to police and an NGO",
    "ngo_only": "Known only to an NGO",
    "other": "Other",
    "minor": "Minor involved",
    "no_minor": "No minor recorded",
    "police_unit": "Police unit",
    "ngo": "NGO",
    "agency": "Agency",
    "police_report": "Police report",
    "ngo_intake": "NGO intake",
    "hotline": "Hotline",
    "referral": "Referral",
    "police_initiative": "Police initiative",
    "platform_tip": "Platform tip",
    "agency_tip": "Agency tip",
    "female": "Female",
    "male": "Male",
    "non_binary": "Non-binary",
    "undisclosed": "Undisclosed",
    "none": "No payment",
    "once": "Paid once",
    "twice": "Paid twice",
    "3_or_more": "Paid 3 or more times",
    "released": "Released",
    "not_released": "Not released",
}


# Values whose label depends on the dimension: "other" is also a platform and an abuse type.
DIMENSION_LABELS: dict[Dimension, dict[str, str]] = {
    Dimension.KNOWN_TO: {"other": "Known to neither (other organisation)"},
}


def label(value: str, dimension: Dimension | None = None) -> str:
    """How a value of ``dimension`` is shown in a table."""
    if dimension is not None and value in DIMENSION_LABELS.get(dimension, {}):
        return DIMENSION_LABELS[dimension][value]
    return LABELS.get(value, value)


def _band(value: int | None, bands: tuple[tuple[str, int, int | None], ...]) -> str:
    if value is None:
        return UNKNOWN
    for name, low, high in bands:
        if value >= low and (high is None or value <= high):
            return name
    return UNKNOWN


def age_band(age_years: int | None) -> str:
    return _band(age_years, AGE_BANDS)


def payment_bucket(payments_count: int) -> str:
    return _band(payments_count, PAYMENT_BUCKETS)


def period(day: date | None, unit: str) -> str:
    """'2026-01' (month), '2026-Q1' (quarter) or '2026' (year); UNKNOWN without a date."""
    if day is None:
        return UNKNOWN
    if unit == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if unit == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def known_to(scoped: ScopedCase) -> str:
    police, ngo = scoped.known_to_police, scoped.known_to_ngo
    if police:
        return "police_and_ngo" if ngo else "police_only"
    return "ngo_only" if ngo else "other"


def victim_value(victim: VictimRecord, dimension: Dimension) -> str:
    """The value of a victim-level dimension for one victim."""
    if dimension is Dimension.GENDER:
        return victim.gender or UNKNOWN
    if dimension is Dimension.AGE_BAND:
        return age_band(victim.age_years)
    raise ValueError(f"{dimension} is not a victim-level dimension")


def _some(values: Iterable[str | None]) -> frozenset[str]:
    found = frozenset(v for v in values if v)
    return found or frozenset({UNKNOWN})


def case_values(scoped: ScopedCase, dimension: Dimension) -> frozenset[str]:
    """Every value the case takes on the dimension (one, unless the dimension is multi-valued)."""
    case = scoped.case
    if dimension in PERIODS:
        basis, unit = PERIODS[dimension]
        return frozenset({period(case.received_on if basis == "received" else case.incident_on, unit)})
    if dimension is Dimension.STATE:
        return frozenset({case.state or UNKNOWN})
    if dimension is Dimension.PLATFORM:
        return _some(case.platforms)
    if dimension is Dimension.ABUSE_TYPE:
        return _some(case.abuse_types)
    if dimension in VICTIM_LEVEL:
        return _some(victim_value(v, dimension) for v in case.victims)
    if dimension is Dimension.MINOR:
        return frozenset({"minor" if case.has_minor else "no_minor"})
    if dimension is Dimension.ORGANISATION_KIND:
        return frozenset({case.organisation_kind})
    if dimension is Dimension.INTAKE_CHANNEL:
        return frozenset({case.intake_channel})
    if dimension is Dimension.KNOWN_TO:
        return frozenset({known_to(scoped)})
    if dimension is Dimension.PAYMENTS:
        return frozenset({payment_bucket(case.payments_count)})
    if dimension is Dimension.MATERIAL_RELEASED:
        released = case.material_released
        return frozenset({UNKNOWN if released is None else "released" if released else "not_released"})
    raise ValueError(f"unknown dimension {dimension!r}")


# Closed sets whose value can also be missing on a record (shown as UNKNOWN).
_CAN_BE_UNKNOWN = frozenset({Dimension.AGE_BAND, Dimension.GENDER, Dimension.MATERIAL_RELEASED})


def closed_values(dimension: Dimension) -> tuple[str, ...] | None:
    """Every value a closed dimension takes, in order (None: an open set such as states, platforms
    or months, whose values come from reference data or the calendar)."""
    if dimension not in ORDER:
        return None
    return (*ORDER[dimension], *((UNKNOWN,) if dimension in _CAN_BE_UNKNOWN else ()))


def sort_values(dimension: Dimension, values: Iterable[str]) -> list[str]:
    """Presentation order: the dimension's own order where it has one, else alphabetical; UNKNOWN last."""
    order = ORDER.get(dimension, ())
    position = {v: i for i, v in enumerate(order)}
    return sorted(set(values), key=lambda v: (v == UNKNOWN, position.get(v, len(order)), v))
