"""The stories in the source articles, recorded through the HTTP API as a client would.

Each case keeps every offence under its own section, each linked to its victims.
"""

from __future__ import annotations

import pytest

from casework.models.organisations import OrganisationKind
from casework.models.users import Role


@pytest.fixture
def investigator(factory, make_client):  # type: ignore[no-untyped-def]
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="D11")
    return make_client().as_user(factory.user(Role.INVESTIGATOR, unit))


@pytest.fixture
def caseworker(factory, make_client):  # type: ignore[no-untyped-def]
    ngo = factory.organisation(OrganisationKind.NGO, code="WAO")
    return make_client().as_user(factory.user(Role.CASEWORKER, ngo))


def offences_by_code(case: dict) -> dict[str, dict]:
    return {o["code"]: o for o in case["offences"]}


def test_date_turned_assault_then_threat_to_release_cctv_keeps_376_383_and_506(investigator):
    response = investigator.post(
        "/api/v1/cases",
        json={
            "intake_channel": "police_report",
            "reported_to_police": True,
            "reported_to_police_on": "2026-03-04",
            "police_report_number": "PUTRAJAYA/001234/26",
            "received_on": "2026-03-04",
            "incident_started_on": "2026-02-20",
            "state": "MY-16",
            "contact_platform": "dating_app",
            "moved_to_platforms": ["whatsapp"],
            "abuse_types": ["sextortion_acts", "threat_to_distribute"],
            "demands": {"money": False, "acts": True, "notes": "further meetings"},
            "material_released": False,
            "risk": {"immediate_danger": True, "threat_of_exposure": True, "evidence_held": True},
            "victims": [{"key": "a", "gender": "female", "age_years": 24}],
            "identifiers": [{"kind": "phone", "value": "012-777 8899", "role": "contact"}],
            "offences": [
                {"code": "PC 376(1)", "status": "under_investigation", "victims": ["a"]},
                {"code": "PC 383", "status": "under_investigation", "victims": ["a"]},
                {"code": "pc 506", "victims": ["a"]},
            ],
        },
    )
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["reference"].startswith("D11-2026-")
    offences = offences_by_code(case)
    assert set(offences) == {"PC 376(1)", "PC 383", "PC 506"}
    victim_id = case["victims"][0]["id"]
    assert all(o["victim_ids"] == [victim_id] for o in offences.values())
    assert case["most_serious_offence"] == "PC 376(1)"
    assert case["risk"]["level"] == "critical"
    assert case["victims"][0]["pseudonym"] == "Victim 1" and "full_name" not in case["victims"][0]


def test_couple_extorting_rm1000_after_two_payments(investigator):
    response = investigator.post(
        "/api/v1/cases",
        json={
            "intake_channel": "police_report",
            "reported_to_police": True,
            "received_on": "2026-05-10",
            "incident_started_on": "2026-04-01",
            "contact_platform": "instagram",
            "moved_to_platforms": ["telegram"],
            "abuse_types": ["financial_sextortion"],
            "demands": {"money": True, "amount": "1000.00", "currency": "MYR"},
            "payments": {"count": 2, "total": "2000.00", "currency": "MYR"},
            "victims": [{"gender": "male", "age_years": 19}],
            "identifiers": [
                {"kind": "username", "value": "@lovely.couple", "qualifier": "Instagram"},
                {
                    "kind": "bank_account",
                    "value": "1640-2233-9911",
                    "qualifier": "Maybank",
                    "role": "payment_destination",
                },
                {"kind": "phone", "value": "+60 11-2345 6789"},
            ],
            "offences": [{"code": "PC 383"}, {"code": "PC 506"}],
        },
    )
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["demands"]["amount"] == "1000.00" and case["payments"] == {
        "count": 2,
        "total": "2000.00",
        "currency": "MYR",
    }
    assert {i["kind"]: i["value"] for i in case["identifiers"]} == {
        "username": "lovely.couple",
        "bank_account": "164022339911",
        "phone": "+601123456789",
    }
    assert case["identifiers"][1]["raw_value"] == "1640-2233-9911"
    assert case["most_serious_offence"] == "PC 383"  # 384's seriousness, recorded as 383


def test_telegram_group_sharing_photos_of_many_women(caseworker):
    victims = [{"key": f"w{i}", "gender": "female", "age_years": 20 + i} for i in range(12)]
    response = caseworker.post(
        "/api/v1/cases",
        json={
            "intake_channel": "ngo_intake",
            "received_on": "2026-06-01",
            "contact_platform": "telegram",
            "abuse_types": ["non_consensual_distribution"],
            "material_released": True,
            "victims": victims,
            "identifiers": [{"kind": "chat_group", "value": "https://t.me/GroupOf30k", "role": "posting_location"}],
            "offences": [{"code": "PC 292"}, {"code": "PC 509"}, {"code": "CMA 233(1)"}],
            "evidence": [
                {
                    "kind": "posted_url",
                    "url": "https://t.me/GroupOf30k/1234",
                    "platform": "telegram",
                    "sha256": "a" * 64,
                    "description": "post with photos and phone numbers",
                }
            ],
        },
    )
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert len(case["victims"]) == 12
    assert case["identifiers"][0]["value"] == "https://t.me/groupof30k"
    for offence in case["offences"]:
        assert len(offence["victim_ids"]) == 12
    assert {o["code"] for o in case["offences"]} == {"PC 292", "PC 509", "CMA 233(1)"}
    assert case["reported_to_police"] is False


def test_impersonator_fake_profile_threatening_to_post_explicit_photos(caseworker):
    response = caseworker.post(
        "/api/v1/cases",
        json={
            "intake_channel": "hotline",
            "received_on": "2026-07-15",
            "contact_platform": "facebook",
            "abuse_types": ["impersonation", "threat_to_distribute", "fabricated_imagery"],
            "victims": [{"gender": "female", "age_years": 16}],
            "identifiers": [
                {
                    "kind": "url",
                    "value": "https://www.facebook.com/fake.profile.123/?ref=share",
                    "role": "impersonation_profile",
                }
            ],
            "offences": [{"code": "PC 503"}, {"code": "CMA 233(3)"}, {"code": "SOAC 15B", "attempted": True}],
        },
    )
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["identifiers"][0]["value"] == "https://facebook.com/fake.profile.123"
    assert case["victims"][0]["is_minor"] is True and case["has_minor_victim"] is True
    assert offences_by_code(case)["SOAC 15B"]["attempted"] is True
    assert case["risk"]["level"] == "high"


def test_adding_383_to_a_case_with_376_keeps_both(investigator):
    case = investigator.post(
        "/api/v1/cases",
        json={
            "intake_channel": "police_report",
            "received_on": "2026-01-05",
            "victims": [{"gender": "female"}],
            "offences": [{"code": "PC 376(1)"}],
        },
    ).get_json()
    added = investigator.post(
        f"/api/v1/cases/{case['id']}/offences", json={"code": "PC 383"}, headers={"If-Match": '"v1"'}
    )
    assert added.status_code == 201
    again = investigator.get(f"/api/v1/cases/{case['id']}").get_json()
    assert {o["code"] for o in again["offences"]} == {"PC 376(1)", "PC 383"}
    assert again["most_serious_offence"] == "PC 376(1)"
    duplicate = investigator.post(f"/api/v1/cases/{case['id']}/offences", json={"code": "PC 383", "version": 2})
    assert duplicate.status_code == 409


def test_same_phone_written_two_ways_links_two_cases(investigator, caseworker):
    police_case = investigator.post(
        "/api/v1/cases",
        json={
            "intake_channel": "police_report",
            "received_on": "2026-02-01",
            "identifiers": [{"kind": "phone", "value": "012-345 6789"}],
        },
    ).get_json()
    ngo_case = caseworker.post(
        "/api/v1/cases",
        json={
            "intake_channel": "ngo_intake",
            "received_on": "2026-02-03",
            "identifiers": [{"kind": "phone", "value": "+60123456789"}],
        },
    ).get_json()
    links = investigator.get(f"/api/v1/cases/{police_case['id']}/links").get_json()
    assert len(links) == 1
    assert links[0]["in_scope"] is False and links[0]["case"] is None
    assert links[0]["organisation"]["code"] == "WAO" and links[0]["case_count"] == 1
    assert links[0]["identifier"] == {"kind": "phone", "qualifier": "", "value": "+60123456789"}
    assert ngo_case["reference"] not in str(links)  # only that a match exists, and where

    lookup = investigator.get("/api/v1/identifiers/lookup?kind=phone&value=0123456789").get_json()
    assert [c["id"] for c in lookup["cases"]] == [police_case["id"]]
    assert lookup["elsewhere"] == [
        {
            "organisation": {
                "id": ngo_case["organisation"]["id"],
                "code": "WAO",
                "name": ngo_case["organisation"]["name"],
            },
            "case_count": 1,
        }
    ]
