"""Answers that say what to do next: a refused workflow move names the moves allowed now, and a
stale version says when and by whom the case last changed (the name only within the organisation)."""

from __future__ import annotations

import pytest

from casework.extensions import db
from casework.models.cases import Case
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.services import audit
from casework.services.versions import last_change
from tests.referral_world import World


@pytest.fixture
def world(factory, make_client):  # type: ignore[no-untyped-def]
    return World(factory, make_client)


def test_a_refused_referral_move_names_the_move_to_make_first_and_the_allowed_ones(world):
    referral = world.refer(world.open_case(), "JBG", "legal_aid")
    liaison = world.jbg_liaison
    assert liaison.post(f"/api/v1/referrals/{referral['id']}/acknowledge", json={}).status_code == 200
    response = liaison.post(f"/api/v1/referrals/{referral['id']}/complete", json={"outcome": "advice_given"})
    body = response.get_json()
    assert response.status_code == 409
    assert (
        body["message"]
        == "A referral cannot complete when it is acknowledged: start first. Allowed now: start, decline."
    )
    assert body["current_status"] == "acknowledged" and body["allowed_moves"] == ["start", "decline"]


def test_a_finished_referral_says_no_moves_are_left(world):
    referral = world.refer(world.open_case(), "JBG", "legal_aid")
    assert world.jbg_liaison.post(f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "out of area"})
    response = world.jbg_liaison.post(f"/api/v1/referrals/{referral['id']}/acknowledge", json={})
    assert response.status_code == 409
    assert response.get_json()["allowed_moves"] == []
    assert response.get_json()["message"].endswith("No moves are left.")


def test_a_refused_case_transition_names_the_allowed_statuses(world):
    case = world.open_case()
    response = world.caseworker.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "charged"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["allowed_moves"] == ["under_investigation", "closed"]
    assert body["message"] == (
        "A case cannot go to charged when it is open: under_investigation first. "
        "Allowed now: under_investigation, closed."
    )


def test_a_refused_takedown_item_status_names_the_allowed_ones(world):
    referral = world.refer(world.open_case(), "MCMC", "takedown")
    mcmc = world.mcmc_liaison
    assert mcmc.post(f"/api/v1/referrals/{referral['id']}/acknowledge", json={}).status_code == 200
    item = referral["takedown_items"][0]["id"]
    response = mcmc.patch(f"/api/v1/referrals/{referral['id']}/takedown-items/{item}", json={"status": "reuploaded"})
    assert response.status_code == 409
    assert response.get_json()["allowed_moves"] == ["removed", "refused"]


def test_a_stale_version_says_when_and_by_whom_the_case_changed(factory, make_client):
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="D11", name="D11 Sexual Crimes")
    supervisor = factory.user(Role.SUPERVISOR, unit, full_name="Insp. Rahimah")
    mine = make_client().as_user(supervisor)
    theirs = make_client().as_user(factory.user(Role.SUPERVISOR, unit))
    case = mine.post("/api/v1/cases", json={"intake_channel": "police_report", "received_on": "2026-04-01"})
    case = case.get_json()
    changed = mine.patch(f"/api/v1/cases/{case['id']}", json={"notes": "first", "version": 1}).get_json()
    stale = theirs.patch(f"/api/v1/cases/{case['id']}", json={"notes": "second"}, headers={"If-Match": '"v1"'})
    body = stale.get_json()
    assert stale.status_code == 412
    assert body["last_changed"] == {
        "at": body["last_changed"]["at"],
        "version": 2,
        "by": {"name": "Insp. Rahimah", "organisation": "D11 Sexual Crimes"},
    }
    assert body["last_changed"]["at"][:19] == changed["updated_at"][:19]
    assert "by Insp. Rahimah (D11 Sexual Crimes)" in body["message"]
    conflict = theirs.patch(f"/api/v1/cases/{case['id']}", json={"notes": "second", "version": 1})
    assert conflict.status_code == 409 and conflict.get_json()["last_changed"]["version"] == 2


def test_a_stale_version_names_no_one_outside_the_callers_organisation(world):
    """An NGO case changes when the police unit it was referred to links its own case: the NGO
    learns the organisation that changed it, not the officer."""
    case = world.open_case()
    stored = db.session.get(Case, case["id"])
    audit.record(world.user("police_supervisor"), "case.police_case_linked", stored)
    assert last_change(world.user("caseworker"), stored)["by"] == {"organisation": world.police.name}
