"""Administration has a scope: an organisation's admin manages its own organisation's accounts
only; the platform admin manages every organisation's but gives no role and sets no password
directly, has no case access, and its account requests need a second platform admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models.access_grants import AccessGrant
from casework.models.audit import AuditEvent
from casework.models.organisations import OrganisationKind
from casework.models.users import Role, User
from tests.helpers import PASSWORD

NEW_PASSWORD = "a long enough passphrase 7"


def _account(email: str, organisation_id: int, role: str = "supervisor") -> dict:
    return {
        "email": email,
        "full_name": "New Person",
        "role": role,
        "organisation_id": organisation_id,
        "password": NEW_PASSWORD,
    }


# (method, url, body) against a user `u` of another organisation `o`.
CROSS_ORGANISATION = {
    "list": ("GET", "/api/v1/users?organisation_id={o}", None),
    "read": ("GET", "/api/v1/users/{u}", None),
    "create": ("POST", "/api/v1/users", "create"),
    "role change": ("PATCH", "/api/v1/users/{u}", {"role": "admin"}),
    "rename": ("PATCH", "/api/v1/users/{u}", {"full_name": "Renamed"}),
    "deactivate": ("PATCH", "/api/v1/users/{u}", {"is_active": False}),
    "unlock": ("POST", "/api/v1/users/{u}/unlock", None),
    "password reset": ("PUT", "/api/v1/users/{u}/password", {"password": NEW_PASSWORD}),
}


def _snapshot(user: User) -> tuple:
    db.session.refresh(user)
    return (user.role, user.full_name, user.is_active, user.password_hash)


@pytest.mark.parametrize("action", sorted(CROSS_ORGANISATION))
@pytest.mark.parametrize("target_role", [Role.SUPERVISOR, Role.ADMIN])
def test_an_organisations_admin_cannot_reach_another_organisations_accounts(make_client, factory, action, target_role):
    ngo = factory.organisation(OrganisationKind.NGO)
    police = factory.organisation(OrganisationKind.POLICE_UNIT)
    admin = factory.user(Role.ADMIN, ngo)
    stranger = factory.user(target_role, police)
    before = _snapshot(stranger)
    method, url, body = CROSS_ORGANISATION[action]
    if body == "create":
        body = _account("planted@example.test", police.id)
    response = make_client().as_user(admin).open(url.format(o=police.id, u=stranger.id), method, json=body)
    assert response.status_code == 404, response.get_json()
    assert _snapshot(stranger) == before
    assert db.session.scalar(select(User).where(User.email == "planted@example.test")) is None
    assert make_client().login(stranger.email, NEW_PASSWORD).status_code == 401


def test_an_organisations_admin_lists_only_its_own_accounts(make_client, factory):
    admin = factory.user(Role.ADMIN)
    colleague = factory.user(Role.CASEWORKER, admin.organisation)
    platform = factory.user(Role.PLATFORM_ADMIN, admin.organisation)  # run from the same office
    stranger = factory.user(Role.CASEWORKER)
    client = make_client().as_user(admin)
    listed = {u["id"] for u in client.get("/api/v1/users").get_json()}
    assert listed == {admin.id, colleague.id}
    assert platform.id not in listed and stranger.id not in listed
    assert client.get(f"/api/v1/users?organisation_id={admin.organisation_id}").status_code == 200
    # Platform accounts are the CLI's: the organisation's admin cannot take one over.
    assert client.put(f"/api/v1/users/{platform.id}/password", json={"password": NEW_PASSWORD}).status_code == 404


@pytest.mark.parametrize("how", ["create", "role change"])
def test_an_organisations_admin_cannot_give_the_platform_role(make_client, factory, how):
    admin = factory.user(Role.ADMIN)
    colleague = factory.user(Role.ANALYST, admin.organisation)
    client = make_client().as_user(admin)
    if how == "create":
        response = client.post(
            "/api/v1/users", json=_account("p@example.test", admin.organisation_id, "platform_admin")
        )
    else:
        response = client.patch(f"/api/v1/users/{colleague.id}", json={"role": "platform_admin"})
    assert response.status_code == 422 and "role" in response.get_json()["errors"]
    assert _snapshot(colleague)[0] == Role.ANALYST


def test_the_platform_admin_sees_every_organisation_and_deactivates_and_unlocks(make_client, factory):
    platform = factory.user(Role.PLATFORM_ADMIN)
    far_away = factory.user(Role.INVESTIGATOR)
    client = make_client().as_user(platform)
    assert far_away.id in {u["id"] for u in client.get("/api/v1/users").get_json()}
    listed = client.get(f"/api/v1/users?organisation_id={far_away.organisation_id}").get_json()
    assert [u["id"] for u in listed] == [far_away.id]
    assert client.get(f"/api/v1/users/{far_away.id}").status_code == 200
    assert client.post(f"/api/v1/users/{far_away.id}/unlock").status_code == 200
    assert client.patch(f"/api/v1/users/{far_away.id}", json={"is_active": False}).get_json()["is_active"] is False
    created = client.post("/api/v1/organisations", json={"name": "New NGO", "kind": "ngo", "code": "NNGO"})
    assert created.status_code == 201


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("POST", "/api/v1/users", "create"),
        ("PATCH", "/api/v1/users/{u}", {"role": "supervisor"}),
        ("PUT", "/api/v1/users/{u}/password", {"password": NEW_PASSWORD}),
    ],
    ids=["create", "role change", "password reset"],
)
def test_the_platform_admin_gives_no_role_and_sets_no_password_directly(make_client, factory, method, url, body):
    platform = factory.user(Role.PLATFORM_ADMIN)
    target = factory.user(Role.ANALYST)
    before = _snapshot(target)
    if body == "create":
        body = _account("direct@example.test", target.organisation_id)
    response = make_client().as_user(platform).open(url.format(u=target.id), method, json=body)
    assert response.status_code == 403
    assert _snapshot(target) == before
    assert db.session.scalar(select(User).where(User.email == "direct@example.test")) is None


@pytest.mark.parametrize(
    "url",
    ["/api/v1/cases", "/api/v1/cases/1", "/api/v1/statistics/report", "/api/v1/referrals", "/api/v1/notifications"],
)
def test_the_platform_admin_has_no_case_access(make_client, factory, url):
    assert make_client().as_user(factory.user(Role.PLATFORM_ADMIN)).get(url).status_code == 403


def test_an_account_requested_by_one_platform_admin_exists_once_a_second_approves(make_client, factory):
    police = factory.organisation(OrganisationKind.POLICE_UNIT)
    first = factory.user(Role.PLATFORM_ADMIN)
    second = factory.user(Role.PLATFORM_ADMIN, first.organisation)
    requester, approver = make_client().as_user(first), make_client().as_user(second)

    requested = requester.post("/api/v1/access-grants", json=_account("Sup@Example.test", police.id))
    assert requested.status_code == 201, requested.get_json()
    grant = requested.get_json()
    assert grant["status"] == "pending" and grant["user_id"] is None and "password" not in str(grant)
    assert make_client().login("sup@example.test", NEW_PASSWORD).status_code == 401  # no account yet
    assert requester.post(f"/api/v1/access-grants/{grant['id']}/approval").status_code == 403  # not by oneself
    assert requester.post("/api/v1/access-grants", json=_account("sup@example.test", police.id)).status_code == 409

    approved = approver.post(f"/api/v1/access-grants/{grant['id']}/approval")
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "approved" and body["decided_by_id"] == second.id and body["user_id"]
    assert make_client().login("sup@example.test", NEW_PASSWORD).status_code == 200
    account = db.session.get(User, body["user_id"])
    assert (account.role, account.organisation_id) == (Role.SUPERVISOR, police.id)
    assert db.session.get(AccessGrant, grant["id"]).password_hash is None
    assert approver.post(f"/api/v1/access-grants/{grant['id']}/approval").status_code == 409

    events = {
        e.action: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("access_grant.%")))
    }
    assert events["access_grant.requested"].actor_id == first.id
    assert events["access_grant.approved"].actor_id == second.id
    created = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.object_id == str(account.id))
    )
    assert created.actor_id == second.id
    assert created.details["access_grant_id"] == grant["id"] and created.details["requested_by_id"] == first.id


def test_a_rejected_request_creates_nothing(make_client, factory):
    first = factory.user(Role.PLATFORM_ADMIN)
    second = factory.user(Role.PLATFORM_ADMIN, first.organisation)
    requester, reviewer = make_client().as_user(first), make_client().as_user(second)
    grant = requester.post("/api/v1/access-grants", json=_account("no@example.test", first.organisation_id)).get_json()
    assert [g["id"] for g in reviewer.get("/api/v1/access-grants?status=pending").get_json()] == [grant["id"]]
    rejected = reviewer.post(f"/api/v1/access-grants/{grant['id']}/rejection")
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    assert reviewer.post(f"/api/v1/access-grants/{grant['id']}/approval").status_code == 409
    assert db.session.scalar(select(User).where(User.email == "no@example.test")) is None
    assert db.session.get(AccessGrant, grant["id"]).password_hash is None


def test_nobody_requests_a_platform_admin_and_only_platform_admins_see_requests(make_client, factory):
    platform = factory.user(Role.PLATFORM_ADMIN)
    client = make_client().as_user(platform)
    response = client.post(
        "/api/v1/access-grants", json=_account("pp@example.test", platform.organisation_id, "platform_admin")
    )
    assert response.status_code == 422 and "role" in response.get_json()["errors"]
    for role in (Role.ADMIN, Role.SUPERVISOR):
        assert make_client().as_user(factory.user(role)).get("/api/v1/access-grants").status_code == 403


def test_the_cli_still_creates_any_account(app_ctx, factory):
    organisation = factory.organisation()
    runner = app_ctx.test_cli_runner()
    args = ["users", "create", "--email", "ops@example.test", "--name", "Ops", "--role", "platform_admin"]
    result = runner.invoke(args=[*args, "--org", organisation.code, "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.email == "ops@example.test")) == Role.PLATFORM_ADMIN
    listed = runner.invoke(args=["users", "list"])
    assert "ops@example.test" in listed.output and "platform_admin" in listed.output
