"""Notifications: short messages to one user about a record (ids and codes only, no victim data)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import Model


class NotificationKind(enum.StrEnum):
    REFERRAL_RECEIVED = "referral_received"
    REFERRAL_ACKNOWLEDGEMENT_OVERDUE = "referral_acknowledgement_overdue"
    REFERRAL_COMPLETION_OVERDUE = "referral_completion_overdue"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    # To the sender and the case's assignee: what the recipient did (one per referral event).
    REFERRAL_ACKNOWLEDGED = "referral_acknowledged"
    REFERRAL_STARTED = "referral_started"
    REFERRAL_COMPLETED = "referral_completed"
    REFERRAL_DECLINED = "referral_declined"
    TAKEDOWN_ITEM_REMOVED = "takedown_item_removed"
    TAKEDOWN_ITEM_REFUSED = "takedown_item_refused"
    TAKEDOWN_ITEM_REUPLOADED = "takedown_item_reuploaded"


class Notification(Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # One notification of a kind per user and referral: jobs can run twice without repeating it.
        Index(
            "uq_notifications_user_kind_referral",
            "user_id",
            "kind",
            "referral_id",
            unique=True,
            postgresql_where=text("referral_event_id IS NULL"),
        ),
        # About an event (an item removed twice is two events): one per user and event.
        Index(
            "uq_notifications_user_event",
            "user_id",
            "referral_event_id",
            unique=True,
            postgresql_where=text("referral_event_id IS NOT NULL"),
        ),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(NotificationKind, name="notification_kind", values_callable=lambda e: [m.value for m in e])
    )
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    referral_event_id: Mapped[int | None] = mapped_column(ForeignKey("referral_events.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
