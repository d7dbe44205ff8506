"""Notifications: short messages to one user about a record (ids and codes only, no victim data)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db


class NotificationKind(enum.StrEnum):
    REFERRAL_RECEIVED = "referral_received"
    REFERRAL_ACKNOWLEDGEMENT_OVERDUE = "referral_acknowledgement_overdue"
    REFERRAL_COMPLETION_OVERDUE = "referral_completion_overdue"
    CONSENT_WITHDRAWN = "consent_withdrawn"


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # One notification of a kind per user and referral: jobs can run twice without repeating it.
        UniqueConstraint("user_id", "kind", "referral_id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(NotificationKind, name="notification_kind", values_callable=lambda e: [m.value for m in e])
    )
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
