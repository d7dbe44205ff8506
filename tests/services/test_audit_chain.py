"""The audit chain: concurrent writers append in one order; any edit breaks verification."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.services import audit


@pytest.mark.committing
def test_concurrent_writers_keep_one_unbroken_chain(app, app_ctx):
    barrier = threading.Barrier(4)

    def write(worker: int) -> None:
        with app.app_context():
            barrier.wait()
            for n in range(10):
                audit.record(None, "test.concurrent", object_type="test", object_id=f"{worker}-{n}")
                db.session.commit()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 40
    assert audit.verify_chain() is None
    hashes = db.session.scalars(select(AuditEvent.prev_hash)).all()
    assert len(set(hashes)) == 40  # no two events chained onto the same predecessor


def test_an_edited_event_breaks_the_chain(app_ctx):
    for n in range(3):
        audit.record(None, "test.edit", object_type="test", object_id=str(n))
    assert audit.verify_chain() is None
    middle = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
    db.session.execute(update(AuditEvent).where(AuditEvent.id == middle).values(action="test.tampered"))
    assert audit.verify_chain() == middle
