"""A victim's images are posted in a Telegram group. The NGO records the case and the victim's
consent, refers her to MCMC for takedown of three addresses and to Legal Aid; MCMC removes two
and is refused one; later she decides to report to police, and the police case is linked, so
the two records are known to be one case. Every step through the HTTP API, as a client would."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models.cases import Case
from casework.models.users import Role
from tests.referral_world import IDENTITY_VALUES, POSTED, World


@pytest.fixture
def world(factory, make_client):  # type: ignore[no-untyped-def]
    return World(factory, make_client)


def ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_telegram_posting_referred_for_takedown_and_legal_aid_then_reported_to_police(world, factory, make_client):
    ngo = world.caseworker

    # 1. The caseworker records the case: three posts in a Telegram group, the group itself.
    case = ok(ngo.post("/api/v1/cases", json=_intake()), 201)
    victim_id = case["victims"][0]["id"]
    assert case["reported_to_police"] is False and case["police_case_id"] is None

    # 2. The form says which legal aid she qualifies for (RM42,000 a year: JBG full aid).
    form = ok(ngo.get(f"/api/v1/cases/{case['id']}/referral-form"))
    eligibility = {e["scheme"]: e["aid"] for e in form["victims"][0]["legal_aid_eligibility"]}
    assert eligibility == {"JBG": "full", "YBGK": "not_eligible"}

    # 3. She consents: to MCMC for takedown (in writing), to Legal Aid (verbally).
    for agency, purpose, method in (("MCMC", "takedown", "written"), ("JBG", "legal_aid", "verbal")):
        body = {"victim_id": victim_id, "agency": agency, "purpose": purpose, "decision": "given", "method": method}
        ok(ngo.post(f"/api/v1/cases/{case['id']}/consents", json=body), 201)

    # 4. Referrals: takedown of the three addresses, and legal aid.
    evidence_ids = [e["id"] for e in case["evidence"]]
    takedown = ok(
        ngo.post(
            f"/api/v1/cases/{case['id']}/referrals",
            json={
                "victim_id": victim_id,
                "agency": "MCMC",
                "purpose": "takedown",
                "takedown_items": [{"evidence_id": i} for i in evidence_ids],
                "note": "Posted with her phone number; she is getting calls.",
            },
        ),
        201,
    )
    legal = ok(
        ngo.post(
            f"/api/v1/cases/{case['id']}/referrals",
            json={"victim_id": victim_id, "agency": "JBG", "purpose": "legal_aid"},
        ),
        201,
    )
    for referral in (takedown, legal):
        assert ok(ngo.post(f"/api/v1/referrals/{referral['id']}/send", json={}))["status"] == "sent"

    # 5. The MCMC liaison works its inbox: the addresses, never who she is.
    mcmc = world.mcmc_liaison
    inbox = ok(mcmc.get("/api/v1/referrals?box=inbox"))
    assert [r["id"] for r in inbox["items"]] == [takedown["id"]]
    assert mcmc.get(f"/api/v1/referrals/{legal['id']}").status_code == 404
    received = mcmc.get(f"/api/v1/referrals/{takedown['id']}")
    seen = received.get_json()
    assert [i["url"] for i in seen["takedown_items"]] == POSTED
    assert seen["shared"]["platforms"] == ["telegram"]
    assert not any(value in received.get_data(as_text=True) for value in IDENTITY_VALUES)
    ok(mcmc.post(f"/api/v1/referrals/{takedown['id']}/acknowledge", json={}))
    ok(mcmc.post(f"/api/v1/referrals/{takedown['id']}/start", json={"note": "Sent to Telegram trust & safety"}))
    items = {i["url"]: i["id"] for i in seen["takedown_items"]}
    for address, status in zip(POSTED, ("removed", "removed", "refused"), strict=True):
        note = "Platform says not a violation" if status == "refused" else None
        ok(
            mcmc.patch(
                f"/api/v1/referrals/{takedown['id']}/takedown-items/{items[address]}",
                json={"status": status, "note": note},
            )
        )
    done = ok(mcmc.post(f"/api/v1/referrals/{takedown['id']}/complete", json={"outcome": "2 of 3 removed; 1 refused"}))
    assert [i["status"] for i in done["takedown_items"]] == ["removed", "removed", "refused"]
    assert all(i["hours_to_removal"] is not None for i in done["takedown_items"][:2])

    # 6. The sender follows both referrals to their status and outcome.
    outbox = {r["id"]: r for r in ok(ngo.get("/api/v1/referrals?box=outbox"))["items"]}
    assert outbox[takedown["id"]]["status"] == "completed" and outbox[legal["id"]]["status"] == "sent"
    assert outbox[takedown["id"]]["outcome"] == "2 of 3 removed; 1 refused"
    jbg = world.jbg_liaison
    legal_seen = ok(jbg.get(f"/api/v1/referrals/{legal['id']}"))
    assert legal_seen["shared"]["victim"]["phone"] == "012-998 7766"
    ok(jbg.post(f"/api/v1/referrals/{legal['id']}/acknowledge", json={}))

    # 7. Later she decides to report to police: consent, referral to the D11 unit.
    body = {"victim_id": victim_id, "agency": "PDRM", "purpose": "police_report", "decision": "given"}
    ok(ngo.post(f"/api/v1/cases/{case['id']}/consents", json=body | {"method": "written"}), 201)
    police_referral = ok(
        ngo.post(
            f"/api/v1/cases/{case['id']}/referrals",
            json={"victim_id": victim_id, "agency": "PDRM", "purpose": "police_report"},
        ),
        201,
    )
    assert police_referral["recipient_organisation"]["code"] == "D11"
    ok(ngo.post(f"/api/v1/referrals/{police_referral['id']}/send", json={}))
    ok(world.police_liaison.post(f"/api/v1/referrals/{police_referral['id']}/acknowledge", json={}))

    # 8. An investigator of the unit reads it (identity included: she chose to report), opens
    # the police case and links it.
    investigator = make_client().as_user(factory.user(Role.INVESTIGATOR, world.police))
    for_police = ok(investigator.get(f"/api/v1/referrals/{police_referral['id']}"))
    assert for_police["shared"]["victim"]["full_name"] == "Nur Aisyah binti Ahmad"
    assert {i["value"] for i in for_police["shared"]["identifiers"]} >= {"https://t.me/groupof30k"}
    police_case = ok(
        investigator.post(
            "/api/v1/cases",
            json={
                "intake_channel": "referral",
                "received_on": "2026-06-20",
                "reported_to_police": True,
                "reported_to_police_on": "2026-06-20",
                "police_report_number": "IPD-KL/009876/26",
                "victims": [{"gender": "female", "age_years": 27}],
                "offences": [{"code": "PC 292"}, {"code": "PC 509"}, {"code": "CMA 233(1)"}],
            },
        ),
        201,
    )
    linked = ok(
        investigator.post(
            f"/api/v1/referrals/{police_referral['id']}/police-case", json={"police_case_id": police_case["id"]}
        )
    )
    assert linked["police_case"]["reference"] == police_case["reference"]

    # 9. Both sides know it is one case: the NGO case points at the police case, counted once.
    ngo_case = ok(ngo.get(f"/api/v1/cases/{case['id']}"))
    assert ngo_case["police_case_id"] == police_case["id"] and ngo_case["reported_to_police"] is True
    assert ngo_case["police_report_number"] == "IPD-KL/009876/26"
    from_ngo = ok(ngo.get(f"/api/v1/referrals/{police_referral['id']}"))["police_case"]
    assert from_ngo["reference"] == police_case["reference"] and from_ngo["organisation"]["code"] == "D11"
    from_police = ok(investigator.get("/api/v1/referrals?box=inbox&purpose=police_report"))["items"][0]
    assert from_police["case_reference"] == case["reference"] and from_police["police_case"]["id"] == police_case["id"]
    distinct_cases = db.session.scalar(select(func.count()).select_from(Case).where(Case.police_case_id.is_(None)))
    assert distinct_cases == 1  # two records, one case
    desk = world.police_liaison
    ok(desk.post(f"/api/v1/referrals/{police_referral['id']}/start", json={}))
    outcome = {"outcome": f"Police case {police_case['reference']} opened"}
    assert ok(desk.post(f"/api/v1/referrals/{police_referral['id']}/complete", json=outcome))["status"] == "completed"


def _intake() -> dict:
    return {
        "intake_channel": "ngo_intake",
        "received_on": "2026-06-01",
        "incident_started_on": "2026-05-20",
        "contact_platform": "telegram",
        "abuse_types": ["non_consensual_distribution"],
        "material_released": True,
        "victims": [
            {
                "full_name": "Nur Aisyah binti Ahmad",
                "national_id": "990101-14-5678",
                "phone": "012-998 7766",
                "email": "aisyah@example.test",
                "safe_contact_instructions": "WhatsApp only after 9pm",
                "gender": "female",
                "date_of_birth": "1999-01-01",
                "declared_annual_income": "42000.00",
            }
        ],
        "offences": [{"code": "PC 292"}, {"code": "PC 509"}, {"code": "CMA 233(1)"}],
        "identifiers": [{"kind": "chat_group", "value": "https://t.me/GroupOf30k", "role": "posting_location"}],
        "evidence": [
            {"kind": "posted_url", "url": url, "platform": "telegram", "sha256": c * 64, "description": "her photos"}
            for url, c in zip(POSTED, "abc", strict=True)
        ],
    }
