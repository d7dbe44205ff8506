"""Access grants: an account a platform admin asked for, waiting for a second one to approve."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import Model
from casework.models.organisations import Organisation
from casework.models.users import Role


class AccessGrantStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class AccessGrant(Model):
    """One requested account. The password is chosen at the request and kept only as its hash,
    only while pending; approving creates the user with it."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", values_callable=lambda e: [m.value for m in e], create_type=False)
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[AccessGrantStatus] = mapped_column(
        Enum(AccessGrantStatus, name="access_grant_status", values_callable=lambda e: [m.value for m in e]),
        default=AccessGrantStatus.PENDING,
        server_default=AccessGrantStatus.PENDING.value,
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the account, once approved

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
