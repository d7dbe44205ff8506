"""Hostile or odd input is a 4xx with the envelope on every route, never a 500, and the server
answers normally afterwards: NUL and lone surrogates in text, undecodable, too deep and too big
bodies, dates out of range, numbers beyond their columns, unknown query parameters."""

from __future__ import annotations

import json
import re
from typing import Any

import flask_smorest
import pytest

from casework.api import edge
from casework.api.access import route_access
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.policies import ROLE_PERMISSIONS

NUL, SURROGATE = "a\x00b", "a\ud800b"
DEEP = "[" * 1000 + "]" * 1000


def _envelope(response, status: int | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    if status is not None:
        assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == response.status_code and "request_id" in body
    return body


@pytest.fixture
def people(factory):  # type: ignore[no-untyped-def]
    unit = factory.organisation(OrganisationKind.POLICE_UNIT)
    ngo = factory.organisation(OrganisationKind.NGO)
    agency = factory.organisation(OrganisationKind.AGENCY, code="MCMC")
    return {
        Role.SUPERVISOR: factory.user(Role.SUPERVISOR, unit),
        Role.INVESTIGATOR: factory.user(Role.INVESTIGATOR, unit),
        Role.CASEWORKER: factory.user(Role.CASEWORKER, ngo),
        Role.ANALYST: factory.user(Role.ANALYST, unit),
        Role.LIAISON: factory.user(Role.LIAISON, agency),
        Role.ADMIN: factory.user(Role.ADMIN, unit),
        Role.PLATFORM_ADMIN: factory.user(Role.PLATFORM_ADMIN),
    }


@pytest.fixture
def clients(people, make_client):  # type: ignore[no-untyped-def]
    return {role: make_client().as_user(user) for role, user in people.items()}


def _reads(view, location: str) -> bool:  # type: ignore[no-untyped-def]
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == location for p in parameters)


def _api_routes(app, reading: str | None = None):  # type: ignore[no-untyped-def]
    """(method, concrete path, role allowed to call it) for every permission-gated API route
    (only those that read arguments from `reading`, when given)."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        access = route_access(view) or ""
        if not rule.rule.startswith("/api/v1/") or not access.startswith("permission:"):
            continue
        if reading and not _reads(view, reading):
            continue
        permission = access.split(":", 1)[1]
        role = next(r for r in Role if permission in ROLE_PERMISSIONS[r])
        path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path, role


@pytest.mark.parametrize(
    "raw, content_type, status",
    [
        (b"{", "application/json", 400),  # not JSON
        (b'{"a": "\xff\xfe"}', "application/json", 400),  # not UTF-8
        (DEEP.encode(), "application/json", 400),  # nested 1,000 deep
        (json.dumps({"a": json.loads("[" * 40 + "]" * 40)}).encode(), "application/json", 400),
        (b"x" * (3 * 1024 * 1024), "application/json", 413),  # over the body limit
    ],
    ids=["invalid", "undecodable", "deep", "deep-in-object", "too-big"],
)
def test_every_route_with_a_body_refuses_a_bad_body(app, clients, raw, content_type, status):
    checked = 0
    for method, path, role in _api_routes(app, reading="json"):
        response = clients[role].open(path, method, data=raw, content_type=content_type)
        _envelope(response, status)
        checked += 1
    assert checked >= 15
    assert clients[Role.SUPERVISOR].get("/api/v1/cases").status_code == 200


def test_every_route_refuses_unknown_query_parameters(app, clients):
    checked = 0
    for method, path, role in _api_routes(app):
        response = clients[role].open(path + "?stauts=closed", method, json={})
        if response.status_code in (403, 404):
            continue
        body = _envelope(response, 422)
        assert body["errors"]["query.stauts"] == ["Unknown field."], (method, path)
        checked += 1
    assert checked >= 25


def test_query_strings_with_nul_are_field_errors(app, clients):
    spec = clients[Role.SUPERVISOR].get("/api/v1/openapi.json").get_json()
    checked = 0
    for _method, path, role in _api_routes(app, reading="query"):
        template = re.sub(r"/1(?=/|$)", "/{id}", path)
        operation = next(
            (
                op
                for p, item in spec["paths"].items()
                if re.sub(r"\{[^}]+\}", "{id}", p) == template
                for m, op in item.items()
                if m == "get"
            ),
            None,
        )
        params = [p for p in (operation or {}).get("parameters", []) if p["in"] == "query"]
        for param in params:
            if param["schema"].get("type") not in (None, "string", "array"):
                continue
            response = clients[role].get(f"{path}?{param['name']}=a%00b")
            if response.status_code in (403, 404):
                continue
            body = _envelope(response)
            assert param["name"] in json.dumps(body.get("errors", {})), (path, param["name"], body)
            checked += 1
    assert checked >= 10


def test_query_integers_read_strings(clients, people):
    supervisor = clients[Role.SUPERVISOR]
    assert supervisor.get(f"/api/v1/cases?assignee_id={people[Role.INVESTIGATOR].id}").status_code == 200
    admin = clients[Role.ADMIN]
    assert admin.get(f"/api/v1/users?organisation_id={people[Role.ADMIN].organisation_id}").status_code == 200
    for bad in ("2.5", "1e3", "-1", "99999999999", "x"):
        _envelope(supervisor.get(f"/api/v1/cases?assignee_id={bad}"), 422)


def test_ids_in_paths_of_more_than_nine_digits_are_404(clients):
    for path in ("/api/v1/cases/1000000000", "/api/v1/cases/99999999999999999999"):
        _envelope(clients[Role.SUPERVISOR].get(path), 404)
        _envelope(clients[Role.SUPERVISOR].patch(path, json={}), 404)


def _case(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "intake_channel": "police_report",
        "received_on": "2026-01-10",
        "victims": [{"key": "a", "full_name": "Person A", "gender": "female"}],
        "offences": [{"code": "PC 383"}],
        "evidence": [{"kind": "screenshot", "description": "chat"}],
    }
    for path, value in changes.items():
        target = body
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return body


CASE_PROBES = [
    ("victims.0.full_name", NUL),
    ("victims.0.full_name", SURROGATE),
    ("notes", NUL),
    ("notes", SURROGATE),
    ("evidence.0.description", NUL),
    ("evidence.0.captured_at", "0001-01-01T00:00:00-14:00"),
    ("evidence.0.captured_at", "0001-01-01T00:00:00+14:00"),
    ("victims.0.declared_annual_income", "50000000000"),
    ("victims.0.declared_annual_income", 5e10),
    ("victims.0.date_of_birth", "0001-01-01"),
    ("incident_ended_on", "9999-12-31"),
    ("demands.amount", "1e13"),
    ("moved_to_platforms", ["telegram", NUL]),
]


@pytest.mark.parametrize("field, value", CASE_PROBES, ids=[f"{f}={v!r}" for f, v in CASE_PROBES])
def test_case_intake_names_the_bad_field(clients, field, value):
    supervisor = clients[Role.SUPERVISOR]
    body = _case(**({} if field.startswith("demands.") else {field: value}))
    if field.startswith("demands."):
        body["demands"] = {"money": True, "amount": value}
    response = supervisor.post("/api/v1/cases", json=body)
    errors = _envelope(response, 422)["errors"]
    assert any(path == field or path.startswith(field + ".") for path in errors), errors
    assert supervisor.post("/api/v1/cases", json=_case()).status_code == 201


def test_other_text_fields_refuse_nul_and_surrogates(clients, people):
    supervisor, admin = clients[Role.SUPERVISOR], clients[Role.ADMIN]
    case_id = supervisor.post("/api/v1/cases", json=_case()).get_json()["id"]
    probes = [
        (clients[Role.SUPERVISOR], "/api/v1/auth/login", {"email": NUL, "password": "x" * 12}, "email"),
        (supervisor, f"/api/v1/cases/{case_id}/evidence", {"kind": "screenshot", "description": NUL}, "description"),
        (supervisor, f"/api/v1/cases/{case_id}/victims", {"full_name": SURROGATE}, "full_name"),
        (
            supervisor,
            f"/api/v1/cases/{case_id}/identifiers",
            {"kind": "username", "value": NUL, "qualifier": "telegram"},
            "value",
        ),
        (
            admin,
            "/api/v1/users",
            {
                "email": "x@example.test",
                "full_name": NUL,
                "role": "analyst",
                "organisation_id": people[Role.ADMIN].organisation_id,
                "password": "a long enough password 1",
            },
            "full_name",
        ),
        (
            clients[Role.PLATFORM_ADMIN],
            "/api/v1/organisations",
            {"name": SURROGATE, "kind": "ngo", "code": "NUL1"},
            "name",
        ),
        (
            supervisor,
            f"/api/v1/cases/{case_id}/consents",
            {
                "victim_id": 1,
                "agency": "MCMC",
                "purpose": "takedown",
                "decision": "given",
                "method": "verbal",
                "obtained_at": "0001-01-01T00:00:00+14:00",
            },
            "obtained_at",
        ),
    ]
    for client, url, body, field in probes:
        response = client.post(url, json=body)
        errors = _envelope(response, 422)["errors"]
        assert field in json.dumps(errors), (url, errors)
    assert supervisor.get(f"/api/v1/cases/{case_id}").status_code == 200


def test_export_filters_with_bad_text_are_field_errors(clients):
    analyst = clients[Role.ANALYST]
    filters = {
        "material_released": ["b", "\x11\uda24"],
        "date_to": "0142-03-08",
        "incident_year": ["a\x00b"],
        "received_quarter": [42, None],  # found by the fuzz: numbers in a value list were a 500
    }
    response = analyst.post("/api/v1/exports", json={"kind": "statistics", "filters": filters})
    errors = _envelope(response, 422)["errors"]
    assert {path.split(".")[1] for path in errors} == set(filters), errors
    assert analyst.get("/api/v1/statistics/report?received_quarter=2026-Q1").status_code == 200


def test_every_api_blueprint_parses_at_the_edge(app):
    """A blueprint made with flask_smorest.Blueprint directly would skip the depth limit and
    take unknown query parameters silently: every API blueprint comes from casework.api.edge."""
    smorest = [bp for bp in app.blueprints.values() if isinstance(bp, flask_smorest.Blueprint)]
    assert len(smorest) >= 10
    assert [bp.name for bp in smorest if not isinstance(bp, edge.Blueprint)] == []
