"""`make run`: one command from a fresh clone to a running service with demo data.

Uses DATABASE_URL / REDIS_URL when set; otherwise starts embedded PostgreSQL and Redis with their
data under instance/ (and writes instance/settings.env, so every `flask --app wsgi` command finds
them with no variables set). Then migrates, seeds reference data, demo users (credentials printed
once, when created) and demo cases, prints where everything is and how to reset a demo password,
and runs gunicorn plus an RQ worker until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import flask_migrate
from flask import Flask

from casework import instance

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = instance.directory()


def addresses(app: Flask, host: str, port: str) -> list[str]:
    """What `make run` prints on every start: where to go, and how to get back into a demo account."""
    from casework.services.demo import DEMO_USERS  # noqa: PLC0415 - models after the environment is complete

    base = f"http://{host}:{port}"
    lines = []
    if "web" in app.blueprints:
        lines.append(f"  console        {base}/")
    lines += [
        f"  API docs       {base}/api/v1/docs",
        f"  OpenAPI        {base}/api/v1/openapi.json",
        f"  demo accounts  {', '.join(email for email, *_ in DEMO_USERS)}",
        "  lost a demo password?  .venv/bin/flask --app wsgi users set-password EMAIL"
        "  (another terminal; no variables needed)",
    ]
    return lines


def main() -> int:
    env = dict(os.environ)
    env.setdefault("CASEWORK_ENV", "development")
    servers = None
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        from casework import embedded  # noqa: PLC0415

        servers = embedded.start(INSTANCE)
        env.setdefault("DATABASE_URL", servers.database_url)
        env.setdefault("REDIS_URL", servers.redis_url)
        instance.write_settings(INSTANCE, {"CASEWORK_ENV": env["CASEWORK_ENV"], instance.EMBEDDED: "1"})
        print(f"embedded PostgreSQL and Redis running, data in {INSTANCE}")
    os.environ.update(env)

    from casework import create_app  # noqa: PLC0415 - after the environment is complete
    from casework.services.demo import seed_everything  # noqa: PLC0415

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        seed_everything(echo=print)

    host, port = env.get("CASEWORK_HOST", "127.0.0.1"), env.get("CASEWORK_PORT", "5000")
    python = sys.executable
    children = [
        subprocess.Popen(  # noqa: S603
            [
                python,
                "-m",
                "gunicorn",
                "-w",
                env.get("CASEWORK_WEB_WORKERS", "2"),
                "-b",
                f"{host}:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen([python, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env),  # noqa: S603
    ]
    print(f"casework on http://{host}:{port}  (Ctrl-C stops everything)")
    print("\n".join(addresses(app, host, port)))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while all(child.poll() is None for child in children):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            child.wait(timeout=20)
        if servers is not None:
            servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
