"""Bad input gets a 422 naming the field, and nothing at all is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models.cases import Case, Victim
from casework.models.identifiers import Identifier
from casework.models.users import Role

VALID = {
    "intake_channel": "ngo_intake",
    "received_on": "2026-03-01",
    "victims": [{"key": "a", "gender": "female"}],
    "identifiers": [{"kind": "phone", "value": "0123456789"}],
    "offences": [{"code": "PC 383", "victims": ["a"]}],
}


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Case, Victim, Identifier))


@pytest.fixture
def caseworker(factory, make_client):  # type: ignore[no-untyped-def]
    return make_client().as_user(factory.user(Role.CASEWORKER))


@pytest.mark.parametrize(
    "change, path",
    [
        ({"surprise": 1}, ["surprise"]),
        ({"received_on": "2026-02-30"}, ["received_on"]),
        ({"received_on": "2999-01-01"}, ["received_on"]),
        ({"received_on": 20260301}, ["received_on"]),
        ({"incident_started_on": "2026-03-05"}, ["incident_started_on"]),
        ({"incident_started_on": "2026-02-01", "incident_ended_on": "2026-01-01"}, ["incident_ended_on"]),
        ({"intake_channel": "pigeon"}, ["intake_channel"]),
        ({"identifiers": [{"kind": "phone", "value": "12345"}]}, ["identifiers", "0", "value"]),
        ({"identifiers": [{"kind": "username", "value": "x"}]}, ["identifiers", "0", "value"]),
        ({"offences": [{"code": "PC 383", "victims": ["zz"]}]}, ["offences", "0", "victims"]),
        ({"offences": [{"code": "PC 383"}, {"code": "pc  383"}]}, ["offences", "1", "code"]),
        ({"victims": [{"gender": "female", "age_years": 2.5}]}, ["victims", "0", "age_years"]),
        ({"victims": [{"gender": "female", "phone": "not a phone"}]}, ["victims", "0", "phone"]),
        ({"payments": {"count": -1}}, ["payments", "count"]),
        ({"evidence": [{"kind": "posted_url"}]}, ["evidence", "0", "url"]),
        ({"evidence": [{"kind": "screenshot", "sha256": "xyz"}]}, ["evidence", "0", "sha256"]),
    ],
)
def test_schema_errors_name_the_field(caseworker, change, path):
    before = counts()
    response = caseworker.post("/api/v1/cases", json={**VALID, **change})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"][".".join(path)]  # one flat key per field: victims.0.phone
    assert counts() == before


@pytest.mark.parametrize(
    "change, field",
    [
        ({"offences": [{"code": "PC 999", "victims": ["a"]}]}, "offences.0.code"),
        ({"state": "MY-99"}, "state"),
        ({"abuse_types": ["alien_abduction"]}, "abuse_types"),
        ({"contact_platform": "myspace"}, "contact_platform"),
    ],
)
def test_unknown_reference_codes_are_422_and_nothing_is_written(caseworker, change, field):
    before = counts()
    response = caseworker.post("/api/v1/cases", json={**VALID, **change})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert counts() == before


def test_unknown_offence_code_names_its_position(caseworker):
    response = caseworker.post(
        "/api/v1/cases", json={**VALID, "offences": [{"code": "PC 383"}, {"code": "PC 999", "victims": ["a"]}]}
    )
    assert list(response.get_json()["errors"]) == ["offences.1.code"]
    assert response.get_json()["errors"]["offences.1.code"][0].startswith("Unknown offence code 'PC 999'.")


def test_errors_never_echo_victim_data(caseworker):
    response = caseworker.post(
        "/api/v1/cases",
        json={**VALID, "victims": [{"gender": "female", "full_name": "Siti Aminah", "phone": "999"}]},
    )
    assert response.status_code == 422
    assert "Siti" not in response.get_data(as_text=True) and "999" not in response.get_data(as_text=True)
