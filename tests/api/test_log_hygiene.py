"""Logs carry no victim data: a database refusing a victim write leaves no sent value in any log.

The API validates what it can, so each kind of database error is forced by a constraint added
inside the test's own transaction (rolled back with it): the request takes its normal path to
the INSERT, and PostgreSQL refuses it the way it would refuse a value the schema let through.
"""

from __future__ import annotations

import logging
import traceback

import pytest
import sqlalchemy as sa

from casework import log_hygiene
from casework.extensions import db
from casework.models.users import Role

VICTIM = {
    "full_name": "Nurul Aisyah binti Kamaruddin",
    "national_id": "900101-14-5678",
    "phone": "012-345 6789",
    "email": "aisyah.kamaruddin@example.test",
    "safe_contact_instructions": "Only after nine at night; say it is the parcel from Kak Rosnah",
    "date_of_birth": "1990-01-01",
    "gender": "female",
    "declared_annual_income": "36000.00",
}
# What must never appear: each value as sent, and as the database would echo it after normalising.
SECRETS = [
    "Aisyah",
    "Kamaruddin",
    "900101",
    "345 6789",
    "3456789",
    "aisyah.kamaruddin",
    "Rosnah",
    "parcel",
    "36000",
]

# Each forces one class of database error on the victim INSERT (SQLSTATE in the name).
FORCED = {
    "check_violation_23514": ["ALTER TABLE victims ADD CONSTRAINT ck_log_test CHECK (id < 0) NOT VALID"],
    "not_null_violation_23502": [
        "ALTER TABLE victims ADD COLUMN log_test text NOT NULL DEFAULT 'x'",
        "ALTER TABLE victims ALTER COLUMN log_test DROP DEFAULT",
    ],
    # The identity columns are ciphertext under a random nonce; their blind index collides instead.
    "unique_violation_23505": ["CREATE UNIQUE INDEX ix_log_test ON victims (case_id, national_id_hash)"],
    "foreign_key_violation_23503": [
        "CREATE TABLE log_test_parent (id integer PRIMARY KEY)",
        "ALTER TABLE victims ADD CONSTRAINT fk_log_test FOREIGN KEY (case_id)"
        " REFERENCES log_test_parent (id) NOT VALID",
    ],
    "numeric_value_out_of_range_22003": [
        "ALTER TABLE victims ALTER COLUMN declared_annual_income TYPE numeric(4, 2)",
    ],
    "string_data_right_truncation_22001": ["ALTER TABLE victims ALTER COLUMN pseudonym TYPE varchar(2)"],
    # A trigger that names the whole row in its message: not a parameter, so hide_parameters
    # alone would not help; only withholding the database's text does.
    "raise_exception_P0001": [
        """CREATE FUNCTION log_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused row %', NEW USING DETAIL = NEW::text, HINT = NEW::text; END $$""",
        "CREATE TRIGGER log_test_refuse BEFORE INSERT ON victims FOR EACH ROW EXECUTE FUNCTION log_test_refuse()",
    ],
}


def _rendered(caplog: pytest.LogCaptureFixture) -> str:
    """Everything a handler could write: caplog's text, each record formatted afresh, and any
    exception still attached to a record rendered in full."""
    texts = [caplog.text]
    for record in caplog.records:
        texts.append(logging.Formatter("%(name)s %(message)s").format(record))
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(texts)


CASE = {"intake_channel": "hotline", "received_on": "2026-06-10"}


@pytest.mark.parametrize("path", ["intake", "add victim"])
@pytest.mark.parametrize("kind", sorted(FORCED))
def test_a_refused_victim_write_logs_no_value_it_sent(make_client, factory, caplog, kind, path):
    client = make_client().as_user(factory.user(Role.SUPERVISOR))
    unique = kind.startswith("unique")
    if path == "intake":  # POST /cases writes its victims in one statement (services/bulk_insert.py)
        url, body, route = (
            "/api/v1/cases",
            CASE | {"victims": [VICTIM, VICTIM] if unique else [VICTIM]},
            "/api/v1/cases",
        )
    else:
        case = client.post("/api/v1/cases", json=CASE)
        assert case.status_code == 201, case.get_json()
        url, body, route = (
            f"/api/v1/cases/{case.get_json()['id']}/victims",
            VICTIM,
            "/api/v1/cases/<int:case_id>/victims",
        )
    connection = db.session.connection()
    for statement in FORCED[kind]:
        connection.execute(sa.text(statement))
    if unique and path == "add victim":  # the first write passes, the same one again is refused
        assert client.post(url, json=body).status_code == 201

    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        response = client.post(url, json=body)

    assert response.status_code == 500
    assert not [s for s in SECRETS if s in response.get_data(as_text=True)]
    logged = _rendered(caplog)
    assert "unhandled sqlalchemy.exc." in logged and kind.rsplit("_", 1)[1] in logged  # type and SQLSTATE
    assert f"POST {route} (request_id={response.get_json()['request_id']})" in logged
    assert 'File "' in logged  # the frames are there to debug with
    assert [s for s in SECRETS if s in logged] == []


def test_the_engine_hides_bound_parameters(app_ctx):
    assert db.engine.hide_parameters is True


@pytest.fixture
def bare_engine(database_url):  # type: ignore[no-untyped-def]
    """An engine WITHOUT hide_parameters, to show the second line holds on its own."""
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def test_the_log_filter_cleans_database_errors_logged_any_way(app_ctx, bare_engine, caplog):
    # Values only through names: a traceback shows source lines, and the app's hold no values.
    name = VICTIM["full_name"]
    with bare_engine.connect() as conn:
        # A trigger naming the row in its message: the one passage no pattern can know.
        conn.execute(sa.text("CREATE TEMP TABLE log_test (name text)"))
        conn.execute(sa.text(FORCED["raise_exception_P0001"][0].replace("log_test_refuse", "pg_temp.log_test_refuse")))
        conn.execute(
            sa.text(
                "CREATE TRIGGER log_test_refuse BEFORE INSERT ON log_test FOR EACH ROW"
                " EXECUTE FUNCTION pg_temp.log_test_refuse()"
            )
        )
        try:
            conn.execute(sa.text("INSERT INTO log_test VALUES (:name)"), {"name": name})
        except sa.exc.InternalError as error:
            raw = str(error)
            log = logging.getLogger("casework.test")
            with caplog.at_level(logging.INFO):
                log.exception("write failed")
                log.error("write failed: %s", error)
                log.warning("write failed: %r", error.orig)
                log.info(raw)
                log.error("job failed\n%s", traceback.format_exc())  # how RQ logs a failed job
    assert raw.count("Aisyah") == 4  # message, detail, hint and parameters, without the filter
    logged = _rendered(caplog)
    assert "Aisyah" not in logged and "Kamaruddin" not in logged
    assert "InternalError (SQLSTATE P0001)" in logged and "write failed" in logged
    assert "job failed\nTraceback" in logged


def test_the_filter_also_sits_on_the_root_handlers_and_installs_once(app_ctx):
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        log_hygiene.install()
        log_hygiene.install()
        assert sum(isinstance(f, log_hygiene.CleaningFilter) for f in handler.filters) == 1
        assert getattr(logging.getLogRecordFactory(), "casework_cleaning", False)
    finally:
        root.removeHandler(handler)


def test_sanitised_traceback_keeps_frames_and_types_not_messages():
    def inner() -> None:
        raise ValueError(VICTIM["full_name"])

    try:
        try:
            inner()
        except ValueError as exc:
            raise RuntimeError(VICTIM["national_id"]) from exc
    except RuntimeError as error:
        text = log_hygiene.sanitised_traceback(error)
    assert "Aisyah" not in text and "900101" not in text
    assert text.index("ValueError") < text.index("direct cause") < text.index("RuntimeError")
    assert "in inner" in text
