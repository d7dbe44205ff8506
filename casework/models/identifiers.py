"""Perpetrator identifiers: one row per normalised handle, shared by every case that names it."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Enum, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import Model
from casework.models.base import utcnow


class IdentifierKind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    USERNAME = "username"  # qualified by platform
    URL = "url"
    BANK_ACCOUNT = "bank_account"  # qualified by bank
    EWALLET = "ewallet"  # qualified by provider
    CHAT_GROUP = "chat_group"  # e.g. a Telegram group or channel link
    IP_ADDRESS = "ip_address"
    OTHER = "other"


class IdentifierRole(enum.StrEnum):
    CONTACT = "contact"  # how the perpetrator reached the victim
    PAYMENT_DESTINATION = "payment_destination"
    POSTING_LOCATION = "posting_location"  # where material was posted
    IMPERSONATION_PROFILE = "impersonation_profile"
    OTHER = "other"


class Identifier(Model):
    __tablename__ = "identifiers"
    __table_args__ = (UniqueConstraint("kind", "value", "qualifier"),)  # lookups by kind + value

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IdentifierKind] = mapped_column(
        Enum(IdentifierKind, name="identifier_kind", values_callable=lambda e: [m.value for m in e])
    )
    # Platform for usernames, bank for accounts, provider for e-wallets; '' when not relevant.
    qualifier: Mapped[str] = mapped_column(String(64), default="", server_default="")
    value: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now())


class CaseIdentifier(Model):
    """An identifier as named in one case: its role there and the raw value as entered."""

    __tablename__ = "case_identifiers"
    __table_args__ = (UniqueConstraint("case_id", "identifier_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("identifiers.id"), index=True)
    role: Mapped[IdentifierRole] = mapped_column(
        Enum(IdentifierRole, name="identifier_role", values_callable=lambda e: [m.value for m in e])
    )
    raw_value: Mapped[str] = mapped_column(Text)
    first_seen_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now())

    case = relationship("Case", back_populates="identifiers")
    identifier: Mapped[Identifier] = relationship(lazy="joined", innerjoin=True)
