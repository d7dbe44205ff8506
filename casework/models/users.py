"""Users (one organisation, one role) and their server-side login sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import Model
from casework.models.base import TimestampMixin
from casework.models.encrypted import EncryptedText
from casework.models.organisations import Organisation


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"  # every organisation's accounts; no case data (policies.py)
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    INVESTIGATOR = "investigator"
    CASEWORKER = "caseworker"
    LIAISON = "liaison"
    ANALYST = "analyst"


class User(TimestampMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", values_callable=lambda e: [m.value for m in e]))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # TOTP second factor (casework.services.mfa): the base32 secret, set when enrolment starts and
    # in force once confirmed (mfa_enrolled_at); mfa_last_step is the last accepted time step, so
    # a code cannot be used twice. Stored encrypted: a dump must not let anyone mint codes.
    mfa_secret: Mapped[str | None] = mapped_column(EncryptedText("users.mfa_secret"))
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_login_count: Mapped[int] = mapped_column(default=0, server_default="0")
    first_failed_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @property
    def has_second_factor(self) -> bool:
        """Enrolled (confirmed with a first code), so every login must present a code."""
        return self.mfa_enrolled_at is not None and self.mfa_secret is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class PendingStep(enum.StrEnum):
    """What a half-open session still needs before it holds any right (also the API's reason)."""

    MFA = "mfa_required"  # enrolled: a TOTP or recovery code
    ENROLMENT = "mfa_enrolment_required"  # a role that must use a second factor, not yet enrolled


class UserSession(Model):
    """One login. The cookie holds only its random id; revoking the row ends the session.

    `pending_step` set: the password was right but the second factor is still due; such a session
    loads as no user at all (casework.web_sessions), so it holds no rights anywhere.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client_address: Mapped[str | None] = mapped_column(String(64))
    pending_step: Mapped[PendingStep | None] = mapped_column(
        Enum(PendingStep, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])
    )

    user: Mapped[User] = relationship()


class MfaRecoveryCode(Model):
    """One single-use recovery code, stored as a SHA-256 digest bound to its user (never the code)."""

    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
