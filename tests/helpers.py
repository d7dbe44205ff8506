"""Test helpers: a JSON API client that logs in and sends the CSRF header, and data factories."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from casework.extensions import db
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.users import Role, User
from casework.services import users as users_service

PASSWORD = "correct horse battery staple 42"
_seq = itertools.count(1)


class ApiClient:
    """Drives the HTTP API like a browser-based JSON client would."""

    def __init__(self, client: FlaskClient) -> None:
        self.http = client
        self.csrf: str | None = None

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        response = self.open("/api/v1/auth/login", "POST", json={"email": email, "password": password})
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
