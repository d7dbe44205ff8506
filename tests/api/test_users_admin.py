"""User and organisation administration through the API; audited role changes."""

from __future__ import annotations

from sqlalchemy import select

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.users import Role


def test_admin_creates_a_user_who_can_log_in(make_client, factory):
    admin = factory.user(Role.ADMIN)
    org = admin.organisation
    response = (
        make_client()
        .as_user(admin)
        .post(
            "/api/v1/users",
            json={
                "email": "Ina@Example.test",
                "full_name": "Ina",
                "role": "caseworker",
                "organisation_id": org.id,
                "password": "a long enough passphrase 7",
            },
        )
    )
    assert response.status_code == 201
    assert response.get_json()["email"] == "ina@example.test"
    assert make_client().login("ina@example.test", "a long enough passphrase 7").status_code == 200


def test_role_change_is_audited_and_ends_sessions(make_client, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(Role.CASEWORKER, admin.organisation)
    theirs = make_client().as_user(user)
    response = make_client().as_user(admin).patch(f"/api/v1/users/{user.id}", json={"role": "supervisor"})
    assert response.status_code == 200 and response.get_json()["role"] == "supervisor"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
    assert event.details == {"previous": "caseworker", "new": "supervisor"}
    assert event.actor_id == admin.id
    assert theirs.get("/api/v1/auth/me").status_code == 401


def test_non_admins_cannot_manage_users(make_client, factory):
    for role in (Role.SUPERVISOR, Role.INVESTIGATOR, Role.ANALYST, Role.LIAISON):
        client = make_client().as_user(factory.user(role))
        response = client.post("/api/v1/users", json={})
        assert response.status_code == 403, role


def test_supervisor_lists_only_their_organisation(make_client, factory):
    org = factory.organisation()
    supervisor = factory.user(Role.SUPERVISOR, org)
    colleague = factory.user(Role.INVESTIGATOR, org)
    stranger = factory.user(Role.INVESTIGATOR)
    client = make_client().as_user(supervisor)
    ids = {u["id"] for u in client.get("/api/v1/users").get_json()}
    assert colleague.id in ids and stranger.id not in ids
    assert client.get(f"/api/v1/users/{stranger.id}").status_code == 404


def test_admin_cannot_deactivate_themselves(make_client, factory):
    admin = factory.user(Role.ADMIN)
    response = make_client().as_user(admin).patch(f"/api/v1/users/{admin.id}", json={"is_active": False})
    assert response.status_code == 409


def test_audit_chain_verifies(factory):
    from casework.services import audit

    factory.user(Role.ADMIN)
    factory.user(Role.ANALYST)
    assert audit.verify_chain() is None
