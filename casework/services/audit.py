"""Writing audit events in the caller's transaction, chained by SHA-256 so edits show."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.request_meta import current_client_address, current_request_id

# Serialises appends so the chain has one order even under concurrent writers; the lock is
# transaction-scoped and released at commit/rollback.
_AUDIT_LOCK_KEY = 0x4341_5345_4155_4454 & 0x7FFF_FFFF_FFFF_FFFF
GENESIS = "0" * 64

_LOCK = text("SELECT pg_advisory_xact_lock(:lock_key)")
_APPEND = text(
    """
    WITH previous AS (
        SELECT coalesce((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), :genesis) AS hash
    )
    INSERT INTO audit_events (occurred_at, actor_id, organisation_id, action, object_type, object_id, outcome,
                              request_id, client_address, details, prev_hash, hash)
    SELECT :occurred_at, :actor_id, :organisation_id, :action, :object_type, :object_id, :outcome,
           :request_id, :client_address, CAST(:details AS jsonb), previous.hash,
           encode(sha256(convert_to(previous.hash || :payload, 'UTF8')), 'hex')
    FROM previous
    """
)


def record(
    actor: Any | None,
    action: str,
    obj: Any | None = None,
    *,
    object_type: str | None = None,
    object_id: Any | None = None,
    outcome: str = "success",
    **details: Any,
) -> None:
    """Append one audit event to the current transaction.

    `details` must never carry passwords, tokens or victim identity: ids and codes only.
    Two statements: the chain lock, then one INSERT that reads the previous hash and hashes onto
    it. They must stay two: a statement's snapshot is taken when it starts, so a single statement
    that waited for the lock would not see the row its predecessor committed meanwhile, and the
    chain would fork (tests/services/test_audit_chain.py catches that).
    """
    if obj is not None:
        object_type = object_type or getattr(obj, "__audit_type__", None) or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    fields: dict[str, Any] = {
        "occurred_at": datetime.now(UTC).isoformat(),
        "actor_id": getattr(actor, "id", None),
        "organisation_id": getattr(actor, "organisation_id", None),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "outcome": outcome,
        "request_id": current_request_id(),
        "client_address": current_client_address(),
        "details": details,
    }
    db.session.execute(_LOCK, {"lock_key": _AUDIT_LOCK_KEY})
    db.session.execute(
        _APPEND,
        {
            **fields,
            "occurred_at": datetime.fromisoformat(fields["occurred_at"]),
            "details": json.dumps(details, default=str),
            "payload": _payload(fields),
            "genesis": GENESIS,
        },
    )


def _payload(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _payload(fields)).encode()).hexdigest()


def verify_chain() -> int | None:
    """Return the id of the first event whose hash does not match, or None if intact."""
    prev = GENESIS
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        fields = {
            "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
            "actor_id": event.actor_id,
            "organisation_id": event.organisation_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "outcome": event.outcome,
            "request_id": event.request_id,
            "client_address": event.client_address,
            "details": event.details,
        }
        if event.prev_hash != prev or event.hash != _digest(prev, fields):
            return event.id
        prev = event.hash
    return None
