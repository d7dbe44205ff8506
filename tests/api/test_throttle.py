"""Login is throttled per client address (across accounts) and per account (across addresses),
counting failed attempts only, answering 429 with Retry-After and auditing each refusal; the
per-account lockout still applies."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from casework import create_app, throttle
from casework.extensions import db
from casework.models.audit import AuditEvent
from tests.helpers import PASSWORD

pytestmark = pytest.mark.committing


@pytest.fixture
def throttled(app):  # type: ignore[no-untyped-def]
    """The app with throttling on. The limiter is one per process (its key prefix is the first
    app's), so each test uses addresses of its own (`_address`)."""
    yield create_app(
        {
            **app.config,
            "RATELIMIT_ENABLED": True,
            "LOGIN_LIMIT_PER_ADDRESS": "5 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
        }
    )
    throttle.limiter.init_app(app)  # the limiter's state is per process: back to the suite's (off)


_NET = f"10.{secrets.randbelow(250)}"
_hosts = iter(range(1, 250))


def _address() -> str:
    return f"{_NET}.{next(_hosts)}.1"


def _login(app, email: str, password: str = "not the password", address: str | None = None):  # type: ignore[no-untyped-def]
    with app.app_context():
        return app.test_client().post(
            "/api/v1/auth/login",
            json={"email": email, "password": password},
            environ_base={"REMOTE_ADDR": address or _address()},
        )


def _throttled_audits() -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == "auth.login_throttled"))


def test_one_address_spraying_many_accounts_gets_429(throttled, factory):
    user = factory.user()
    db.session.commit()
    sprayer = _address()
    for n in range(5):
        assert _login(throttled, f"sprayed{n}@example.test", address=sprayer).status_code == 401
    refused = _login(throttled, user.email, PASSWORD, address=sprayer)  # even the right password
    body = refused.get_json()
    assert refused.status_code == 429 and body["code"] == 429 and "request_id" in body
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert _throttled_audits() == 1
    assert _login(throttled, user.email, PASSWORD).status_code == 200  # other addresses unaffected


def test_one_account_tried_from_many_addresses_gets_429_before_the_lockout(throttled, factory):
    user = factory.user()
    db.session.commit()
    for _ in range(3):
        assert _login(throttled, user.email).status_code == 401
    refused = _login(throttled, user.email.upper())
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    db.session.refresh(user)
    assert user.locked_until is None and user.failed_login_count == 3  # lockout (5) not reached


def test_successful_logins_do_not_count(throttled, factory):
    user = factory.user()
    db.session.commit()
    office = _address()
    for _ in range(8):
        assert _login(throttled, user.email, PASSWORD, address=office).status_code == 200


def test_login_still_works_when_redis_is_away(app, factory):
    user = factory.user()
    db.session.commit()
    config = {k: v for k, v in app.config.items() if k != "RATELIMIT_STORAGE_URI"}
    broken = create_app({**config, "RATELIMIT_ENABLED": True, "REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        assert _login(broken, user.email, PASSWORD).status_code == 200  # counted in memory instead
        assert _login(broken, "nobody@example.test").status_code == 401
    finally:
        throttle.limiter.init_app(app)
