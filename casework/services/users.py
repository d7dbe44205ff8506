"""Managing user accounts: create, change role, deactivate, unlock, reset password.

Scope: an organisation's admin manages the accounts of its own organisation only (others are
NotFound, like accounts that do not exist) and gives only the roles policies.ASSIGNABLE_ROLES
lists; the platform admin sees and (de)activates or unlocks every organisation's accounts, but
creates none directly (services/access_grants.py: a second platform admin approves), changes no
role and sets no password. The CLI (actor=None) is trusted and unrestricted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, select, true

from casework import passwords, policies
from casework.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from casework.extensions import db
from casework.models.users import Role, User
from casework.services import audit, auth
from casework.services import organisations as organisations_service


def _check_password(password: str, email: str) -> None:
    problems = passwords.policy_problems(password, email=email, min_length=current_app.config["PASSWORD_MIN_LENGTH"])
    if problems:
        raise ValidationFailed("The password is not acceptable.", {"password": problems})


def _administered(actor: User) -> ColumnElement[bool]:
    """The accounts the actor may see: every one for the platform admin; otherwise its own
    organisation's, without the platform accounts (which only the CLI manages)."""
    if policies.administers_every_organisation(actor):
        return true()
    return (User.organisation_id == actor.organisation_id) & (User.role != Role.PLATFORM_ADMIN)


def list_users(*, actor: User | None, organisation_id: int | None = None) -> Sequence[User]:
    """Accounts in the actor's scope (every one for the CLI), optionally of one organisation
    (NotFound for one outside the scope). Needs users.read (edge)."""
    query = select(User).order_by(User.id)
    if actor is not None:
        if not (organisation_id in (None, actor.organisation_id) or policies.administers_every_organisation(actor)):
            raise NotFound()  # another organisation's accounts, as if it did not exist
        query = query.where(_administered(actor))
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return db.session.scalars(query).all()


def get_user(*, actor: User, user_id: int) -> User:
    """One account in the actor's scope; NotFound otherwise (the same answer as a missing one)."""
    user = db.session.scalar(select(User).where(User.id == user_id, _administered(actor)))
    if user is None:
        raise NotFound()
    return user


def _require_assignable(actor: User | None, role: Role) -> None:
    if actor is None:
        return
    assignable = policies.assignable_roles(actor)
    if not assignable:
        raise PermissionDenied(
            "Platform administrators give no role directly: request the account "
            "(POST /api/v1/access-grants) and a second platform administrator approves it."
        )
    if role not in assignable:
        raise ValidationFailed("You cannot give this role.", {"role": ["Not a role you may give."]})


def _require_email_free(email: str) -> None:
    if db.session.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == email)):
        raise Conflict("A user with this e-mail address already exists.")


def create_user(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    role: Role,
    organisation_id: int,
    password: str,
) -> User:
    """Create an account: an admin in its own organisation (another organisation is NotFound),
    with a role it may give (ValidationFailed otherwise; PermissionDenied for the platform admin,
    who requests accounts instead), or the CLI (actor=None). Audits. Conflict on a taken e-mail."""
    _require_assignable(actor, role)
    if actor is not None and organisation_id != actor.organisation_id:
        raise NotFound()
    email = email.strip().lower()
    organisation = organisations_service.get(organisation_id)
    _check_password(password, email)
    _require_email_free(email)
    return add_account(
        actor=actor,
        email=email,
        full_name=full_name,
        role=role,
        organisation_id=organisation.id,
        password_hash=passwords.hash_password(password),
    )


def add_account(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    role: Role,
    organisation_id: int,
    password_hash: str,
    **audit_details: Any,
) -> User:
    """Store an account whose checks are done (create_user, an approved access grant). Audits."""
    user = User(
        email=email,
        full_name=full_name,
        role=role,
        organisation=organisations_service.get(organisation_id),
        password_hash=password_hash,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", user, role=role.value, organisation_id=organisation_id, **audit_details)
    return user


def update_user(*, actor: User | None, user: User, role: Role | None = None, full_name: str | None = None) -> User:
    """Change name or role (a role the actor may give; see create_user). A role change ends the
    user's sessions. The user must come from get_user (scope). Audits the change."""
    if role is not None and role != user.role:
        _require_assignable(actor, role)
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
    """Set a new password (policy-checked), ending the user's sessions: the admin of the user's
    organisation (the user comes from get_user) or the CLI; PermissionDenied for others, as
    whoever knows a password can use the account. Audits, never the value."""
    if actor is not None and not policies.sets_passwords(actor):
        raise PermissionDenied("Only an administrator of the user's own organisation sets passwords.")
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
