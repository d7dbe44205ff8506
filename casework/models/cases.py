"""The case aggregate: a case, its victims, its offences (each linked to victims) and evidence."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import Model, db
from casework.models.base import TimestampMixin, utcnow
from casework.models.encrypted import EncryptedDate, EncryptedText
from casework.models.organisations import Organisation
from casework.models.reference import OffenceCode
from casework.models.users import User

if TYPE_CHECKING:
    from casework.models.identifiers import CaseIdentifier


# case_facets() (created by a migration) lists a case's organisation-qualified filter keys,
# '<organisation id>:<o|a|p>:<offence code id | abuse type | platform>' and, for every offence and
# abuse type of the case, '<organisation id>:oa:<offence code id>:<abuse type>', under one GIN index:
# the capped total of a list filtered by them then reads only the organisation's matching cases.
FACETS_FUNCTION = "case_facets"
# The columns offence, abuse-type and platform filters test.
FACET_COLUMNS = ("abuse_types", "offence_code_ids", "contact_platform", "moved_to_platforms")
FACETS_ARGUMENTS = ("organisation_id", *FACET_COLUMNS)


# The columns list filters and the record scope test, beside the (organisation, received) key.
LIST_FILTER_COLUMNS = ("status", "state_code", "assignee_id", "created_by_id", *FACET_COLUMNS)


def facet_key(organisation_id: int, facet: str, value: object) -> str:
    """A filter key as case_facets() writes it; facet is 'o' (offence code id), 'a', 'p' or 'oa'
    ('<offence code id>:<abuse type>')."""
    return f"{organisation_id}:{facet}:{value}"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class IntakeChannel(enum.StrEnum):
    POLICE_REPORT = "police_report"
    NGO_INTAKE = "ngo_intake"
    HOTLINE = "hotline"
    REFERRAL = "referral"
    # Cases opened without a victim coming forward (e.g. a Telegram group sharing women's photos):
    POLICE_INITIATIVE = "police_initiative"  # the unit's own investigation, no police report
    PLATFORM_TIP = "platform_tip"  # a platform's report (tip_source names the platform)
    AGENCY_TIP = "agency_tip"  # MCMC, a foreign hotline... (tip_source names it)


# Channels where no victim brought the case: a tip_source may say who tipped.
TIP_CHANNELS = frozenset({IntakeChannel.PLATFORM_TIP, IntakeChannel.AGENCY_TIP})


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    UNDER_INVESTIGATION = "under_investigation"
    CHARGED = "charged"
    CLOSED = "closed"


class CaseOutcome(enum.StrEnum):
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    NO_FURTHER_ACTION = "no_further_action"
    PERPETRATOR_NOT_IDENTIFIED = "perpetrator_not_identified"
    VICTIM_WITHDREW = "victim_withdrew"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    SUPPORT_COMPLETED = "support_completed"
    DUPLICATE = "duplicate"


# The status workflow; anything else is an InvalidTransition (409).
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.UNDER_INVESTIGATION, CaseStatus.CLOSED}),
    CaseStatus.UNDER_INVESTIGATION: frozenset({CaseStatus.CHARGED, CaseStatus.CLOSED}),
    CaseStatus.CHARGED: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    NON_BINARY = "non_binary"
    UNDISCLOSED = "undisclosed"


class OffenceStatus(enum.StrEnum):
    SUSPECTED = "suspected"
    UNDER_INVESTIGATION = "under_investigation"
    CHARGED = "charged"
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    NOT_PURSUED = "not_pursued"


class EvidenceKind(enum.StrEnum):
    SCREENSHOT = "screenshot"
    CHAT_EXPORT = "chat_export"
    POSTED_URL = "posted_url"  # where material was posted: feeds takedown referrals
    VIDEO = "video"
    PAYMENT_RECORD = "payment_record"
    OTHER = "other"


class CaseCounter(Model):
    """Last reference number per organisation and year; bumped atomically with an upsert."""

    __tablename__ = "case_counters"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


# Two 30-bit draws: random() has 53 bits of precision, too few for one 60-bit draw.
RECORD_KEY_DEFAULT = "((floor(random() * 1073741824))::bigint << 30) | (floor(random() * 1073741824))::bigint"


class Case(TimestampMixin, Model):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("organisation_id", "year", "number"),
        CheckConstraint("(status = 'closed') = (outcome IS NOT NULL)", name="closed_has_outcome"),
        CheckConstraint(
            "coalesce(group_member_count, 0) >= 0 AND coalesce(unidentified_victim_count, 0) >= 0",
            name="counts_not_negative",
        ),
        # Finding a case by the start of its reference (LIKE 'D11-2026-00%') in any collation.
        Index("ix_cases_reference_prefix", "reference", postgresql_ops={"reference": "varchar_pattern_ops"}),
        # Finding a case by its police report number, as typed in any case.
        Index("ix_cases_police_report_number", text("upper(police_report_number)")),
        # An organisation's cases newest first, carrying every column a list filters or scopes on, so
        # a filtered list walks this index alone (an index-only scan) and reads only the rows it shows.
        Index(
            "ix_cases_org_received_covering",
            "organisation_id",
            text("received_on DESC"),
            text("id DESC"),
            postgresql_include=list(LIST_FILTER_COLUMNS),
        ),
        # The scoped list: an organisation's cases by status, newest first. The trailing state is
        # tested inside the index, so a status + state list and its total read no other cases.
        Index(
            "ix_cases_org_status_received_state",
            "organisation_id",
            "status",
            text("received_on DESC"),
            text("id DESC"),
            "state_code",
        ),
        # An organisation's cases by any mix of offence, abuse type and platform: see case_facets.
        Index("ix_cases_facets", text(f"{FACETS_FUNCTION}({', '.join(FACETS_ARGUMENTS)})"), postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. D11-2026-000123
    year: Mapped[int] = mapped_column(SmallInteger)
    number: Mapped[int] = mapped_column(Integer)
    intake_channel: Mapped[IntakeChannel] = mapped_column(_enum(IntakeChannel, "intake_channel"))
    reported_to_police: Mapped[bool] = mapped_column(default=False)
    reported_to_police_on: Mapped[date | None] = mapped_column(Date)
    police_report_number: Mapped[str | None] = mapped_column(String(64))
    tip_source: Mapped[str | None] = mapped_column(String(120))  # who tipped (platform_tip, agency_tip)
    # A group or channel (e.g. 30,000 members sharing photos): its size, and how many victims are
    # believed affected but not identified. Never victim rows, never in victim counts.
    group_member_count: Mapped[int | None] = mapped_column(Integer)
    unidentified_victim_count: Mapped[int | None] = mapped_column(Integer)
    received_on: Mapped[date] = mapped_column(Date)
    incident_started_on: Mapped[date | None] = mapped_column(Date)
    incident_ended_on: Mapped[date | None] = mapped_column(Date)
    state_code: Mapped[str | None] = mapped_column(ForeignKey("states.code"), index=True)
    contact_platform: Mapped[str | None] = mapped_column(ForeignKey("platforms.code"), index=True)
    moved_to_platforms: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    abuse_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    # Offence codes of the case, kept by the offences service beside case_offences so the list
    # can filter by offence through an index on the case row itself.
    offence_code_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list, server_default="{}")
    # Demands and payments
    demand_money: Mapped[bool] = mapped_column(default=False)
    demand_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    demand_currency: Mapped[str | None] = mapped_column(String(3))
    demand_images: Mapped[bool] = mapped_column(default=False)
    demand_acts: Mapped[bool] = mapped_column(default=False)
    demand_notes: Mapped[str | None] = mapped_column(Text)
    payments_count: Mapped[int] = mapped_column(default=0)
    payments_total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    payments_currency: Mapped[str | None] = mapped_column(String(3))
    material_released: Mapped[bool | None] = mapped_column()
    # Risk assessment: the four key questions, then self-harm.
    risk_immediate_danger: Mapped[bool | None] = mapped_column()
    risk_threat_of_exposure: Mapped[bool | None] = mapped_column()
    risk_evidence_held: Mapped[bool | None] = mapped_column()
    risk_self_harm: Mapped[bool | None] = mapped_column()
    risk_notes: Mapped[str | None] = mapped_column(Text)
    has_minor_victim: Mapped[bool] = mapped_column(default=False)  # kept by the service
    # Statistics' cell key (reports.cellkey): a fixed random number in [0, 2^60), drawn by the
    # database when the row is written and never changed, so a table cell holding the same cases
    # always gets the same small adjustment. Never shown anywhere.
    record_key: Mapped[int] = mapped_column(BigInteger, server_default=text(RECORD_KEY_DEFAULT))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"))
    outcome: Mapped[CaseOutcome | None] = mapped_column(_enum(CaseOutcome, "case_outcome"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    # An NGO case whose victim went on to report: the police case it became (counted once).
    police_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    victims: Mapped[list[Victim]] = relationship(
        back_populates="case", order_by="Victim.id", cascade="all, delete-orphan"
    )
    offences: Mapped[list[CaseOffence]] = relationship(
        back_populates="case", order_by="CaseOffence.id", cascade="all, delete-orphan"
    )
    identifiers: Mapped[list[CaseIdentifier]] = relationship(
        back_populates="case", order_by="CaseIdentifier.id", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="case", order_by="Evidence.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def risk_level(self) -> str:
        """critical / high / standard, from the assessment (for triage lists)."""
        if self.risk_immediate_danger or self.risk_self_harm:
            return "critical"
        if self.has_minor_victim or self.risk_threat_of_exposure or self.material_released:
            return "high"
        return "standard"

    def touch(self) -> None:
        """Any change to the aggregate bumps updated_at and so the version (ETags stay truthful)."""
        self.updated_at = utcnow()

    def most_serious_offence(self) -> CaseOffence | None:
        ranked = [o for o in self.offences if o.offence_code is not None]
        # Highest severity rank; ties go to the lower code, as in the statistics.
        return min(ranked, key=lambda o: (-o.offence_code.severity_rank, o.offence_code.code), default=None)


def case_facets() -> ColumnElement[list[str]]:
    """case_facets() over the cases' columns, as ix_cases_facets is built; filter with .contains(keys)."""
    return func.case_facets(*(getattr(Case, name) for name in FACETS_ARGUMENTS), type_=ARRAY(Text))


class Victim(TimestampMixin, Model):
    """A person an offence was committed against. Identity fields are need-to-know."""

    __tablename__ = "victims"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(40))
    # Identity and contact (visible only with victim.identity.read, every read audited), encrypted
    # at rest (casework.encryption); lengths are checked by the schemas. Never filter on them: match
    # people by the keyed hashes below.
    full_name: Mapped[str | None] = mapped_column(EncryptedText("victims.full_name"))
    national_id: Mapped[str | None] = mapped_column(EncryptedText("victims.national_id"))
    date_of_birth: Mapped[date | None] = mapped_column(EncryptedDate("victims.date_of_birth"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("victims.phone"))
    email: Mapped[str | None] = mapped_column(EncryptedText("victims.email"))
    safe_contact_instructions: Mapped[str | None] = mapped_column(EncryptedText("victims.safe_contact_instructions"))
    # Non-identifying
    gender: Mapped[Gender] = mapped_column(_enum(Gender, "gender"), default=Gender.UNDISCLOSED)
    age_years: Mapped[int | None] = mapped_column(SmallInteger)  # at the incident (or intake)
    is_minor: Mapped[bool] = mapped_column(default=False)
    # HMAC-SHA256 of the normalised national ID / phone: the same person across organisations
    # can be recognised (de-duplication, capture-recapture) without revealing who they are.
    national_id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Declared means for legal aid eligibility (annual household income, MYR).
    declared_annual_income: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    case: Mapped[Case] = relationship(back_populates="victims")

    @property
    def match_hash(self) -> str | None:
        return self.national_id_hash or self.phone_hash


case_offence_victims = Table(
    "case_offence_victims",
    db.metadata,
    Column("case_offence_id", ForeignKey("case_offences.id", ondelete="CASCADE"), primary_key=True),
    Column("victim_id", ForeignKey("victims.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CaseOffence(TimestampMixin, Model):
    """One statute section charged or suspected in a case, with the victims it concerns."""

    __tablename__ = "case_offences"
    __table_args__ = (UniqueConstraint("case_id", "offence_code_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    offence_code_id: Mapped[int] = mapped_column(ForeignKey("offence_codes.id"), index=True)
    status: Mapped[OffenceStatus] = mapped_column(_enum(OffenceStatus, "offence_status"))
    attempted: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    # Why a children-only section is linked to a victim who was an adult at the incident.
    age_rule_reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="offences")
    offence_code: Mapped[OffenceCode] = relationship(lazy="joined", innerjoin=True)
    victims: Mapped[list[Victim]] = relationship(secondary=case_offence_victims, order_by="Victim.id")


class Evidence(TimestampMixin, Model):
    """Metadata of evidence held elsewhere; the SHA-256 proves the file is unchanged."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(_enum(EvidenceKind, "evidence_kind"))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(ForeignKey("platforms.code"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    captured_by: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    custody_log: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)

    case: Mapped[Case] = relationship(back_populates="evidence")
