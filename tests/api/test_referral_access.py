"""Need-to-know for referrals: liaisons see only referrals addressed to their organisation, only
once sent, with only the fields the purpose shares; everything else answers 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from tests.referral_world import IDENTITY_VALUES, POSTED, World


@pytest.fixture
def world(factory, make_client):  # type: ignore[no-untyped-def]
    return World(factory, make_client)


def same_404(client, url: str, missing_url: str) -> None:  # type: ignore[no-untyped-def]
    response, missing = client.get(url), client.get(missing_url)
    assert response.status_code == missing.status_code == 404
    assert response.get_json() | {"request_id": None} == missing.get_json() | {"request_id": None}


def test_mcmc_liaison_cannot_see_a_legal_aid_referral_nor_cases_outside_its_referrals(world):
    case = world.open_case()
    other_case = world.open_case()
    takedown = world.refer(case, "MCMC", "takedown")
    legal = world.refer(case, "JBG", "legal_aid")
    mcmc = world.mcmc_liaison

    same_404(mcmc, f"/api/v1/referrals/{legal['id']}", "/api/v1/referrals/999999")
    assert mcmc.get(f"/api/v1/referrals/{takedown['id']}").status_code == 200
    listed = mcmc.get("/api/v1/referrals").get_json()
    assert [r["id"] for r in listed["items"]] == [takedown["id"]] and listed["total"] == 1
    assert mcmc.get("/api/v1/referrals?box=outbox").get_json()["total"] == 0
    # The case behind its referral: only the referrals addressed to MCMC; any other case is 404.
    in_case = mcmc.get(f"/api/v1/cases/{case['id']}/referrals").get_json()
    assert [r["id"] for r in in_case] == [takedown["id"]]
    same_404(mcmc, f"/api/v1/cases/{other_case['id']}/referrals", "/api/v1/cases/999999/referrals")
    assert mcmc.get(f"/api/v1/cases/{case['id']}").status_code == 403  # liaisons never read cases
    # And the other way round.
    jbg = world.jbg_liaison
    same_404(jbg, f"/api/v1/referrals/{takedown['id']}", "/api/v1/referrals/999999")
    assert [r["id"] for r in jbg.get("/api/v1/referrals").get_json()["items"]] == [legal["id"]]


def test_drafts_are_invisible_to_the_recipient(world):
    case = world.open_case()
    world.consent(case, "MCMC", "takedown")
    draft = world.draft(case, "MCMC", "takedown").get_json()
    same_404(world.mcmc_liaison, f"/api/v1/referrals/{draft['id']}", "/api/v1/referrals/999999")
    assert world.mcmc_liaison.get("/api/v1/referrals").get_json()["total"] == 0
    acknowledge = world.mcmc_liaison.post(f"/api/v1/referrals/{draft['id']}/acknowledge", json={})
    assert acknowledge.status_code == 404


def test_another_ngo_cannot_see_or_act_on_our_referrals(world, factory, make_client):
    case = world.open_case()
    referral = world.refer(case, "MCMC", "takedown")
    other = make_client().as_user(factory.user(Role.CASEWORKER, factory.organisation(OrganisationKind.NGO)))
    same_404(other, f"/api/v1/referrals/{referral['id']}", "/api/v1/referrals/999999")
    assert other.post(f"/api/v1/referrals/{referral['id']}/withdraw", json={}).status_code == 404
    assert other.get("/api/v1/referrals").get_json()["total"] == 0


def test_takedown_recipient_gets_addresses_platforms_identifiers_and_hashes_but_no_identity(world):
    case = world.open_case()
    referral = world.refer(case, "MCMC", "takedown")
    response = world.mcmc_liaison.get(f"/api/v1/referrals/{referral['id']}")
    body = response.get_json()
    assert body["view"] == "recipient"
    assert set(body["shared"]) == {"victim", "platforms", "identifiers"}
    assert body["shared"]["victim"] == {"is_minor": False}
    assert body["shared"]["identifiers"] == [
        {"kind": "chat_group", "qualifier": "telegram", "value": "https://t.me/groupof30k", "role": "posting_location"}
    ]  # not the bank account money went to
    assert [i["url"] for i in body["takedown_items"]] == POSTED
    assert body["takedown_items"][0]["sha256"] == "a" * 64 and "evidence_id" not in body["takedown_items"][0]
    for absent in ("victim_id", "consent_override_reason", "shared_fields"):
        assert absent not in body
    text = response.get_data(as_text=True)
    for value in (*IDENTITY_VALUES, "5621", "photos"):
        assert value not in text
    # The read of shared data is audited, like any release of victim data.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.shared_data_viewed"))
    assert event.actor_id == world.user("mcmc").id and event.object_id == str(referral["id"])


def test_takedown_names_the_victim_only_when_the_consent_includes_identity(world):
    case = world.open_case()
    world.consent(case, "MCMC", "takedown", includes_identity=True)
    referral = world.refer(case, "MCMC", "takedown", consent=False)
    assert referral["shared_fields"][:4] == ["victim.is_minor", "victim.full_name", "victim.phone", "victim.email"]
    victim = world.mcmc_liaison.get(f"/api/v1/referrals/{referral['id']}").get_json()["shared"]["victim"]
    assert victim == {
        "is_minor": False,
        "full_name": "Nur Aisyah binti Ahmad",
        "phone": "012-998 7766",
        "email": "aisyah@example.test",
    }


def test_legal_aid_recipient_gets_contact_means_and_a_case_summary_only(world):
    case = world.open_case()
    referral = world.refer(case, "JBG", "legal_aid")
    body = world.jbg_liaison.get(f"/api/v1/referrals/{referral['id']}").get_json()
    shared = body["shared"]
    assert set(shared) == {"victim", "case_summary", "offences", "legal_aid_eligibility"}
    assert shared["victim"]["national_id"] == "990101-14-5678"
    assert shared["victim"]["declared_annual_income"] == "42000.00"
    assert shared["case_summary"]["abuse_types"] == ["non_consensual_distribution"]
    assert {o["code"] for o in shared["offences"]} == {"PC 292", "CMA 233(1)"}
    jbg = next(e for e in shared["legal_aid_eligibility"] if e["scheme"] == "JBG")
    assert jbg["aid"] == "full" and jbg["qualifies"] is True and jbg["effective_from"] == "2023-05-01"
    assert body["takedown_items"] == []
    text = str(body)
    assert "t.me" not in text and "5621" not in text and "photos" not in text


def test_sender_sees_what_was_shared_by_name_not_the_values(world):
    case = world.open_case()
    referral = world.refer(case, "JBG", "legal_aid")
    body = world.caseworker.get(f"/api/v1/referrals/{referral['id']}").get_json()
    assert body["view"] == "sender" and "shared" not in body
    assert "victim.national_id" in body["shared_fields"] and "case_summary" in body["shared_fields"]
    assert not any(value in str(body) for value in IDENTITY_VALUES)
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.shared_data_viewed"))


def test_referral_form_offers_purposes_recipients_consents_and_legal_aid_eligibility(world):
    case = world.open_case()
    world.consent(case, "JBG", "legal_aid")
    form = world.caseworker.get(f"/api/v1/cases/{case['id']}/referral-form").get_json()
    victim = form["victims"][0]
    assert [(c["agency"], c["purpose"], c["state"]) for c in victim["consents"]] == [("JBG", "legal_aid", "given")]
    eligibility = {e["scheme"]: e for e in victim["legal_aid_eligibility"]}
    assert eligibility["JBG"]["aid"] == "full" and eligibility["YBGK"]["aid"] == "not_eligible"  # RM3,500/month
    purposes = {p["purpose"]: p for p in form["purposes"]}
    takedown = purposes["takedown"]
    mcmc = next(a for a in takedown["agencies"] if a["acronym"] == "MCMC")
    assert [o["id"] for o in mcmc["recipient_organisations"]] == [world.mcmc.id]
    assert mcmc["acknowledge_within_hours"] == 24 and mcmc["complete_within_days"] == 7
    assert "victim.full_name" in takedown["shares_with_identity_consent"]
    assert "victim.full_name" not in takedown["shares"]
    police = next(a for a in purposes["police_report"]["agencies"] if a["acronym"] == "PDRM")
    assert world.police.id in [o["id"] for o in police["recipient_organisations"]]
    assert "42000" not in str(form)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "victim.means_assessed"))
    assert world.mcmc_liaison.get(f"/api/v1/cases/{case['id']}/referral-form").status_code == 403


def test_recipient_must_be_named_when_an_agency_has_several_organisations(world, factory):
    second_unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="IPDKL")
    case = world.open_case()
    world.consent(case, "PDRM", "police_report")
    unnamed = world.draft(case, "PDRM", "police_report")
    assert unnamed.status_code == 422 and "recipient_organisation_id" in unnamed.get_json()["errors"]
    wrong = world.draft(case, "PDRM", "police_report", recipient_organisation_id=world.mcmc.id)
    assert wrong.status_code == 422
    named = world.draft(case, "PDRM", "police_report", recipient_organisation_id=second_unit.id)
    assert named.status_code == 201 and named.get_json()["recipient_organisation"]["code"] == "IPDKL"


def test_an_agency_without_an_organisation_here_cannot_be_referred_to(world):
    case = world.open_case()
    world.consent(case, "WAO", "counselling")
    response = world.draft(case, "WAO", "counselling")
    assert response.status_code == 422 and "WAO" in str(response.get_json()["errors"]["agency"])
