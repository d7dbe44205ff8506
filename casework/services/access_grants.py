"""Access grants: the platform admin's accounts, each approved by a second platform admin.

The rule (README, "Security model"): no one creates an account in an organisation they do not
administer, or gives it a role, without a second person. An organisation's admin works only in
its own organisation (services/users.py); the platform admin, who sees every organisation, gives
no role and sets no password directly. It requests an account here, with the password it will
hand over, and the account exists only once another platform admin approves. Platform admins
themselves are made only with the CLI, so one person cannot make the second approver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select

from casework import passwords, policies
from casework.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from casework.extensions import db
from casework.models.access_grants import AccessGrant, AccessGrantStatus
from casework.models.users import Role, User
from casework.services import audit, users
from casework.services import organisations as organisations_service


def request_account(
    *,
    actor: User,
    email: str,
    full_name: str,
    role: Role,
    organisation_id: int,
    password: str,
) -> AccessGrant:
    """Ask for an account in any organisation. Needs users.grant (edge). ValidationFailed for
    the platform role or a weak password; Conflict if the e-mail is taken or already requested.
    Audits (never the password)."""
    if role not in policies.GRANTABLE_ROLES:
        raise ValidationFailed("This role is not granted here.", {"role": ["Platform admins are made with the CLI."]})
    email = email.strip().lower()
    organisation = organisations_service.get(organisation_id)
    problems = passwords.policy_problems(password, email=email, min_length=current_app.config["PASSWORD_MIN_LENGTH"])
    if problems:
        raise ValidationFailed("The password is not acceptable.", {"password": problems})
    pending = select(func.count()).select_from(AccessGrant)
    pending = pending.where(func.lower(AccessGrant.email) == email, AccessGrant.status == AccessGrantStatus.PENDING)
    taken = select(func.count()).select_from(User).where(func.lower(User.email) == email)
    if db.session.scalar(taken) or db.session.scalar(pending):
        raise Conflict("A user with this e-mail address exists or has been requested.")
    grant = AccessGrant(
        organisation=organisation,
        email=email,
        full_name=full_name,
        role=role,
        password_hash=passwords.hash_password(password),
        requested_by_id=actor.id,
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(actor, "access_grant.requested", grant, role=role.value, organisation_id=organisation.id)
    return grant


def list_grants(*, status: AccessGrantStatus | None = None) -> Sequence[AccessGrant]:
    """Grants, newest first. Needs users.grant (edge): only platform admins see them."""
    query = select(AccessGrant).order_by(AccessGrant.id.desc())
    if status is not None:
        query = query.where(AccessGrant.status == status)
    return db.session.scalars(query).all()


def _pending(grant_id: int) -> AccessGrant:
    grant = db.session.scalar(select(AccessGrant).where(AccessGrant.id == grant_id).with_for_update(of=AccessGrant))
    if grant is None:
        raise NotFound()
    if grant.status != AccessGrantStatus.PENDING:
        raise Conflict(f"This request is already {grant.status.value}.")
    return grant


def _decide(grant: AccessGrant, actor: User, status: AccessGrantStatus) -> None:
    grant.status, grant.decided_by_id, grant.decided_at = status, actor.id, datetime.now(UTC)
    grant.password_hash = None  # kept no longer than needed


def approve(*, actor: User, grant_id: int) -> AccessGrant:
    """A second platform admin approves: the account is created with the requested role and
    password. Needs users.grant (edge). PermissionDenied for the requester; Conflict if decided
    already or the e-mail was taken meanwhile. Audits the approval and the creation."""
    grant = _pending(grant_id)
    if grant.requested_by_id == actor.id:
        raise PermissionDenied("A second platform administrator approves this request.")
    email_taken = select(func.count()).select_from(User).where(func.lower(User.email) == grant.email)
    if db.session.scalar(email_taken):
        raise Conflict("A user with this e-mail address already exists.")
    assert grant.password_hash is not None  # pending grants keep it
    user = users.add_account(
        actor=actor,
        email=grant.email,
        full_name=grant.full_name,
        role=grant.role,
        organisation_id=grant.organisation_id,
        password_hash=grant.password_hash,
        access_grant_id=grant.id,
        requested_by_id=grant.requested_by_id,
    )
    grant.user_id = user.id
    _decide(grant, actor, AccessGrantStatus.APPROVED)
    db.session.flush()
    audit.record(actor, "access_grant.approved", grant, user_id=user.id, requested_by_id=grant.requested_by_id)
    return grant


def reject(*, actor: User, grant_id: int) -> AccessGrant:
    """Refuse a request (or withdraw one's own). Needs users.grant (edge). Conflict if decided
    already. Audits."""
    grant = _pending(grant_id)
    _decide(grant, actor, AccessGrantStatus.REJECTED)
    db.session.flush()
    audit.record(actor, "access_grant.rejected", grant, requested_by_id=grant.requested_by_id)
    return grant
