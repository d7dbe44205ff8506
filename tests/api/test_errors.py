"""Every error uses one envelope; bad input is 422 with field errors; nothing leaks on a 500."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint

from casework import create_app
from casework.extensions import db
from casework.models.users import Role


def test_unknown_fields_are_rejected_with_field_errors(client, factory):
    client.as_user(factory.user(Role.PLATFORM_ADMIN))
    response = client.post("/api/v1/organisations", json={"name": "X NGO", "kind": "ngo", "code": "XN", "hq": 1})
    body = response.get_json()
    assert response.status_code == 422
    assert set(body) >= {"code", "status", "message", "errors"}
    assert body["errors"]["hq"] == ["Unknown field."]


def test_wrong_types_are_field_errors(client, factory):
    client.as_user(factory.user(Role.ADMIN))
    response = client.post(
        "/api/v1/users",
        json={
            "email": "not-an-email",
            "full_name": "A",
            "role": "wizard",
            "organisation_id": 2.5e-42,
            "password": "x",
        },
    )
    errors = response.get_json()["errors"]
    assert response.status_code == 422
    assert set(errors) == {"email", "role", "organisation_id"}


def test_weak_password_is_a_field_error_and_nothing_is_written(client, factory):
    admin = factory.user(Role.ADMIN)
    client.as_user(admin)
    for password in ("short", "password1234", "aaaaaaaaaaaaaaaa"):
        response = client.post(
            "/api/v1/users",
            json={
                "email": "new@example.test",
                "full_name": "New",
                "role": "analyst",
                "organisation_id": admin.organisation_id,
                "password": password,
            },
        )
        assert response.status_code == 422, password
        assert "password" in response.get_json()["errors"]
    assert client.get("/api/v1/users").get_json()[-1]["email"] != "new@example.test"


def test_duplicate_email_is_409(client, factory):
    admin = factory.user(Role.ADMIN)
    client.as_user(admin)
    body = {
        "email": admin.email.upper(),
        "full_name": "Dup",
        "role": "analyst",
        "organisation_id": admin.organisation_id,
        "password": "a long enough passphrase 7",
    }
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 409 and response.get_json()["code"] == 409


def test_missing_record_is_404_in_the_envelope(client, factory):
    client.as_user(factory.user(Role.ADMIN))
    response = client.get("/api/v1/users/999999")
    assert response.status_code == 404 and response.get_json()["status"] == "Not Found"


def test_unknown_url_and_wrong_method_use_the_envelope(client):
    assert client.get("/api/v1/nothing-here").get_json()["code"] == 404
    response = client.delete("/api/v1/auth/me")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["code"] == 405


def test_unexpected_error_is_a_generic_500_without_internals(app):
    fresh = create_app(dict(app.config))
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def explode():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail: victim Aisyah")

    fresh.register_blueprint(boom)
    response = fresh.test_client().get("/boom")
    body = response.get_json()
    assert response.status_code == 500
    assert body["code"] == 500 and "request_id" in body
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_lost_database_connection_is_503_retry_not_500(app):
    fresh = create_app(dict(app.config))
    with fresh.app_context():
        db.session.execute(sa.text("SELECT 1"))  # one pooled connection, then back to the pool
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        db.session.commit()
        db.session.remove()
    killer = sa.create_engine(fresh.config["SQLALCHEMY_DATABASE_URI"])
    with killer.connect() as other:  # the server drops it, as a restart would
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    attempt = {"email": "nobody@example.test", "password": "whatever it is"}
    first = fresh.test_client().post("/api/v1/auth/login", json=attempt)
    assert first.status_code == 503 and "retry" in first.get_json()["message"]
    assert fresh.test_client().post("/api/v1/auth/login", json=attempt).status_code == 401
    with fresh.app_context():
        db.engine.dispose()
