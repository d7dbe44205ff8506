"""One error envelope {code, status, message, errors} for every error, including the last resort.

``errors`` always has one shape, whoever found the problem (the schema at the edge or a service):
a flat object keyed by the field's dotted path, body fields as they are (``victims.1.date_of_birth``,
``offences.0.code``, ``filters.state``), query parameters and headers under ``query.`` and
``headers.`` (``query.per_page``), each with a list of messages. Problems with the request as a
whole (not one field) are under ``_request``.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from casework import log_hygiene
from casework.encryption import DecryptionError
from casework.errors import DomainError
from casework.extensions import db
from casework.request_meta import current_request_id

log = logging.getLogger("casework.errors")

# Never echo werkzeug's descriptions for these: they can name internals.
_GENERIC = {500: "Something went wrong on our side. It has been logged; quote the request id."}
RETRY_AFTER_SECONDS = 5
_DB_WARNING_EVERY = 60.0  # seconds: one warning per outage, not a traceback per request
_last_db_warning = [0.0]


# webargs locations -> the path prefix a client sees ("json" and "form" are the body: no prefix).
_LOCATIONS = {"json": "", "form": "", "query": "query.", "querystring": "query.", "headers": "headers."}
# marshmallow's key for an error about a whole (nested) object rather than one field.
_WHOLE = "_schema"
REQUEST_KEY = "_request"


def field_paths(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested field errors ({"victims": {1: {"date_of_birth": [...]}}}) -> {"victims.1.date_of_birth": [...]}.

    An error about a whole nested object is keyed by that object's path; at the top, by REQUEST_KEY.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = prefix if str(key) == _WHOLE else f"{prefix}{key}."
            for name, messages in field_paths(value, path).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    name = prefix.rstrip(".") or REQUEST_KEY
    items = errors if isinstance(errors, list | tuple) else [errors]
    for item in items:
        if isinstance(item, dict):  # a list of per-item errors some services give
            for sub, messages in field_paths(item, prefix).items():
                flat.setdefault(sub, []).extend(messages)
        else:
            flat.setdefault(name, []).append(str(item))
    return flat


def _located(errors: dict[str, Any]) -> dict[str, list[str]]:
    """webargs' {"json": {...}, "query": {...}} -> one flat mapping with the location's prefix."""
    flat: dict[str, list[str]] = {}
    for location, fields in errors.items():
        flat.update(field_paths(fields, _LOCATIONS.get(location, f"{location}.")))
    return flat


def envelope(
    status: int,
    message: str | None = None,
    errors: Any = None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase}
    if reason:
        body["reason"] = reason
    if message:
        body["message"] = message
    if errors:
        body["errors"] = field_paths(errors)
    body.update(details or {})
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return body


def _http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message") or _GENERIC.get(status) or error.description
    errors = data.get("errors")
    if not errors and data.get("messages"):  # webargs: keyed by location first
        errors = _located(data["messages"])
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


def _domain_error(error: DomainError) -> tuple[Response, int, dict[str, str]]:
    db.session.rollback()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else {}
    body = envelope(error.status, error.message, error.errors, details=error.details, reason=error.reason)
    return jsonify(body), error.status, headers


def database_unavailable(error: Exception) -> bool:
    """A fault of the database server or the way to it (down, restarting, refusing connections,
    connection cut, pool exhausted, serialization or deadlock): retrying later can succeed."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout)


def _unexpected(error: Exception) -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
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
    # Type, route, request id and the frames go to the log. Not the exception's text: a database
    # error's text can hold the row being written (a victim's identity), nor the request body,
    # nor the URL (query strings carry identifiers).
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    log.error(
        "unhandled %s on %s %s (request_id=%s)\n%s",
        log_hygiene.describe(error),
        request.method,
        route,
        current_request_id(),
        log_hygiene.sanitised_traceback(error),
    )
    return jsonify(envelope(500, _GENERIC[500])), 500


def _undecryptable(error: DecryptionError) -> tuple[Response, int]:
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
