"""Hearing back from partners: the sender and the case's assignee are told when the recipient
acknowledges, starts, completes or declines a referral and when a takedown address is removed,
refused or re-uploaded; notifications are marked read one by one or all at once and filtered
by unread; events name who acted and their organisation."""

from __future__ import annotations

import pytest

from casework.models.users import Role
from tests.referral_world import World


@pytest.fixture
def world(factory, make_client):  # type: ignore[no-untyped-def]
    return World(factory, make_client)


def _news(client, **query):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/notifications", query_string={"per_page": 100, **query})
    assert response.status_code == 200
    return [n for n in response.get_json()["items"] if n["kind"] != "referral_received"]


def test_sender_and_assignee_hear_each_move_of_the_recipient(world, factory, make_client):
    case = world.open_case()
    assignee = factory.user(Role.CASEWORKER, world.ngo, full_name="Farah Assigned")
    supervisor = world.ngo_supervisor
    assert (
        supervisor.post(f"/api/v1/cases/{case['id']}/assignment", json={"assignee_id": assignee.id}).status_code == 200
    )
    referral = world.refer(case, "JBG", "legal_aid")
    jbg, liaison = world.jbg_liaison, world.user("jbg")
    for move, body in (("acknowledge", {}), ("start", {}), ("complete", {"outcome": "advice_given"})):
        assert jbg.post(f"/api/v1/referrals/{referral['id']}/{move}", json=body).status_code == 200, move

    for client in (world.caseworker, make_client().as_user(assignee)):
        news = _news(client)
        assert [n["kind"] for n in news] == ["referral_completed", "referral_started", "referral_acknowledged"]
        assert news[-1]["message"] == (
            f"Referral {referral['id']} (legal_aid to JBG) acknowledged by {liaison.full_name} ({world.jbg.name})."
        )
        assert all(n["referral_id"] == referral["id"] for n in news)
    assert _news(jbg) == []  # the recipient is not told of its own moves


def test_the_sender_hears_a_decline(world):
    referral = world.refer(world.open_case(), "JBG", "legal_aid")
    world.jbg_liaison.post(f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "Outside our area"})
    assert [n["kind"] for n in _news(world.caseworker)] == ["referral_declined"]


def test_the_sender_hears_each_takedown_address_every_time(world):
    referral = world.refer(world.open_case(), "MCMC", "takedown")
    mcmc = world.mcmc_liaison
    mcmc.post(f"/api/v1/referrals/{referral['id']}/acknowledge", json={})
    first, second = (item["id"] for item in referral["takedown_items"][:2])
    item_url = f"/api/v1/referrals/{referral['id']}/takedown-items/"
    for item, status in ((first, "removed"), (second, "refused"), (first, "reuploaded"), (first, "removed")):
        assert mcmc.patch(f"{item_url}{item}", json={"status": status}).status_code == 200, (item, status)
    kinds = [n["kind"] for n in _news(world.caseworker)]
    assert kinds == [
        "takedown_item_removed",
        "takedown_item_reuploaded",
        "takedown_item_refused",
        "takedown_item_removed",
        "referral_acknowledged",
    ]
    message = _news(world.caseworker)[0]["message"]
    assert f"address {first} removed by" in message and "t.me" not in message


def test_notifications_are_marked_read_one_and_all_and_filtered_by_unread(world):
    referral = world.refer(world.open_case(), "JBG", "legal_aid")
    for move in ("acknowledge", "start"):
        world.jbg_liaison.post(f"/api/v1/referrals/{referral['id']}/{move}", json={})
    caseworker = world.caseworker
    started, acknowledged = _news(caseworker)
    read = caseworker.post(f"/api/v1/notifications/{started['id']}/read")
    assert read.status_code == 200 and read.get_json()["read_at"]
    assert [n["id"] for n in _news(caseworker, unread="true")] == [acknowledged["id"]]
    assert world.jbg_liaison.post(f"/api/v1/notifications/{acknowledged['id']}/read").status_code == 404
    marked = caseworker.post("/api/v1/notifications/read")
    assert marked.status_code == 200 and marked.get_json() == {"marked": 1}
    page = caseworker.get("/api/v1/notifications", query_string={"unread": "true"}).get_json()
    assert page["items"] == [] and page["unread"] == 0
    assert caseworker.post("/api/v1/notifications/read").get_json() == {"marked": 0}


def test_events_name_who_acted_and_their_organisation(world):
    referral = world.refer(world.open_case(), "JBG", "legal_aid")
    world.jbg_liaison.post(f"/api/v1/referrals/{referral['id']}/acknowledge", json={})
    events = world.caseworker.get(f"/api/v1/referrals/{referral['id']}").get_json()["events"]
    caseworker, liaison = world.user("caseworker"), world.user("jbg")
    assert [e["actor"] for e in events] == [
        {"id": caseworker.id, "name": caseworker.full_name, "organisation": world.ngo.name},
        {"id": caseworker.id, "name": caseworker.full_name, "organisation": world.ngo.name},
        {"id": liaison.id, "name": liaison.full_name, "organisation": world.jbg.name},
    ]
