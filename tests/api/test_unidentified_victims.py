"""Cases that start without a victim report: intake by police initiative or a platform's or an
agency's tip, and for a group or channel its size and the victims believed affected but not
identified, shown on the case and counted as a figure of their own (never as victims)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from casework.extensions import db
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from tests.helpers import ApiClient, Factory

V2K = {
    "intake_channel": "police_initiative",
    "received_on": "2026-03-02",
    "contact_platform": "telegram",
    "abuse_types": ["non_consensual_distribution"],
    "group_member_count": 30_000,
    "unidentified_victim_count": 2_000,
    "identifiers": [{"kind": "chat_group", "value": "https://t.me/v2kgroup", "role": "posting_location"}],
    "victims": [{"key": "a", "gender": "female", "age_years": 24}],
    "offences": [{"code": "PC 292"}, {"code": "CMA 233(1)"}],
}


@pytest.fixture
def investigator(factory, make_client):  # type: ignore[no-untyped-def]
    return make_client().as_user(factory.user(Role.INVESTIGATOR, factory.organisation(code="D11")))


def test_a_police_initiative_group_case_shows_its_size_and_unidentified_victims(investigator):
    response = investigator.post("/api/v1/cases", json=V2K)
    assert response.status_code == 201, response.get_json()
    case = investigator.get(f"/api/v1/cases/{response.get_json()['id']}").get_json()
    assert case["intake_channel"] == "police_initiative" and case["reported_to_police"] is False
    assert case["group_member_count"] == 30_000 and case["unidentified_victim_count"] == 2_000
    assert case["victim_count"] == 1  # the identified victim only


@pytest.mark.parametrize("channel", ["platform_tip", "agency_tip"])
def test_a_tip_names_who_tipped(investigator, channel):
    body = {"intake_channel": channel, "received_on": "2026-03-02", "tip_source": "MCMC"}
    case = investigator.post("/api/v1/cases", json=body)
    assert case.status_code == 201 and case.get_json()["tip_source"] == "MCMC"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tip_source": "MCMC"}, "tip_source"),  # police initiative: nobody tipped
        ({"unidentified_victim_count": 40_000}, "unidentified_victim_count"),
        ({"group_member_count": -1}, "group_member_count"),
    ],
)
def test_group_figures_that_cannot_be_are_422(investigator, change, field):
    response = investigator.post("/api/v1/cases", json={**V2K, **change})
    assert response.status_code == 422 and list(response.get_json()["errors"]) == [field]


def test_the_figures_are_edited_like_other_case_fields(investigator):
    case = investigator.post("/api/v1/cases", json=V2K).get_json()
    edited = investigator.patch(
        f"/api/v1/cases/{case['id']}", json={"unidentified_victim_count": 2_500, "version": case["version"]}
    )
    assert edited.status_code == 200 and edited.get_json()["unidentified_victim_count"] == 2_500


@pytest.mark.committing
def test_statistics_count_unidentified_victims_apart_from_victims(app_ctx: Flask, factory: Factory) -> None:
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="D11")
    investigator, supervisor = factory.user(Role.INVESTIGATOR, unit), factory.user(Role.SUPERVISOR, unit)
    db.session.commit()
    client = ApiClient(app_ctx.test_client()).as_user(investigator)
    for n in range(6):
        body: dict[str, Any] = {**V2K, "received_on": f"2026-03-{n + 2:02d}"}
        if n == 5:  # a case with no estimate is not counted in the figure
            body.pop("unidentified_victim_count")
        assert client.post("/api/v1/cases", json=body).status_code == 201

    report = (
        ApiClient(app_ctx.test_client())
        .as_user(supervisor)
        .get("/api/v1/statistics/report", query_string={"date_from": "2026-03-01", "date_to": "2026-03-31"})
    )
    assert report.status_code == 200, report.get_json()
    tables = {t["name"]: t for t in report.get_json()["tables"]}
    rows = [(row["labels"][0], row["cells"]) for row in tables["Unidentified victims"]["rows"]]
    assert rows == [
        ("Cases with victims believed affected, not identified", [5]),
        ("Victims believed affected, not identified (estimated)", [10_000]),
    ]
    offences = {row["labels"][0] or row["labels"][1]: row["cells"] for row in tables["Offences"]["rows"]}
    assert offences["PC 292"][3] == 6  # (d) victims: the six identified victims, none of the 10,000
