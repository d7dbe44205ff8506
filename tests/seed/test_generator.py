"""The synthetic data generator, checked with SQL on a small run inside the test's transaction."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from casework import encryption
from casework.extensions import db
from casework.identifiers import normalise
from casework.models.cases import Case, CaseCounter, CaseStatus, IntakeChannel, Victim
from casework.models.identifiers import IdentifierKind
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from seed import generator

N = 300
KEY = b"test-identity-key"


@pytest.fixture
def owners(factory) -> dict[str, Any]:
    police = [factory.organisation(OrganisationKind.POLICE_UNIT, code=f"TPOL{i}") for i in (1, 2)]
    ngos = [factory.organisation(OrganisationKind.NGO, code=f"TNGO{i}") for i in (1, 2)]
    agency = factory.organisation(OrganisationKind.AGENCY, code="TAGY")
    investigator = factory.user(Role.INVESTIGATOR, organisation=police[0])
    return {"police": police, "ngos": ngos, "agency": agency, "investigator": investigator}


def _connection() -> Any:
    """The psycopg2 connection under the test's transaction: nothing the generator writes is committed."""
    return db.session.connection().connection.driver_connection


def _generate(n: int = N, seed: int = 1) -> dict[str, int]:
    return generator.generate(_connection(), n, identity_key=KEY, key_ring=encryption.ring(), seed=seed, progress=False)


def _sql(query: str, **params: Any) -> list[tuple[Any, ...]]:
    with _connection().cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _one(query: str, **params: Any) -> Any:
    return _sql(query, **params)[0][0]


def _assert_none(query: str, **params: Any) -> None:
    """The query selects offending rows: there must be none (a few are shown if there are)."""
    offending = _sql(f"{query} LIMIT 5", **params)
    assert offending == [], offending


def test_counts_returned_match_the_tables(owners):
    counts = _generate()
    assert counts["cases"] == N
    for table, count in counts.items():
        assert _one(f"SELECT count(*) FROM {table}") == count, table
    assert counts["victims"] >= N and counts["case_offences"] >= N and counts["identifiers"] > 0


def test_every_case_has_a_victim_and_an_offence_and_only_police_units_and_ngos_own_cases(owners):
    _generate()
    _assert_none("SELECT * FROM cases c WHERE NOT EXISTS (SELECT 1 FROM victims v WHERE v.case_id = c.id)")
    _assert_none("SELECT * FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_offences o WHERE o.case_id = c.id)")
    _assert_none("SELECT * FROM cases WHERE organisation_id = %(id)s", id=owners["agency"].id)
    per_case = dict(
        _sql("SELECT n, count(*) FROM (SELECT count(*) n FROM case_offences GROUP BY case_id) x GROUP BY n")
    )
    assert set(per_case) <= {1, 2, 3, 4} and len(per_case) >= 3


def test_every_offence_concerns_victims_of_its_own_case(owners):
    _generate()
    _assert_none(
        "SELECT * FROM case_offences o WHERE NOT EXISTS (SELECT 1 FROM case_offence_victims ov WHERE"
        " ov.case_offence_id = o.id)"
    )
    _assert_none(
        "SELECT * FROM case_offence_victims ov JOIN case_offences o ON o.id = ov.case_offence_id"
        " JOIN victims v ON v.id = ov.victim_id WHERE v.case_id <> o.case_id"
    )


def test_identifiers_are_shared_between_cases_and_between_organisations(owners):
    _generate()
    shared = _sql(
        "SELECT ci.identifier_id, count(DISTINCT ci.case_id), count(DISTINCT c.organisation_id)"
        " FROM case_identifiers ci JOIN cases c ON c.id = ci.case_id GROUP BY ci.identifier_id"
    )
    assert sum(1 for _, cases, _ in shared if cases >= 2) >= 10
    assert any(orgs >= 2 for _, _, orgs in shared)
    assert max(cases for _, cases, _ in shared) >= 10  # a serial perpetrator


def test_identifier_values_are_stored_normalised(owners):
    _generate()
    patterns = {
        "phone": (r"\+601\d{8,9}", r""),
        "email": (r"[a-z0-9.]+@example\.net", r""),
        "username": (r"[a-z0-9_.]+", r"[a-z_]+"),
        "bank_account": (r"\d+", r"[a-z ]+"),
        "chat_group": (r"https://t\.me/[a-z0-9_]+", r"telegram"),
        "url": (r"https://[a-z.]+/[a-z0-9_/]+", r""),
        "ewallet": (r"\+601\d{8,9}", r"[a-z ']+"),
    }
    rows = _sql("SELECT kind::text, value, qualifier FROM identifiers")
    assert {kind for kind, _, _ in rows} >= {"phone", "username", "bank_account", "chat_group"}
    for kind, value, qualifier in rows:
        value_pattern, qualifier_pattern = patterns[kind]
        assert re.fullmatch(value_pattern, value), (kind, value)
        assert re.fullmatch(qualifier_pattern, qualifier), (kind, qualifier)
    platforms = {q for k, _, q in rows if k == "username"}
    assert platforms <= {p for (p,) in _sql("SELECT code FROM platforms")}
    # What the API would store for the same value: a look-up by any spelling finds them.
    for kind, value, qualifier in rows:
        assert normalise(IdentifierKind(kind), value, qualifier or None) == (qualifier, value), (kind, value)


def test_minors_are_children_and_only_they_are_victims_of_child_offences(owners):
    _generate()
    minors, cases_with_minors = _sql(
        "SELECT count(*) FILTER (WHERE is_minor), count(DISTINCT case_id) FILTER (WHERE is_minor) FROM victims"
    )[0]
    assert minors > 0 and 0.05 * N <= cases_with_minors <= 0.25 * N
    _assert_none("SELECT * FROM victims WHERE is_minor AND age_years NOT BETWEEN 8 AND 17")
    _assert_none("SELECT * FROM victims WHERE NOT is_minor AND age_years < 18")
    _assert_none(
        "SELECT * FROM cases c WHERE has_minor_victim <> EXISTS (SELECT 1 FROM victims v WHERE"
        " v.case_id = c.id AND v.is_minor)"
    )
    _assert_none(
        "SELECT * FROM case_offence_victims ov JOIN case_offences o ON o.id = ov.case_offence_id"
        " JOIN offence_codes oc ON oc.id = o.offence_code_id JOIN victims v ON v.id = ov.victim_id"
        " WHERE oc.statute_code = 'SOAC' AND NOT v.is_minor"
    )
    names = db.session.scalars(select(Victim.full_name)).all()  # decrypted by the model's column type
    assert names and all(re.fullmatch(r"Synthetic Person \d+", name) for name in names)


def test_common_offences_dominate_and_rape_is_a_minority(owners):
    _generate()
    share = dict(
        _sql(
            "SELECT oc.code, count(DISTINCT o.case_id)::float / %(n)s FROM case_offences o"
            " JOIN offence_codes oc ON oc.id = o.offence_code_id GROUP BY oc.code",
            n=N,
        )
    )
    assert share["PC 383"] > 0.3 and share.get("PC 506", 0) > 0.1 and share.get("CMA 233(1)", 0) > 0.1
    assert 0 < share.get("PC 376(1)", 0) < 0.15


def test_police_and_ngo_cases_and_links_between_them(owners):
    _generate()
    police_ids = tuple(o.id for o in owners["police"])
    police = _sql(
        "SELECT intake_channel::text, reported_to_police, police_report_number IS NOT NULL FROM cases"
        " WHERE organisation_id IN %(ids)s",
        ids=police_ids,
    )
    assert police and all(row == ("police_report", True, True) for row in police)
    ngo = _sql(
        "SELECT reported_to_police, police_case_id FROM cases WHERE organisation_id NOT IN %(ids)s", ids=police_ids
    )
    assert sum(1 for reported, _ in ngo if not reported) > len(ngo) / 2  # most never reach the police
    assert any(linked for _, linked in ngo)
    _assert_none(
        "SELECT * FROM cases n JOIN cases p ON p.id = n.police_case_id WHERE p.organisation_id NOT IN %(ids)s"
        " OR NOT n.reported_to_police OR n.received_on > p.received_on",
        ids=police_ids,
    )


def test_victims_recur_between_police_and_ngo_cases_by_keyed_hash(owners):
    _generate()
    police_ids = tuple(o.id for o in owners["police"])
    victims = db.session.execute(select(Victim.national_id, Victim.national_id_hash, Victim.phone, Victim.phone_hash))
    national_id, digest, phone, phone_digest = next(v for v in victims if v.national_id and v.phone)
    assert digest == hmac.new(KEY, f"national_id:{national_id}".encode(), hashlib.sha256).hexdigest()
    digest = phone_digest
    assert digest == hmac.new(KEY, f"phone:{phone}".encode(), hashlib.sha256).hexdigest()
    overlap = _one(
        "SELECT count(*) FROM (SELECT coalesce(national_id_hash, phone_hash) h FROM victims v JOIN cases c ON"
        " c.id = v.case_id WHERE c.organisation_id IN %(ids)s INTERSECT SELECT coalesce(national_id_hash,"
        " phone_hash) FROM victims v JOIN cases c ON c.id = v.case_id WHERE c.organisation_id NOT IN %(ids)s) x",
        ids=police_ids,
    )
    assert overlap >= 5


def test_statuses_dates_and_money_are_consistent(owners):
    _generate()
    _assert_none("SELECT * FROM cases WHERE (status = 'closed') <> (outcome IS NOT NULL)")
    _assert_none("SELECT * FROM cases WHERE status = 'closed' AND closed_at::date < received_on")
    assert _one("SELECT count(DISTINCT status) FROM cases") >= 3
    _assert_none("SELECT * FROM cases WHERE incident_started_on > received_on")
    _assert_none("SELECT * FROM cases WHERE incident_ended_on < incident_started_on")
    assert _one("SELECT count(DISTINCT year) FROM cases") >= 4
    _assert_none("SELECT * FROM cases WHERE payments_count > 0 AND NOT demand_money")
    _assert_none("SELECT * FROM cases WHERE payments_count NOT BETWEEN 0 AND 3")
    assert _one("SELECT count(*) FROM cases WHERE payments_count > 0") > 0
    assert _one("SELECT count(*) FROM cases WHERE cardinality(moved_to_platforms) > 0") > N / 4
    _assert_none(
        "SELECT * FROM cases WHERE reference <> (SELECT code FROM organisations o WHERE"
        " o.id = organisation_id) || '-' || year || '-' || lpad(number::text, 6, '0')"
    )


def _fingerprint() -> list[Any]:
    """Everything generated, ids included (a run continues after the largest ids, so a rerun from
    the same data gives the same ones even though sequences are not rolled back). Encrypted values
    are compared decrypted: every encryption draws a fresh nonce."""
    ring = encryption.ring()
    found = []
    for table in ("cases", "victims", "case_offences", "case_offence_victims", "identifiers", "case_identifiers") + (
        "evidence",
        "case_counters",
    ):
        with _connection().cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
            names = [column.name for column in cursor.description]
            found.append(
                [
                    tuple(
                        ring.decrypt(bytes(value), f"{table}.{name}") if isinstance(value, memoryview) else value
                        for name, value in zip(names, row, strict=True)
                    )
                    for row in cursor.fetchall()
                ]
            )
    return found


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(owners):
    def run(seed: int) -> list[Any]:
        with _connection().cursor() as cursor:
            cursor.execute("SAVEPOINT generator_run")
            _generate(100, seed=seed)
            found = _fingerprint()
            cursor.execute("ROLLBACK TO SAVEPOINT generator_run")
        return found

    first = run(7)
    assert run(7) == first
    assert run(8) != first


def test_runs_on_top_of_existing_rows_and_the_app_can_carry_on(owners):
    first = _generate(100)
    second = _generate(100)  # same seed: same identifiers, which must be reused, not duplicated
    assert _one("SELECT count(*) FROM cases") == 200
    assert second["identifiers"] < first["identifiers"]
    assert (
        _one("SELECT count(*) FROM (SELECT 1 FROM case_identifiers GROUP BY identifier_id HAVING count(*) > 1) x") > 0
    )
    counters = _sql("SELECT organisation_id, year, last_number FROM case_counters ORDER BY 1, 2")
    numbers = _sql("SELECT organisation_id, year, max(number) FROM cases GROUP BY 1, 2 ORDER BY 1, 2")
    assert counters == numbers

    largest = _one("SELECT max(id) FROM cases")
    org = owners["police"][0]
    counter = db.session.get(CaseCounter, (org.id, 2026))
    case = Case(
        organisation_id=org.id,
        reference=f"{org.code}-2026-{counter.last_number + 1:06d}",
        year=2026,
        number=counter.last_number + 1,
        intake_channel=IntakeChannel.POLICE_REPORT,
        received_on=date(2026, 11, 21),
        status=CaseStatus.OPEN,
    )
    case.victims.append(Victim(pseudonym="After"))
    db.session.add(case)
    db.session.flush()  # would fail on a duplicate id or reference
    assert case.id > largest
    assert case.victims[0].id > _one("SELECT max(id) FROM victims WHERE id <> %(id)s", id=case.victims[0].id)


def test_refuses_without_owning_organisations(app_ctx):
    with pytest.raises(ValueError, match="No police unit or NGO"):
        _generate(10)


@pytest.mark.committing
def test_cli_creates_synthetic_organisations_and_cases(app_ctx):
    result = app_ctx.test_cli_runner().invoke(args=["seed", "synthetic", "--cases", "40", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "cases 40" in result.output
    codes = set(db.session.scalars(select(Case.reference)))
    assert (
        len(codes) == 40 and any(c.startswith("SYNPOL") for c in codes) and any(c.startswith("SYNNGO") for c in codes)
    )
    assert db.session.scalar(select(func.count()).select_from(Victim)) >= 40


def test_cases_carry_their_offence_code_ids(owners):
    _generate()
    assert _one("SELECT count(*) FROM cases WHERE cardinality(offence_code_ids) > 0") == N
    mismatched = _sql(
        "SELECT count(*) FROM cases c WHERE c.offence_code_ids IS DISTINCT FROM "
        "(SELECT array_agg(offence_code_id ORDER BY id) FROM case_offences o WHERE o.case_id = c.id)"
    )
    assert mismatched == [(0,)]
