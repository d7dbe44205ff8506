"""The statistics API against figures computed by hand from cases opened through the API.

The world (all received in March 2026):
  D11 (police unit): five cases of extortion escalated to rape, PC 376(1) + PC 383 + PC 506 against
      one victim each; one Telegram group case, PC 292 + CMA 233(1) against eight victims.
  NGA (NGO A): five image-abuse cases, PC 292 + CMA 233(1), one victim each; the first is referred to
      police and linked to D11's Telegram case (its victim is one of the eight).
  NGB (NGO B): five extortion cases, PC 383 + PC 506, one victim each.
Counted once over all organisations: 5 + 1 + 4 + 5 = 15 cases.

  section     rank  (a) most serious  (b) involving  (c) offences  (d) victims  hidden (b)-(a)
  PC 376(1)    12          5                5              5             5            0
  PC 383        7          5 (NGB)         10             10            10            5  (D11's)
  PC 506        6          0               10             10            10           10
  PC 292        3          5 (1 + 4)        5              5            12            0
  CMA 233(1)    2          0                5              5            12            5
  total                   15                             35            49           20

Statistics run on their own REPEATABLE READ connection, so these tests commit for real.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from casework.extensions import db
from casework.models.organisations import OrganisationKind
from casework.models.users import Role, User
from casework.schemas.statistics import ReportQuerySchema, report_filter_from
from casework.services.statistics import scope_for
from reports.dimensions import Dimension
from reports.scope import ReportFilter
from tests.helpers import ApiClient, Factory

REPORT = "/api/v1/statistics/report"
OFFENCES = "/api/v1/statistics/offences"
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def person(n: int) -> dict[str, Any]:
    """A victim with identity and contact details: none of them may reach a statistics response."""
    return {
        "full_name": f"Victim Fullname{n:03d}",
        "national_id": f"9901{n:02d}-14-{5000 + n}",
        "phone": f"012-555 {1000 + n}",
        "email": f"victim{n:03d}@example.test",
        "gender": "female" if n % 3 else "male",
        "age_years": 16 + n % 30,
    }


IDENTITY_MARKERS = ("Fullname", "9901", "555 1", "victim0", "@example.test", "t.me/", "-2026-")


class World:
    def __init__(self, factory: Factory, app: Flask) -> None:
        self.app = app
        self.d11 = factory.organisation(OrganisationKind.POLICE_UNIT, code="D11", name="D11 Sexual Crimes")
        self.nga = factory.organisation(OrganisationKind.NGO, code="NGA", name="NGO A")
        self.ngb = factory.organisation(OrganisationKind.NGO, code="NGB", name="NGO B")
        office = factory.organisation(OrganisationKind.AGENCY, code="STATS", name="Statistics office")
        self.users: dict[str, User] = {
            "investigator": factory.user(Role.INVESTIGATOR, self.d11),
            "d11_supervisor": factory.user(Role.SUPERVISOR, self.d11),
            "nga_caseworker": factory.user(Role.CASEWORKER, self.nga),
            "nga_supervisor": factory.user(Role.SUPERVISOR, self.nga),
            "ngb_caseworker": factory.user(Role.CASEWORKER, self.ngb),
            "ngb_supervisor": factory.user(Role.SUPERVISOR, self.ngb),
            "liaison": factory.user(Role.LIAISON, self.d11),
            "admin": factory.user(Role.ADMIN, office),
            "analyst": factory.user(Role.ANALYST, office),
        }
        db.session.commit()
        self.clients: dict[str, ApiClient] = {}

    def client(self, name: str) -> ApiClient:
        if name not in self.clients:
            self.clients[name] = ApiClient(self.app.test_client()).as_user(self.users[name])
        return self.clients[name]

    def open_case(self, who: str, day: int, victims: list[dict[str, Any]], codes: list[str], **extra: Any) -> dict:  # type: ignore[type-arg]
        body = {
            "intake_channel": "police_report" if who == "investigator" else "ngo_intake",
            "received_on": f"2026-03-{day:02d}",
            "victims": victims,
            "offences": [{"code": code} for code in codes],
            **extra,
        }
        response = self.client(who).post("/api/v1/cases", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def build(self) -> World:
        for n in range(5):
            self.open_case(
                "investigator",
                1 + n,
                [person(n)],
                ["PC 376(1)", "PC 383", "PC 506"],
                contact_platform="instagram",
                moved_to_platforms=["telegram"],
                abuse_types=["financial_sextortion"],
                payments={"count": 2},
            )
        group = self.open_case(
            "investigator",
            10,
            [person(10 + n) for n in range(8)],
            ["PC 292", "CMA 233(1)"],
            contact_platform="telegram",
            abuse_types=["non_consensual_distribution"],
            identifiers=[{"kind": "chat_group", "value": "https://t.me/GroupOf30k", "role": "posting_location"}],
        )
        ngo_a = [
            self.open_case("nga_caseworker", 12 + n, [person(10 if n == 0 else 30 + n)], ["PC 292", "CMA 233(1)"])
            for n in range(5)
        ]
        for n in range(5):
            self.open_case(
                "ngb_caseworker", 20 + n, [person(40 + n)], ["PC 383", "PC 506"], contact_platform="whatsapp"
            )
        self.refer_to_police(ngo_a[0], police_case_id=group["id"])
        return self

    def refer_to_police(self, case: dict, police_case_id: int) -> None:  # type: ignore[type-arg]
        """NGO A refers its first case to police with consent; D11 links the Telegram case."""
        caseworker = self.client("nga_caseworker")
        victim_id = case["victims"][0]["id"]
        about = {"victim_id": victim_id, "agency": "PDRM", "purpose": "police_report"}
        consent = caseworker.post(
            f"/api/v1/cases/{case['id']}/consents", json={**about, "decision": "given", "method": "written"}
        )
        assert consent.status_code == 201, consent.get_json()
        drafted = caseworker.post(
            f"/api/v1/cases/{case['id']}/referrals", json={**about, "recipient_organisation_id": self.d11.id}
        )
        assert drafted.status_code == 201, drafted.get_json()
        referral_id = drafted.get_json()["id"]
        assert caseworker.post(f"/api/v1/referrals/{referral_id}/send", json={}).status_code == 200
        linked = self.client("d11_supervisor").post(
            f"/api/v1/referrals/{referral_id}/police-case", json={"police_case_id": police_case_id}
        )
        assert linked.status_code == 200, linked.get_json()

    def get(self, who: str, url: str = REPORT, **query: Any) -> dict[str, Any]:
        response = self.client(who).get(url, query_string=query)
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def world(app_ctx: Flask, factory: Factory) -> World:
    return World(factory, app_ctx)


def table(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in report["tables"] if t["name"] == name)


def offence_rows(report: dict[str, Any]) -> dict[Any, list[Any]]:
    """{code: [(a), (b), (c), (d), hidden]} of the Offences table ("Total" for its total row)."""
    rows = table(report, "Offences")["rows"]
    return {row["labels"][0] or row["labels"][1]: row["cells"] for row in rows}


def cells_by_label(report: dict[str, Any], name: str) -> dict[Any, list[Any]]:
    return {row["labels"][0]: row["cells"] for row in table(report, name)["rows"]}


def published_as(shown: Any, true: Any) -> bool:
    """What the cell-key method may show for a true count: "<5" for 0 (published 0), "<5" or a
    count at most 2 away otherwise; blanks stay blank."""
    if true is None:
        return shown is None
    if true == 0:
        return bool(shown == "<5")
    return shown == "<5" or (isinstance(shown, int) and shown >= max(5, true - 2) and shown <= true + 2)


def all_published_as(rows: dict[Any, list[Any]], expected: dict[Any, list[Any]]) -> bool:
    return set(rows) == set(expected) and all(
        len(rows[k]) == len(v) and all(published_as(s, t) for s, t in zip(rows[k], v, strict=True))
        for k, v in expected.items()
    )


@pytest.mark.committing
def test_analyst_sees_every_organisation_counted_once_with_the_hidden_number(world: World) -> None:
    world.build()

    report = world.get("analyst", **MARCH)

    assert report["scope"] == "all organisations"
    assert not report["suppression"]["exact"]
    assert world.get("analyst", **MARCH) == report  # the same cases: the same published figures
    assert all_published_as(
        offence_rows(report),
        {
            "PC 376(1)": [5, 5, 5, 5, 0],
            "PC 383": [5, 10, 10, 10, 5],  # the hierarchy rule shows 5; 10 cases involve extortion
            "PC 506": [0, 10, 10, 10, 10],
            "PC 292": [5, 5, 5, 12, 0],
            "CMA 233(1)": [0, 5, 5, 12, 5],
            "No offence recorded": [0, None, None, None, None],
            "Total": [15, None, 35, 49, 20],
        },
    )
    # NGO A's linked case is the Telegram case: known to police and an NGO, a small number
    assert cells_by_label(report, "Known to")["Known to police and an NGO"][0] == "<5"
    assert published_as(cells_by_label(report, "Known to")["All cases"][0], 15)
    assert report["suppression"]["threshold"] == 5 and report["suppression"]["hidden_primary"] > 0
    assert set(report["counting_rules"]) >= {"most_serious", "involving", "offences", "victims", "hidden"}
    assert dict((f["name"], f["text"]) for f in report["filters"])["Organisations"] == "all organisations"


@pytest.mark.committing
def test_the_offences_view_is_the_same_table_as_in_the_full_report(world: World) -> None:
    world.build()

    full = world.get("analyst", group_by="organisation_kind")
    offences = world.get("analyst", OFFENCES, group_by="organisation_kind")

    assert {t["topic"] for t in offences["tables"]} == {"offences"}
    assert [t["name"] for t in offences["tables"]] == [t["name"] for t in full["tables"] if t["topic"] == "offences"]
    for t in offences["tables"]:
        assert t == table(full, t["name"])
    victims = cells_by_label(offences, "Victims - organisation")
    assert table(offences, "Victims - organisation")["value_columns"] == ["Police unit", "NGO", "Agency", "All"]
    assert all(published_as(s, t) for s, t in zip(victims["PC 506"], [5, 5, 0, 10], strict=True))
    # police: 5 x 3 + 8 x 2; NGOs (NGO A's linked case counted as the police case): 4 x 2 + 5 x 2
    assert all(published_as(s, t) for s, t in zip(victims["Total"], [31, 18, 0, 49], strict=True))


@pytest.mark.committing
def test_supervisors_count_their_own_organisation_only(world: World) -> None:
    world.build()

    nga = world.get("nga_supervisor", **MARCH)
    ngb = world.get("ngb_supervisor", **MARCH)
    d11 = world.get("d11_supervisor", **MARCH)

    # NGO A counts its case linked to D11's Telegram case as its own (the police case is not NGO A's)
    assert nga["scope"] == "organisation NGA"
    assert nga["suppression"]["exact"] and "Exact counts" in table(nga, "Offences")["description"]
    assert offence_rows(nga) == {
        "PC 292": [5, 5, 5, 5, 0],
        "CMA 233(1)": [0, 5, 5, 5, 5],
        "No offence recorded": [0, None, None, None, None],
        "Total": [5, None, 10, 10, 5],
    }
    assert offence_rows(ngb) == {
        "PC 383": [5, 5, 5, 5, 0],
        "PC 506": [0, 5, 5, 5, 5],
        "No offence recorded": [0, None, None, None, None],
        "Total": [5, None, 10, 10, 5],
    }
    # D11: the escalated cases and the Telegram case, not NGO B's extortion nor NGO A's image abuse
    d11_rows = offence_rows(d11)
    assert set(d11_rows) == {"PC 376(1)", "PC 383", "PC 506", "PC 292", "CMA 233(1)", "No offence recorded", "Total"}
    assert [d11_rows[code][3] for code in ("PC 383", "PC 292", "Total")] == [5, 8, 31]  # victims
    assert d11_rows["PC 292"][:3] == [1, 1, 1]  # the one Telegram case: exact, D11 can open it anyway
    assert dict((f["name"], f["text"]) for f in nga["filters"])["Organisations"] == "NGA"


@pytest.mark.committing
def test_supervisors_get_exact_referral_counts(world: World) -> None:
    world.build()

    referrals = world.get("nga_supervisor", "/api/v1/statistics/referrals")

    assert [t["name"] for t in referrals["tables"]] == ["Referrals", "Takedown items"]
    police = cells_by_label(referrals, "Referrals")["PDRM"]
    assert police[0] == 1  # one referral sent, not yet acknowledged
    assert police[-2:] == ["n/a", "n/a"]  # no median from fewer than five
    assert cells_by_label(world.get("ngb_supervisor", "/api/v1/statistics/referrals"), "Referrals") == {
        "All referrals": [0, 0, 0, 0, 0, 0, 0, 0, "n/a", "n/a"]
    }


@pytest.mark.committing
def test_no_victim_or_case_detail_appears_in_any_response(world: World) -> None:
    world.build()

    for who in ("analyst", "nga_supervisor", "d11_supervisor"):
        for url in (REPORT, OFFENCES, "/api/v1/statistics/referrals"):
            text = json.dumps(world.get(who, url, group_by="gender"))
            assert not [marker for marker in IDENTITY_MARKERS if marker in text], (who, url)


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.INVESTIGATOR, Role.LIAISON, Role.ADMIN, Role.PLATFORM_ADMIN])
@pytest.mark.parametrize("path", ["report", "offences", "referrals", "dimensions"])
def test_roles_without_statistics_read_get_403(factory: Factory, make_client, role: Role, path: str) -> None:  # type: ignore[no-untyped-def]
    client = make_client().as_user(factory.user(role))

    response = client.get(f"/api/v1/statistics/{path}")

    assert response.status_code == 403
    assert response.get_json()["code"] == 403


@pytest.fixture
def analyst(factory: Factory, make_client) -> ApiClient:  # type: ignore[no-untyped-def]
    return make_client().as_user(factory.user(Role.ANALYST))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"group_by": "victim_name"}, "group_by"),
        ({"state": "Selangor"}, "state"),
        ({"known_to": "police_only,everyone"}, "known_to"),
        ({"received_month": "2026-13"}, "received_month"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_from": "2026-04-01", "date_to": "2026-03-01"}, "date_to"),
        ({"date_basis": "reported"}, "date_basis"),
        ({"victim_id": "1"}, "victim_id"),
    ],
)
def test_bad_queries_are_422_naming_the_field(analyst: ApiClient, query: dict[str, str], field: str) -> None:
    response = analyst.get(REPORT, query_string=query)

    assert response.status_code == 422
    # query.state.0: the first value of the parameter; query.date_from: the parameter itself
    assert {".".join(name.split(".")[:2]) for name in response.get_json()["errors"]} == {f"query.{field}"}


def test_filters_are_repeated_or_comma_separated() -> None:
    args = ReportQuerySchema().load(
        {"state": ["MY-14", "MY-10"], "platform": "telegram,instagram", "group_by": "minor", "date_basis": "incident"}
    )

    report_filter, group_by = report_filter_from(args)

    assert report_filter == ReportFilter(
        date_basis="incident",
        only={Dimension.STATE: frozenset({"MY-14", "MY-10"}), Dimension.PLATFORM: frozenset({"telegram", "instagram"})},
    )
    assert group_by is Dimension.MINOR


def test_the_report_describes_its_filters_and_breakdown(analyst: ApiClient) -> None:
    response = analyst.get(REPORT, query_string={"state": ["MY-14", "MY-10"], "group_by": "platform", **MARCH})

    report = response.get_json()
    assert response.status_code == 200
    assert report["group_by"] == "platform"
    filters = {f["name"]: f["text"] for f in report["filters"]}
    assert filters["Period"] == "2026-03-01 to 2026-03-31 (inclusive), by date received"
    assert filters["State"] == "MY-10, MY-14"
    assert filters["Broken down by"] == "Platform"
    assert report["estimate"]["status"] == "withheld" and report["estimate"]["reason"]
    assert len(report["estimate"]["assumptions"]) == 4
    figures = report["estimate"]["figures"]
    assert figures and all(set(f) == {"measure", "value"} for f in figures)


def test_dimensions_list_the_values_a_filter_may_name(analyst: ApiClient) -> None:
    found = {d["name"]: d for d in analyst.get("/api/v1/statistics/dimensions").get_json()}

    assert set(found) == {d.value for d in Dimension}
    assert [v["value"] for v in found["known_to"]["values"]] == ["police_only", "police_and_ngo", "ngo_only", "other"]
    assert found["state"]["values"] is None
    assert found["gender"]["victim_level"] and found["platform"]["multi_valued"]


def test_an_analyst_counts_every_organisation_and_a_supervisor_only_theirs(factory: Factory) -> None:
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="D7")
    supervisor = factory.user(Role.SUPERVISOR, unit)

    assert scope_for(factory.user(Role.ANALYST)).organisation_id is None
    assert (scope_for(supervisor).organisation_id, scope_for(supervisor).label) == (unit.id, "organisation D7")
