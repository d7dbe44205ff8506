"""Login, logout, lockout, session expiry, CSRF and the audit rows each auth event writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.users import Role, User, UserSession
from tests.helpers import PASSWORD


def actions_for(user_id: int | None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    query = query.where(AuditEvent.object_id == str(user_id)) if user_id else query
    return list(db.session.scalars(query))


def test_login_then_me_returns_user_permissions_and_csrf_token(client, factory):
    user = factory.user(Role.CASEWORKER)
    response = client.login(user.email)
    assert response.status_code == 200
    body = client.get("/api/v1/auth/me").get_json()
    assert body["user"]["email"] == user.email
    assert body["user"]["role"] == "caseworker"
    assert "case.create" in body["permissions"] and "users.manage" not in body["permissions"]
    assert body["csrf_token"] == client.csrf
    assert "password" not in str(body)


def test_login_sets_httponly_samesite_cookie(client, factory):
    user = factory.user()
    response = client.login(user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_unauthenticated_me_is_401_in_the_envelope(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == 401
    assert response.get_json()["status"] == "Unauthorized"


def test_unknown_email_and_wrong_password_answer_identically(client, factory):
    user = factory.user()
    unknown = client.login("nobody@example.test", PASSWORD)
    wrong = client.login(user.email, "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(unknown.get_json()) == strip(wrong.get_json())


def test_failed_logins_lock_the_account_after_five_attempts(client, factory):
    user = factory.user()
    for _ in range(5):
        assert client.login(user.email, "wrong password here").status_code == 401
    # Right password, but locked: same answer as any failure.
    assert client.login(user.email).status_code == 401
    db.session.refresh(user)
    assert user.locked_until is not None
    assert "auth.account_locked" in actions_for(user.id)


def test_lock_expires_after_thirty_minutes(client, factory):
    user = factory.user()
    for _ in range(5):
        client.login(user.email, "wrong password here")
    db.session.execute(
        update(User).where(User.id == user.id).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
    )
    assert client.login(user.email).status_code == 200


def test_failures_outside_the_window_do_not_lock(client, factory):
    user = factory.user()
    for _ in range(4):
        client.login(user.email, "wrong password here")
    db.session.execute(
        update(User).where(User.id == user.id).values(first_failed_login_at=datetime.now(UTC) - timedelta(minutes=16))
    )
    client.login(user.email, "wrong password here")
    assert client.login(user.email).status_code == 200


def test_admin_unlocks_a_locked_account(make_client, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(organisation=admin.organisation)
    victim_browser = make_client()
    for _ in range(5):
        victim_browser.login(user.email, "wrong password here")
    response = make_client().as_user(admin).post(f"/api/v1/users/{user.id}/unlock")
    assert response.status_code == 200 and response.get_json()["is_locked"] is False
    assert victim_browser.login(user.email).status_code == 200
    assert "user.unlocked" in actions_for(user.id)


def test_login_issues_a_new_session_id(client, factory):
    user = factory.user()
    live = select(UserSession.id).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    client.login(user.email)
    first = db.session.scalars(live).all()
    client.login(user.email)
    both = db.session.scalars(live).all()
    assert len(first) == 1 and len(set(both)) == 2


def test_logout_ends_the_session(client, factory):
    user = factory.user()
    client.as_user(user)
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    assert "auth.logout" in actions_for(user.id)


@pytest.mark.parametrize(
    "column, age",
    [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=12, minutes=1))],
    ids=["idle-30-minutes", "absolute-12-hours"],
)
def test_sessions_expire(client, factory, column, age):
    user = factory.user()
    client.as_user(user)
    past = datetime.now(UTC) - age
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id).values({column: past}))
    assert client.get("/api/v1/auth/me").status_code == 401
    assert "auth.session_expired" in actions_for(user.id)


def test_activity_keeps_the_session_alive(client, factory):
    user = factory.user()
    client.as_user(user)
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=29))
    )
    assert client.get("/api/v1/auth/me").status_code == 200
    seen = db.session.scalar(
        select(UserSession.last_seen_at).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )
    assert datetime.now(UTC) - seen < timedelta(minutes=1)


def test_state_changing_request_without_csrf_header_is_refused(client, factory):
    admin = factory.user(Role.PLATFORM_ADMIN)
    client.as_user(admin)
    body = {"name": "New NGO", "kind": "ngo", "code": "NGO9"}
    refused = client.post("/api/v1/organisations", json=body, headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.get_json()["message"]
    assert client.post("/api/v1/organisations", json=body).status_code == 201


def test_logout_needs_the_csrf_token_too(client, factory):
    client.as_user(factory.user())
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": ""}).status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 200


def test_deactivating_a_user_ends_their_sessions(make_client, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(organisation=admin.organisation)
    their_browser = make_client().as_user(user)
    assert their_browser.get("/api/v1/auth/me").status_code == 200
    response = make_client().as_user(admin).patch(f"/api/v1/users/{user.id}", json={"is_active": False})
    assert response.status_code == 200
    assert their_browser.get("/api/v1/auth/me").status_code == 401
    assert their_browser.login(user.email).status_code == 401
    assert "user.deactivated" in actions_for(user.id)


def test_every_auth_event_is_audited_without_secrets(client, factory):
    user = factory.user()
    client.login(user.email, "wrong password here")
    client.login("ghost@example.test", "whatever password")
    client.as_user(user)
    client.post("/api/v1/auth/logout")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("auth.%"))).all()
    actions = [e.action for e in events]
    assert actions.count("auth.login_failed") == 2
    assert "auth.login" in actions and "auth.logout" in actions
    for event in events:
        assert event.request_id and event.client_address and event.occurred_at.tzinfo is not None
        text = repr(event.details) + (event.object_id or "")
        assert PASSWORD not in text and "wrong password" not in text and "ghost@" not in text
