"""The overdue scan in a real RQ worker (burst mode) against real Redis: marks once, notifies
the sender and the recipient, runs twice without repeating itself, and keeps itself scheduled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from rq.job import JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, update

from casework import queue
from casework.extensions import db
from casework.jobs import referrals as referral_jobs
from casework.models.notifications import Notification
from casework.models.referrals import Referral, ReferralEvent
from tests.referral_world import World


@pytest.fixture
def world(factory, make_client):  # type: ignore[no-untyped-def]
    return World(factory, make_client)


@pytest.fixture
def default_queue(app_ctx) -> Iterator:  # type: ignore[no-untyped-def]
    rq_queue = queue.get_queue("default")
    rq_queue.empty()
    yield rq_queue
    registry = ScheduledJobRegistry(queue=rq_queue)
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)
    rq_queue.empty()


def run_worker(rq_queue) -> None:  # type: ignore[no-untyped-def]
    SimpleWorker([rq_queue], connection=queue.connection()).work(burst=True)


def run_scan(rq_queue) -> dict[str, int]:  # type: ignore[no-untyped-def]
    job = rq_queue.enqueue(referral_jobs.SCAN)
    run_worker(rq_queue)
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
    return job.return_value()  # type: ignore[no-any-return]


def overdue(referral_id: int, **due: datetime) -> None:
    db.session.execute(update(Referral).where(Referral.id == referral_id).values(**due))


def notifications_of(user_id: int) -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(Notification.kind, Notification.referral_id).where(Notification.user_id == user_id)
    ).all()
    # Not the news of each move (received, acknowledged: see tests/api/test_hearing_back.py).
    news = {"referral_received", "referral_acknowledged"}
    return sorted((kind.value, referral_id) for kind, referral_id in rows if kind.value not in news)


def test_overdue_scan_runs_in_a_worker_marks_once_and_notifies_both_sides(world, default_queue):
    world.user("mcmc")
    case = world.open_case()
    takedown = world.refer(case, "MCMC", "takedown")
    legal = world.refer(case, "JBG", "legal_aid")
    fresh = world.refer(world.open_case(), "JBG", "legal_aid")
    world.jbg_liaison.post(f"/api/v1/referrals/{legal['id']}/acknowledge", json={})
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    overdue(takedown["id"], due_acknowledge_at=an_hour_ago)
    overdue(legal["id"], due_complete_at=an_hour_ago)

    assert run_scan(default_queue) == {"acknowledgement_overdue": 1, "completion_overdue": 1}

    assert notifications_of(world.user("caseworker").id) == [
        ("referral_acknowledgement_overdue", takedown["id"]),
        ("referral_completion_overdue", legal["id"]),
    ]
    assert notifications_of(world.user("mcmc").id) == [("referral_acknowledgement_overdue", takedown["id"])]
    assert notifications_of(world.user("jbg").id) == [("referral_completion_overdue", legal["id"])]
    marked = world.caseworker.get(f"/api/v1/referrals/{takedown['id']}").get_json()
    assert marked["acknowledge_overdue_at"] and marked["is_overdue"] is True
    assert marked["events"][-1]["action"] == "acknowledgement_overdue" and marked["events"][-1]["actor_id"] is None
    listed = world.caseworker.get("/api/v1/referrals?overdue=true").get_json()["items"]
    assert {r["id"] for r in listed} == {takedown["id"], legal["id"]} and fresh["id"] not in {r["id"] for r in listed}
    messages = [n["message"] for n in world.mcmc_liaison.get("/api/v1/notifications").get_json()["items"]]
    assert any("overdue for acknowledgement" in m for m in messages)
    assert not any("Aisyah" in m for m in messages)

    # Twice is the same as once.
    counts = (
        db.session.scalar(select(func.count()).select_from(Notification)),
        db.session.scalar(select(func.count()).select_from(ReferralEvent)),
    )
    assert run_scan(default_queue) == {"acknowledgement_overdue": 0, "completion_overdue": 0}
    assert counts == (
        db.session.scalar(select(func.count()).select_from(Notification)),
        db.session.scalar(select(func.count()).select_from(ReferralEvent)),
    )


def test_a_referral_late_for_both_deadlines_gets_both_notices_once(world, default_queue):
    referral = world.refer(world.open_case(), "MCMC", "takedown")
    past = datetime.now(UTC) - timedelta(minutes=5)
    overdue(referral["id"], due_acknowledge_at=past, due_complete_at=past)
    assert run_scan(default_queue) == {"acknowledgement_overdue": 1, "completion_overdue": 1}
    world.mcmc_liaison.post(f"/api/v1/referrals/{referral['id']}/acknowledge", json={})
    assert run_scan(default_queue) == {"acknowledgement_overdue": 0, "completion_overdue": 0}


def test_closed_referrals_are_never_overdue(world, default_queue):
    referral = world.refer(world.open_case(), "MCMC", "takedown")
    world.caseworker.post(f"/api/v1/referrals/{referral['id']}/withdraw", json={})
    past = datetime.now(UTC) - timedelta(days=30)
    overdue(referral["id"], due_acknowledge_at=past, due_complete_at=past)
    assert run_scan(default_queue) == {"acknowledgement_overdue": 0, "completion_overdue": 0}


def test_the_scheduled_scan_schedules_its_next_run_once_per_slot(app_ctx, default_queue):
    registry = ScheduledJobRegistry(queue=default_queue)
    now = datetime.now(UTC).timestamp()
    first = referral_jobs.schedule_next_scan(now=now)
    assert first is not None and referral_jobs.schedule_next_scan(now=now) is None  # a second worker, a restart
    assert registry.get_job_ids() == [first.id]
    assert registry.get_scheduled_time(first) > datetime.now(UTC)
    # A scheduled run (moved forward as the scheduler would) scans and schedules the slot after.
    registry.remove(first)
    default_queue.enqueue_job(first)
    run_worker(default_queue)
    assert first.get_status() == JobStatus.FINISHED, first.latest_result().exc_string
    (slot,) = first.args
    assert registry.get_job_ids() == [first.id.removesuffix(str(slot)) + str(slot + 1)]


def test_cli_runs_the_same_scan(app, world):
    referral = world.refer(world.open_case(), "MCMC", "takedown")
    overdue(referral["id"], due_acknowledge_at=datetime.now(UTC) - timedelta(hours=2))
    result = app.test_cli_runner().invoke(args=["referrals", "mark-overdue"])
    assert result.exit_code == 0, result.output
    assert "'acknowledgement_overdue': 1" in result.output
