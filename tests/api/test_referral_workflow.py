"""The referral workflow: each side's moves, invalid moves (409, nothing changes), every move an
event and an audit row; takedown items; filters; notifications; the police case link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, update

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.organisations import OrganisationKind
from casework.models.referrals import Referral, ReferralEvent, TakedownItem
from casework.models.users import Role
from tests.referral_world import World


@pytest.fixture
def world(factory, make_client):  # type: ignore[no-untyped-def]
    return World(factory, make_client)


POLICE_CASE = {"intake_channel": "referral", "received_on": "2026-06-10"}


def url(referral: dict, action: str = "") -> str:
    return f"/api/v1/referrals/{referral['id']}" + (f"/{action}" if action else "")


def event_count(referral_id: int) -> int:
    return db.session.scalar(select(func.count()).where(ReferralEvent.referral_id == referral_id)) or 0


def audit_actions(referral_id: int) -> list[str]:
    query = select(AuditEvent.action).where(
        AuditEvent.object_type == "referrals", AuditEvent.object_id == str(referral_id)
    )
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_full_lifecycle_each_move_recorded_with_actor_time_and_note_and_audited(world):
    case = world.open_case()
    referral = world.refer(case, "JBG", "legal_aid")
    liaison = world.jbg_liaison
    assert liaison.post(url(referral, "acknowledge"), json={"note": "file opened"}).status_code == 200
    assert liaison.post(url(referral, "start"), json={}).status_code == 200
    done = liaison.post(url(referral, "complete"), json={"outcome": "Full legal aid granted", "note": "ref JBG/1"})
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "completed" and body["outcome"] == "Full legal aid granted" and body["closed_at"]
    moves = [(e["action"], e["from_status"], e["to_status"], e["actor_id"]) for e in body["events"]]
    caseworker, jbg = world.user("caseworker").id, world.user("jbg").id
    assert moves == [
        ("created", None, None, caseworker),
        ("sent", "draft", "sent", caseworker),
        ("acknowledged", "sent", "acknowledged", jbg),
        ("started", "acknowledged", "in_progress", jbg),
        ("completed", "in_progress", "completed", jbg),
    ]
    assert body["events"][2]["note"] == "file opened" and all(e["occurred_at"] for e in body["events"])
    assert audit_actions(referral["id"]) == [
        "referral.created",
        "referral.sent",
        "referral.acknowledged",
        "referral.started",
        "referral.completed",
    ]
    assert "shared" not in body  # actions answer with the state; the shared data is read (and audited) by GET
    # The sender sees the status and outcome.
    seen = world.caseworker.get(url(referral)).get_json()
    assert seen["status"] == "completed" and seen["outcome"] == "Full legal aid granted"


# (who acts, moves made first, the refused move, status): several referrals of one case.
INVALID_MOVES = [
    ("jbg", ["acknowledge"], "complete", 409),  # completing needs in progress first
    ("jbg", ["acknowledge"], "acknowledge", 409),
    ("caseworker", [], "send", 409),  # sent already
    ("jbg", ["decline"], "start", 409),  # declined is final
    ("caseworker", ["withdraw"], "withdraw", 409),
    ("caseworker", [], "acknowledge", 403),  # the sender cannot act for the recipient
    ("jbg", [], "send", 403),  # nor the recipient for the sender
    ("jbg", [], "withdraw", 403),
]


def test_invalid_moves_are_refused_and_change_nothing(world):
    case = world.open_case()
    world.consent(case, "JBG", "legal_aid")
    clients = {"jbg": world.jbg_liaison, "caseworker": world.caseworker}
    bodies = {"decline": {"reason": "Not within our remit"}, "complete": {"outcome": "x"}}
    for who, moves, last, expected in INVALID_MOVES:
        referral = world.refer(case, "JBG", "legal_aid", consent=False)
        for move in moves:
            actor = world.caseworker if move == "withdraw" else clients[who]
            assert actor.post(url(referral, move), json=bodies.get(move, {})).status_code == 200
        status = db.session.scalar(select(Referral.status).where(Referral.id == referral["id"]))
        events, audits = event_count(referral["id"]), len(audit_actions(referral["id"]))
        response = clients[who].post(url(referral, last), json=bodies.get(last, {}))
        assert response.status_code == expected, (who, moves, last, response.get_json())
        assert response.get_json()["message"]
        assert db.session.scalar(select(Referral.status).where(Referral.id == referral["id"])) == status
        assert event_count(referral["id"]) == events and len(audit_actions(referral["id"])) == audits


def test_a_referral_the_sender_withdraws_is_no_longer_shared(world):
    referral = world.refer(world.open_case(), "MCMC", "takedown")
    assert world.caseworker.post(url(referral, "withdraw"), json={"note": "victim asked"}).status_code == 200
    seen = world.mcmc_liaison.get(url(referral)).get_json()
    assert seen["status"] == "withdrawn" and seen["shared"] is None and seen["shared_redacted_at"]
    assert seen["consent"]["withdrawn"] is False  # the referral was withdrawn, not the consent
    assert all("url" not in item for item in seen["takedown_items"])
    assert world.mcmc_liaison.post(url(referral, "acknowledge"), json={}).status_code == 409


def test_bad_input_to_moves_is_422_and_changes_nothing(world):
    referral = world.refer(world.open_case(), "JBG", "legal_aid")
    for action, body, field in [
        ("complete", {}, "outcome"),
        ("complete", {"outcome": ""}, "outcome"),
        ("decline", {}, "reason"),
        ("acknowledge", {"note": "x" * 2001}, "note"),
        ("acknowledge", {"status": "completed"}, "status"),
    ]:
        response = world.jbg_liaison.post(url(referral, action), json=body)
        assert response.status_code == 422 and field in response.get_json()["errors"], (action, body)
    assert db.session.scalar(select(Referral.status).where(Referral.id == referral["id"])).value == "sent"
    assert event_count(referral["id"]) == 2


def test_bad_referral_input_is_422_and_writes_nothing(world):
    case = world.open_case()
    world.consent(case, "MCMC", "takedown")
    for change, field in [
        ({"victim_id": 2.5e-42}, "victim_id"),
        ({"purpose": "gossip"}, "purpose"),
        ({"takedown_items": []}, "takedown_items"),
        ({"takedown_items": [{"url": "ftp://x.example/1"}]}, "takedown_items"),
        ({"takedown_items": [{"url": "https://t.me/a/1", "evidence_id": 1}]}, "takedown_items"),
        ({"takedown_items": [{"evidence_id": 999999}]}, "takedown_items"),
        ({"takedown_items": [{"url": "https://t.me/a/1"}, {"url": "https://t.me/a/1"}]}, "takedown_items"),
        ({"takedown_items": [{"url": "https://t.me/a/1", "platform": "carrier_pigeon"}]}, "takedown_items"),
        ({"agency": "JBG"}, "agency"),
        ({"recipient_organisation_id": 999999}, "recipient_organisation_id"),
    ]:
        response = world.draft(case, "MCMC", "takedown", overrides=change)
        assert response.status_code == 422, (change, response.get_json())
        fields = {name.split(".")[0] for name in response.get_json()["errors"]}  # takedown_items.0.url
        assert field in fields, change
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_takedown_items_are_tracked_one_by_one_to_time_of_removal(world):
    case = world.open_case()
    referral = world.refer(case, "MCMC", "takedown")
    mcmc = world.mcmc_liaison
    first = referral["takedown_items"][0]
    item_url = url(referral, f"takedown-items/{first['id']}")
    early = mcmc.patch(item_url, json={"status": "removed"})
    assert early.status_code == 409  # acknowledge first
    mcmc.post(url(referral, "acknowledge"), json={})
    requested = datetime.now(UTC) - timedelta(hours=6)  # as if sent six hours ago
    db.session.execute(
        update(TakedownItem).where(TakedownItem.referral_id == referral["id"]).values(requested_at=requested)
    )
    removed_at = (requested + timedelta(hours=5)).isoformat()
    removed = mcmc.patch(item_url, json={"status": "removed", "occurred_at": removed_at})
    assert removed.status_code == 200, removed.get_json()
    item = removed.get_json()["takedown_items"][0]
    assert item["status"] == "removed" and item["hours_to_removal"] == 5.0
    assert mcmc.patch(item_url, json={"status": "refused"}).status_code == 409  # removed -> refused is not a thing
    assert mcmc.patch(item_url, json={"status": "requested"}).status_code == 422
    reuploaded = mcmc.patch(item_url, json={"status": "reuploaded", "note": "same post again"}).get_json()
    assert reuploaded["takedown_items"][0]["status"] == "reuploaded"
    assert reuploaded["takedown_items"][0]["hours_to_removal"] == 5.0  # the first removal still counts
    missing = mcmc.patch(url(referral, "takedown-items/999999"), json={"status": "removed"})
    assert missing.status_code == 404
    before = mcmc.patch(item_url, json={"status": "removed", "occurred_at": "2020-01-01T00:00:00Z"})
    assert before.status_code == 422
    # The sender's staff do not record the agency's results; another agency cannot see the items.
    assert world.caseworker.patch(item_url, json={"status": "removed"}).status_code == 403
    assert world.jbg_liaison.patch(item_url, json={"status": "removed"}).status_code == 404
    mcmc.post(url(referral, "start"), json={})
    unfinished = mcmc.post(url(referral, "complete"), json={"outcome": "done"})
    assert unfinished.status_code == 409 and "takedown_items" in unfinished.get_json()["errors"]
    assert "referral.takedown_item_updated" in audit_actions(referral["id"])


def test_inbox_outbox_and_filters(world):
    case = world.open_case()
    takedown = world.refer(case, "MCMC", "takedown")
    legal = world.refer(case, "JBG", "legal_aid")
    world.jbg_liaison.post(url(legal, "acknowledge"), json={})
    cw = world.caseworker

    def ids(query: str, client=cw) -> list[int]:  # type: ignore[no-untyped-def]
        response = client.get(f"/api/v1/referrals?{query}")
        assert response.status_code == 200, response.get_json()
        return [r["id"] for r in response.get_json()["items"]]

    assert ids("") == [legal["id"], takedown["id"]] == ids("box=outbox")
    assert ids("box=inbox") == []
    assert ids("status=acknowledged") == [legal["id"]]
    assert ids("agency=mcmc") == [takedown["id"]]
    assert ids("purpose=legal_aid") == [legal["id"]]
    assert ids(f"case_id={case['id']}") == [legal["id"], takedown["id"]]
    assert ids("overdue=true") == []
    past = datetime.now(UTC) - timedelta(hours=1)
    db.session.execute(update(Referral).where(Referral.id == takedown["id"]).values(due_acknowledge_at=past))
    assert ids("overdue=true") == [takedown["id"]]
    assert ids("overdue=false") == [legal["id"]]
    assert ids("overdue=true", world.mcmc_liaison) == [takedown["id"]]
    listed = cw.get("/api/v1/referrals?overdue=true").get_json()["items"][0]
    assert listed["is_overdue"] is True and "shared" not in listed
    for bad in ("status=lost", "box=all", "per_page=1000", "purpose=x", "overdue=perhaps"):
        assert cw.get(f"/api/v1/referrals?{bad}").status_code == 422


def test_notifications_are_personal_and_can_be_marked_read(world):
    world.user("mcmc")
    case = world.open_case()
    world.refer(case, "MCMC", "takedown")
    mcmc = world.mcmc_liaison
    page = mcmc.get("/api/v1/notifications").get_json()
    assert page["total"] == 1 and page["unread"] == 1
    note = page["items"][0]
    assert note["kind"] == "referral_received" and "takedown to MCMC" in note["message"]
    assert world.jbg_liaison.post(f"/api/v1/notifications/{note['id']}/read").status_code == 404
    read = mcmc.post(f"/api/v1/notifications/{note['id']}/read")
    assert read.status_code == 200 and read.get_json()["read_at"]
    assert mcmc.get("/api/v1/notifications?unread=true").get_json()["total"] == 0
    assert world.jbg_liaison.get("/api/v1/notifications").get_json()["total"] == 0


def test_police_case_is_linked_to_the_ngo_case_and_known_to_both(world, factory, make_client):
    case = world.open_case()
    referral = world.refer(case, "PDRM", "police_report")
    supervisor = world.police_supervisor
    police_case = supervisor.post(
        "/api/v1/cases",
        json={"intake_channel": "referral", "received_on": "2026-06-10", "police_report_number": "KL/123/26"}
        | {"reported_to_police": True, "reported_to_police_on": "2026-06-10"},
    ).get_json()
    link = url(referral, "police-case")
    world.police_liaison.post(url(referral, "acknowledge"), json={})
    assert world.police_liaison.post(link, json={"police_case_id": police_case["id"]}).status_code == 403
    other_unit_case = world.open_case(client=make_client().as_user(factory.user()))
    assert supervisor.post(link, json={"police_case_id": other_unit_case["id"]}).status_code == 404

    linked = supervisor.post(link, json={"police_case_id": police_case["id"]})
    assert linked.status_code == 200, linked.get_json()
    assert linked.get_json()["police_case"]["reference"] == police_case["reference"]
    ngo_case = world.caseworker.get(f"/api/v1/cases/{case['id']}").get_json()
    assert ngo_case["police_case_id"] == police_case["id"] and ngo_case["reported_to_police"] is True
    assert ngo_case["police_report_number"] == "KL/123/26" and ngo_case["reported_to_police_on"] == "2026-06-10"
    seen_by_ngo = world.caseworker.get(url(referral)).get_json()["police_case"]
    assert seen_by_ngo == {
        "id": police_case["id"],
        "reference": police_case["reference"],
        "organisation": {"id": world.police.id, "code": "D11", "name": world.police.name, "kind": "police_unit"},
    }
    assert world.caseworker.get(f"/api/v1/cases/{police_case['id']}").status_code == 404  # the link, not the case
    # Idempotent for the same case; another police case is a conflict.
    assert supervisor.post(link, json={"police_case_id": police_case["id"]}).status_code == 200
    second = supervisor.post("/api/v1/cases", json={"intake_channel": "referral", "received_on": "2026-06-11"})
    again = supervisor.post(link, json={"police_case_id": second.get_json()["id"]})
    assert again.status_code == 409
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.police_case_linked")).details == {
        "police_case_id": police_case["id"],
        "referral_id": referral["id"],
    }


@pytest.mark.parametrize("which", ["the unit's own case", "another unit's case", "a missing case", "the NGO's case"])
def test_only_the_police_unit_links_and_only_a_case_it_can_see(world, factory, make_client, which):
    """The NGO cannot attach a police case (any id) to its own; the unit cannot name a case
    outside its scope. Either way nothing is linked and the NGO learns nothing of the case."""
    case = world.open_case()
    referral = world.refer(case, "PDRM", "police_report")
    police_case = world.police_supervisor.post("/api/v1/cases", json=POLICE_CASE).get_json()
    elsewhere = make_client().as_user(
        factory.user(Role.INVESTIGATOR, factory.organisation(OrganisationKind.POLICE_UNIT))
    )
    unrelated = {
        "the unit's own case": police_case["id"],
        "another unit's case": elsewhere.post("/api/v1/cases", json=POLICE_CASE).get_json()["id"],
        "a missing case": 10**9,
        "the NGO's case": case["id"],
    }[which]
    world.police_liaison.post(url(referral, "acknowledge"), json={})
    link = url(referral, "police-case")
    by_the_ngo = world.caseworker.post(link, json={"police_case_id": unrelated})
    assert by_the_ngo.status_code == 403
    if which != "the unit's own case":
        assert world.police_supervisor.post(link, json={"police_case_id": unrelated}).status_code == 404
    ngo_case = world.caseworker.get(f"/api/v1/cases/{case['id']}").get_json()
    assert ngo_case["police_case_id"] is None and ngo_case["police_report_number"] is None
    assert world.caseworker.get(url(referral)).get_json()["police_case"] is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.police_case_linked")) is None


def test_only_police_report_referrals_link_a_police_case(world):
    case = world.open_case()
    referral = world.refer(case, "JBG", "legal_aid")
    world.jbg_liaison.post(url(referral, "acknowledge"), json={})
    response = world.caseworker.post(url(referral, "police-case"), json={"police_case_id": case["id"]})
    assert response.status_code == 409


def test_referral_lists_do_not_grow_queries_with_referrals(world, app):
    case = world.open_case()
    world.consent(case, "JBG", "legal_aid")
    world.consent(case, "MCMC", "takedown")

    def queries(client) -> int:  # type: ignore[no-untyped-def]
        seen: list[int] = []
        with app.app_context():
            engine = db.engine
        listener = lambda *_args, **_kw: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/api/v1/referrals").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    world.refer(case, "MCMC", "takedown", consent=False)
    world.refer(case, "JBG", "legal_aid", consent=False)
    few = queries(world.caseworker), queries(world.mcmc_liaison)
    for _ in range(3):
        world.refer(case, "MCMC", "takedown", consent=False)
        world.refer(case, "JBG", "legal_aid", consent=False)
    assert (queries(world.caseworker), queries(world.mcmc_liaison)) == few
