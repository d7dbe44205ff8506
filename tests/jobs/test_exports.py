"""Exports end to end: request over HTTP, a real RQ worker (burst) on real Redis builds the file,
download it, read it back; failure, Redis-down, scope and expiry paths."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from rq import SimpleWorker
from sqlalchemy import func, select, text, update

from casework import queue
from casework.extensions import db
from casework.jobs import exports as export_jobs
from casework.models.audit import AuditEvent
from casework.models.exports import Export, ExportPart, ExportStatus
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from tests.helpers import ApiClient

pytestmark = pytest.mark.committing

SECRET_NAME = "Nurul Syafiqah Binti Hassan"
SECRET_PHONE = "012-771 2345"


def browser(app, user) -> ApiClient:  # type: ignore[no-untyped-def]
    client = ApiClient(app.test_client())
    assert client.login(user.email).status_code == 200
    return client


@pytest.fixture
def world(app, factory):  # type: ignore[no-untyped-def]
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="EXU")
    ngo = factory.organisation(OrganisationKind.NGO, code="EXN")
    people = {
        "investigator": factory.user(Role.INVESTIGATOR, unit),
        "supervisor": factory.user(Role.SUPERVISOR, unit),
        "analyst": factory.user(Role.ANALYST, unit),
        "caseworker": factory.user(Role.CASEWORKER, ngo),
        "other_analyst": factory.user(Role.ANALYST, ngo),
    }
    db.session.commit()
    investigator = browser(app, people["investigator"])
    for i in range(3):
        response = investigator.post(
            "/api/v1/cases",
            json={
                "intake_channel": "police_report",
                "received_on": f"2026-0{i + 1}-10",
                "state": "MY-10",
                "victims": [{"key": "a", "gender": "female", "full_name": SECRET_NAME, "phone": SECRET_PHONE}],
                "identifiers": [{"kind": "phone", "value": "0112345678" + str(i)}],
                "offences": [{"code": "PC 376(1)"}, {"code": "PC 383"}, {"code": "PC 506"}],
            },
        )
        assert response.status_code == 201, response.get_json()
    return people


def work_off_queue(app) -> None:  # type: ignore[no-untyped-def]
    SimpleWorker([queue.get_queue("exports")], connection=queue.connection()).work(burst=True)


def xlsx_text(data: bytes) -> str:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(
        str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
    )


def test_analyst_statistics_workbook_end_to_end(app, world):
    analyst = browser(app, world["analyst"])
    response = analyst.post("/api/v1/exports", json={"kind": "statistics", "filters": {"date_from": "2026-01-01"}})
    assert response.status_code == 202, response.get_json()
    location = response.headers["Location"]
    assert response.get_json()["status"] == "queued"
    work_off_queue(app)
    status = analyst.get(location).get_json()
    assert status["status"] == "done" and status["progress"] == 100, status
    download = analyst.get(status["download_url"])
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(download.data))
    assert workbook.sheetnames[0] == "About" and len(workbook.sheetnames) > 2
    text = xlsx_text(download.data)
    assert SECRET_NAME not in text and "771" not in text and "+60112345678" not in text
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "exports")))
    assert {"export.requested", "export.completed", "export.downloaded"} <= actions


def test_supervisor_line_list_one_row_per_case_offence_without_identity(app, world):
    supervisor = browser(app, world["supervisor"])
    response = supervisor.post("/api/v1/exports", json={"kind": "line_list"})
    assert response.status_code == 202
    work_off_queue(app)
    export = supervisor.get(response.headers["Location"]).get_json()
    assert export["status"] == "done" and export["row_count"] == 9
    data = supervisor.get(export["download_url"]).data
    text = xlsx_text(data)
    # nine rows cannot be 5-anonymous on month, state, ages, genders, platforms and offence: all
    # their quasi-identifiers are suppressed, and the About sheet says so
    assert "shared by at least 5 rows" in text and "9 of 9 rows" in text
    for secret in (SECRET_NAME, "771 2345", "+60127712345", "EXU-2026"):
        assert secret not in text


def test_running_the_job_twice_does_not_rebuild(app, world):
    analyst = browser(app, world["analyst"])
    export_id = analyst.post("/api/v1/exports", json={"kind": "statistics"}).get_json()["id"]
    work_off_queue(app)
    finished = db.session.get(Export, export_id)
    db.session.refresh(finished)
    stamp = finished.finished_at
    assert export_jobs.run_export(export_id) == "done"
    db.session.refresh(finished)
    assert finished.finished_at == stamp


def test_a_failing_export_is_recorded_with_a_safe_message(app, world):
    analyst = browser(app, world["analyst"])
    export_id = analyst.post("/api/v1/exports", json={"kind": "statistics"}).get_json()["id"]
    # Filters that no longer validate (e.g. written by an older version): the job must fail cleanly.
    db.session.execute(update(Export).where(Export.id == export_id).values(filters={"group_by": "shoe_size"}))
    db.session.commit()
    work_off_queue(app)
    body = analyst.get(f"/api/v1/exports/{export_id}").get_json()
    assert body["status"] == "failed"
    assert "could not be produced" in body["error"] and "shoe_size" not in body["error"]
    assert analyst.get(f"/api/v1/exports/{export_id}/download").status_code == 409


def test_redis_down_is_503_and_nothing_is_created(app, world):
    analyst = browser(app, world["analyst"])
    saved_client, saved_url = app.extensions.pop("casework.redis", None), app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        response = analyst.post("/api/v1/exports", json={"kind": "statistics"})
    finally:
        app.config["REDIS_URL"] = saved_url
        app.extensions.pop("casework.redis", None)
        if saved_client is not None:
            app.extensions["casework.redis"] = saved_client
    assert response.status_code == 503 and "queue" in response.get_json()["message"]
    assert db.session.scalar(select(func.count()).select_from(Export)) == 0


def test_exports_are_private_to_their_requester_and_need_the_right_role(app, world):
    analyst = browser(app, world["analyst"])
    export_id = analyst.post("/api/v1/exports", json={"kind": "statistics"}).get_json()["id"]
    other = browser(app, world["other_analyst"])
    assert other.get(f"/api/v1/exports/{export_id}").status_code == 404
    assert other.get(f"/api/v1/exports/{export_id}/download").status_code == 404
    caseworker = browser(app, world["caseworker"])
    assert caseworker.post("/api/v1/exports", json={"kind": "statistics"}).status_code == 403
    investigator = browser(app, world["investigator"])
    assert investigator.post("/api/v1/exports", json={"kind": "line_list"}).status_code == 403


def test_bad_filters_are_422_under_filters(app, world):
    analyst = browser(app, world["analyst"])
    response = analyst.post("/api/v1/exports", json={"kind": "statistics", "filters": {"date_from": "yesterday"}})
    assert response.status_code == 422 and "filters.date_from" in response.get_json()["errors"]
    assert analyst.post("/api/v1/exports", json={"kind": "pdf"}).status_code == 422


def test_expired_files_are_purged(app, world):
    analyst = browser(app, world["analyst"])
    export_id = analyst.post("/api/v1/exports", json={"kind": "statistics"}).get_json()["id"]
    work_off_queue(app)
    past = datetime.now(UTC) - timedelta(seconds=1)
    db.session.execute(update(Export).where(Export.id == export_id).values(expires_at=past))
    db.session.commit()
    assert export_jobs.purge_expired() == 1
    assert export_jobs.purge_expired() == 0
    expired = db.session.get(Export, export_id)
    db.session.refresh(expired)
    parts = db.session.scalar(select(func.count()).select_from(ExportPart).where(ExportPart.export_id == export_id))
    assert expired.status == ExportStatus.EXPIRED and parts == 0
    assert analyst.get(f"/api/v1/exports/{export_id}/download").status_code == 409


PASSWORD = "correct horse battery 42"


def test_a_protected_export_opens_with_its_password_and_not_without(app, world):
    import msoffcrypto  # noqa: PLC0415
    from msoffcrypto.exceptions import InvalidKeyError  # noqa: PLC0415

    supervisor = browser(app, world["supervisor"])
    response = supervisor.post("/api/v1/exports", json={"kind": "line_list", "password": PASSWORD})
    assert response.status_code == 202 and response.get_json()["is_protected"] is True
    assert "password" not in response.get_json()
    redis = queue.connection()
    assert not [k for k in redis.keys("*") if PASSWORD.encode() in (redis.dump(k) or b"")]  # sealed, not clear
    work_off_queue(app)
    export = supervisor.get(response.headers["Location"]).get_json()
    assert export["status"] == "done" and export["is_protected"] is True
    data = supervisor.get(export["download_url"]).data

    with pytest.raises(Exception):  # noqa: B017 - an encrypted file is no zip to openpyxl
        load_workbook(io.BytesIO(data))
    wrong = msoffcrypto.OfficeFile(io.BytesIO(data))
    wrong.load_key(password="not the password")
    with pytest.raises(InvalidKeyError):
        wrong.decrypt(io.BytesIO())
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    office.load_key(password=PASSWORD)
    plain = io.BytesIO()
    office.decrypt(plain)
    assert "shared by at least 5 rows" in xlsx_text(plain.getvalue())
    for table in ("audit_events", "exports"):  # never stored, not even in an audit record
        found = db.session.scalar(text(f"SELECT count(*) FROM {table} t WHERE t::text LIKE :p"), {"p": f"%{PASSWORD}%"})
        assert found == 0, table
    assert not redis.keys("rq:job:" + (db.session.get(Export, export["id"]).job_id or "none"))  # dropped after run


def test_line_lists_can_be_required_to_be_protected(app, world):
    app.config["LINE_LIST_REQUIRES_PASSWORD"] = True
    try:
        supervisor = browser(app, world["supervisor"])
        response = supervisor.post("/api/v1/exports", json={"kind": "line_list"})
        assert response.status_code == 422 and "password" in str(response.get_json()["errors"])
        assert supervisor.post("/api/v1/exports", json={"kind": "line_list", "password": "short"}).status_code == 422
    finally:
        app.config["LINE_LIST_REQUIRES_PASSWORD"] = False
