"""Need-to-know: scopes answer 404 outside, identity only on request and only for allowed roles,
and every identity read is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.organisations import OrganisationKind
from casework.models.users import Role

IDENTITY = {
    "key": "a",
    "full_name": "Nur Aisyah binti Ahmad",
    "national_id": "990101-14-5678",
    "phone": "012-998 7766",
    "email": "aisyah@example.test",
    "safe_contact_instructions": "WhatsApp only after 9pm",
    "gender": "female",
    "date_of_birth": "1999-01-01",
}


def new_case(client, **extra):  # type: ignore[no-untyped-def]
    body = {"intake_channel": "ngo_intake", "received_on": "2026-05-01", "victims": [IDENTITY], **extra}
    response = client.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def two_ngos(factory, make_client):  # type: ignore[no-untyped-def]
    a, b = factory.organisation(OrganisationKind.NGO), factory.organisation(OrganisationKind.NGO)
    return (
        make_client().as_user(factory.user(Role.CASEWORKER, a)),
        make_client().as_user(factory.user(Role.CASEWORKER, b)),
    )


def test_caseworker_of_ngo_a_cannot_read_ngo_b_cases(two_ngos):
    ngo_a, ngo_b = two_ngos
    case = new_case(ngo_b)
    for method, url in [
        ("GET", f"/api/v1/cases/{case['id']}"),
        ("GET", f"/api/v1/cases/{case['id']}/links"),
        ("PATCH", f"/api/v1/cases/{case['id']}"),
        ("POST", f"/api/v1/cases/{case['id']}/offences"),
        ("POST", f"/api/v1/cases/{case['id']}/transitions"),
    ]:
        body = {"version": 1} if method == "PATCH" else {"code": "PC 509"}
        if url.endswith("transitions"):
            body = {"to": "closed", "outcome": "duplicate"}
        response = ngo_a.open(url, method, json=body if method != "GET" else None)
        assert response.status_code == 404, (method, url)
        missing_url = url.replace(f"/cases/{case['id']}", "/cases/999999")
        missing = ngo_a.open(missing_url, method, json=body if method != "GET" else None)
        assert missing.get_json() | {"request_id": None} == response.get_json() | {"request_id": None}
    assert ngo_a.get("/api/v1/cases").get_json()["total"] == 0


def test_investigators_see_their_own_and_assigned_cases_supervisors_the_unit(factory, make_client):
    unit = factory.organisation(OrganisationKind.POLICE_UNIT)
    first = make_client().as_user(factory.user(Role.INVESTIGATOR, unit))
    second = make_client().as_user(factory.user(Role.INVESTIGATOR, unit))
    supervisor = make_client().as_user(factory.user(Role.SUPERVISOR, unit))
    case = new_case(first)
    assert second.get(f"/api/v1/cases/{case['id']}").status_code == 404
    assert supervisor.get(f"/api/v1/cases/{case['id']}").status_code == 200


def test_filtered_totals_count_only_the_scope(factory, make_client):
    """Offence, abuse-type and platform totals come from organisation-qualified keys: another
    unit's matching cases and, for an investigator, colleagues' cases are never counted."""
    unit, other_unit = (
        factory.organisation(OrganisationKind.POLICE_UNIT),
        factory.organisation(OrganisationKind.POLICE_UNIT),
    )
    first = make_client().as_user(factory.user(Role.INVESTIGATOR, unit))
    second = make_client().as_user(factory.user(Role.INVESTIGATOR, unit))
    supervisor = make_client().as_user(factory.user(Role.SUPERVISOR, unit))
    elsewhere = make_client().as_user(factory.user(Role.SUPERVISOR, other_unit))
    facets = {
        "abuse_types": ["financial_sextortion"],
        "contact_platform": "instagram",
        "moved_to_platforms": ["telegram"],
        "offences": [{"code": "PC 383"}],
    }
    for client in (first, first, second, elsewhere):
        new_case(client, **facets)
    new_case(first, abuse_types=["threat_to_distribute"], offences=[{"code": "PC 383"}])

    def listed(client, query: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        body = client.get(f"/api/v1/cases?{query}").get_json()
        return body["total"], len(body["items"])

    query = "offence=PC%20383&abuse_type=financial_sextortion&platform=telegram"
    assert listed(supervisor, query) == (3, 3)
    assert listed(first, query) == (2, 2)
    assert listed(second, query) == (1, 1)
    assert listed(elsewhere, query) == (1, 1)
    assert listed(supervisor, "offence=PC%20383") == (4, 4)
    assert listed(supervisor, "platform=instagram&received_from=2026-05-01") == (3, 3)
    assert listed(supervisor, "offence=PC%20999") == (0, 0)


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LIAISON, Role.ADMIN, Role.PLATFORM_ADMIN])
def test_roles_without_case_access_get_no_case_data(factory, make_client, role, two_ngos):
    case = new_case(two_ngos[0])
    client = make_client().as_user(factory.user(role))
    assert client.get(f"/api/v1/cases/{case['id']}").status_code == 403
    assert client.get("/api/v1/cases").status_code == 403
    assert client.get("/api/v1/identifiers/lookup?kind=phone&value=0129987766").status_code == 403


def test_identity_is_hidden_by_default_and_released_on_request_with_an_audit_row(two_ngos):
    ngo_a, _ = two_ngos
    case = new_case(ngo_a)
    plain = ngo_a.get(f"/api/v1/cases/{case['id']}")
    text = plain.get_data(as_text=True)
    for value in ("Aisyah", "990101", "998 7766", "aisyah@", "9pm"):
        assert value not in text
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "victim.identity_viewed")).all()

    full = ngo_a.get(f"/api/v1/cases/{case['id']}?include_identity=true").get_json()
    victim = full["victims"][0]
    assert victim["full_name"] == IDENTITY["full_name"] and victim["phone"] == IDENTITY["phone"]
    assert victim["age_years"] == 27 and victim["is_minor"] is False
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "victim.identity_viewed"))
    assert event.object_id == str(case["id"]) and event.details == {"victim_ids": [victim["id"]]}
    assert "Aisyah" not in repr(event.details)


def test_creation_never_echoes_identity(two_ngos):
    created = new_case(two_ngos[0])
    assert "full_name" not in created["victims"][0] and "Aisyah" not in str(created)


def test_same_person_gets_the_same_keyed_hash_across_organisations(two_ngos):
    from casework.models.cases import Victim

    new_case(two_ngos[0])
    new_case(two_ngos[1], victims=[{**IDENTITY, "national_id": "990101145678", "phone": "+60129987766"}])
    rows = db.session.execute(select(Victim.national_id_hash, Victim.phone_hash)).all()
    assert len(rows) == 2 and rows[0] == rows[1] and rows[0][0] != rows[0][1]
    assert "990101" not in rows[0][0]


def test_lookup_is_audited_and_reveals_only_organisations_outside_scope(two_ngos):
    ngo_a, ngo_b = two_ngos
    new_case(ngo_b, identifiers=[{"kind": "bank_account", "value": "5621 0000 1234", "qualifier": "CIMB"}])
    result = ngo_a.get("/api/v1/identifiers/lookup?kind=bank_account&value=562100001234&qualifier=cimb").get_json()
    assert result["cases"] == [] and result["elsewhere"][0]["case_count"] == 1
    assert set(result["elsewhere"][0]) == {"organisation", "case_count"}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "identifier.lookup")).details == {
        "kind": "bank_account",
        "matched_cases": 1,
    }
