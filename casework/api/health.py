"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from casework import queue
from casework.api.access import public
from casework.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Any:
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz() -> Any:
    """The database and Redis answer; 503 otherwise (without internals)."""
    checks = {"database": "ok", "redis": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = "unavailable"
        db.session.rollback()
    try:
        queue.connection().ping()
    except Exception:  # noqa: BLE001
        checks["redis"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), (200 if ready else 503)
