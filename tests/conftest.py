"""Test harness: real PostgreSQL and Redis, schema by migrations, one rolled-back transaction per test.

CASEWORK_TEST_DATABASE_URL (a server URL; a fresh database is created and dropped on it) and
CASEWORK_TEST_REDIS_URL select external servers; without them embedded ones are started.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from casework import create_app, embedded, queue
from casework.config import normalise_database_url
from casework.extensions import db
from casework.services import reference
from tests.helpers import ApiClient, Factory

RUN_ID = secrets.token_hex(4)


@pytest.fixture(scope="session")
def server_urls() -> Iterator[tuple[str, str]]:
    """(database server URL, redis URL), starting embedded servers when none are configured."""
    database_url = os.environ.get("CASEWORK_TEST_DATABASE_URL")
    redis_url = os.environ.get("CASEWORK_TEST_REDIS_URL")
    handles: list[Any] = []
    tmp = Path(tempfile.mkdtemp(prefix="casework-test-"))
    if not database_url:
        database_url, pg = embedded.start_postgres(tmp, cleanup_mode="delete")
        handles.append(pg)
    if not redis_url:
        redis_url, rd = embedded.start_redis(tmp)
        handles.append(rd)
    yield normalise_database_url(database_url), redis_url
    embedded.EmbeddedServers("", "", tuple(handles)).stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(server_urls: tuple[str, str]) -> Iterator[str]:
    """A fresh database for this run, dropped at the end."""
    server = make_url(server_urls[0])
    name = f"casework_test_{RUN_ID}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_config(database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "CASEWORK_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "IDENTITY_HASH_KEY": "test-identity-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_PREFIX": f"test-{RUN_ID}-",
        "SESSION_COOKIE_SECURE": False,
        # argon2 at its cheapest: tests log in hundreds of times (production keeps t=3, 64 MiB).
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 64,
        # Every test logs in from 127.0.0.1: login throttling is tested on its own app (test_throttle).
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture(scope="session")
def app(database_url: str, server_urls: tuple[str, str]) -> Iterator[Flask]:
    application = create_app(test_config(database_url, server_urls[1]))
    with application.app_context():
        flask_migrate.upgrade()
        reference.load_reference_data()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield application


@pytest.fixture
def app_ctx(app: Flask, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app context whose session lives in a transaction rolled back after the test.

    Tests marked `committing` get the real engine instead, and the tables are emptied after.
    """
    with app.app_context():
        if request.node.get_closest_marker("committing"):
            yield app
            db.session.remove()
            _truncate_all()
            for name in queue.QUEUE_NAMES:  # ids restart after TRUNCATE: no stale job may find a new row
                queue.get_queue(name).empty()
            return
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(
                bind=connection,
                class_=Session,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
            ),
            scopefunc=original.registry.scopefunc,  # one session per app context, as in the app
        )
        try:
            yield app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name not in KEEP_TABLES)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


# Reference data loaded by migrations or once per session survives truncation.
KEEP_TABLES = {"offence_codes", "states", "platforms", "abuse_types", "agencies", "alembic_version"}


@pytest.fixture
def factory(app_ctx: Flask) -> Factory:
    return Factory()


@pytest.fixture
def client(app_ctx: Flask) -> ApiClient:
    return ApiClient(app_ctx.test_client())


@pytest.fixture
def make_client(app_ctx: Flask):  # type: ignore[no-untyped-def]
    """Several independent browsers (cookie jars) in one test."""
    return lambda: ApiClient(app_ctx.test_client())
