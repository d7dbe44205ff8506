"""Test helpers: a JSON API client that logs in (second factor included) and sends the CSRF
header, and data factories."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework import policies
from casework.extensions import db
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.users import Role, User
from casework.services import mfa
from casework.services import users as users_service
from casework.services.mfa import STEP_SECONDS

PASSWORD = "correct horse battery staple 42"
_seq = itertools.count(1)

# Recovery codes of the factors ApiClient enrolled, by (user id, secret): a new secret (or a
# database whose ids restarted) never matches a stale entry.
RECOVERY_CODES: dict[tuple[int, str], list[str]] = {}
# Logins one at a time: threads logging in the same user at once must not enrol twice or send
# the same code (the server would refuse the replay).
_LOGIN_LOCK = threading.RLock()


def totp_code(secret: str, step: int | None = None) -> str:
    """The TOTP code of a time step (default: now)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).generate_otp(
        int(time.time()) // STEP_SECONDS if step is None else step
    )


def current_step() -> int:
    return int(time.time()) // STEP_SECONDS


class ApiClient:
    """Drives the HTTP API like a browser-based JSON client would."""

    def __init__(self, client: FlaskClient) -> None:
        self.http = client
        self.csrf: str | None = None
        self.password_step: TestResponse | None = None

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        """Log in, passing the second factor when one is due, and answer the last step's response
        (`password_step` keeps the first). A user whose role must use a second factor and who has
        none yet is enrolled first, as an operator would (`users enrol-mfa`): the API's own
        enrolment steps are tested in tests/api/test_mfa.py, and drawing a QR code per login
        would slow the suite."""
        with _LOGIN_LOCK:
            self._enrol_if_required(email)
            response = self.open("/api/v1/auth/login", "POST", json={"email": email, "password": password})
            self.password_step = response
            if response.status_code == 200:
                self.csrf = response.get_json()["csrf_token"]
                if response.get_json()["mfa"]["next_step"] == "mfa_required":
                    response = self.verify_second_factor(email)
            return response

    def _enrol_if_required(self, email: str) -> None:
        with self.http.application.app_context():  # the test's transaction, or the committed state
            user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
            if user is None or user.has_second_factor or not policies.requires_second_factor(user.role):
                return
            enrolment, codes = mfa.enrol_by_operator(user)
            db.session.commit()
            RECOVERY_CODES[(user.id, enrolment.secret)] = codes

    def verify_second_factor(self, email: str) -> TestResponse:
        """Send a code nobody used yet: the current step's, or the next one's when this user already
        logged in during this step (the server accepts one step of drift), else a recovery code."""
        with self.http.application.app_context():
            user_id, secret, last_step = db.session.execute(
                select(User.id, User.mfa_secret, User.mfa_last_step).where(func.lower(User.email) == email.lower())
            ).one()
        step = max(current_step(), (last_step or 0) + 1)
        if step <= current_step() + 1:
            code = totp_code(secret, step)
        else:
            codes = RECOVERY_CODES.get((user_id, secret))
            assert codes, "third login within 30 s of a user enrolled outside ApiClient: no code left to use"
            code = codes.pop()
        response = self.post("/api/v1/auth/mfa/verification", json={"code": code})
        if response.status_code == 200:
            self.csrf = response.get_json()["csrf_token"]
        return response

    def as_user(self, user: User) -> ApiClient:
        response = self.login(user.email)
        assert response.status_code == 200, response.get_json()
        return self

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if self.csrf and "X-CSRF-Token" not in merged:
            merged["X-CSRF-Token"] = self.csrf
        return merged

    def open(self, url: str, method: str, **kw: Any) -> TestResponse:
        """One request in its own app context (own db session, own `g`), like a real server."""
        kw["headers"] = self._headers(kw.pop("headers", None))
        with self.http.application.app_context():
            return self.http.open(url, method=method, **kw)

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.open(url, "GET", **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> TestResponse:
        return self.open(url, "POST", json=json, **kw)

    def patch(self, url: str, json: Any = None, **kw: Any) -> TestResponse:
        return self.open(url, "PATCH", json=json, **kw)

    def put(self, url: str, json: Any = None, **kw: Any) -> TestResponse:
        return self.open(url, "PUT", json=json, **kw)

    def delete(self, url: str, **kw: Any) -> TestResponse:
        return self.open(url, "DELETE", **kw)


class Factory:
    """Creates rows through the services (so audit and invariants apply), flushed not committed."""

    def organisation(
        self, kind: OrganisationKind = OrganisationKind.POLICE_UNIT, code: str | None = None, **kw: Any
    ) -> Organisation:
        n = next(_seq)
        organisation = Organisation(name=kw.pop("name", f"Organisation {n}"), kind=kind, code=code or f"ORG{n}", **kw)
        db.session.add(organisation)
        db.session.flush()
        return organisation

    def user(self, role: Role = Role.INVESTIGATOR, organisation: Organisation | None = None, **kw: Any) -> User:
        n = next(_seq)
        organisation = organisation or self.organisation()
        return users_service.create_user(
            actor=None,
            email=kw.pop("email", f"user{n}@example.test"),
            full_name=kw.pop("full_name", f"User {n}"),
            role=role,
            organisation_id=organisation.id,
            password=kw.pop("password", PASSWORD),
        )
