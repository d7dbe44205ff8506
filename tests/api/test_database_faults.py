"""A PostgreSQL restart under concurrent requests: every answer is the normal one or 503 with
Retry-After (never a 500), one warning is logged rather than a traceback per request, and the
app recovers by itself. The test starts its own PostgreSQL (pgserver) and restarts it."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import flask_migrate
import pgserver
import pytest

from casework import create_app, error_handlers
from casework.extensions import db

ATTEMPT = {"email": "nobody@example.test", "password": "whatever it is"}


@pytest.fixture
def own_postgres():  # type: ignore[no-untyped-def]
    # Not under pytest's tmp_path: the server runs as another user, and pytest keeps its own
    # temporary root private (0700), also when another pytest run starts meanwhile.
    directory = Path(tempfile.mkdtemp(prefix="casework-pg-"))
    server = pgserver.get_server(directory / "pgdata", cleanup_mode="delete")
    try:
        yield server
    finally:
        try:  # the test restarted it, so pgserver's own handle names a stopped process
            _pg_ctl(server, "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # already stopped
        server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def _pg_ctl(server, *args: str) -> None:  # type: ignore[no-untyped-def]
    pgserver.pg_ctl(["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=30)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_postgres_restart_under_load_gives_no_500_and_recovers(app, own_postgres):
    uri = own_postgres.get_uri()
    socket_dir = parse_qs(urlsplit(uri).query)["host"][0]
    fresh = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": uri})
    with fresh.app_context():
        flask_migrate.upgrade()
        db.session.remove()

    statuses: Counter[int] = Counter()
    missing_retry_after = []
    stop = threading.Event()

    def hammer() -> None:
        client = fresh.test_client()
        while not stop.is_set():
            response = client.post("/api/v1/auth/login", json=ATTEMPT)
            statuses[response.status_code] += 1
            if response.status_code == 503 and "Retry-After" not in response.headers:
                missing_retry_after.append(response.get_json())

    error_handlers._last_db_warning[0] = 0.0
    logged = _Records()  # attached after the migration, whose logging set-up replaces handlers
    logging.getLogger("casework.errors").addHandler(logged)
    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        _pg_ctl(own_postgres, "-m", "fast", "stop")  # "shutting down", then connection refused
        time.sleep(1.0)
        _pg_ctl(own_postgres, "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(own_postgres.log), "start")
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        logging.getLogger("casework.errors").removeHandler(logged)

    assert statuses[500] == 0, statuses
    assert statuses[503] > 0 and statuses[401] > 0, statuses
    assert set(statuses) <= {401, 503}, statuses
    assert missing_retry_after == []
    # Recovered without restarting the app: at most one more stale connection per pooled one.
    client = fresh.test_client()
    answers = [client.post("/api/v1/auth/login", json=ATTEMPT).status_code for _ in range(12)]
    assert answers[-1] == 401 and 500 not in answers, answers
    with fresh.app_context():
        db.engine.dispose()
    assert [r.levelname for r in logged.records] == ["WARNING"], [r.getMessage() for r in logged.records]
    assert logged.records[0].exc_info is None
