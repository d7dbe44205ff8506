"""One error envelope {code, status, message, errors} for every error, including the last resort."""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from casework.errors import DomainError
from casework.extensions import db
from casework.request_meta import current_request_id

log = logging.getLogger("casework.errors")

# Never echo werkzeug's descriptions for these: they can name internals.
_GENERIC = {500: "Something went wrong on our side. It has been logged; quote the request id."}
RETRY_AFTER_SECONDS = 5
_DB_WARNING_EVERY = 60.0  # seconds: one warning per outage, not a traceback per request
_last_db_warning = [0.0]


def envelope(status: int, message: str | None = None, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase}
    if message:
        body["message"] = message
    if errors:
        body["errors"] = errors
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return body


def _http_exception(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message") or _GENERIC.get(status) or error.description
    errors = data.get("errors") or data.get("messages")
    if status == 422 and errors and not data.get("message"):
        message = "The request has invalid fields."
    response = jsonify(envelope(status, message, errors))
    response.status_code = status
    # Keep Allow on 405 (flask-smorest's handler drops it) and any headers passed to abort().
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def _domain_error(error: DomainError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else {}
    return jsonify(envelope(error.status, error.message, error.errors)), error.status, headers


def database_unavailable(error: Exception) -> bool:
    """A fault of the database server or the way to it (down, restarting, refusing connections,
    connection cut, pool exhausted, serialization or deadlock): retrying later can succeed."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout)


def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the pool discards it
        db.session.close()
    if database_unavailable(error):
        # SQLAlchemy invalidated the broken connection (and older pooled ones), so the next
        # request connects afresh. The exception text can hold SQL parameters: type only.
        now = time.monotonic()
        if now - _last_db_warning[0] > _DB_WARNING_EVERY:
            _last_db_warning[0] = now
            log.warning("database unavailable: %s (request_id=%s)", type(error).__name__, current_request_id())
        body = envelope(503, "The database is unavailable; please retry shortly.")
        return jsonify(body), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    # The exception type and traceback go to the log; no request body, so no victim data.
    log.exception("unhandled error (request_id=%s)", current_request_id())
    return jsonify(envelope(500, _GENERIC[500])), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(Exception, _unexpected)
