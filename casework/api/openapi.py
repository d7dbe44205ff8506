"""What the OpenAPI document says beyond each route's schemas, so that it tells the truth:

- the error envelope exactly as casework.error_handlers serves it (with `request_id`);
- the session cookie and the CSRF header as security schemes, both required outside login
  (so "Try it out" on /api/v1/docs works after logging in and pasting the CSRF token);
- the error statuses each operation can answer, with no catch-all "default": 401/403 behind a
  login, 404 for any id given (missing or out of scope), 400/413 with a body, 409/422 on state
  changes, 429 on login, 503 everywhere (database or queue away).
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask import Flask

from casework.extensions import api
from casework.schemas.errors import ErrorSchema
from casework.web_sessions import CSRF_HEADER

PUBLIC_OPERATIONS = frozenset({"/api/v1/auth/login"})
SECURITY: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
_BODY_METHODS = {"post", "put", "patch"}


class ErrorStatuses(BasePlugin):
    """Declares the statuses every operation can answer besides its own (see module docstring)."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            statuses = {"503": "RETRY_LATER"}
            if path in PUBLIC_OPERATIONS:
                operation["security"] = []
                statuses.update({"401": "UNAUTHORIZED", "429": "THROTTLED"})
            else:  # 404: an id in the path, body or query that is missing or out of scope
                statuses.update({"401": "UNAUTHORIZED", "403": "FORBIDDEN", "404": "NOT_FOUND"})
            if method in _BODY_METHODS:
                statuses.update({"400": "BAD_REQUEST", "413": "REQUEST_ENTITY_TOO_LARGE"})
            if method != "get":  # state changes: conflicts, and rules that need the database
                statuses.update({"409": "CONFLICT", "422": "UNPROCESSABLE_ENTITY"})
            for status, name in statuses.items():
                responses.setdefault(status, name)


def prepare() -> dict[str, Any]:
    """Before api.init_app: our error schema, and the spec options to pass it."""
    api.ERROR_SCHEMA = ErrorSchema
    api.DEFAULT_ERROR_RESPONSE_NAME = None  # every status is declared, none hides behind "default"
    return {"extra_plugins": [ErrorStatuses()], "security": SECURITY}


def _with_retry_after(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document(app: Flask) -> None:
    """After api.init_app, before the routes: the security schemes and the responses that carry
    Retry-After, which the operations refer to."""
    api.spec.components.response(
        "RETRY_LATER", _with_retry_after("Service Unavailable: the database or the job queue is away")
    )
    api.spec.components.response("THROTTLED", _with_retry_after("Too Many Requests: too many failed logins"))
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]}
    )
    api.spec.components.security_scheme(
        "csrf",
        {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "The csrf_token from POST /auth/login or GET /auth/me; needed on every write",
        },
    )
