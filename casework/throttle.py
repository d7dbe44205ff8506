"""Login throttling per client address and per account (Flask-Limiter on the shared Redis).

Only failed attempts count (an answer of 401), so a busy office behind one address is not
slowed by its successful logins; once a limit is reached every attempt is answered 429 with
Retry-After until the window moves on, and each refusal is audited. The
per-account lockout of casework.services.auth stays as the last line. If Redis is down the
counters fall back to each process's memory (a throttle that still works, less exactly).
Flask-Limiter keeps one state per limiter, so with several apps in one process (tests) the last
app initialised decides whether throttling is on.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RequestLimit

from casework.extensions import db
from casework.request_meta import current_client_address
from casework.services import audit

log = logging.getLogger(__name__)


def _address_key() -> str:
    return f"address:{current_client_address() or 'unknown'}"


def _account_key() -> str:
    """The e-mail being tried, hashed (no addresses in Redis keys); the address when absent."""
    try:
        body = request.get_json(silent=True)
    except (ValueError, RecursionError, TypeError):
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return _address_key()
    digest = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
    return f"account:{digest}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _audit_breach(limit: RequestLimit) -> None:
    by = "address" if "/address:" in limit.key else "account"
    try:
        audit.record(None, "auth.login_throttled", outcome="failure", by=by, limit=str(limit.limit))
        db.session.commit()
    except Exception:  # noqa: BLE001 - the 429 must still be answered when the database is away
        db.session.rollback()
        log.warning("could not audit a throttled login")


TOO_MANY = "Too many failed logins; wait and try again."
limiter = Limiter(key_func=_address_key, on_breach=_audit_breach)

by_address = limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=_address_key,
    deduct_when=_failed,
    error_message=TOO_MANY,
)
by_account = limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    deduct_when=_failed,
    error_message=TOO_MANY,
)


def init_app(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL") or "memory://"
    if redis_url.startswith("unix://"):  # the embedded Redis; `limits` spells a socket redis+unix://
        redis_url = "redis+unix://" + redis_url[len("unix://") :]
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2})
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{app.config.get('QUEUE_PREFIX', '')}casework-throttle")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
