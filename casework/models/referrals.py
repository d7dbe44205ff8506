"""The referral aggregate: victims' consents, referrals to agencies, their events and takedown items.

What the recipient sees is a **snapshot**, not a live view of the case. When a referral is sent,
the fields its purpose shares (casework.referral_purposes) are copied from the case into
`Referral.shared`. The recipient therefore sees exactly what the victim consented to and what
was true when it was sent; later edits of the case (which may add data the victim never agreed
to share) do not leak through. Withdrawing a consent stops further sharing: every referral
relying on it has its snapshot erased (`shared = {}`, `shared_redacted_at` set) and its takedown
items' addresses hidden from the recipient, who sees "consent withdrawn" instead. Draft referrals
relying on it are withdrawn. A sent referral the sender withdraws is erased the same way (completed
and declined ones keep their snapshot: the recipient acted on it and answers for its records).
The sender's organisation keeps ownership of the case throughout.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import Model
from casework.models.base import TimestampMixin
from casework.models.encrypted import EncryptedJSON, EncryptedText
from casework.models.organisations import Organisation
from casework.models.users import User

if TYPE_CHECKING:
    from casework.models.cases import Case, Victim


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class ReferralPurpose(enum.StrEnum):
    TAKEDOWN = "takedown"  # removal of posted material (MCMC, hash-based services)
    LEGAL_AID = "legal_aid"  # free legal help (JBG, YBGK)
    COUNSELLING = "counselling"  # counselling, shelter and case support (WAO)
    INCIDENT_HELP = "incident_help"  # cyber incident help (Cyber999)
    POLICE_REPORT = "police_report"  # the victim decides to report to police (PDRM)
    HELPLINE = "helpline"  # welfare and emotional-support helplines (Talian Kasih, Befrienders)


class ConsentDecision(enum.StrEnum):
    GIVEN = "given"
    REFUSED = "refused"


class ConsentMethod(enum.StrEnum):
    WRITTEN = "written"
    VERBAL = "verbal"
    ELECTRONIC = "electronic"  # e-mail, message or form the victim sent


class ReferralStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# Sent and not finished: what deadlines apply to (completed, declined and withdrawn are final).
OPEN_STATUSES = frozenset({ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED, ReferralStatus.IN_PROGRESS})

# Who moves a referral where: the sender sends and withdraws, the recipient works it.
SENDER_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.DRAFT: frozenset({ReferralStatus.SENT, ReferralStatus.WITHDRAWN}),
    ReferralStatus.SENT: frozenset({ReferralStatus.WITHDRAWN}),
    ReferralStatus.ACKNOWLEDGED: frozenset({ReferralStatus.WITHDRAWN}),
    ReferralStatus.IN_PROGRESS: frozenset({ReferralStatus.WITHDRAWN}),
}
RECIPIENT_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.SENT: frozenset({ReferralStatus.ACKNOWLEDGED, ReferralStatus.DECLINED}),
    ReferralStatus.ACKNOWLEDGED: frozenset({ReferralStatus.IN_PROGRESS, ReferralStatus.DECLINED}),
    ReferralStatus.IN_PROGRESS: frozenset({ReferralStatus.COMPLETED, ReferralStatus.DECLINED}),
}


class TakedownItemStatus(enum.StrEnum):
    REQUESTED = "requested"
    REMOVED = "removed"
    REFUSED = "refused"  # the platform or regulator would not remove it
    REUPLOADED = "reuploaded"  # removed, then found again: back to work


TAKEDOWN_ITEM_TRANSITIONS: dict[TakedownItemStatus, frozenset[TakedownItemStatus]] = {
    TakedownItemStatus.REQUESTED: frozenset({TakedownItemStatus.REMOVED, TakedownItemStatus.REFUSED}),
    TakedownItemStatus.REMOVED: frozenset({TakedownItemStatus.REUPLOADED}),
    TakedownItemStatus.REFUSED: frozenset({TakedownItemStatus.REMOVED}),
    TakedownItemStatus.REUPLOADED: frozenset({TakedownItemStatus.REMOVED, TakedownItemStatus.REFUSED}),
}


class Consent(Model):
    """A victim's decision about sharing with one agency for one purpose.

    At most one *current* row per (victim, agency, purpose): recording a new decision supersedes
    the previous one, which is kept as history. Only a current, given, not withdrawn consent
    allows a referral.
    """

    __tablename__ = "consents"
    __table_args__ = (
        Index(
            "uq_consents_current",
            "victim_id",
            "agency_acronym",
            "purpose",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
        ),
        CheckConstraint("withdrawn_at IS NULL OR decision = 'given'", name="only_given_is_withdrawn"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id", ondelete="CASCADE"))
    agency_acronym: Mapped[str] = mapped_column(ForeignKey("agencies.acronym"))
    purpose: Mapped[ReferralPurpose] = mapped_column(_enum(ReferralPurpose, "referral_purpose"))
    decision: Mapped[ConsentDecision] = mapped_column(_enum(ConsentDecision, "consent_decision"))
    method: Mapped[ConsentMethod] = mapped_column(_enum(ConsentMethod, "consent_method"))
    # For purposes that share no identity by default (takedown): the victim agreed to name them.
    includes_identity: Mapped[bool] = mapped_column(default=False)
    obtained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when the victim decided
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(EncryptedText("consents.note"))  # may name people: encrypted
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_method: Mapped[ConsentMethod | None] = mapped_column(_enum(ConsentMethod, "consent_method"))
    withdrawal_note: Mapped[str | None] = mapped_column(EncryptedText("consents.withdrawal_note"))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    victim: Mapped[Victim] = relationship()

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def allows_sharing(self) -> bool:
        return self.is_current and self.decision == ConsentDecision.GIVEN and self.withdrawn_at is None

    @property
    def state(self) -> str:
        """given / refused / withdrawn / superseded, for lists."""
        if self.superseded_at is not None:
            return "superseded"
        if self.withdrawn_at is not None:
            return "withdrawn"
        return self.decision.value


class Referral(TimestampMixin, Model):
    """A case (the part of it a purpose needs) sent to an agency, tracked to its outcome."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("(status = 'completed') = (outcome IS NOT NULL)", name="completed_has_outcome"),
        CheckConstraint("(status = 'declined') = (decline_reason IS NOT NULL)", name="declined_has_reason"),
        CheckConstraint("status IN ('draft', 'withdrawn') OR sent_at IS NOT NULL", name="sent_has_time"),
        CheckConstraint("consent_id IS NOT NULL OR consent_override_reason IS NOT NULL", name="consent_or_override"),
        Index("ix_referrals_recipient_status", "recipient_organisation_id", "status"),
        Index("ix_referrals_sender_status", "sender_organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id", ondelete="CASCADE"), index=True)
    sender_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    agency_acronym: Mapped[str] = mapped_column(ForeignKey("agencies.acronym"))
    recipient_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    purpose: Mapped[ReferralPurpose] = mapped_column(_enum(ReferralPurpose, "referral_purpose"))
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, "referral_status"), index=True)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"), index=True)
    consent_override_reason: Mapped[str | None] = mapped_column(Text)
    consent_overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(EncryptedText("referrals.note"))  # the sender's covering note
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # completed/declined/withdrawn
    due_acknowledge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    due_complete_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Set once by the overdue scan, so it notifies once however often it runs.
    acknowledge_overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    complete_overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # The snapshot of shared fields taken at send time (see the module docstring), encrypted at rest.
    shared: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("referrals.shared"), default=dict)
    shared_redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # erased: see above

    case: Mapped[Case] = relationship()
    consent: Mapped[Consent | None] = relationship()
    sender_organisation: Mapped[Organisation] = relationship(foreign_keys=[sender_organisation_id])
    recipient_organisation: Mapped[Organisation] = relationship(foreign_keys=[recipient_organisation_id])
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan"
    )
    takedown_items: Mapped[list[TakedownItem]] = relationship(
        back_populates="referral", order_by="TakedownItem.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """Not acknowledged in time, or not completed in time."""
        if not self.is_open:
            return False
        if self.status == ReferralStatus.SENT and self.due_acknowledge_at is not None and self.due_acknowledge_at < now:
            return True
        return self.due_complete_at is not None and self.due_complete_at < now

    def record(
        self,
        action: str,
        *,
        actor_id: int | None,
        to: ReferralStatus | None = None,
        note: str | None = None,
        takedown_item_id: int | None = None,
        at: datetime | None = None,
    ) -> ReferralEvent:
        """Append an event; with `to`, also move the status (the caller checked it is allowed)."""
        event = ReferralEvent(
            action=action,
            actor_id=actor_id,
            from_status=self.status if to is not None else None,
            to_status=to,
            note=note,
            takedown_item_id=takedown_item_id,
        )
        if at is not None:
            event.occurred_at = at
        if to is not None:
            self.status = to
        self.events.append(event)
        return event


class ReferralEvent(Model):
    """One thing that happened to a referral: a transition, an item update, a withdrawal of consent."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # created, sent, acknowledged, ..., consent_withdrawn
    from_status: Mapped[ReferralStatus | None] = mapped_column(_enum(ReferralStatus, "referral_status"))
    to_status: Mapped[ReferralStatus | None] = mapped_column(_enum(ReferralStatus, "referral_status"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system (overdue scan)
    takedown_item_id: Mapped[int | None] = mapped_column(ForeignKey("takedown_items.id", ondelete="SET NULL"))
    # Carries the covering note and transition notes, which may name people: encrypted.
    note: Mapped[str | None] = mapped_column(EncryptedText("referral_events.note"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    referral: Mapped[Referral] = relationship(back_populates="events")
    # Who acted, shown by name and organisation (the user's organisation is joined with it).
    actor: Mapped[User | None] = relationship(lazy="joined")


class TakedownItem(Model):
    """One address of posted material in a takedown referral, with its own status and dates
    (time to removal = removed_at - requested_at)."""

    __tablename__ = "takedown_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(ForeignKey("platforms.code"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[TakedownItemStatus] = mapped_column(_enum(TakedownItemStatus, "takedown_item_status"))
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # when the referral was sent
    first_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reuploaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_note: Mapped[str | None] = mapped_column(Text)

    referral: Mapped[Referral] = relationship(back_populates="takedown_items")

    @property
    def hours_to_removal(self) -> float | None:
        if self.requested_at is None or self.first_removed_at is None:
            return None
        return round((self.first_removed_at - self.requested_at).total_seconds() / 3600, 2)
