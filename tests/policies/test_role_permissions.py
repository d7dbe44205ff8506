"""The role x action table, as pure data: no database, no HTTP."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from casework import policies
from casework.errors import PermissionDenied
from casework.models.users import Role

P, A, S, I, C, L, N = (
    Role.PLATFORM_ADMIN,
    Role.ADMIN,
    Role.SUPERVISOR,
    Role.INVESTIGATOR,
    Role.CASEWORKER,
    Role.LIAISON,
    Role.ANALYST,
)

# permission -> roles that hold it. Every permission appears; every other role is refused.
EXPECTED = {
    "organisations.read": {P, A, S, I, C},
    "organisations.manage": {P},
    "users.read": {P, A, S},
    "users.manage": {P, A},
    "users.grant": {P},
    "audit.read": {A, S},
    "case.create": {S, I, C},
    "case.read": {S, I, C},
    "case.update": {S, I, C},
    "case.assign": {S},
    "case.transition": {S, I, C},
    "victim.identity.read": {S, I, C},
    "identifier.lookup": {S, I, C},
    "consent.manage": {S, I, C},
    "referral.create": {S, I, C},
    "referral.read": {S, I, C, L},
    "referral.act": {L},
    "referral.override_consent": {S},
    "notifications.read": {S, I, C, L},
    "statistics.read": {S, N},
    "export.create": {S, N},
    "export.linelist": {S, N},
}


def actor(role: Role, active: bool = True) -> SimpleNamespace:
    return SimpleNamespace(id=1, role=role, organisation_id=1, is_active=active)


def test_table_covers_every_permission():
    assert set(EXPECTED) == set(policies.PERMISSIONS)


@pytest.mark.parametrize("permission", sorted(EXPECTED))
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_x_action(role, permission):
    allowed = role in EXPECTED[permission]
    assert policies.can(actor(role), permission) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            policies.require(actor(role), permission)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_inactive_users_can_do_nothing(role):
    assert not any(policies.can(actor(role, active=False), p) for p in policies.PERMISSIONS)


def test_analysts_never_see_victim_identity():
    assert not policies.sees_victim_identity(actor(Role.ANALYST))
    assert not policies.sees_victim_identity(actor(Role.LIAISON))


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        policies.can(actor(Role.ADMIN), "case.delete")


# Roles that must log in with a second factor: they see victim identity (liaisons through
# referral snapshots) or administer accounts. Analysts may enrol but need not.
SECOND_FACTOR_REQUIRED = {A: True, S: True, I: True, C: True, L: True, N: False}


@pytest.mark.parametrize("role", sorted(SECOND_FACTOR_REQUIRED), ids=lambda r: r.value)
def test_second_factor_required_for_identity_and_administration(role):
    assert policies.requires_second_factor(role) is SECOND_FACTOR_REQUIRED[role]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_role_that_reads_identity_or_manages_users_needs_a_second_factor(role):
    reaches = policies.ROLE_PERMISSIONS[role] & {"victim.identity.read", "referral.read", "users.manage"}
    assert not reaches or policies.requires_second_factor(role)
