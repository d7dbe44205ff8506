"""Who may do what: role -> permissions as data, plus pure predicates used by services.

The edge (casework.api.access.requires) enforces the permission a route declares, so the
route inventory and the enforcement are the same data. Services then narrow to records in
scope (cases of my organisation, cases assigned to me, referrals addressed to my agency) and
answer NotFound for anything outside it.
"""

from __future__ import annotations

import enum
from typing import Protocol

from casework.errors import PermissionDenied
from casework.models.users import Role


class Actor(Protocol):
    id: int
    role: Role
    organisation_id: int
    is_active: bool


class Scope(enum.StrEnum):
    """How far a role's case access reaches."""

    NONE = "none"
    ORGANISATION = "organisation"  # every case owned by my organisation
    ASSIGNED = "assigned"  # cases assigned to me or created by me, in my organisation


PERMISSIONS: dict[str, str] = {
    "organisations.read": "List organisations",
    "organisations.manage": "Create and change organisations",
    "users.read": "List users of the organisation",
    "users.manage": "Create, change, deactivate and unlock users",
    "users.grant": "Request and approve accounts in any organisation (two platform admins)",
    "audit.read": "Read the audit trail",
    "case.create": "Open a case",
    "case.read": "Read cases in scope (pseudonymised victims)",
    "case.update": "Edit cases in scope, add victims, offences, identifiers, evidence",
    "case.assign": "Assign cases in the organisation",
    "case.transition": "Move a case through its status workflow",
    "victim.identity.read": "See victims' identity and contact fields (audited)",
    "identifier.lookup": "Find cases by a perpetrator identifier",
    "consent.manage": "Record and withdraw victims' consent",
    "referral.create": "Refer a case to an agency",
    "referral.read": "Read referrals sent by or addressed to my organisation",
    "referral.act": "Acknowledge, progress and complete referrals addressed to my agency",
    "referral.override_consent": "Send a referral without matching consent (with a reason)",
    "notifications.read": "Read my notifications",
    "statistics.read": "Read aggregate statistics (suppressed)",
    "export.create": "Request statistics workbooks",
    "export.linelist": "Request the de-identified line list",
}

_CASE_WORK = {
    "case.create",
    "case.read",
    "case.update",
    "case.transition",
    "identifier.lookup",
    "consent.manage",
    "referral.create",
    "referral.read",
    "notifications.read",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    # No case, victim, statistics or audit permission: the platform role administers accounts.
    Role.PLATFORM_ADMIN: frozenset(
        {"organisations.read", "organisations.manage", "users.read", "users.manage", "users.grant"}
    ),
    Role.ADMIN: frozenset({"organisations.read", "users.read", "users.manage", "audit.read"}),
    Role.SUPERVISOR: frozenset(
        _CASE_WORK
        | {
            "case.assign",
            "victim.identity.read",
            "users.read",
            "audit.read",
            "organisations.read",
            "referral.override_consent",
            "statistics.read",
            "export.create",
            "export.linelist",
        }
    ),
    Role.INVESTIGATOR: frozenset(_CASE_WORK | {"victim.identity.read", "organisations.read"}),
    Role.CASEWORKER: frozenset(_CASE_WORK | {"victim.identity.read", "organisations.read"}),
    Role.LIAISON: frozenset({"referral.read", "referral.act", "notifications.read"}),
    Role.ANALYST: frozenset({"statistics.read", "export.create", "export.linelist"}),
}

CASE_SCOPE: dict[Role, Scope] = {
    Role.PLATFORM_ADMIN: Scope.NONE,
    Role.ADMIN: Scope.NONE,
    Role.SUPERVISOR: Scope.ORGANISATION,
    Role.INVESTIGATOR: Scope.ASSIGNED,
    Role.CASEWORKER: Scope.ORGANISATION,
    Role.LIAISON: Scope.NONE,
    Role.ANALYST: Scope.NONE,
}

# Administration scope. An organisation's admin (and a supervisor, reading) sees the accounts of
# its own organisation, never a platform admin's; anything else is NotFound. The platform admin
# sees every organisation's.
ADMINISTERS_EVERY_ORGANISATION = frozenset({Role.PLATFORM_ADMIN})

# Roles each role may give directly (create, role change), in the organisation it administers.
# The platform admin gives none directly: it requests an account, and a second platform admin
# approves (services/access_grants.py). The platform role itself is given only by the CLI.
ASSIGNABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role) - {Role.PLATFORM_ADMIN},
}
GRANTABLE_ROLES = frozenset(Role) - {Role.PLATFORM_ADMIN}

# Roles that may set another user's password (ending their sessions): knowing an account's
# password is using it, so only the admin of the user's own organisation.
SETS_PASSWORDS = frozenset({Role.ADMIN})

# A role holding any of these must log in with a second factor (TOTP or a recovery code): they
# reach victim identity (directly, or in referral snapshots, which for legal aid carry name, ID
# and contact) or administer the accounts that do. Other roles may enrol; once enrolled, they too
# must present a code at every login.
SECOND_FACTOR_PERMISSIONS = frozenset(
    {"victim.identity.read", "referral.read", "users.manage", "users.grant", "organisations.manage"}
)


def can(actor: Actor | None, permission: str) -> bool:
    """True when the actor's role grants the permission."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if actor is None or not getattr(actor, "is_active", False):
        return False
    return permission in ROLE_PERMISSIONS.get(actor.role, frozenset())


def require(actor: Actor | None, permission: str) -> None:
    """Raise PermissionDenied unless the actor's role grants the permission."""
    if not can(actor, permission):
        raise PermissionDenied()


def case_scope(actor: Actor) -> Scope:
    return CASE_SCOPE.get(actor.role, Scope.NONE)


def administers_every_organisation(actor: Actor) -> bool:
    return actor.role in ADMINISTERS_EVERY_ORGANISATION


def assignable_roles(actor: Actor) -> frozenset[Role]:
    """Roles the actor may give directly, in the organisation it administers."""
    return ASSIGNABLE_ROLES.get(actor.role, frozenset())


def sets_passwords(actor: Actor) -> bool:
    return actor.role in SETS_PASSWORDS


def requires_second_factor(role: Role) -> bool:
    """True when the role must use a second factor at login (see SECOND_FACTOR_PERMISSIONS)."""
    return bool(ROLE_PERMISSIONS.get(role, frozenset()) & SECOND_FACTOR_PERMISSIONS)


def sees_victim_identity(actor: Actor) -> bool:
    """Identity and contact fields are for roles working the case; analysts never."""
    return can(actor, "victim.identity.read")
