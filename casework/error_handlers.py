"""One error envelope {code, status, message, errors} for every error, including the last resort."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from casework.encryption import DecryptionError
from casework.errors import DomainError
from casework.extensions import db
from casework.request_meta import current_request_id

log = logging.getLogger("casework.errors")

# Never echo werkzeug's descriptions for these: they can name internals.
_GENERIC = {500: "Something went wrong on our side. It has been logged; quote the request id."}


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
    return jsonify(envelope(error.status, error.message, error.errors)), error.status


def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
    db.session.rollback()
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        # The database went away (restart, failover): the pool is refreshed; the client may retry.
        log.warning("database connection lost (request_id=%s)", current_request_id())
        return jsonify(envelope(503, "The database connection was interrupted; please retry.")), 503
    # The exception type and traceback go to the log; no request body, so no victim data.
    log.exception("unhandled error (request_id=%s)", current_request_id())
    return jsonify(envelope(500, _GENERIC[500])), 500


def _undecryptable(error: DecryptionError):  # type: ignore[no-untyped-def]
    """A stored value this server's key ring cannot read: a configuration fault, not the client's.
    The message names the column and key id only (never a value)."""
    db.session.rollback()
    log.error("cannot decrypt stored data (request_id=%s): %s", current_request_id(), error)
    message = "Stored data cannot be read with this server's encryption keys; an administrator must fix the key ring."
    return jsonify(envelope(503, message)), 503


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(DecryptionError, _undecryptable)
    app.register_error_handler(Exception, _unexpected)
