"""Synthetic case records, written straight into PostgreSQL with COPY, for demos and benchmarks.

Why: list, lookup and statistics queries must be tried on the volumes a national police division
and its NGOs reach over years (a million cases), and the capture-recapture and "hidden number"
statistics need data whose overlaps look like the real thing. The ORM and the HTTP API would take
hours for that; COPY from in-memory buffers takes minutes. A writer thread sends one chunk to the
server while the next one is being generated, so both cores work.

What it makes, per case (see the constants below for the exact weights):
- an owning organisation (police unit or NGO); police cases come in by police report, NGO cases by
  intake, hotline or referral and mostly never reach the police; some NGO cases are linked to the
  police case their victim went on to file (`cases.police_case_id`, same victim, same perpetrator);
- usually one victim, sometimes 2-3, rarely a chat-group case with 10-40; about 12% of cases have a
  minor victim (8-17) and only those get Sexual Offences against Children Act offences;
- 1-4 offences drawn from the seeded `offence_codes` (extortion, intimidation, insulting modesty,
  obscene material and CMA s.233 common; rape in a few escalated cases), each linked to the
  victims it concerns;
- perpetrator identifiers (phones, usernames, bank accounts, e-mails, chat groups, URLs), stored
  normalised the way the app normalises input, drawn from a skewed pool of perpetrators so a few
  serial ones appear in many cases and across organisations;
- platforms, abuse types, demands and payments, risk flags, evidence, status and outcome
  consistent with the `closed_has_outcome` check, received dates over several years.

Nothing here is real. Victims are "Synthetic Person N" with national ids "SYN000000123" and e-mail
addresses under example.com; perpetrator handles start with "syn". The victims' `national_id_hash`
and `phone_hash` are the app's own identity hash (`casework.services.victims.identity_hash`) of
the normalised national id (upper-case letters and digits) and the E.164 phone under the key
passed in, so the same synthetic person recurs across police and
NGO cases the way real victims do. Their identity and contact columns are encrypted here, in Python,
under the key ring passed in (`casework.encryption`, the same format and column labels as the app's
`casework.models.encrypted` types), before COPY: no synthetic identity is ever stored in clear either.
Output is deterministic for a given seed (and starting database), ciphertexts apart (random nonces).

The generator bypasses the services on purpose (no audit rows): it is for test, demo and benchmark
databases. It continues ids after the current maximum, moves the sequences past what it wrote and
keeps `case_counters` in step, so the app can go on creating cases afterwards. Do not run it while
something else writes cases to the same database.
"""

from __future__ import annotations

import io
import queue
import random
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import psycopg2
from tqdm import tqdm

from casework.encryption import KeyRing
from casework.services.victims import identity_hash

_Picked = TypeVar("_Picked")  # what a weighted table picks

NULL = r"\N"  # COPY text format
T, F = "t", "f"

DEFAULT_START = date(2019, 1, 1)
DEFAULT_END = date(2026, 10, 31)

# --- Shares and weights ------------------------------------------------------------------------

POLICE_SHARE = 0.58  # of cases owned by a police unit (when both kinds of organisation exist)
PAIR_SHARE = 0.10  # police cases that began at an NGO: an NGO case linked to them is made too
NGO_REPORTED_SHARE = 0.12  # unlinked NGO cases whose victim also reported to police
PERSON_REUSE_SHARE = 0.05  # single-victim cases whose victim is also in an unlinked case of the other side
MINOR_SHARE = 0.12  # single- and few-victim cases whose victims are children
GROUP_CASE_SHARE = 0.003  # chat-group (NCII) cases with 10-40 victims
REPEAT_PERPETRATOR_SHARE = 0.35  # cases whose perpetrator is drawn from the skewed pool of repeat ones
MULE_ACCOUNT_SHARE = 0.35  # payment destinations that are shared mule accounts
VICTIM_COUNTS = ([1, 2, 3], [92, 5.5, 2.5])
EXTRA_OFFENCES = ([0, 1, 2, 3], [30, 35, 22, 13])  # on top of the primary one: 1-4 per case
RAPE_ESCALATION_SHARE = 0.025  # of cases without a demand for acts; 30% of those with one
PAYMENT_COUNTS = ([1, 2, 3], [60, 28, 12])
MATERIAL_RELEASED = ([None, True, False], [20, 18, 62])
POLICE_STATUSES_NEW = (["open", "under_investigation", "charged", "closed"], [50, 42, 3, 5])  # < 90 days old
POLICE_STATUSES_RECENT = (["open", "under_investigation", "charged", "closed"], [8, 50, 15, 27])  # < 2 years
POLICE_STATUSES_OLD = (["open", "under_investigation", "charged", "closed"], [2, 18, 10, 70])

ORG_KIND_POLICE = "police_unit"
ORG_KIND_NGO = "ngo"

STATES = (  # ISO 3166-2:MY with rough population weights
    ["MY-10", "MY-14", "MY-01", "MY-07", "MY-08", "MY-12", "MY-13", "MY-02", "MY-05"]
    + ["MY-06", "MY-03", "MY-11", "MY-04", "MY-16", "MY-15", "MY-09"],
    [70, 20, 40, 18, 25, 34, 25, 21, 12, 16, 18, 12, 10, 1, 1, 3],
)
CONTACT_PLATFORMS = (
    ["instagram", "facebook", "dating_app", "telegram", "whatsapp", "tiktok", "x", "email", "other"],
    [30, 20, 15, 8, 8, 8, 5, 2, 4],
)
MOVED_TO = (["telegram", "whatsapp"], [55, 45])
ABUSE_TYPES = (
    ["financial_sextortion", "sextortion_images", "sextortion_acts", "threat_to_distribute"]
    + ["non_consensual_distribution", "impersonation", "fabricated_imagery", "claimed_hacking"],
    [55, 16, 5, 10, 8, 3, 2, 1],
)
SECONDARY_ABUSE_TYPES = (ABUSE_TYPES[0], [6, 8, 3, 30, 12, 4, 6, 5])
ADULT_GENDERS = (["female", "male", "non_binary", "undisclosed"], [72, 24, 1, 3])
MINOR_GENDERS = (["female", "male", "undisclosed"], [80, 18, 2])
MINOR_AGES = (list(range(8, 18)), [1, 1, 2, 3, 5, 8, 11, 14, 16, 16])

# The offence recorded for what happened (first matching abuse type), then extras by weight.
PRIMARY_OFFENCE_ADULT = {
    "financial_sextortion": (["PC 383", "PC 384"], [85, 15]),
    "sextortion_images": (["PC 383", "PC 506"], [60, 40]),
    "sextortion_acts": (["PC 383", "PC 506"], [60, 40]),
    "threat_to_distribute": (["PC 506", "PC 503"], [70, 30]),
    "non_consensual_distribution": (["PC 292", "CMA 233(1)"], [50, 50]),
    "impersonation": (["CMA 233(1)", "PC 509"], [70, 30]),
    "fabricated_imagery": (["CMA 233(1)", "PC 292"], [60, 40]),
    "claimed_hacking": (["PC 383", "PC 506"], [50, 50]),
}
PRIMARY_OFFENCE_MINOR = {
    "non_consensual_distribution": (["SOAC 8"], [1]),
    "impersonation": (["SOAC 11", "CMA 233(3)"], [50, 50]),
    "fabricated_imagery": (["SOAC 5", "SOAC 8"], [40, 60]),
}
PRIMARY_OFFENCE_MINOR_DEFAULT = (["SOAC 15B", "PC 383"], [75, 25])  # sexual extortion of a child
EXTRA_OFFENCES_ADULT = (
    ["PC 506", "PC 503", "PC 509", "PC 292", "CMA 233(1)", "PC 383", "PC 507", "PC 507A"]
    + ["PC 354", "PC 385", "PC 386"],
    [20, 6, 15, 12, 20, 10, 5, 3, 2, 1, 1],
)
EXTRA_OFFENCES_MINOR = (
    ["SOAC 11", "SOAC 12", "SOAC 10", "SOAC 8", "SOAC 5", "SOAC 7", "SOAC 15", "CMA 233(3)"]
    + ["PC 509", "PC 506", "PC 292"],
    [10, 8, 5, 6, 3, 2, 4, 10, 3, 5, 3],
)
MINOR_ONLY_CODES_PREFIXES = ("SOAC ",)
MINOR_ONLY_CODES = {"CMA 233(3)", "PC 377E"}

POLICE_OUTCOMES = (
    ["convicted", "acquitted", "no_further_action", "perpetrator_not_identified"]
    + ["victim_withdrew", "duplicate", "referred_elsewhere"],
    [15, 5, 25, 40, 10, 2, 3],
)
NGO_OUTCOMES = (["support_completed", "referred_elsewhere", "victim_withdrew", "duplicate"], [58, 25, 15, 2])
NGO_CHANNELS = (["ngo_intake", "hotline", "referral"], [70, 20, 10])

BANKS = ["maybank", "cimb", "public bank", "rhb", "hong leong bank", "ambank", "bank islam", "bsn"]
EWALLETS = ["touch 'n go", "boost", "grabpay"]  # codes of seed/data/payment_providers.csv
POSTING_HOSTS = ["x.com", "instagram.com", "facebook.com", "tiktok.com", "reddit.com"]
FLOWERS = ["Mawar", "Melati", "Anggerik", "Kenanga", "Cempaka", "Teratai", "Dahlia", "Seroja", "Orkid", "Kemboja"]
CONTACT_NOTE = "Synthetic: text only, evenings"  # safe-contact instructions of some victims
MOBILE_PREFIXES = ["12", "16", "19"]  # perpetrators (every 7-digit suffix is valid); victims get 011 numbers

# Identifier keys are ints: kind, qualifier and a per-kind index packed together, so the map of
# identifiers already written stays small; the value string is made only for new ones.
KINDS = ["phone", "email", "username", "url", "bank_account", "ewallet", "chat_group"]
K_PHONE, K_EMAIL, K_USERNAME, K_URL, K_BANK, K_EWALLET, K_GROUP = range(len(KINDS))
PLATFORM_CODES = CONTACT_PLATFORMS[0]
MULE_OFFSET = 1 << 30  # bank account index of mule accounts (shared between perpetrators)
IMPERSONATION_OFFSET = 1 << 31  # fake profiles are one per case, kept apart from perpetrators' own


def _key(kind: int, qualifier: int, index: int) -> int:
    return (kind << 56) | (qualifier << 48) | index


# --- Columns written -----------------------------------------------------------------------------

CASE_COLUMNS = (
    "id, organisation_id, reference, year, number, intake_channel, reported_to_police, reported_to_police_on,"
    " police_report_number, received_on, incident_started_on, incident_ended_on, state_code, contact_platform,"
    " moved_to_platforms, abuse_types, demand_money, demand_amount, demand_currency, demand_images, demand_acts,"
    " demand_notes, payments_count, payments_total, payments_currency, material_released, risk_immediate_danger,"
    " risk_threat_of_exposure, risk_evidence_held, risk_self_harm, risk_notes, has_minor_victim, status, outcome,"
    " closed_at, assignee_id, created_by_id, notes, police_case_id, version, created_at, updated_at,"
    " offence_code_ids, record_key"
)
VICTIM_COLUMNS = (
    "id, case_id, pseudonym, full_name, national_id, date_of_birth, phone, email, safe_contact_instructions,"
    " gender, age_years, is_minor, national_id_hash, phone_hash, declared_annual_income, created_at, updated_at"
)
OFFENCE_COLUMNS = "id, case_id, offence_code_id, status, attempted, notes, created_at, updated_at"
OFFENCE_VICTIM_COLUMNS = "case_offence_id, victim_id"
IDENTIFIER_COLUMNS = "id, kind, qualifier, value, created_at"
CASE_IDENTIFIER_COLUMNS = "id, case_id, identifier_id, role, raw_value, first_seen_on, created_at"
EVIDENCE_COLUMNS = (
    "id, case_id, kind, description, url, platform, sha256, captured_at, captured_by, recorded_by_id,"
    " custody_log, created_at, updated_at"
)
# In foreign-key order: every chunk is written table by table in this order.
TABLES = [
    ("identifiers", IDENTIFIER_COLUMNS),
    ("cases", CASE_COLUMNS),
    ("victims", VICTIM_COLUMNS),
    ("case_offences", OFFENCE_COLUMNS),
    ("case_offence_victims", OFFENCE_VICTIM_COLUMNS),
    ("case_identifiers", CASE_IDENTIFIER_COLUMNS),
    ("evidence", EVIDENCE_COLUMNS),
]
SEQUENCED_TABLES = ["identifiers", "cases", "victims", "case_offences", "case_identifiers", "evidence"]


# --- Small helpers -------------------------------------------------------------------------------


def _scramble(index: int, modulus: int, salt: int) -> int:
    """A bijection on [0, modulus): distinct indexes give distinct, unordered-looking numbers."""
    return (index * 2_654_435_761 + salt) % modulus  # the multiplier is a prime not dividing 10^k or 7*10^k


def _cum(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


@dataclass(frozen=True)
class _Person:
    """A synthetic victim, remembered so they can turn up again in another organisation's case."""

    number: int
    gender: str
    born: int  # date ordinal
    national_id: str | None
    phone: str | None
    email: str | None


@dataclass
class _Story:
    """What happened, independent of which organisation records it (shared by a linked pair)."""

    received: int  # date ordinal
    incident_started: int
    incident_ended: int | None
    state: str
    contact_platform: str
    moved_to: list[str]
    abuse_types: list[str]
    demand_money: bool
    demand_amount: int | None
    demand_images: bool
    demand_acts: bool
    payments: list[int]
    material_released: bool | None
    risks: tuple[bool | None, bool | None, bool | None, bool | None]
    perpetrator: int
    group: int | None
    persons: list[_Person]
    offences: list[tuple[str, list[int]]]  # (code, indexes into persons)
    identifiers: list[tuple[int, str, str]] = field(default_factory=list)  # (key, raw value, role)


@dataclass(frozen=True)
class OrganisationInfo:
    id: int
    code: str
    kind: str


class _Chunk:
    """COPY text lines per table for one chunk of cases."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {name: [] for name, _ in TABLES}
        self.cases = 0

    def buffers(self) -> list[tuple[str, str, str]]:
        return [(name, columns, "\n".join(self.lines[name]) + "\n") for name, columns in TABLES if self.lines[name]]


class _CopyWriter:
    """Sends chunks with COPY on a background thread (psycopg2 releases the GIL while the server
    works), so generating the next chunk overlaps with writing this one."""

    def __init__(self, cursor: Any, on_written: Callable[[int], None]) -> None:
        self.cursor = cursor
        self.on_written = on_written
        self.rows: dict[str, int] = {name: 0 for name, _ in TABLES}
        self.error: BaseException | None = None
        self.queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._run, name="synthetic-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain, so the producer never blocks on a dead writer
            try:
                for name, columns, text in chunk.buffers():
                    self.cursor.copy_expert(f"COPY {name} ({columns}) FROM STDIN", io.StringIO(text))
                    self.rows[name] += len(chunk.lines[name])
                self.on_written(chunk.cases)
            except BaseException as error:  # re-raised in the producer thread
                self.error = error

    def put(self, chunk: _Chunk) -> None:
        self._raise()
        self.queue.put(chunk)

    def close(self) -> dict[str, int]:
        self.queue.put(None)
        self.thread.join()
        self._raise()
        return self.rows

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


# --- The generator -------------------------------------------------------------------------------


class _Generator:
    """Holds the random state, id counters and pools; `case_unit` appends one or two cases to a chunk."""

    def __init__(
        self,
        *,
        n_cases: int,
        seed: int,
        identity_key: bytes,
        key_ring: KeyRing,
        organisations: list[OrganisationInfo],
        offence_ids: dict[str, int],
        users_by_org: dict[int, list[int]],
        next_ids: dict[str, int],
        counters: dict[tuple[int, int], int],
        existing_identifiers: dict[tuple[str, str, str], int],
        start: date,
        end: date,
    ) -> None:
        self.rng = random.Random(seed)
        self.salt = random.Random(seed ^ 0x5EED).randrange(1 << 40)
        # statistics' record keys (cases.record_key): their own stream, so the rest of the data is
        # the same as before they existed, and reproducible from the seed like everything else
        self.record_keys = random.Random(seed ^ 0xCE11)
        self.n_cases = n_cases
        self.key = identity_key
        self.ring = key_ring
        self.police = [o for o in organisations if o.kind == ORG_KIND_POLICE]
        self.ngos = [o for o in organisations if o.kind == ORG_KIND_NGO]
        if not self.police and not self.ngos:
            raise ValueError("No police unit or NGO organisation to own the cases.")
        # A few organisations are much busier than the rest.
        self.police_cum = _cum([1 / (i + 1) for i in range(len(self.police))])
        self.ngo_cum = _cum([1 / (i + 1) for i in range(len(self.ngos))])
        self.offence_ids = offence_ids
        self.users_by_org = users_by_org
        self.ids = dict(next_ids)
        self.counters = counters
        self.existing_identifiers = existing_identifiers
        self.identifier_ids: dict[int, int] = {}
        self.start, self.end = start.toordinal(), end.toordinal()
        self.made = 0
        # Pools: repeat perpetrators (index 0 busiest), chat groups, mule accounts.
        self.repeat_pool = max(20, n_cases // 40)
        self.next_perpetrator = self.repeat_pool
        self.group_pool = max(5, n_cases // 400)
        self.mule_pool = max(10, n_cases // 100)
        # Person numbers (names, national ids) start at the first victim id: never more persons than
        # victims, so a later run never re-creates an earlier run's people (and their hashes).
        self.next_person = next_ids["victims"]
        self.recent_police_persons: deque[_Person] = deque(maxlen=5000)
        self.recent_ngo_persons: deque[_Person] = deque(maxlen=5000)
        self._dates: dict[int, str] = {}
        self._cum_cache: dict[int, tuple[Any, list[float]]] = {}
        for name, codes in (
            ("primary", [c for table in (PRIMARY_OFFENCE_ADULT, PRIMARY_OFFENCE_MINOR) for c, _ in table.values()]),
            ("extras", [EXTRA_OFFENCES_ADULT[0], EXTRA_OFFENCES_MINOR[0], PRIMARY_OFFENCE_MINOR_DEFAULT[0]]),
        ):
            missing = sorted({c for group in codes for c in group} - set(offence_ids))
            if missing:
                raise ValueError(f"Offence codes missing from offence_codes ({name}): {missing}; seed reference data.")

    # -- random helpers

    def pick(self, options: tuple[Sequence[_Picked], Sequence[float]]) -> _Picked:
        """One of options[0], weighted by options[1] (cumulative weights cached per constant)."""
        cached = self._cum_cache.get(id(options))
        if cached is None or cached[0] is not options:
            cached = self._cum_cache[id(options)] = (options, _cum(options[1]))
        return self.rng.choices(options[0], cum_weights=cached[1])[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def day(self, ordinal: int) -> str:
        text = self._dates.get(ordinal)
        if text is None:
            text = self._dates[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    def stamp(self, ordinal: int) -> str:
        return f"{self.day(ordinal)} {self.rng.randrange(8, 23):02d}:{self.rng.randrange(60):02d}:00+08"

    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def hash(self, kind: str, text: str) -> str:
        """The app's own victim hash, so generated people match real records the same way."""
        return identity_hash(self.key, kind, text)

    def sealed(self, text: str, label: str) -> str:
        """text encrypted for the column `label`, as a COPY text-format bytea (hex)."""
        return "\\\\x" + self.ring.encrypt(text.encode(), label).hex()

    # -- people

    def new_person(self, minor: bool, received: int) -> _Person:
        number = self.next_person
        self.next_person += 1
        if minor:
            age, gender = self.pick(MINOR_AGES), self.pick(MINOR_GENDERS)
        else:
            age, gender = min(65, 18 + int(self.rng.expovariate(1 / 7))), self.pick(ADULT_GENDERS)
        born = received - int(age * 365.2425) - self.rng.randrange(365)
        phone = f"+6011{_scramble(number, 10**8, self.salt):08d}" if self.chance(0.92) else None
        return _Person(
            number=number,
            gender=gender,
            born=born,
            national_id=f"SYN{number:09d}" if self.chance(0.7) else None,
            phone=phone,
            email=f"synthetic.person{number}@example.com" if self.chance(0.5) else None,
        )

    def persons_for(self, police: bool, received: int) -> list[_Person]:
        if self.chance(GROUP_CASE_SHARE):
            return [self.new_person(self.chance(0.15), received) for _ in range(self.rng.randint(10, 40))]
        count = self.pick(VICTIM_COUNTS)
        recent_other = self.recent_ngo_persons if police else self.recent_police_persons
        if count == 1 and recent_other and self.chance(PERSON_REUSE_SHARE):
            return [recent_other[self.rng.randrange(len(recent_other))]]
        minor = self.chance(MINOR_SHARE)
        return [self.new_person(minor, received) for _ in range(count)]

    @staticmethod
    def age(person: _Person, on: int) -> int:
        return int((on - person.born) / 365.2425)

    # -- what happened

    def story(self, police: bool, received: int) -> _Story:
        rng = self.rng
        persons = self.persons_for(police, received)
        group_case = len(persons) >= 10
        minors = [i for i, p in enumerate(persons) if self.age(p, received) < 18]
        contact = self.pick(CONTACT_PLATFORMS)
        moved = [] if contact in ("telegram", "whatsapp") or not self.chance(0.6) else [self.pick(MOVED_TO)]
        if moved and self.chance(0.15):
            moved.append("whatsapp" if moved[0] == "telegram" else "telegram")
        if group_case:
            abuse = ["non_consensual_distribution"]
            moved = moved if "telegram" in moved or contact == "telegram" else [*moved, "telegram"]
        else:
            abuse = [self.pick(ABUSE_TYPES)]
        while len(abuse) < 3 and self.chance(0.35):
            extra = self.pick(SECONDARY_ABUSE_TYPES)
            if extra not in abuse:
                abuse.append(extra)
        demand_money = "financial_sextortion" in abuse or self.chance(0.1)
        demand_amount = None
        payments: list[int] = []
        if demand_money:
            demand_amount = max(100, round(rng.lognormvariate(7.6, 0.9) / 50) * 50)  # median ~RM2,000
            if self.chance(0.35):
                for _ in range(self.pick(PAYMENT_COUNTS)):
                    payments.append(max(50, round(demand_amount * rng.uniform(0.2, 1.0) / 50) * 50))
        demand_acts = "sextortion_acts" in abuse or self.chance(0.03)
        released: bool | None
        if "non_consensual_distribution" in abuse:
            released = True
        else:
            released = self.pick(MATERIAL_RELEASED)
        minor_case = bool(minors)
        risks: tuple[bool | None, bool | None, bool | None, bool | None] = (
            self.chance(0.05),
            self.chance(0.7),
            self.chance(0.6),
            self.chance(0.10 if minor_case else 0.04),
        )
        if self.chance(0.08):
            risks = (None, None, None, None)  # not yet assessed
        incident_started = received - min(730, int(rng.expovariate(1 / 30)))
        incident_ended = None if self.chance(0.3) else rng.randint(incident_started, received)
        perpetrator = (
            int(self.repeat_pool * rng.random() ** 2)
            if self.chance(REPEAT_PERPETRATOR_SHARE)
            else self._new_perpetrator()
        )
        group = None
        if group_case or (released and "telegram" in (moved + [contact]) and self.chance(0.5)):
            group = int(self.group_pool * rng.random() ** 2)
        story = _Story(
            received=received,
            incident_started=incident_started,
            incident_ended=incident_ended,
            state=self.pick(STATES),
            contact_platform=contact,
            moved_to=moved,
            abuse_types=abuse,
            demand_money=demand_money,
            demand_amount=demand_amount,
            demand_images="sextortion_images" in abuse or self.chance(0.08),
            demand_acts=demand_acts,
            payments=payments,
            material_released=released,
            risks=risks,
            perpetrator=perpetrator,
            group=group,
            persons=persons,
            offences=self.offences(abuse, len(persons), minors, demand_acts),
        )
        story.identifiers = self.identifiers(story)
        return story

    def _new_perpetrator(self) -> int:
        self.next_perpetrator += 1
        return self.next_perpetrator

    def offences(self, abuse: list[str], n_victims: int, minors: list[int], acts: bool) -> list[tuple[str, list[int]]]:
        """1-4 offence codes, each with the indexes of the victims it was committed against."""
        everyone = list(range(n_victims))
        adults = [i for i in everyone if i not in minors]
        only_minors = not adults
        if only_minors:
            primary = self.pick(PRIMARY_OFFENCE_MINOR.get(abuse[0], PRIMARY_OFFENCE_MINOR_DEFAULT))
        else:
            primary = self.pick(PRIMARY_OFFENCE_ADULT[abuse[0]])
        codes = [primary]
        if minors and not only_minors:
            codes.append("SOAC 8")  # mixed chat-group case: the children's images are CSAM
        wanted = max(len(codes), 1 + self.pick(EXTRA_OFFENCES))
        pool = EXTRA_OFFENCES_MINOR if minors else EXTRA_OFFENCES_ADULT
        for _ in range(wanted * 3):  # bounded retries when a draw repeats a code
            if len(codes) >= wanted:
                break
            code = self.pick(pool)
            if code not in codes:
                codes.append(code)
        if self.chance(0.3 if acts else RAPE_ESCALATION_SHARE):  # escalation to rape
            codes = codes[:3] + ["PC 376(2)" if only_minors else "PC 376(1)"]
        result = []
        for position, code in enumerate(codes):
            eligible = minors if self.minor_only(code) else everyone
            if not eligible:
                continue
            if position == 0 or len(eligible) == 1:
                victims = list(eligible)
            else:
                victims = sorted(self.rng.sample(eligible, self.rng.randint(1, len(eligible))))
            result.append((code, victims))
        return result

    @staticmethod
    def minor_only(code: str) -> bool:
        return code.startswith(MINOR_ONLY_CODES_PREFIXES) or code in MINOR_ONLY_CODES

    # -- identifiers

    def identifiers(self, story: _Story) -> list[tuple[int, str, str]]:
        """(identifier key, raw value as a victim would give it, role) for the case's perpetrator."""
        p, rng = story.perpetrator, self.rng
        out: list[tuple[int, str, str]] = []

        def handle(platform: str, role: str, index: int) -> None:
            if platform == "whatsapp":
                out.append((_key(K_PHONE, 0, index), "", role))
            elif platform == "email":
                out.append((_key(K_EMAIL, 0, index), "", role))
            else:
                out.append((_key(K_USERNAME, PLATFORM_CODES.index(platform), index), "", role))

        handle(story.contact_platform, "contact", p)
        for platform in story.moved_to:
            handle(platform, "contact", p)
        if self.chance(0.1):
            out.append((_key(K_EMAIL, 0, p), "", "contact"))
        if story.demand_money and (story.payments or self.chance(0.5)):
            if self.chance(0.15):
                out.append((_key(K_EWALLET, self.rng.randrange(len(EWALLETS)), p), "", "payment_destination"))
            elif self.chance(MULE_ACCOUNT_SHARE):
                mule = int(self.mule_pool * rng.random() ** 2)
                out.append((_key(K_BANK, mule % len(BANKS), MULE_OFFSET + mule), "", "payment_destination"))
            else:
                out.append((_key(K_BANK, p % len(BANKS), p), "", "payment_destination"))
        if story.group is not None:
            out.append((_key(K_GROUP, 0, story.group), "", "posting_location"))
        elif story.material_released:
            out.append((_key(K_URL, rng.randrange(len(POSTING_HOSTS)), p), "", "posting_location"))
        if "impersonation" in story.abuse_types:
            fake = IMPERSONATION_OFFSET + self.made
            out.append(
                (_key(K_USERNAME, PLATFORM_CODES.index(story.contact_platform), fake), "", "impersonation_profile")
            )
        seen: set[tuple[int, str]] = set()
        unique = []
        for key, _, role in out:
            if (key, role) not in seen:
                seen.add((key, role))
                unique.append((key, self.raw_value(key), role))
        return unique

    def value(self, key: int) -> tuple[str, str, str]:
        """(kind, qualifier, normalised value) of an identifier key: E.164 phones, lower-case e-mails,
        usernames without '@' qualified by platform, https://t.me/<name> groups, digits-only accounts
        qualified by bank, canonical https://host/path URLs."""
        kind, qualifier, index = key >> 56, (key >> 48) & 0xFF, key & ((1 << 48) - 1)
        if kind in (K_PHONE, K_EWALLET):  # indexes < 3e7: perpetrators, not mules or fake profiles
            n = _scramble(index, 3 * 10**7, self.salt)
            phone = f"+60{MOBILE_PREFIXES[n % 3]}{n // 3:07d}"
            return ("phone", "", phone) if kind == K_PHONE else ("ewallet", EWALLETS[qualifier], phone)
        n = _scramble(index, 10**10, self.salt)
        if kind == K_EMAIL:
            return "email", "", f"syn{n:010d}@example.net"
        if kind == K_USERNAME:
            return "username", PLATFORM_CODES[qualifier], f"syn_{n:010d}"
        if kind == K_URL:
            return "url", "", f"https://{POSTING_HOSTS[qualifier]}/syn_{n:010d}"
        if kind == K_BANK:
            return "bank_account", BANKS[qualifier], f"{_scramble(index, 10**12, self.salt):012d}"
        return "chat_group", "telegram", f"https://t.me/syn_group_{n:010d}"  # as casework.identifiers has it

    def raw_value(self, key: int) -> str:
        """What a victim would type: the same identifier in an everyday, un-normalised form."""
        kind, qualifier, value = self.value(key)
        if kind in ("phone", "ewallet"):
            local = "0" + value[3:]
            return f"{local[:3]}-{local[3:6]} {local[6:]}" if self.chance(0.7) else value
        if kind == "email":
            return value.capitalize() if self.chance(0.3) else value
        if kind == "username":
            return "@" + value.capitalize() if self.chance(0.5) else value
        if kind == "bank_account":
            return f"{value[:4]}-{value[4:8]}-{value[8:]}"
        if kind == "chat_group":
            return value.replace("https://", "") if self.chance(0.5) else value
        return value.replace("https://", "http://www.", 1) if self.chance(0.3) else value

    def identifier_id(self, key: int, chunk: _Chunk, created: str) -> int:
        found = self.identifier_ids.get(key)
        if found is not None:
            return found
        kind, qualifier, value = self.value(key)
        found = self.existing_identifiers.get((kind, qualifier, value))
        if found is None:
            found = self.next_id("identifiers")
            chunk.lines["identifiers"].append(f"{found}\t{kind}\t{qualifier}\t{value}\t{created}")
        self.identifier_ids[key] = found
        return found

    # -- one organisation's record of a story

    def received_on(self) -> int:
        """Chronological in generation order (ids follow dates, as in a live system), busier in later years."""
        span = self.end - self.start
        position = (self.made / max(1, self.n_cases)) ** 0.8
        return min(self.end, max(self.start, self.start + int(span * position) + self.rng.randint(-10, 10)))

    def case_unit(self, chunk: _Chunk, remaining: int) -> int:
        """Append one case, or a police case and the earlier NGO case it came from; returns how many."""
        police = bool(self.police) and (not self.ngos or self.chance(POLICE_SHARE))
        received = self.received_on()
        story = self.story(police, received)
        if police and self.ngos and remaining >= 2 and self.chance(PAIR_SHARE):
            police_org = self.police[self.rng.choices(range(len(self.police)), cum_weights=self.police_cum)[0]]
            report_number = self.police_report_number(received)
            police_id = self.write_case(chunk, police_org, story, received, report_number=report_number)
            ngo_org = self.ngos[self.rng.choices(range(len(self.ngos)), cum_weights=self.ngo_cum)[0]]
            earlier = max(story.incident_started, received - self.rng.randint(3, 120))
            self.write_case(
                chunk, ngo_org, story, earlier, report_number=report_number, police_case=(police_id, received)
            )
            return 2
        orgs, cum = (self.police, self.police_cum) if police else (self.ngos, self.ngo_cum)
        org = orgs[self.rng.choices(range(len(orgs)), cum_weights=cum)[0]]
        self.write_case(chunk, org, story, received, report_number=self.police_report_number(received))
        return 1

    def police_report_number(self, received: int) -> str:
        year = date.fromordinal(received).year % 100
        return f"SYNIPD{self.rng.randrange(1, 60)}/{self.rng.randrange(1, 999_999):06d}/{year:02d}"

    def status(self, police: bool, received: int) -> tuple[str, str | None, int | None]:
        """(status, outcome, closed day): older cases are more often closed; NGOs don't charge."""
        age = self.end - received
        rng = self.rng
        if police:
            table = POLICE_STATUSES_NEW if age < 90 else POLICE_STATUSES_RECENT if age < 730 else POLICE_STATUSES_OLD
            status = self.pick(table)
        else:
            closed_share = 0.1 if age < 60 else 0.65 if age < 730 else 0.9
            status = "closed" if self.chance(closed_share) else "open"
        if status != "closed":
            return status, None, None
        outcome = self.pick(POLICE_OUTCOMES if police else NGO_OUTCOMES)
        return status, outcome, min(self.end, received + int(rng.expovariate(1 / 200)))

    def write_case(
        self,
        chunk: _Chunk,
        org: OrganisationInfo,
        story: _Story,
        received: int,
        *,
        report_number: str,
        police_case: tuple[int, int] | None = None,
    ) -> int:
        rng, day = self.rng, self.day
        police = org.kind == ORG_KIND_POLICE
        case_id = self.next_id("cases")
        year = date.fromordinal(received).year
        number = self.counters.get((org.id, year), 0) + 1
        self.counters[(org.id, year)] = number
        if police:
            channel, reported, reported_on, report = "police_report", T, day(received), report_number
        elif police_case is not None:
            channel, reported, reported_on, report = self.pick(NGO_CHANNELS), T, day(police_case[1]), report_number
        elif self.chance(NGO_REPORTED_SHARE):
            later = min(self.end, received + rng.randint(0, 60))
            channel, reported, reported_on = self.pick(NGO_CHANNELS), T, day(later)
            report = report_number if self.chance(0.7) else NULL
        else:
            channel, reported, reported_on, report = self.pick(NGO_CHANNELS), F, NULL, NULL
        status, outcome, closed_day = self.status(police, received)
        staff = self.users_by_org.get(org.id)
        assignee = str(rng.choice(staff)) if staff and (status != "open" or self.chance(0.8)) else NULL
        created_by = str(rng.choice(staff)) if staff else NULL
        created = self.stamp(received)
        closed_at = self.stamp(closed_day) if closed_day is not None else NULL
        demand = str(story.demand_amount) if story.demand_amount is not None else NULL
        paid = str(sum(story.payments)) if story.payments else NULL
        minors = [i for i, p in enumerate(story.persons) if self.age(p, received) < 18]

        def flag(value: bool | None) -> str:
            return NULL if value is None else (T if value else F)

        r = story.risks
        chunk.lines["cases"].append(
            f"{case_id}\t{org.id}\t{org.code}-{year}-{number:06d}\t{year}\t{number}\t{channel}\t{reported}\t"
            f"{reported_on}\t{report}\t{day(received)}\t{day(min(story.incident_started, received))}\t"
            f"{day(min(story.incident_ended, received)) if story.incident_ended is not None else NULL}\t"
            f"{story.state}\t{story.contact_platform}\t{{{','.join(story.moved_to)}}}\t"
            f"{{{','.join(story.abuse_types)}}}\t{flag(story.demand_money)}\t{demand}\t"
            f"{'MYR' if story.demand_money else NULL}\t{flag(story.demand_images)}\t{flag(story.demand_acts)}\t"
            f"{NULL}\t{len(story.payments)}\t{paid}\t{'MYR' if story.payments else NULL}\t"
            f"{flag(story.material_released)}\t{flag(r[0])}\t{flag(r[1])}\t{flag(r[2])}\t{flag(r[3])}\t{NULL}\t"
            f"{flag(bool(minors))}\t{status}\t{outcome or NULL}\t{closed_at}\t{assignee}\t{created_by}\t"
            f"Synthetic case\t{police_case[0] if police_case else NULL}\t1\t{created}\t"
            f"{closed_at if closed_day is not None else created}\t"
            f"{{{','.join(str(self.offence_ids[code]) for code, _ in story.offences)}}}\t"
            f"{self.record_keys.getrandbits(60)}"
        )
        victim_ids = self.write_victims(chunk, case_id, story, received, police, created)
        self.write_offences(chunk, case_id, story, victim_ids, police, status, outcome, created)
        for key, raw, role in story.identifiers:
            identifier = self.identifier_id(key, chunk, created)
            chunk.lines["case_identifiers"].append(
                f"{self.next_id('case_identifiers')}\t{case_id}\t{identifier}\t{role}\t{raw}\t"
                f"{day(min(story.incident_started, received))}\t{created}"
            )
        self.write_evidence(chunk, case_id, story, received, police, assignee, created)
        chunk.cases += 1
        self.made += 1
        return case_id

    def write_victims(
        self, chunk: _Chunk, case_id: int, story: _Story, received: int, police: bool, created: str
    ) -> list[int]:
        ids = []
        recent = self.recent_police_persons if police else self.recent_ngo_persons
        for position, person in enumerate(story.persons):
            victim_id = self.next_id("victims")
            ids.append(victim_id)
            age = self.age(person, received)
            income = str(self.rng.randrange(12, 97) * 1000) if not police and self.chance(0.4) else NULL
            sealed = self.sealed
            contact = sealed(CONTACT_NOTE, "victims.safe_contact_instructions") if self.chance(0.2) else NULL
            nid_hash = self.hash("national_id", person.national_id) if person.national_id else NULL
            phone_hash = self.hash("phone", person.phone) if person.phone else NULL
            chunk.lines["victims"].append(
                f"{victim_id}\t{case_id}\t{FLOWERS[position % len(FLOWERS)]}-{person.number}\t"
                f"{sealed(f'Synthetic Person {person.number}', 'victims.full_name')}\t"
                f"{sealed(person.national_id, 'victims.national_id') if person.national_id else NULL}\t"
                f"{sealed(self.day(person.born), 'victims.date_of_birth')}\t"
                f"{sealed(person.phone, 'victims.phone') if person.phone else NULL}\t"
                f"{sealed(person.email, 'victims.email') if person.email else NULL}\t{contact}\t{person.gender}\t"
                f"{age}\t{T if age < 18 else F}\t{nid_hash}\t{phone_hash}\t{income}\t{created}\t{created}"
            )
            if len(story.persons) == 1:
                recent.append(person)
        return ids

    def write_offences(
        self,
        chunk: _Chunk,
        case_id: int,
        story: _Story,
        victim_ids: list[int],
        police: bool,
        status: str,
        outcome: str | None,
        created: str,
    ) -> None:
        for position, (code, victims) in enumerate(story.offences):
            offence_id = self.next_id("case_offences")
            chunk.lines["case_offences"].append(
                f"{offence_id}\t{case_id}\t{self.offence_ids[code]}\t"
                f"{self.offence_status(police, status, outcome, position)}\t"
                f"{T if self.chance(0.03) else F}\t{NULL}\t{created}\t{created}"
            )
            chunk.lines["case_offence_victims"].extend(f"{offence_id}\t{victim_ids[i]}" for i in victims)

    def offence_status(self, police: bool, status: str, outcome: str | None, position: int) -> str:
        if not police or status == "open":
            return "suspected"
        if status == "under_investigation":
            return "under_investigation"
        if status == "charged":
            return "charged" if position == 0 or self.chance(0.5) else "under_investigation"
        if outcome == "convicted":
            return "convicted" if position == 0 or self.chance(0.6) else "not_pursued"
        if outcome == "acquitted":
            return "acquitted" if position == 0 or self.chance(0.6) else "not_pursued"
        return "not_pursued"

    def write_evidence(
        self, chunk: _Chunk, case_id: int, story: _Story, received: int, police: bool, by: str, created: str
    ) -> None:
        items = []
        if self.chance(0.85):
            items.append(("screenshot", "Synthetic screenshots of the chat", NULL, story.contact_platform))
        if self.chance(0.4):
            items.append(
                ("chat_export", "Synthetic chat export", NULL, (story.moved_to or [story.contact_platform])[0])
            )
        if story.payments:
            items.append(("payment_record", "Synthetic bank transfer receipts", NULL, NULL))
        for key, _, role in story.identifiers:
            if role == "posting_location":
                items.append(("posted_url", "Where the material was posted", self.value(key)[2], NULL))
        if self.chance(0.05):
            items.append(("video", "Synthetic screen recording", NULL, story.contact_platform))
        captured_by = "Synthetic Investigator" if police else "Synthetic Caseworker"
        for kind, description, url, platform in items:
            at = self.stamp(received)
            custody = f'[{{"at": "{at}", "by": "{captured_by}", "action": "received"}}]'
            chunk.lines["evidence"].append(
                f"{self.next_id('evidence')}\t{case_id}\t{kind}\t{description}\t{url}\t{platform}\t"
                f"{self.rng.getrandbits(256):064x}\t{at}\t{captured_by}\t{by}\t{custody}\t{created}\t{created}"
            )


# --- Reading the starting state and finishing ----------------------------------------------------


def _load_organisations(cursor: Any, wanted: Sequence[int] | None) -> list[OrganisationInfo]:
    cursor.execute(
        "SELECT id, code, kind::text FROM organisations WHERE kind IN ('police_unit', 'ngo') AND is_active ORDER BY id"
    )
    found = [OrganisationInfo(*row) for row in cursor.fetchall()]
    if wanted is not None:
        missing = set(wanted) - {o.id for o in found}
        if missing:
            raise ValueError(f"Not active police units or NGOs: {sorted(missing)}")
        found = [o for o in found if o.id in set(wanted)]
    return found


def _next_ids(cursor: Any) -> dict[str, int]:
    """First id to write per table: past the largest one. Not past the sequence, whose position
    survives rollbacks, so that the same seed on the same data gives the same ids."""
    out = {}
    for table in SEQUENCED_TABLES:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        out[table] = cursor.fetchone()[0]
    return out


def _counters(cursor: Any) -> dict[tuple[int, int], int]:
    cursor.execute(
        "SELECT organisation_id, year, max(last_number) FROM ("
        " SELECT organisation_id, year, last_number FROM case_counters"
        " UNION ALL SELECT organisation_id, year, max(number) FROM cases GROUP BY organisation_id, year"
        ") AS c GROUP BY organisation_id, year"
    )
    return {(org, year): last for org, year, last in cursor.fetchall()}


def _finish(cursor: Any, first_ids: dict[str, int], ids: dict[str, int], counters: dict[tuple[int, int], int]) -> None:
    """Move every sequence past the ids written and record the reference counters."""
    for table in SEQUENCED_TABLES:
        if ids[table] == first_ids[table]:
            continue  # nothing written
        cursor.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT setval(%s, greatest(%s, (SELECT last_value FROM {sequence})))", (sequence, ids[table] - 1)
        )
    rows = [(org, year, last) for (org, year), last in sorted(counters.items())]
    if rows:
        args = ",".join(cursor.mogrify("(%s,%s,%s)", row).decode() for row in rows)
        cursor.execute(
            "INSERT INTO case_counters (organisation_id, year, last_number) VALUES " + args + " ON CONFLICT"
            " (organisation_id, year) DO UPDATE SET last_number = greatest(case_counters.last_number,"
            " excluded.last_number)"
        )


def _dsn(url: str) -> str:
    """Accept SQLAlchemy URLs too (postgresql+psycopg2://...)."""
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


# --- Public API ----------------------------------------------------------------------------------


def generate(
    target: Any,
    n_cases: int,
    *,
    identity_key: bytes,
    key_ring: KeyRing,
    seed: int = 1,
    organisations: Sequence[int] | None = None,
    progress: bool = True,
    chunk_size: int = 5000,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
) -> dict[str, int]:
    """Write `n_cases` synthetic cases and everything hanging off them; return rows written per table.

    `target` is a DSN/URL (a connection is opened, committed and closed here) or an open psycopg2
    connection (used inside its current transaction, not committed: the caller decides). The
    database must hold the reference data and at least one active police unit or NGO;
    `organisations` restricts the owners to those ids. Victims' identity is encrypted under `key_ring`
    (the app's: `casework.encryption.ring()`). Existing identifiers are reused when a
    generated one has the same normalised value. Raises ValueError on missing prerequisites.
    """
    if n_cases < 0:
        raise ValueError("n_cases must be >= 0")
    own = isinstance(target, str)
    connection = psycopg2.connect(_dsn(target)) if own else target
    try:
        counts = _generate(
            connection, n_cases, identity_key, key_ring, seed, organisations, progress, chunk_size, start, end
        )
        if own:
            connection.commit()
        return counts
    except BaseException:
        if own:
            connection.rollback()
        raise
    finally:
        if own:
            connection.close()


def _generate(
    connection: Any,
    n_cases: int,
    identity_key: bytes,
    key_ring: KeyRing,
    seed: int,
    organisations: Sequence[int] | None,
    progress: bool,
    chunk_size: int,
    start: date,
    end: date,
) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT code, id FROM offence_codes")
        offence_ids = dict(cursor.fetchall())
        cursor.execute(
            "SELECT organisation_id, id FROM users WHERE is_active"
            " AND role IN ('investigator', 'caseworker', 'supervisor') ORDER BY id"
        )
        users_by_org: dict[int, list[int]] = {}
        for org, user in cursor.fetchall():
            users_by_org.setdefault(org, []).append(user)
        cursor.execute("SELECT kind::text, qualifier, value, id FROM identifiers")
        existing = {(k, q, v): i for k, q, v, i in cursor.fetchall()}
        first_ids = _next_ids(cursor)
        generator = _Generator(
            n_cases=n_cases,
            seed=seed,
            identity_key=identity_key,
            key_ring=key_ring,
            organisations=_load_organisations(cursor, organisations),
            offence_ids=offence_ids,
            users_by_org=users_by_org,
            next_ids=first_ids,
            counters=_counters(cursor),
            existing_identifiers=existing,
            start=start,
            end=end,
        )
        bar = tqdm(total=n_cases, unit="case", file=sys.stderr, disable=not progress, desc="synthetic cases")
        writer = _CopyWriter(cursor, bar.update)
        try:
            made = 0
            while made < n_cases:
                chunk = _Chunk()
                while chunk.cases < chunk_size and made < n_cases:
                    made += generator.case_unit(chunk, n_cases - made)
                writer.put(chunk)
            rows = writer.close()
        finally:
            if writer.thread.is_alive():
                writer.queue.put(None)
                writer.thread.join()
            bar.close()
        _finish(cursor, first_ids, generator.ids, generator.counters)
        return rows
