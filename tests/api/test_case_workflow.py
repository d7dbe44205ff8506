"""Editing with optimistic concurrency, the status workflow, assignment, references, lists."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select

from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from tests.helpers import ApiClient

MINIMAL = {"intake_channel": "police_report", "received_on": "2026-04-01"}


@pytest.fixture
def unit(factory):  # type: ignore[no-untyped-def]
    return factory.organisation(OrganisationKind.POLICE_UNIT, code="D11")


@pytest.fixture
def investigator(factory, make_client, unit):  # type: ignore[no-untyped-def]
    user = factory.user(Role.INVESTIGATOR, unit)
    client = make_client().as_user(user)
    client.user = user
    return client


def open_case(client, **extra):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/cases", json={**MINIMAL, **extra})
    assert response.status_code == 201, response.get_json()
    return response


def test_references_are_sequential_per_organisation_and_year(investigator):
    refs = [open_case(investigator).get_json()["reference"] for _ in range(3)]
    refs.append(open_case(investigator, received_on="2025-12-31").get_json()["reference"])
    assert refs == ["D11-2026-000001", "D11-2026-000002", "D11-2026-000003", "D11-2025-000001"]


def test_patch_needs_the_version_and_a_stale_one_changes_nothing(investigator):
    created = open_case(investigator)
    case_id, etag = created.get_json()["id"], created.headers["ETag"]
    assert etag == '"v1"'
    missing = investigator.patch(f"/api/v1/cases/{case_id}", json={"notes": "x"})
    assert missing.status_code == 422 and "version" in missing.get_json()["errors"]
    first = investigator.patch(f"/api/v1/cases/{case_id}", json={"notes": "first"}, headers={"If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] == '"v2"'
    stale = investigator.patch(f"/api/v1/cases/{case_id}", json={"notes": "second"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    stale_body = investigator.patch(f"/api/v1/cases/{case_id}", json={"notes": "second", "version": 1})
    assert stale_body.status_code == 409
    assert investigator.get(f"/api/v1/cases/{case_id}").get_json()["notes"] == "first"


def test_patch_rechecks_dates_against_stored_values(investigator):
    created = open_case(investigator, incident_started_on="2026-03-01").get_json()
    response = investigator.patch(
        f"/api/v1/cases/{created['id']}", json={"received_on": "2026-02-01", "version": created["version"]}
    )
    assert response.status_code == 422 and "incident_started_on" in response.get_json()["errors"]


def test_status_workflow_and_invalid_transitions(investigator):
    case_id = open_case(investigator).get_json()["id"]
    url = f"/api/v1/cases/{case_id}/transitions"
    assert investigator.post(url, json={"to": "charged"}).status_code == 409
    assert investigator.post(url, json={"to": "under_investigation"}).status_code == 200
    assert investigator.post(url, json={"to": "closed"}).status_code == 422  # needs an outcome
    assert investigator.post(url, json={"to": "charged"}).status_code == 200
    closed = investigator.post(url, json={"to": "closed", "outcome": "convicted"})
    assert closed.status_code == 200 and closed.get_json()["outcome"] == "convicted"
    assert investigator.post(url, json={"to": "open"}).status_code == 409
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(case_id))).all()
    assert actions.count("case.status_changed") == 3


def test_supervisor_assigns_within_the_unit_only(factory, make_client, unit, investigator):
    supervisor = make_client().as_user(factory.user(Role.SUPERVISOR, unit))
    colleague = factory.user(Role.INVESTIGATOR, unit)
    outsider = factory.user(Role.INVESTIGATOR)
    case_id = open_case(supervisor).get_json()["id"]
    ok = supervisor.post(f"/api/v1/cases/{case_id}/assignment", json={"assignee_id": colleague.id})
    assert ok.status_code == 200 and ok.get_json()["assignee_id"] == colleague.id
    bad = supervisor.post(f"/api/v1/cases/{case_id}/assignment", json={"assignee_id": outsider.id})
    assert bad.status_code == 422
    assert investigator.post(f"/api/v1/cases/{case_id}/assignment", json={"assignee_id": None}).status_code == 403


def test_list_filters_sorts_and_paginates(investigator):
    open_case(
        investigator, state="MY-10", abuse_types=["financial_sextortion"], victims=[{}], offences=[{"code": "PC 383"}]
    )
    open_case(investigator, state="MY-14", contact_platform="telegram", received_on="2026-04-03")
    open_case(
        investigator,
        received_on="2026-04-02",
        identifiers=[{"kind": "email", "value": "Bad@Example.com"}],
    )

    def ids(query: str) -> list[str]:
        body = investigator.get(f"/api/v1/cases?{query}").get_json()
        return [c["reference"] for c in body["items"]]

    assert ids("") == ["D11-2026-000002", "D11-2026-000003", "D11-2026-000001"]
    assert ids("sort=received_on") == ["D11-2026-000001", "D11-2026-000003", "D11-2026-000002"]
    assert ids("state=MY-10") == ["D11-2026-000001"]
    assert ids("offence=pc%20383") == ["D11-2026-000001"]
    assert ids("abuse_type=financial_sextortion") == ["D11-2026-000001"]
    assert ids("platform=telegram") == ["D11-2026-000002"]
    assert ids("identifier_kind=email&identifier=bad@example.COM") == ["D11-2026-000003"]
    assert ids("received_from=2026-04-02&received_to=2026-04-02") == ["D11-2026-000003"]
    page = investigator.get("/api/v1/cases?per_page=2&page=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["per_page"] == 2
    assert investigator.get("/api/v1/cases?per_page=1000").status_code == 422


def test_case_list_does_not_grow_queries_with_cases_nor_read_victim_identity(investigator, app):
    for _ in range(3):
        open_case(investigator, victims=[{}, {}], offences=[{"code": "PC 383"}, {"code": "PC 506"}])

    def statements(query: str) -> list[str]:
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            seen.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert investigator.get(f"/api/v1/cases{query}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return seen

    queries = ("", "?offence=PC%20383&abuse_type=financial_sextortion", "?platform=instagram")
    few = {query: len(statements(query)) for query in queries}
    for _ in range(5):
        open_case(investigator, victims=[{}], offences=[{"code": "PC 509"}])
    for query in queries:
        sent = statements(query)
        assert len(sent) == few[query]
        # A summary counts victims; their names, ID numbers and contacts stay in the table.
        assert not [s for s in sent if "victims.full_name" in s or "victims.national_id" in s]


@pytest.mark.committing
def test_concurrent_edits_one_wins_the_other_is_refused(app, factory):
    unit = factory.organisation(OrganisationKind.POLICE_UNIT)
    email = factory.user(Role.INVESTIGATOR, unit).email
    db.session.commit()

    client = browser_for(app, email)
    case = client.post("/api/v1/cases", json=MINIMAL).get_json()
    results: list[int] = []
    barrier = threading.Barrier(2)

    def edit(note: str) -> None:
        browser = browser_for(app, email)
        barrier.wait()
        response = browser.patch(f"/api/v1/cases/{case['id']}", json={"notes": note}, headers={"If-Match": '"v1"'})
        results.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412]


@pytest.mark.committing
def test_concurrent_creation_never_duplicates_a_reference(app, factory):
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="CONC")
    email = factory.user(Role.INVESTIGATOR, unit).email
    db.session.commit()
    refs: list[str] = []

    def create() -> None:
        browser = browser_for(app, email)
        for _ in range(5):
            refs.append(browser.post("/api/v1/cases", json=MINIMAL).get_json()["reference"])

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(refs) == [f"CONC-2026-{n:06d}" for n in range(1, 21)]


def browser_for(app, email: str) -> ApiClient:  # type: ignore[no-untyped-def]
    client = ApiClient(app.test_client())
    assert client.login(email).status_code == 200
    return client


def test_offence_code_ids_follow_the_offences(investigator):
    from casework.models.cases import Case, CaseOffence

    case_id = open_case(investigator, victims=[{}], offences=[{"code": "PC 376(1)"}]).get_json()["id"]
    investigator.post(f"/api/v1/cases/{case_id}/offences", json={"code": "PC 383", "version": 1})
    stored = db.session.scalar(select(Case.offence_code_ids).where(Case.id == case_id))
    recorded = db.session.scalars(
        select(CaseOffence.offence_code_id).where(CaseOffence.case_id == case_id).order_by(CaseOffence.id)
    ).all()
    assert stored == list(recorded) and len(stored) == 2


def test_list_total_stops_at_the_cap_and_says_so(investigator, monkeypatch):
    from casework.services import cases as cases_service

    monkeypatch.setattr(cases_service, "COUNT_CAP", 2)
    for _ in range(3):
        open_case(investigator)
    body = investigator.get("/api/v1/cases?per_page=1&page=3").get_json()
    assert body["total"] == 2 and body["total_is_capped"] is True
    assert len(body["items"]) == 1  # pages go on beyond the cap
    assert investigator.get("/api/v1/cases?state=MY-01").get_json()["total_is_capped"] is False


def test_facet_lists_agree_whichever_way_they_are_found(investigator, monkeypatch):
    """Common combinations are counted and paged among the newest cases; sparse ones are counted by
    the facet keys and paged by them (at most COUNT_CAP) or by a walk of the cases newest first.
    Totals and pages are the same whichever way."""
    from casework.services import cases as cases_service

    monkeypatch.setattr(cases_service, "COUNT_CAP", 2)
    monkeypatch.setattr(cases_service, "COUNT_PROBE", 3)
    match = {"abuse_types": ["threat_to_distribute"], "victims": [{}], "offences": [{"code": "PC 506"}]}
    for day in ("02-27", "03-01", "03-02"):  # older matches, then newer cases that do not match
        open_case(investigator, received_on=f"2026-{day}", **match)
    for day in ("03", "04", "05"):
        open_case(investigator, received_on=f"2026-04-{day}", contact_platform="telegram")

    def listed(query: str) -> tuple[int, bool, list[str]]:
        body = investigator.get(f"/api/v1/cases?{query}").get_json()
        return body["total"], body["total_is_capped"], [c["received_on"] for c in body["items"]]

    sparse = "offence=PC%20506&abuse_type=threat_to_distribute"  # none among the newest 3
    assert listed(sparse) == (2, True, ["2026-03-02", "2026-03-01", "2026-02-27"])  # walked
    assert listed(f"{sparse}&per_page=2&page=2") == (2, True, ["2026-02-27"])
    assert listed(f"{sparse}&received_from=2026-03-01") == (2, False, ["2026-03-02", "2026-03-01"])  # by keys
    assert listed(f"{sparse}&received_from=2026-03-01&sort=received_on")[2] == ["2026-03-01", "2026-03-02"]
    common = "platform=telegram"  # all of the newest 3: capped, and the first pages are already found
    assert listed(f"{common}&per_page=1") == (2, True, ["2026-04-05"])
    assert listed(f"{common}&per_page=2&page=2") == (2, True, ["2026-04-03"])  # beyond them: walked
    assert listed(f"{common}&sort=received_on")[2] == ["2026-04-03", "2026-04-04", "2026-04-05"]
    assert listed(f"{common}&received_to=2026-04-03") == (1, False, ["2026-04-03"])
    assert listed(f"{common}&received_to=2026-04-03&page=2") == (1, False, [])


def test_offence_and_abuse_type_keys_follow_every_pair_and_later_edits(investigator, monkeypatch):
    """Counted and paged by the facet keys alone (no newest cases looked at): an offence with an abuse
    type finds a case whatever other offences and abuse types it has, and follows added offences."""
    from casework.services import cases as cases_service

    monkeypatch.setattr(cases_service, "COUNT_PROBE", 0)
    body = open_case(
        investigator,
        abuse_types=["financial_sextortion", "threat_to_distribute"],
        victims=[{}],
        offences=[{"code": "PC 383"}, {"code": "PC 506"}],
    ).get_json()
    open_case(investigator, abuse_types=["impersonation"], victims=[{}], offences=[{"code": "PC 506"}])

    def found(offence: str, abuse_type: str) -> list[int]:
        query = f"offence={offence}&abuse_type={abuse_type}"
        return [c["id"] for c in investigator.get(f"/api/v1/cases?{query}").get_json()["items"]]

    for offence in ("PC%20383", "PC%20506"):
        for abuse_type in ("financial_sextortion", "threat_to_distribute"):
            assert found(offence, abuse_type) == [body["id"]]
    assert found("PC%20383", "impersonation") == []
    assert found("PC%20292", "threat_to_distribute") == []
    response = investigator.post(
        f"/api/v1/cases/{body['id']}/offences", json={"code": "PC 292", "version": body["version"]}
    )
    assert response.status_code == 201, response.get_json()
    assert found("PC%20292", "threat_to_distribute") == [body["id"]]


def test_the_created_case_is_what_a_fresh_read_returns(investigator):
    """Victims and offences of a new case are stored without the unit of work: what the POST
    answers (from the objects in memory) must be exactly what a later GET reads back."""
    body = {
        **MINIMAL,
        "abuse_types": ["threat_to_distribute"],
        "victims": [
            {"key": "a", "gender": "female", "age_years": 16, "pseudonym": "A"},
            {"key": "b", "gender": "male", "date_of_birth": "1990-05-01", "phone": "012-345 6789"},
            {"key": "c", "gender": "undisclosed"},
        ],
        "offences": [
            {"code": "PC 383", "victims": ["b", "a"]},
            {"code": "PC 506", "status": "charged", "attempted": True, "notes": "by phone", "victims": ["c"]},
            {"code": "CMA 233(1)"},
        ],
        "identifiers": [{"kind": "phone", "value": "+60 11-2000 1234"}],
        "evidence": [{"kind": "screenshot", "description": "threat"}],
    }
    created = open_case(investigator, **body)
    read = investigator.get(f"/api/v1/cases/{created.get_json()['id']}")
    assert read.status_code == 200
    assert created.get_json() == read.get_json()
    assert created.headers["ETag"] == read.headers["ETag"]
    offences = {o["code"]: o for o in created.get_json()["offences"]}
    victims = {v["pseudonym"]: v["id"] for v in created.get_json()["victims"]}
    assert offences["PC 383"]["victim_ids"] == sorted([victims["A"], victims["Victim 2"]])
    assert offences["PC 506"]["victim_ids"] == [victims["Victim 3"]]
    assert len(offences["CMA 233(1)"]["victim_ids"]) == 3
    assert created.get_json()["has_minor_victim"] is True
    identity = investigator.get(f"/api/v1/cases/{created.get_json()['id']}?include_identity=true").get_json()
    stored = {v["pseudonym"]: v for v in identity["victims"]}
    assert stored["Victim 2"]["date_of_birth"] == "1990-05-01" and stored["Victim 2"]["age_years"] == 35
    assert stored["Victim 2"]["phone"] == "012-345 6789" and stored["A"]["is_minor"] is True
