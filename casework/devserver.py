"""`make run`: one command from a fresh clone to a running service with demo data.

Uses DATABASE_URL / REDIS_URL when set; otherwise starts embedded PostgreSQL and Redis with their
data under instance/. Then migrates, seeds reference data and demo users (credentials printed
once, when created), and runs gunicorn plus an RQ worker until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import flask_migrate

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def main() -> int:
    env = dict(os.environ)
    env.setdefault("CASEWORK_ENV", "development")
    servers = None
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        from casework import embedded  # noqa: PLC0415

        servers = embedded.start(INSTANCE)
        env.setdefault("DATABASE_URL", servers.database_url)
        env.setdefault("REDIS_URL", servers.redis_url)
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
    print(f"casework on http://{host}:{port}/api/v1/docs  (Ctrl-C stops everything)")
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
