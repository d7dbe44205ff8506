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


def test_encryption_migration_encrypts_existing_rows_and_downgrade_restores_them(scratch_app):
    """Rows written in clear before the encryption migration are encrypted by it, read back through
    the models, and decrypted again by its downgrade."""
    from casework import encryption
    from casework.models.cases import Victim
    from casework.models.referrals import Referral
    from casework.services import reference

    before = "5a15e8d7ee62"
    with scratch_app.app_context():
        flask_migrate.upgrade(revision=before)
        reference.load_reference_data()
        db.session.commit()
        with db.engine.begin() as conn:
            insert = [
                "INSERT INTO organisations (id, name, kind, code) VALUES (1, 'NGO', 'ngo', 'NGO'),"
                " (2, 'JBG', 'agency', 'JBGX')",
                "INSERT INTO users (id, organisation_id, password_hash, role, full_name, email)"
                " VALUES (1, 1, 'x', 'caseworker', 'Worker', 'w@example.test')",
                "INSERT INTO cases (id, status, received_on, moved_to_platforms, abuse_types, demand_money,"
                " demand_images, demand_acts, payments_count, has_minor_victim, version, organisation_id, reference,"
                " year, number, intake_channel, reported_to_police)"
                " VALUES (1, 'open', '2026-01-01', '{}', '{}', false, false, false, 0, false, 1, 1, 'NGO-2026-000001',"
                " 2026, 1, 'ngo_intake', false)",
                "INSERT INTO victims (id, case_id, pseudonym, gender, is_minor, full_name, national_id, date_of_birth,"
                " phone, email, safe_contact_instructions) VALUES (1, 1, 'V1', 'female', false, 'Nur Aisyah',"
                " '990101-14-5678', '1999-01-01', '012-998 7766', 'aisyah@example.test', 'after 9pm'),"
                " (2, 1, 'V2', 'female', false, NULL, NULL, NULL, NULL, NULL, NULL)",
                "INSERT INTO consents (id, victim_id, case_id, recorded_by_id, obtained_at, includes_identity, method,"
                " decision, purpose, agency_acronym, note) VALUES (1, 1, 1, 1, now(), false, 'written', 'given',"
                " 'legal_aid', 'JBG', 'Aunt Salmah present')",
                "INSERT INTO referrals (id, sender_organisation_id, agency_acronym, recipient_organisation_id, shared,"
                " created_by_id, status, case_id, purpose, victim_id, consent_id, note) VALUES (1, 1, 'JBG', 2,"
                " '{\"victim\": {\"national_id\": \"990101-14-5678\"}}', 1, 'draft', 1, 'legal_aid', 1, 1,"
                " 'Call Aisyah')",
                "INSERT INTO referral_events (referral_id, action, note) VALUES (1, 'created', 'Call Aisyah')",
            ]
            for statement in insert:
                conn.execute(sa.text(statement))

        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT v::text FROM victims v")).scalars().all()
            raw += conn.execute(sa.text("SELECT t::text FROM referrals t")).scalars().all()
            raw += (
                conn.execute(sa.text("SELECT t::text FROM consents t UNION ALL SELECT t::text FROM referral_events t"))
                .scalars()
                .all()
            )
            stored = bytes(conn.execute(sa.text("SELECT full_name FROM victims WHERE id = 1")).scalar_one())
            keys = conn.execute(sa.text("SELECT key_id FROM encryption_keys")).scalars().all()
        assert not [
            value for value in ("Aisyah", "990101", "998 7766", "1999-01-01", "9pm", "Salmah") if value in "".join(raw)
        ]
        assert encryption.key_id_of(stored) == "dev" and keys == ["dev"]
        victim = db.session.get(Victim, 1)
        assert (victim.full_name, victim.date_of_birth.isoformat(), victim.phone) == (
            "Nur Aisyah",
            "1999-01-01",
            "012-998 7766",
        )
        assert db.session.get(Victim, 2).full_name is None
        assert db.session.get(Referral, 1).shared == {"victim": {"national_id": "990101-14-5678"}}
        db.session.remove()

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT full_name, date_of_birth::text, email FROM victims WHERE id = 1")).one()
            shared = conn.execute(sa.text("SELECT shared->'victim'->>'national_id', note FROM referrals")).one()
            note = conn.execute(sa.text("SELECT note FROM consents")).scalar_one()
        assert tuple(row) == ("Nur Aisyah", "1999-01-01", "aisyah@example.test")
        assert tuple(shared) == ("990101-14-5678", "Call Aisyah") and note == "Aunt Salmah present"


def test_mfa_secret_migration_encrypts_existing_secrets_and_downgrade_restores_them(scratch_app):
    from casework import encryption
    from casework.models.users import User

    before, secret = "c7e1a9d2b4f6", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with scratch_app.app_context():
        flask_migrate.upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO organisations (id, name, kind, code) VALUES (1, 'NGO', 'ngo', 'NGO')"))
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, organisation_id, password_hash, role, full_name, email, mfa_secret)"
                    " VALUES (1, 1, 'x', 'investigator', 'A', 'a@example.test', :s),"
                    " (2, 1, 'x', 'caseworker', 'B', 'b@example.test', NULL)"
                ),
                {"s": secret},
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            stored = bytes(conn.execute(sa.text("SELECT mfa_secret FROM users WHERE id = 1")).scalar_one())
        assert secret.encode() not in stored and encryption.key_id_of(stored) == "dev"
        assert db.session.get(User, 1).mfa_secret == secret and db.session.get(User, 2).mfa_secret is None
        db.session.remove()

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT mfa_secret FROM users ORDER BY id")).scalars().all()
        assert rows == [secret, None]
