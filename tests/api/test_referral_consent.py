"""Consent gates every referral: refused without it, allowed with it, stopped by its withdrawal;
overriding it needs its own permission and a reason, and is audited."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.notifications import Notification
from casework.models.organisations import OrganisationKind
from casework.models.referrals import Consent, Referral
from casework.models.users import Role
from tests.referral_world import IDENTITY_VALUES, World


@pytest.fixture
def world(factory, make_client):  # type: ignore[no-untyped-def]
    return World(factory, make_client)


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def hours_after_sending(referral: dict, key: str) -> float:
    delta = datetime.fromisoformat(referral[key]) - datetime.fromisoformat(referral["sent_at"])
    return delta.total_seconds() / 3600


def test_referral_without_consent_is_refused_and_nothing_is_written(world):
    case = world.open_case()
    before = len(actions())
    response = world.draft(case, "MCMC", "takedown")
    body = response.get_json()
    assert response.status_code == 409
    assert (
        body["message"]
        == "The victim has not given consent to share with MCMC for takedown. Record the victim's consent first."
    )
    assert "consent" in body["errors"]
    assert count(Referral) == 0 and len(actions()) == before


def test_refusal_and_consent_for_another_purpose_do_not_allow_the_referral(world):
    case = world.open_case()
    world.consent(case, "MCMC", "takedown", decision="refused", method="verbal")
    world.consent(case, "JBG", "legal_aid")
    refused = world.draft(case, "MCMC", "takedown")
    assert refused.status_code == 409 and "refused consent to share with MCMC" in refused.get_json()["message"]
    wrong_agency = world.draft(case, "YBGK", "legal_aid")
    assert wrong_agency.status_code in (409, 422) and count(Referral) == 0


def test_referral_with_consent_is_drafted_then_sent_with_deadlines_and_audited(world):
    world.user("mcmc")  # the liaison who will be told
    case = world.open_case()
    consent = world.consent(case, "MCMC", "takedown")
    assert consent["state"] == "given" and consent["recorded_by_id"] == world.user("caseworker").id
    drafted = world.draft(case, "MCMC", "takedown", note="Three posts in a 30k-member group")
    assert drafted.status_code == 201, drafted.get_json()
    draft = drafted.get_json()
    assert draft["status"] == "draft" and draft["consent"]["basis"] == "consent"
    assert draft["recipient_organisation"]["id"] == world.mcmc.id and draft["view"] == "sender"
    assert len(draft["takedown_items"]) == 3  # every posted address of the case by default
    sent = world.caseworker.post(f"/api/v1/referrals/{draft['id']}/send", json={"note": "urgent"}).get_json()
    assert sent["status"] == "sent" and sent["sent_at"]
    assert [(e["action"], e["to_status"]) for e in sent["events"]] == [("created", None), ("sent", "sent")]
    assert sent["events"][1]["note"] == "urgent" and sent["events"][1]["actor_id"] == world.user("caseworker").id
    assert hours_after_sending(sent, "due_acknowledge_at") == 24  # takedown: acknowledge within a day
    assert hours_after_sending(sent, "due_complete_at") == 7 * 24
    assert actions()[-2:] == ["referral.created", "referral.sent"]
    sent_audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.sent"))
    assert sent_audit.details["shared"] == [
        "victim.is_minor",
        "platforms",
        "takedown_identifiers",
        "takedown_items",
    ]
    assert not any(value in str(sent_audit.details) for value in IDENTITY_VALUES)
    # The liaison is told a referral arrived.
    note = db.session.scalar(select(Notification).where(Notification.user_id == world.user("mcmc").id))
    assert note is not None and note.kind.value == "referral_received"


def test_withdrawal_stops_further_sharing_and_the_recipient_sees_it(world):
    case = world.open_case()
    sent = world.refer(case, "MCMC", "takedown")
    draft = world.draft(case, "MCMC", "takedown").get_json()
    liaison = world.mcmc_liaison
    before = liaison.get(f"/api/v1/referrals/{sent['id']}").get_json()
    assert before["shared"]["platforms"] == ["telegram"] and before["takedown_items"][0]["url"].startswith("https://")

    consent_id = world.caseworker.get(f"/api/v1/cases/{case['id']}/consents").get_json()[0]["id"]
    withdrawn = world.caseworker.post(
        f"/api/v1/cases/{case['id']}/consents/{consent_id}/withdrawal",
        json={"method": "verbal", "note": "changed mind"},
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"

    after = liaison.get(f"/api/v1/referrals/{sent['id']}").get_json()
    assert after["shared"] is None and after["consent"]["withdrawn"] is True and after["consent"]["withdrawn_at"]
    assert all("url" not in item and "sha256" not in item for item in after["takedown_items"])
    assert "t.me/GroupOf30k/1" not in str(after)
    assert after["events"][-1]["action"] == "consent_withdrawn"
    kinds = {n["kind"] for n in liaison.get("/api/v1/notifications").get_json()["items"]}
    assert "consent_withdrawn" in kinds
    # The draft relying on it can no longer be sent; new referrals are refused, saying why.
    assert world.caseworker.get(f"/api/v1/referrals/{draft['id']}").get_json()["status"] == "withdrawn"
    again = world.draft(case, "MCMC", "takedown")
    assert again.status_code == 409 and "withdrew consent" in again.get_json()["message"]
    # Withdrawing twice is a conflict, and the audit trail names ids, not people.
    twice = world.caseworker.post(
        f"/api/v1/cases/{case['id']}/consents/{consent_id}/withdrawal", json={"method": "verbal"}
    )
    assert twice.status_code == 409
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consent.withdrawn"))
    assert audit.details["referral_ids"] == [sent["id"], draft["id"]]
    assert "referral.consent_withdrawn" in actions() and "changed mind" not in str(audit.details)


def test_consent_given_again_after_withdrawal_allows_a_new_referral_and_keeps_history(world):
    case = world.open_case()
    first = world.consent(case, "JBG", "legal_aid")
    world.caseworker.post(f"/api/v1/cases/{case['id']}/consents/{first['id']}/withdrawal", json={"method": "written"})
    world.consent(case, "JBG", "legal_aid", method="verbal")
    assert world.draft(case, "JBG", "legal_aid").status_code == 201
    history = world.caseworker.get(f"/api/v1/cases/{case['id']}/consents").get_json()
    assert [c["state"] for c in history] == ["superseded", "given"] and history[0]["withdrawn_at"]


def test_bad_consent_input_is_422_naming_the_field_and_writes_nothing(world):
    case = world.open_case()
    for change, field in [
        ({"agency": "NOPE"}, "agency"),
        ({"agency": "MCMC", "purpose": "legal_aid"}, "agency"),
        ({"victim_id": 999999}, "victim_id"),
        ({"purpose": "legal_aid", "agency": "JBG", "includes_identity": True}, "includes_identity"),
        ({"decision": "refused", "includes_identity": True}, "includes_identity"),
        ({"obtained_at": "2999-01-01T00:00:00Z"}, "obtained_at"),
        ({"method": "telepathy"}, "method"),
        ({"victim_id": "1"}, "victim_id"),
        ({"shared_with": "everyone"}, "shared_with"),
    ]:
        body = {"victim_id": case["victims"][0]["id"], "agency": "MCMC", "purpose": "takedown"}
        body |= {"decision": "given", "method": "written", **change}
        response = world.caseworker.post(f"/api/v1/cases/{case['id']}/consents", json=body)
        assert response.status_code == 422, (change, response.get_json())
        fields = {name.split(".")[0] for name in response.get_json()["errors"]}
        assert field in fields, change
    assert count(Consent) == 0


def test_consents_of_another_organisations_case_are_404(world, factory, make_client):
    case = world.open_case()
    other = make_client().as_user(factory.user(Role.CASEWORKER, factory.organisation(OrganisationKind.NGO)))
    assert other.get(f"/api/v1/cases/{case['id']}/consents").status_code == 404
    body = {"victim_id": case["victims"][0]["id"], "agency": "MCMC", "purpose": "takedown"}
    body |= {"decision": "given", "method": "written"}
    assert other.post(f"/api/v1/cases/{case['id']}/consents", json=body).status_code == 404
    assert world.mcmc_liaison.get(f"/api/v1/cases/{case['id']}/consents").status_code == 403


def test_override_needs_its_own_permission_and_a_reason_and_is_audited(world):
    case = world.open_case(
        victims=[{"key": "a", "gender": "female", "age_years": 14, "full_name": "Child Name"}],
        offences=[{"code": "PC 292"}],
    )
    reason = "Child victim: material must come down now; guardian unreachable."
    caseworker = world.draft(case, "MCMC", "takedown", override_consent_reason=reason)
    assert caseworker.status_code == 403
    no_reason = world.draft(case, "MCMC", "takedown", client=world.ngo_supervisor)
    assert no_reason.status_code == 409
    short = world.draft(case, "MCMC", "takedown", client=world.ngo_supervisor, override_consent_reason="   because ")
    assert short.status_code == 422 and "override_consent_reason" in short.get_json()["errors"]
    assert count(Referral) == 0

    done = world.draft(case, "MCMC", "takedown", client=world.ngo_supervisor, override_consent_reason=reason)
    assert done.status_code == 201, done.get_json()
    referral = done.get_json()
    assert referral["consent"]["basis"] == "override" and referral["consent_override_reason"] == reason
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.consent_overridden"))
    assert event.actor_id == world.user("ngo_supervisor").id and event.details == {
        "consent_state": "none",
        "has_reason": True,
    }
    sent = world.caseworker.post(f"/api/v1/referrals/{referral['id']}/send", json={})
    assert sent.status_code == 200
    seen = world.mcmc_liaison.get(f"/api/v1/referrals/{referral['id']}").get_json()
    assert seen["consent"]["basis"] == "override" and "consent_override_reason" not in seen
    assert seen["shared"]["victim"] == {"is_minor": True} and "Child Name" not in str(seen)


def test_override_is_refused_when_the_victim_consented(world):
    case = world.open_case()
    world.consent(case, "MCMC", "takedown")
    response = world.draft(case, "MCMC", "takedown", client=world.ngo_supervisor, override_consent_reason="x" * 20)
    assert response.status_code == 422 and "override_consent_reason" in response.get_json()["errors"]
