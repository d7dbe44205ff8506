"""Checks a careful investigator expects: a children-only section (SOAC, CMA 233(3), PC 377E)
linked to a victim who was an adult at the incident is refused unless a reason is recorded, and
offence edits need the case version like other edits."""

from __future__ import annotations

import pytest

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.users import Role

ADULT = {"key": "adult", "gender": "female", "date_of_birth": "1995-05-01"}
CHILD = {"key": "child", "gender": "female", "age_years": 15}


@pytest.fixture
def investigator(factory, make_client):  # type: ignore[no-untyped-def]
    return make_client().as_user(factory.user(Role.INVESTIGATOR, factory.organisation(code="D11")))


def _case(**extra):  # type: ignore[no-untyped-def]
    return {
        "intake_channel": "police_report",
        "received_on": "2026-03-01",
        "incident_started_on": "2026-02-01",
        **extra,
    }


@pytest.mark.parametrize("code", ["SOAC 15B", "CMA 233(3)", "SOAC 11"])
def test_a_children_only_section_linked_to_an_adult_is_refused(investigator, code):
    response = investigator.post(
        "/api/v1/cases", json=_case(victims=[CHILD, ADULT], offences=[{"code": "PC 383"}, {"code": code}])
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["offences.1.victims"]
    assert f"{code} applies only to victims under 18 at the incident" in errors["offences.1.victims"][0]
    assert "victim 'adult'" in errors["offences.1.victims"][0] and "1995" not in str(errors)


def test_the_same_section_linked_to_the_child_alone_stands(investigator):
    response = investigator.post(
        "/api/v1/cases",
        json=_case(victims=[CHILD, ADULT], offences=[{"code": "SOAC 15B", "victims": ["child"]}, {"code": "PC 383"}]),
    )
    assert response.status_code == 201, response.get_json()


def test_pc_377e_is_for_children_under_14(investigator):
    response = investigator.post("/api/v1/cases", json=_case(victims=[CHILD], offences=[{"code": "PC 377E"}]))
    assert response.status_code == 422
    assert "under 14" in response.get_json()["errors"]["offences.0.victims"][0]


def test_a_recorded_reason_lets_the_link_stand_and_is_kept_and_audited(investigator):
    reason = "Victim was 17 when the material was made; she is an adult now and the age was mis-recorded."
    response = investigator.post(
        "/api/v1/cases", json=_case(victims=[ADULT], offences=[{"code": "SOAC 5", "age_rule_reason": reason}])
    )
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["offences"][0]["age_rule_reason"] == reason
    added = investigator.post(
        f"/api/v1/cases/{case['id']}/offences", json={"code": "CMA 233(3)", "version": case["version"]}
    )
    assert added.status_code == 422 and list(added.get_json()["errors"]) == ["victim_ids"]
    added = investigator.post(
        f"/api/v1/cases/{case['id']}/offences",
        json={"code": "CMA 233(3)", "version": case["version"], "age_rule_reason": reason},
    )
    assert added.status_code == 201
    audit = db.session.query(AuditEvent).filter(AuditEvent.action == "offence.added").one()
    assert audit.details["has_age_rule_reason"] is True and reason not in str(audit.details)


def test_the_age_check_holds_when_victims_or_the_reason_change(investigator):
    case = investigator.post(
        "/api/v1/cases",
        json=_case(victims=[CHILD, ADULT], offences=[{"code": "SOAC 15B", "victims": ["child"]}]),
    ).get_json()
    offence, (child, adult) = case["offences"][0], case["victims"]
    url = f"/api/v1/cases/{case['id']}/offences/{offence['id']}"
    widened = investigator.patch(url, json={"victim_ids": [child["id"], adult["id"]], "version": case["version"]})
    assert widened.status_code == 422
    assert f"victim {adult['id']}" in widened.get_json()["errors"]["victim_ids"][0]


def test_a_new_incident_date_that_makes_the_child_an_adult_is_refused(investigator):
    child = {"key": "child", "gender": "female", "date_of_birth": "2008-06-01"}  # 17 on 2026-02-01
    case = investigator.post("/api/v1/cases", json=_case(victims=[child], offences=[{"code": "SOAC 15B"}])).get_json()
    moved = investigator.patch(
        f"/api/v1/cases/{case['id']}", json={"incident_started_on": "2026-02-20", "version": case["version"]}
    )
    assert moved.status_code == 200 and moved.get_json()["victims"][0]["is_minor"] is True
    later = investigator.patch(
        f"/api/v1/cases/{case['id']}",
        json={"incident_started_on": "2026-02-28", "received_on": "2026-07-01", "version": moved.get_json()["version"]},
    )
    assert later.status_code == 200  # still 17 on 28 February
    adult = investigator.patch(
        f"/api/v1/cases/{case['id']}",
        json={"incident_started_on": "2026-06-15", "version": later.get_json()["version"]},
    )
    assert adult.status_code == 422 and list(adult.get_json()["errors"]) == ["incident_started_on"]
    assert investigator.get(f"/api/v1/cases/{case['id']}").get_json()["incident_started_on"] == "2026-02-28"


def test_offence_edits_need_the_case_version(investigator):
    case = investigator.post("/api/v1/cases", json=_case(victims=[ADULT], offences=[{"code": "PC 383"}])).get_json()
    offences_url = f"/api/v1/cases/{case['id']}/offences"
    missing = investigator.post(offences_url, json={"code": "PC 503"})
    assert missing.status_code == 422 and list(missing.get_json()["errors"]) == ["version"]
    added = investigator.post(offences_url, json={"code": "PC 503"}, headers={"If-Match": '"v1"'})
    assert added.status_code == 201
    stale = investigator.post(offences_url, json={"code": "PC 506"}, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412 and stale.get_json()["last_changed"]["version"] == 2
    edit_url = f"{offences_url}/{case['offences'][0]['id']}"
    assert investigator.patch(edit_url, json={"status": "charged"}).status_code == 422
    assert investigator.patch(edit_url, json={"status": "charged", "version": 1}).status_code == 409
    edited = investigator.patch(edit_url, json={"status": "charged", "version": 2})
    assert edited.status_code == 200 and edited.get_json()["status"] == "charged"
    assert investigator.get(f"/api/v1/cases/{case['id']}").headers["ETag"] == '"v3"'


def test_reference_offences_say_which_are_children_only(client, factory):
    client.as_user(factory.user(Role.CASEWORKER))
    by_code = {o["code"]: o["victim_under_age"] for o in client.get("/api/v1/reference/offences").get_json()}
    assert by_code["SOAC 15B"] == 18 and by_code["CMA 233(3)"] == 18 and by_code["PC 377E"] == 14
    assert by_code["CMA 233(1)"] is None and by_code["PC 383"] is None
