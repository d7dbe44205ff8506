"""Plain input records: one case with its offences and victims, as the counting rules read it.

The service builds these from the database (or a test builds them by hand); they carry no names,
no contact details and no free text, so nothing identifying can leak from them into an output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reports.cellkey import default_record_key


@dataclass(frozen=True, slots=True)
class VictimRecord:
    """A person an offence was committed against: only what statistics need."""

    victim_id: int
    gender: str = "undisclosed"  # female | male | non_binary | undisclosed
    age_years: int | None = None
    is_minor: bool = False
    # Keyed hash (HMAC) of national ID or phone: matches one person across organisations for the
    # capture-recapture estimate. Never written to any output.
    match_hash: str | None = None


@dataclass(frozen=True, slots=True)
class OffenceRecord:
    """One statute section recorded in a case, with the victims it was committed against."""

    code: str  # e.g. "PC 376(1)"
    severity_rank: int  # higher is more serious (see seed/data/offences.csv)
    victim_ids: tuple[int, ...] = ()
    title: str = ""


@dataclass(frozen=True, slots=True)
class IdentifierRef:
    """A perpetrator identifier named in a case (its id and kind; never its value)."""

    identifier_id: int
    kind: str  # phone | email | username | bank_account | chat_group | ...


@dataclass(frozen=True, slots=True)
class TakedownItemRecord:
    """One address in a takedown referral: where it stands and when it first came down (no URL)."""

    status: str  # requested | removed | refused | reuploaded
    requested_at: datetime | None = None  # when the referral was sent
    first_removed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    """A referral of the case to an agency: its purpose, where it stands and its timestamps."""

    agency: str  # acronym, e.g. "MCMC"
    purpose: str  # takedown | legal_aid | counselling | incident_help | police_report | helpline
    status: str  # draft | sent | acknowledged | in_progress | completed | declined | withdrawn
    sent_at: datetime | None = None  # None: a draft, never shared (not counted)
    acknowledged_at: datetime | None = None
    due_acknowledge_at: datetime | None = None
    closed_at: datetime | None = None  # completed, declined or withdrawn
    takedown_items: tuple[TakedownItemRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as the counting rules see it."""

    case_id: int
    organisation_kind: str  # police_unit | ngo | agency
    intake_channel: str  # police_report | ngo_intake | hotline | referral | police_initiative | *_tip
    received_on: date
    organisation_id: int | None = None  # the owning organisation (for figures limited to some)
    incident_on: date | None = None  # when the incident started, when known
    reported_to_police: bool = False
    # An NGO case whose victim went on to report: the police case it became (counted once).
    police_case_id: int | None = None
    state: str | None = None  # ISO 3166-2:MY code
    contact_platform: str | None = None
    moved_to_platforms: tuple[str, ...] = ()
    abuse_types: tuple[str, ...] = ()
    has_minor: bool = False
    payments_count: int = 0  # payments made before reporting
    material_released: bool | None = None
    unidentified_victims: int = 0  # believed affected but not identified: never in `victims`
    offences: tuple[OffenceRecord, ...] = ()
    victims: tuple[VictimRecord, ...] = ()
    identifiers: tuple[IdentifierRef, ...] = ()
    referrals: tuple[ReferralRecord, ...] = ()
    # cases.record_key (reports.cellkey); None for a hand-built record: a fixed key per case id.
    record_key: int | None = None

    @property
    def key(self) -> int:
        return default_record_key(self.case_id) if self.record_key is None else self.record_key

    @property
    def platforms(self) -> frozenset[str]:
        """Every platform of the case: where contact began and where it moved to."""
        found = set(self.moved_to_platforms)
        if self.contact_platform:
            found.add(self.contact_platform)
        return frozenset(found)


@dataclass(frozen=True, slots=True)
class ScopedCase:
    """A case as counted: the record plus what other records say about it."""

    case: CaseRecord
    # An NGO case names this case as the police case it became: the NGO knew it too.
    known_to_ngo_by_link: bool = False

    @property
    def known_to_police(self) -> bool:
        case = self.case
        return case.organisation_kind == "police_unit" or case.reported_to_police or case.police_case_id is not None

    @property
    def known_to_ngo(self) -> bool:
        return self.case.organisation_kind == "ngo" or self.known_to_ngo_by_link
