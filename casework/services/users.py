"""Managing user accounts: create, change role, deactivate, unlock, reset password."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from sqlalchemy import func, select

from casework import passwords
from casework.errors import Conflict, NotFound, ValidationFailed
from casework.extensions import db
from casework.models.users import Role, User
from casework.services import audit, auth
from casework.services import organisations as organisations_service


def _check_password(password: str, email: str) -> None:
    problems = passwords.policy_problems(password, email=email, min_length=current_app.config["PASSWORD_MIN_LENGTH"])
    if problems:
        raise ValidationFailed("The password is not acceptable.", {"password": problems})


def list_users(*, actor: User, organisation_id: int | None = None) -> Sequence[User]:
    """Admins see every account; supervisors only their own organisation's."""
    query = select(User).order_by(User.id)
    if actor.role != Role.ADMIN:
        organisation_id = actor.organisation_id
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return db.session.scalars(query).all()


def get_user(*, actor: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or (actor.role != Role.ADMIN and user.organisation_id != actor.organisation_id):
        raise NotFound()
    return user


def create_user(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    role: Role,
    organisation_id: int,
    password: str,
) -> User:
    """Create an account (admin, or the CLI with actor=None). Audits. Conflict on duplicate e-mail."""
    email = email.strip().lower()
    organisation = organisations_service.get(organisation_id)
    _check_password(password, email)
    if db.session.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == email)):
        raise Conflict("A user with this e-mail address already exists.")
    user = User(
        email=email,
        full_name=full_name,
        role=role,
        organisation=organisation,
        password_hash=passwords.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", user, role=role.value, organisation_id=organisation.id)
    return user


def update_user(*, actor: User | None, user: User, role: Role | None = None, full_name: str | None = None) -> User:
    """Change name or role. A role change ends the user's sessions. Audits the change."""
    if full_name is not None and full_name != user.full_name:
        user.full_name = full_name
        audit.record(actor, "user.updated", user, fields=["full_name"])
    if role is not None and role != user.role:
        if actor is not None and actor.id == user.id:
            raise Conflict("You cannot change your own role.")
        previous, user.role = user.role, role
        auth.revoke_all_sessions(user)
        audit.record(actor, "user.role_changed", user, previous=previous.value, new=role.value)
    db.session.flush()
    return user


def set_active(*, actor: User | None, user: User, active: bool) -> User:
    """Deactivate (ending all sessions) or reactivate an account. Audits."""
    if actor is not None and actor.id == user.id and not active:
        raise Conflict("You cannot deactivate your own account.")
    if user.is_active != active:
        user.is_active = active
        if not active:
            auth.revoke_all_sessions(user)
        audit.record(actor, "user.activated" if active else "user.deactivated", user)
    db.session.flush()
    return user


def unlock(*, actor: User | None, user: User) -> User:
    """Clear a lockout and the failed-attempt counter. Audits."""
    user.locked_until, user.failed_login_count, user.first_failed_login_at = None, 0, None
    audit.record(actor, "user.unlocked", user)
    db.session.flush()
    return user


def set_password(*, actor: User | None, user: User, password: str) -> User:
    """Set a new password (policy-checked), ending the user's sessions. Audits, never the value."""
    _check_password(password, user.email)
    user.password_hash = passwords.hash_password(password)
    auth.revoke_all_sessions(user)
    audit.record(actor, "user.password_set", user)
    db.session.flush()
    return user


def find_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user with e-mail {email!r}.")
    return user
