"""RQ on Redis: the connection, named queues, and enqueueing only after the commit."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_app_context
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from casework.errors import ServiceUnavailable

QUEUE_NAMES = ("default", "exports")


def connection() -> Redis:
    """One Redis client per app (thread-safe pool); created on first use, not at import."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # flask types the proxy as Flask
    client = app.extensions.get("casework.redis")
    if client is None:
        client = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        app.extensions["casework.redis"] = client
    return client


def get_queue(name: str = "default") -> Queue:
    prefix = current_app.config.get("QUEUE_PREFIX", "")
    return Queue(prefix + name, connection=connection())


def ping_or_unavailable() -> None:
    """Raise ServiceUnavailable when Redis does not answer (so nothing is half-created)."""
    try:
        connection().ping()
    except Exception as exc:  # noqa: BLE001 - redis raises several kinds
        raise ServiceUnavailable("The job queue is unavailable; try again shortly.") from exc


def enqueue_after_commit(func: str, *args: Any, queue: str = "default", **options: Any) -> None:
    """Enqueue when the current transaction commits, so a fast worker finds the rows."""
    pending = g.setdefault("casework_pending_jobs", []) if has_app_context() else []
    pending.append((queue, func, args, options))


def _flush_pending(session: Session) -> None:
    if not has_app_context():
        return
    pending = g.pop("casework_pending_jobs", [])
    for queue_name, func, args, options in pending:
        get_queue(queue_name).enqueue(func, *args, **options)


def _drop_pending(session: Session) -> None:
    if has_app_context():
        g.pop("casework_pending_jobs", None)


def init_app(app: Any) -> None:
    event.listen(Session, "after_commit", _flush_pending)
    event.listen(Session, "after_soft_rollback", lambda session, previous: _drop_pending(session))
