"""Logging in and out, lockout, and validating server-side sessions (full or half-open)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import joinedload

from casework import passwords, policies
from casework.extensions import db
from casework.models.users import PendingStep, User, UserSession
from casework.request_meta import current_client_address
from casework.services import audit

# How often last_seen_at is written; idle expiry is exact to within this.
_TOUCH_EVERY_SECONDS = 60


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    session: UserSession | None

    @property
    def ok(self) -> bool:
        return self.session is not None


def now() -> datetime:
    return datetime.now(UTC)


def login(email: str, password: str) -> LoginResult:
    """Check credentials and open a session. Audits success, failure and lockout.

    Unknown address, wrong password, locked and deactivated accounts all fail the same way and
    cost one argon2 verification each, so the answer does not reveal which accounts exist.
    When a second factor is due (pending_step_for), the session is half-open: it holds no rights,
    and the failure counter is not reset, so guessing codes over repeated logins still locks.
    The caller commits either way: failed attempts must be counted.
    """
    user = db.session.scalar(
        select(User).where(func.lower(User.email) == email.strip().lower()).with_for_update(key_share=True)
    )
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    moment = now()
    if user is None:
        audit.record(None, "auth.login_failed", outcome="failure", reason="unknown_account")
        return LoginResult(None, None)
    if not user.is_active or user.is_locked(moment):
        reason = "inactive" if not user.is_active else "locked"
        audit.record(user, "auth.login_failed", user, outcome="failure", reason=reason)
        return LoginResult(user, None)
    if not password_ok:
        record_failure(user, "auth.login_failed", reason="bad_password")
        return LoginResult(user, None)

    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    step = pending_step_for(user)
    if step is None:
        return LoginResult(user, open_session(user))
    user_session = _new_session(user, moment, pending_step=step)
    audit.record(user, "auth.password_accepted", user, next_step=step.value)
    db.session.flush()
    return LoginResult(user, user_session)


def pending_step_for(user: User) -> PendingStep | None:
    """What a login still needs after the password: a code if enrolled, enrolment if the role
    must use a second factor (policies.requires_second_factor), else nothing."""
    if user.has_second_factor:
        return PendingStep.MFA
    if policies.requires_second_factor(user.role):
        return PendingStep.ENROLMENT
    return None


def record_failure(user: User, action: str, **details: Any) -> bool:
    """Count a failed attempt (wrong password or wrong second-factor code) toward the lockout.

    Audits `action` and, at the limit, auth.account_locked. True when this failure locked the
    account. Flushes; the caller commits even though the request fails.
    """
    cfg, moment = current_app.config, now()
    window_open = (
        user.first_failed_login_at is not None and moment - user.first_failed_login_at <= cfg["LOCKOUT_WINDOW"]
    )
    if window_open:
        user.failed_login_count += 1
    else:
        user.failed_login_count, user.first_failed_login_at = 1, moment
    audit.record(user, action, user, outcome="failure", **details)
    locked = user.failed_login_count >= cfg["LOCKOUT_ATTEMPTS"]
    if locked:
        user.locked_until = moment + cfg["LOCKOUT_DURATION"]
        user.failed_login_count, user.first_failed_login_at = 0, None
        audit.record(user, "auth.account_locked", user, outcome="success")
    db.session.flush()
    return locked


def open_session(user: User, **details: Any) -> UserSession:
    """A full session (every right of the role): the login is complete. Clears the failure
    counter, records the login time, audits auth.login (with `details`, e.g. second_factor)."""
    moment = now()
    user.failed_login_count, user.first_failed_login_at, user.locked_until = 0, None, None
    user.last_login_at = moment
    user_session = _new_session(user, moment, pending_step=None)
    audit.record(user, "auth.login", user, **details)
    db.session.flush()
    return user_session


def complete_login(half_open: UserSession, **details: Any) -> UserSession:
    """The second factor passed: end the half-open session and open a full one with a new id and
    CSRF token, so a copy of the half-open cookie gains nothing. Audits auth.login."""
    half_open.revoked_at = now()
    return open_session(half_open.user, **details)


def _new_session(user: User, moment: datetime, *, pending_step: PendingStep | None) -> UserSession:
    user_session = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        created_at=moment,
        last_seen_at=moment,
        client_address=current_client_address(),
        pending_step=pending_step,
    )
    db.session.add(user_session)
    return user_session


def expires_at(user_session: UserSession) -> datetime:
    """When the session ends unless used: a half-open one soon after it opened (MFA_PENDING_TIMEOUT)."""
    cfg = current_app.config
    if user_session.pending_step is not None:
        return user_session.created_at + cfg["MFA_PENDING_TIMEOUT"]
    return min(user_session.created_at + cfg["ABSOLUTE_TIMEOUT"], user_session.last_seen_at + cfg["IDLE_TIMEOUT"])


def load_session(session_id: str, user_id: int) -> tuple[UserSession | None, bool]:
    """(the live session for this cookie or None, whether anything was changed).

    None when revoked, idle, too old or the user is inactive; expired sessions are revoked on
    the spot (changed). last_seen_at is touched at most once a minute (changed).
    """
    user_session = db.session.get(UserSession, session_id, options=[joinedload(UserSession.user)])
    if user_session is None or user_session.user_id != user_id or user_session.revoked_at:
        return None, False
    moment = now()
    expired = moment > expires_at(user_session)
    if expired or not user_session.user.is_active:
        user_session.revoked_at = moment
        audit.record(user_session.user, "auth.session_expired", user_session.user)
        return None, True
    if (moment - user_session.last_seen_at).total_seconds() > _TOUCH_EVERY_SECONDS:
        user_session.last_seen_at = moment
        return user_session, True
    return user_session, False


def logout(actor: User, user_session: UserSession) -> None:
    """End one session. Audits."""
    user_session.revoked_at = now()
    audit.record(actor, "auth.logout", actor)
    db.session.flush()


def revoke_all_sessions(user: User) -> int:
    """End every open session of a user (deactivation, role change, password reset)."""
    # An UPDATE executes to a CursorResult (the one that has rowcount); Session.execute is typed Result.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now())
        ),
    )
    return result.rowcount or 0
