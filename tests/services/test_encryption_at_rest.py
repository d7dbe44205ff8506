"""Victim identity at rest: nothing in clear in the tables or a dump, transparent reads through the
API, rotation to a new key while requests write, and a wrong or missing key refused."""

from __future__ import annotations

import base64
import random
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pgserver
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from casework import encryption
from casework.config import ConfigError
from casework.encryption import DecryptionError, KeyRing, key_id_of
from casework.extensions import db
from casework.models.cases import Gender, Victim
from casework.models.encryption_keys import EncryptionKey
from casework.models.organisations import OrganisationKind
from casework.models.referrals import Consent, Referral
from casework.models.users import Role, User
from casework.services import demo, encryption_keys
from seed import generator
from tests.referral_world import VICTIM, case_body

# What the tests put in, and what the synthetic demo people look like: none may be found in clear.
KNOWN_VALUES = ("Aisyah", "990101", "998 7766", "9987766", "aisyah@", "9pm", "1999-01-01", "Aunt Salmah")
SYNTHETIC_PATTERNS = (r"Synthetic Person \d", r"SYN\d{9}", r"synthetic\.person\d+@", r"\+6011\d{8}", r"text only")
NEW_KEY = bytes(range(100, 132))


@pytest.fixture
def ring_swap(app):  # type: ignore[no-untyped-def]
    """Replace the app's key ring for one test (as a restart with new configuration would)."""
    original = app.extensions[encryption.EXTENSION]

    def swap(ring: KeyRing) -> KeyRing:
        app.extensions[encryption.EXTENSION] = ring
        return ring

    yield swap
    app.extensions[encryption.EXTENSION] = original


def _dev_key() -> bytes:
    return encryption.ring().keys["dev"]


def _raw(table: str, column: str) -> list[bytes]:
    rows = db.session.execute(sa.text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars()
    return [bytes(value) for value in rows]


def _found_in_clear(text: str) -> list[str]:
    """Identity values readable in a table's or a dump's text. bytea (shown as hex) is left out:
    among thousands of ciphertexts, short runs such as "990101" or "9pm" turn up by chance both in
    the hex and in the raw bytes; that no encrypted column holds a value in clear is checked by the
    key ids instead (`values_per_key`). A value of digits counts only where no letter or digit
    touches it (record keys and hashes are long runs of digits)."""
    text = re.sub(r"\\+x(?:[0-9a-f]{2})+", "", text)
    found = [
        value
        for value in KNOWN_VALUES
        if re.search(
            rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])" if value[0].isdigit() else re.escape(value), text
        )
    ]
    return found + [pattern for pattern in SYNTHETIC_PATTERNS if re.search(pattern, text)]


def _world(factory: Any, make_client: Any) -> Any:
    """An NGO caseworker who opens a case with a full identity, records a consent note naming a
    relative, and sends a legal aid referral (its snapshot holds the national ID) to the demo JBG."""
    ngo = factory.organisation(OrganisationKind.NGO, code="ENCNGO")
    user = factory.user(Role.CASEWORKER, ngo)
    db.session.commit()  # requests audit under the chain's lock: the test's session must not hold it
    caseworker = make_client().as_user(user)
    case = caseworker.post("/api/v1/cases", json=case_body()).get_json()
    victim_id = case["victims"][0]["id"]
    consent = {"victim_id": victim_id, "agency": "JBG", "purpose": "legal_aid", "decision": "given"}
    consent |= {"method": "written", "note": "Aunt Salmah was present"}
    assert caseworker.post(f"/api/v1/cases/{case['id']}/consents", json=consent).status_code == 201
    draft = {"victim_id": victim_id, "agency": "JBG", "purpose": "legal_aid", "note": "Call Aisyah after 9pm"}
    referral = caseworker.post(f"/api/v1/cases/{case['id']}/referrals", json=draft).get_json()
    sent = caseworker.post(f"/api/v1/referrals/{referral['id']}/send", json={})
    assert sent.status_code == 200, sent.get_json()
    return case


@pytest.mark.committing
def test_after_demo_seeding_no_identity_is_in_clear_in_the_tables_or_a_dump(app_ctx, factory, make_client):
    demo.seed_everything(echo=lambda _: None)  # reference data, demo accounts, 3,000 synthetic cases (commits)
    _world(factory, make_client)
    db.session.commit()
    # The values are there, decrypted by the models...
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Victim)) > 300
    assert db.session.scalar(sa.select(Consent.note)) == "Aunt Salmah was present"
    assert db.session.scalar(sa.select(Referral.shared))["victim"]["national_id"] == VICTIM["national_id"]
    names = db.session.scalars(sa.select(Victim.full_name)).all()
    assert VICTIM["full_name"] in names and any(re.match(SYNTHETIC_PATTERNS[0], n) for n in names)
    # The demo accounts' TOTP secrets (whoever holds one can mint that account's codes).
    secrets = db.session.scalars(sa.select(User.mfa_secret).where(User.mfa_secret.is_not(None))).all()
    assert secrets and all(re.fullmatch(r"[A-Z2-7]{32}", s) for s in secrets)
    # ...and nowhere in clear: every encrypted column under a key, and every row of every table as text.
    assert encryption_keys.CLEAR not in encryption_keys.values_per_key()
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.text(f'SELECT t::text FROM "{table.name}" t')).scalars()
        text = "\n".join(rows)
        assert _found_in_clear(text) == [], table.name
        assert not [s for s in secrets if s in text], table.name
    # A dump of the database (what a backup or a stolen copy holds).
    # The machine's pg_dump, or the one inside pgserver when the suite runs on embedded servers.
    candidates = [shutil.which("pg_dump"), str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump")]
    found = [c for c in candidates if c and shutil.which(c)]
    if not found:
        pytest.skip("pg_dump is not installed: the tables were checked, the dump was not")
    url = make_url(db.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
    for pg_dump in found:
        dump = subprocess.run([pg_dump, "--data-only", url], capture_output=True, text=True, check=False)
        if "server version mismatch" not in dump.stderr:
            break
    else:
        pytest.skip(f"no pg_dump matches the server: {dump.stderr.strip()}")
    assert dump.returncode == 0, dump.stderr
    assert "COPY public.victims" in dump.stdout and len(dump.stdout) > 100_000
    assert _found_in_clear(dump.stdout) == []
    assert not [s for s in secrets if s in dump.stdout]


def test_identity_round_trips_through_the_api_and_is_stored_encrypted(factory, make_client):
    ngo = factory.organisation(OrganisationKind.NGO)
    client = make_client().as_user(factory.user(Role.CASEWORKER, ngo))
    case = client.post("/api/v1/cases", json=case_body()).get_json()
    read = client.get(f"/api/v1/cases/{case['id']}?include_identity=true").get_json()["victims"][0]
    for name in ("full_name", "national_id", "phone", "email", "safe_contact_instructions", "date_of_birth"):
        assert read[name] == VICTIM[name]
    for column in ("full_name", "national_id", "date_of_birth", "phone", "email", "safe_contact_instructions"):
        [stored] = _raw("victims", column)
        assert key_id_of(stored) == "dev" and VICTIM[column].encode() not in stored


def test_encrypted_columns_cannot_be_filtered_by_value(app_ctx):
    with pytest.raises(TypeError, match="use its keyed hash"):
        sa.select(Victim).where(Victim.full_name == "Nur Aisyah binti Ahmad")
    with pytest.raises(TypeError):
        sa.select(Victim).where(Victim.phone.in_(["+60129987766"]))
    with pytest.raises(TypeError):
        sa.select(Victim).where(Victim.full_name == Victim.email)
    assert "IS NOT NULL" in str(sa.select(Victim.id).where(Victim.phone.is_not(None)))
    assert "IS NULL" in str(sa.select(Victim.id).where(Victim.phone == None))  # noqa: E711


def test_a_value_under_a_key_missing_from_the_ring_is_a_clear_error_on_read(factory, make_client, ring_swap):
    ngo = factory.organisation(OrganisationKind.NGO)
    client = make_client().as_user(factory.user(Role.CASEWORKER, ngo))
    case = client.post("/api/v1/cases", json=case_body()).get_json()
    ring_swap(KeyRing({"k2": NEW_KEY}, "k2"))
    response = client.get(f"/api/v1/cases/{case['id']}?include_identity=true")
    assert response.status_code == 503 and "encryption keys" in response.get_json()["message"]
    assert "Aisyah" not in response.get_data(as_text=True)
    db.session.expire_all()
    with pytest.raises(DecryptionError, match="key id 'dev', which is not in CASEWORK_ENCRYPTION_KEYS") as raised:
        db.session.scalars(sa.select(Victim.full_name).where(Victim.case_id == case["id"])).all()
    assert "Aisyah" not in str(raised.value)


def test_the_ring_is_checked_against_the_keys_that_encrypted_the_data(app_ctx, ring_swap):
    encryption_keys.check_ring()  # records the current key (the migration did, unless a test emptied the table)
    recorded = db.session.get(EncryptionKey, "dev")
    assert recorded is not None and recorded.fingerprint == encryption.fingerprint(_dev_key())
    assert recorded.fingerprint not in repr(encryption.ring().keys)
    with pytest.raises(ConfigError, match="key 'dev' is not the key that encrypted this database's data"):
        encryption_keys.check_ring(KeyRing({"dev": NEW_KEY}, "dev"))
    with pytest.raises(ConfigError, match="encrypted under key id\\(s\\) 'dev', missing from CASEWORK_ENCRYPTION_KEYS"):
        encryption_keys.check_ring(KeyRing({"k2": NEW_KEY}, "k2"))
    encryption_keys.check_ring(KeyRing({"dev": _dev_key(), "k2": NEW_KEY}, "k2"))  # a new key joins the ring
    assert db.session.get(EncryptionKey, "k2") is not None


@pytest.mark.committing
def test_rotation_while_requests_write_loses_nothing_and_old_and_new_keys_decrypt(app, app_ctx, factory, ring_swap):
    police = factory.organisation(OrganisationKind.POLICE_UNIT, code="ROTPOL")
    factory.user(Role.INVESTIGATOR, police)
    generator.generate(
        db.session.connection().connection.driver_connection,
        800,
        identity_key=b"k",
        key_ring=encryption.ring(),
        organisations=[police.id],
        progress=False,
    )
    encryption_keys.check_ring()
    db.session.commit()
    expected = {v.id: (v.full_name, v.phone, v.national_id) for v in db.session.scalars(sa.select(Victim))}
    case_ids = sorted(set(db.session.scalars(sa.select(Victim.case_id))))
    dev = _dev_key()
    ring_swap(KeyRing({"dev": dev, "k2": NEW_KEY}, "k2"))  # the new ring: k2 is current, dev still decrypts
    db.session.remove()

    stop, started, errors = threading.Event(), threading.Event(), []
    written: dict[int, tuple[str | None, str | None, str | None]] = {}

    def write_victims() -> None:
        """Requests updating and adding victims while the rotation runs, each committed."""
        rng = random.Random(3)
        with app.app_context():
            try:
                n = 0
                while not stop.is_set() or n < 20:
                    n += 1
                    victim = db.session.get(Victim, rng.choice(sorted(expected)))
                    assert victim is not None
                    victim.full_name, victim.phone = f"Renamed {n}", f"+60133{n:06d}"
                    added = Victim(case_id=rng.choice(case_ids), pseudonym=f"New-{n}", gender=Gender.FEMALE)
                    added.full_name, added.national_id = f"Added {n}", f"ADD{n:06d}"
                    db.session.add(added)
                    db.session.commit()
                    written[victim.id] = (victim.full_name, victim.phone, victim.national_id)
                    written[added.id] = (added.full_name, None, added.national_id)
                    if n == 5:
                        started.set()
            except BaseException as error:  # reported by the test
                errors.append(error)
                started.set()
            finally:
                db.session.remove()

    writer = threading.Thread(target=write_victims)
    writer.start()
    started.wait(timeout=30)
    progressed: list[int] = []
    try:
        result = encryption_keys.rotate(batch_size=40, progress=progressed.append)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not errors, errors
    assert result.rows["victims"] >= len(expected) - len(written) and sum(progressed) == sum(result.rows.values())
    assert result.retired == ["dev"]

    db.session.remove()
    final = {v.id: (v.full_name, v.phone, v.national_id) for v in db.session.scalars(sa.select(Victim))}
    assert final == expected | written  # every concurrent update and insert is there, nothing else changed
    assert len([n for n, _, _ in written.values() if n and n.startswith("Added")]) >= 20
    assert encryption_keys.values_per_key() == {"k2": encryption_keys.values_per_key()["k2"]}
    assert encryption_keys.pending() == 0
    # The old key may now leave the ring: the new key alone reads everything; the old one alone cannot.
    encryption_keys.check_ring(ring_swap(KeyRing({"k2": NEW_KEY}, "k2")))
    db.session.remove()
    assert {v.id: (v.full_name, v.phone, v.national_id) for v in db.session.scalars(sa.select(Victim))} == final
    ring_swap(KeyRing({"dev": dev}, "dev"))
    db.session.remove()
    with pytest.raises(DecryptionError, match="key id 'k2'"):
        db.session.scalars(sa.select(Victim.full_name)).all()
    db.session.rollback()


@pytest.mark.committing
def test_the_keys_commands_generate_rotate_and_report(app_ctx, ring_swap):
    cli = app_ctx.test_cli_runner()
    generated = cli.invoke(args=["keys", "generate"])
    assert generated.exit_code == 0 and len(base64.b64decode(generated.stdout.strip())) == 32
    assert cli.invoke(args=["seed", "synthetic", "--cases", "30", "--no-progress"]).exit_code == 0
    before = cli.invoke(args=["keys", "status"])
    assert before.exit_code == 0 and "current key: dev" in before.output
    assert re.search(r"dev +\d+ values", before.output)

    ring_swap(KeyRing({"dev": _dev_key(), "k2": base64.b64decode(generated.stdout.strip())}, "k2"))
    rotated = cli.invoke(args=["keys", "rotate", "--batch-size", "7", "--no-progress"])
    assert rotated.exit_code == 0, rotated.output
    assert re.search(r"re-encrypted under k2: victims \d+", rotated.output) and "retired" in rotated.output
    after = cli.invoke(args=["keys", "status"]).output
    assert re.search(r"k2 +\d+ values", after) and not re.search(r"dev +\d+ values", after)
    again = cli.invoke(args=["keys", "rotate", "--no-progress"])  # resumable: nothing left to do
    assert again.exit_code == 0 and "nothing to do" in again.output
