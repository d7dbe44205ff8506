"""Finding a case the way people talk about it: by reference (whole or its start), by police
report number, and offence codes by section, statute or words of the title."""

from __future__ import annotations

import pytest

from casework.models.users import Role


def _open(client, **fields):  # type: ignore[no-untyped-def]
    body = {
        "intake_channel": "police_report",
        "received_on": "2026-03-01",
        "reported_to_police": True,
        "victims": [{"key": "a", "gender": "female"}],
        "offences": [{"code": "PC 383"}],
        **fields,
    }
    response = client.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def investigator(factory, make_client):  # type: ignore[no-untyped-def]
    return make_client().as_user(factory.user(Role.INVESTIGATOR, factory.organisation(code="D11")))


def _references(client, **query):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/cases", query_string=query)
    assert response.status_code == 200, response.get_json()
    return sorted(item["reference"] for item in response.get_json()["items"])


def test_cases_are_found_by_whole_reference_and_by_its_start(investigator):
    first = _open(investigator)
    second = _open(investigator)
    _open(investigator, received_on="2025-12-30")
    assert first["reference"] == "D11-2026-000001"
    assert _references(investigator, reference="D11-2026-000002") == [second["reference"]]
    assert _references(investigator, reference="d11-2026-00000") == [first["reference"], second["reference"]]
    assert _references(investigator, reference="D11-2025") == ["D11-2025-000001"]
    assert _references(investigator, reference="D11-2026-000009") == []


def test_reference_search_stays_within_the_callers_scope(investigator, factory, make_client):
    _open(investigator)
    colleague = make_client().as_user(factory.user(Role.INVESTIGATOR, factory.organisation(code="D12")))
    assert _references(colleague, reference="D11") == []


def test_cases_are_found_by_police_report_number_as_typed(investigator):
    case = _open(investigator, police_report_number="KAJANG/001234/26")
    _open(investigator, police_report_number="KAJANG/001235/26")
    assert _references(investigator, police_report_number="  kajang/001234/26 ") == [case["reference"]]


def test_a_reference_filter_with_other_characters_is_422_under_query(investigator):
    response = investigator.get("/api/v1/cases", query_string={"reference": "D11%"})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["query.reference"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("376", {"PC 376(1)", "PC 376(2)", "PC 376(3)", "PC 376(4)"}),
        ("PC 376", {"PC 376(1)", "PC 376(2)", "PC 376(3)", "PC 376(4)"}),
        ("pc376(2)", {"PC 376(2)"}),
        ("233(3)", {"CMA 233(3)"}),
        ("extortion child", {"SOAC 15B"}),
        ("rape death", {"PC 376(4)"}),
        ("37", set()),
    ],
)
def test_offence_codes_are_found_by_section_statute_or_title(client, factory, q, expected):
    client.as_user(factory.user(Role.CASEWORKER))
    response = client.get("/api/v1/reference/offences", query_string={"q": q})
    assert response.status_code == 200
    assert {o["code"] for o in response.get_json()} == expected


def test_offence_search_by_statute_lists_only_that_statute(client, factory):
    client.as_user(factory.user(Role.CASEWORKER))
    codes = [o["code"] for o in client.get("/api/v1/reference/offences?q=soac").get_json()]
    assert codes and all(code.startswith("SOAC ") for code in codes)


def test_an_unknown_offence_code_suggests_the_nearest(investigator):
    response = investigator.post(
        "/api/v1/cases",
        json={
            "intake_channel": "police_report",
            "received_on": "2026-03-01",
            "victims": [{"gender": "female"}],
            "offences": [{"code": "PC 383"}, {"code": "PC 376"}],
        },
    )
    assert response.status_code == 422
    message = response.get_json()["errors"]["offences.1.code"][0]
    assert message == "Unknown offence code 'PC 376'. Did you mean PC 376(1), PC 376(2), PC 376(3), PC 376(4)?"
    case = _open(investigator)
    added = investigator.post(f"/api/v1/cases/{case['id']}/offences", json={"code": "PC 38", "version": 1})
    assert added.status_code == 422
    assert "Did you mean" in added.get_json()["errors"]["code"][0] and "PC 383" in added.get_json()["errors"]["code"][0]


def test_the_same_account_written_with_two_spellings_of_the_bank_links_the_cases(investigator):
    account = {"kind": "bank_account", "role": "payment_destination"}
    first = _open(investigator, identifiers=[{**account, "value": "8881 2345 6789", "qualifier": "AmBank"}])
    second = _open(investigator, identifiers=[{**account, "value": "888-123456789", "qualifier": "AMBB"}])
    assert first["identifiers"][0]["identifier_id"] == second["identifiers"][0]["identifier_id"]
    assert first["identifiers"][0]["qualifier"] == "ambank"
    found = investigator.get(
        "/api/v1/identifiers/lookup",
        query_string={"kind": "bank_account", "value": "888123456789", "qualifier": "AmBank Berhad"},
    ).get_json()
    assert {c["id"] for c in found["cases"]} == {first["id"], second["id"]}
    providers = investigator.get("/api/v1/reference/payment-providers").get_json()
    ambank = next(p for p in providers if p["code"] == "ambank")
    assert ambank["kind"] == "bank" and ambank["swift"] == "ARBKMYKL" and "ambb" in ambank["aliases"]
