"""Migrations: one head, upgrade -> downgrade -> upgrade works, and models match migrations."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from casework import create_app
from casework.app import MIGRATIONS_DIR
from casework.extensions import db


def _script(app) -> ScriptDirectory:  # type: ignore[no-untyped-def]
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config(str(MIGRATIONS_DIR))
        return ScriptDirectory.from_config(config)


def test_single_head(app):
    assert len(_script(app).get_heads()) == 1


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.fixture
def scratch_app(app, database_url):  # type: ignore[no-untyped-def]
    """An app on its own empty database, so downgrading does not disturb other tests."""
    url = make_url(database_url)
    name = f"{url.database}_migrations"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    scratch = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": url.set(database=name).render_as_string(False)})
    yield scratch
    with scratch.app_context():
        db.engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_downgrade_upgrade(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
        assert set(tables) <= {"alembic_version"}
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    assert current == _script(scratch_app).get_current_head()
