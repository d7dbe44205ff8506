"""An export whose worker dies does not stay `running`: a real forking RQ worker is killed with
its work-horse in the middle of an export, then the sweep (or the failure callback RQ runs when
a new worker cleans up) marks it failed with a safe message, and nothing is downloadable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import sqlalchemy as sa
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from casework import queue
from casework.extensions import db
from casework.jobs import export_sweep as sweep_jobs
from casework.models.exports import Export, ExportPart, ExportStatus
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.services import export_sweep
from tests.helpers import ApiClient

pytestmark = pytest.mark.committing

WORKER = """
import json, os
from rq import Worker
from casework import create_app, queue
app = create_app(json.loads(os.environ["CASEWORK_WORKER_CONFIG"]))
with app.app_context():
    Worker([queue.get_queue("exports")], connection=queue.connection()).work(with_scheduler=False)
"""
CONFIG_KEYS = (
    "CASEWORK_ENV",
    "SECRET_KEY",
    "IDENTITY_HASH_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL",
    "QUEUE_PREFIX",
    "ARGON2_TIME_COST",
    "ARGON2_MEMORY_COST",
)
PAST_HEARTBEAT = 300  # seconds: beyond RQ's heartbeat lease of a job (monitoring interval + 60)


@pytest.fixture
def analyst(app, factory):  # type: ignore[no-untyped-def]
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="SWU")
    user = factory.user(Role.ANALYST, unit)
    db.session.commit()
    client = ApiClient(app.test_client())
    assert client.login(user.email).status_code == 200
    return client


def _wait_for(predicate, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _status(export_id: int) -> ExportStatus:
    with db.engine.connect() as conn:
        return ExportStatus(conn.scalar(select(Export.status).where(Export.id == export_id)))


@pytest.mark.parametrize("closer", ["sweep", "new_worker_cleanup"])
def test_an_export_whose_worker_is_killed_ends_failed(app, analyst, closer):
    export_id = analyst.post("/api/v1/exports", json={"kind": "statistics"}).get_json()["id"]
    env = {**os.environ, "CASEWORK_WORKER_CONFIG": json.dumps({k: app.config[k] for k in CONFIG_KEYS})}
    blocker = db.engine.connect()
    blocker.execute(sa.text("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE"))  # the export stalls mid-way
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env)
    try:
        _wait_for(lambda: _status(export_id) == ExportStatus.RUNNING)
        horses = psutil.Process(worker.pid).children()
        assert horses, "the forking worker runs the export in a work-horse"
        for process in (*horses, psutil.Process(worker.pid)):
            os.kill(process.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        blocker.rollback()
        blocker.close()

    assert _status(export_id) == ExportStatus.RUNNING  # what the issue saw: running forever
    assert export_sweep.sweep_stuck_exports() == []  # the job's heartbeat lease has not lapsed yet
    later = time.time() + PAST_HEARTBEAT
    if closer == "sweep":
        assert export_sweep.sweep_stuck_exports(now=later) == [export_id]
        db.session.commit()
    else:  # what RQ's maintenance in any worker does: abandoned job -> failure callback
        StartedJobRegistry(queue=queue.get_queue("exports")).cleanup(timestamp=later)

    body = analyst.get(f"/api/v1/exports/{export_id}").get_json()
    assert body["status"] == "failed" and body["error"] == export_sweep.INTERRUPTED
    assert analyst.get(f"/api/v1/exports/{export_id}/download").status_code == 409
    parts = db.session.scalar(select(func.count()).select_from(ExportPart).where(ExportPart.export_id == export_id))
    assert parts == 0
    assert analyst.post("/api/v1/exports", json={"kind": "statistics"}).status_code == 202  # ask again


def test_the_sweep_fails_exports_whose_job_is_gone_and_leaves_live_ones(app, analyst):
    lost = analyst.post("/api/v1/exports", json={"kind": "statistics"}).get_json()["id"]
    waiting = analyst.post("/api/v1/exports", json={"kind": "statistics"}).get_json()["id"]
    job_id = db.session.scalar(select(Export.job_id).where(Export.id == lost))
    queue.get_queue("exports").connection.delete(f"rq:job:{job_id}")  # e.g. Redis lost its data
    assert sweep_jobs.sweep() == [lost]
    assert _status(lost) == ExportStatus.FAILED
    assert _status(waiting) == ExportStatus.QUEUED  # still in the queue: a worker will take it
    assert sweep_jobs.schedule_next_sweep(now=time.time()) is not None
