"""schemathesis over the whole OpenAPI document, as each role: no 5xx, every status documented,
every response matching its schema and headers, and no valid request refused for its shape.

Bounded (a few derandomized examples per operation and role) so the suite stays fast; run
with FUZZ_EXAMPLES=50 for a deeper search, and FUZZ_NEGATIVE=1 to add schemathesis' invalid
requests (checked for no 5xx and documented statuses; hostile input also has its own table
test, test_bad_input.py). Requests go through the app in the test's rolled-back transaction.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from casework import create_app
from casework.api.access import route_access
from casework.api.openapi import PUBLIC_OPERATIONS
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.policies import ROLE_PERMISSIONS
from tests.helpers import ApiClient

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
MODES = (
    [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if os.environ.get("FUZZ_NEGATIVE") else [GenerationMode.POSITIVE]
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Refusals that mean the document and the parser disagree about a request's structure or types:
# a request the document allows must never get them. (A 422 for a rule the document cannot
# state, such as dates in order, an unknown offence code, or a format such as an http(s) URL or
# an e-mail address that OpenAPI names but generators do not honour, is not counted.)
SHAPE_ERRORS = (
    "Unknown field.",
    "Missing data for required field.",
    "Invalid JSON",
    "Not a valid integer.",
    "Not a valid string.",
    "Not a valid boolean.",
    "Not a valid number.",
    "Not a valid list.",
    "Invalid input type.",
    "Field may not be null.",
)
# Ending the session would turn the rest of the run into 401s; these are tested on their own.
SKIPPED = r"^/api/v1/auth/logout$|^/api/v1/users/\{user_id\}/password$"

# The document is read at collection from an app that never connects (schemathesis' fixture-based
# loading does not work with this pytest); requests go to the test's app (`case.call(app=...)`).
_DOCUMENT_ONLY = {
    "CASEWORK_ENV": "test",
    "SQLALCHEMY_DATABASE_URI": "postgresql://unused@127.0.0.1:1/unused",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "RATELIMIT_ENABLED": False,
}
_DOCUMENT_APP = create_app(_DOCUMENT_ONLY)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _DOCUMENT_APP).exclude(path_regex=SKIPPED)


def _operations_for(role: Role) -> set[tuple[str, str]]:
    """(METHOD, document path) of the routes the role may call; the others answer 403 before
    reading anything (tests/api/test_route_inventory.py), so fuzzing them as this role adds nothing."""
    allowed = set()
    for rule in _DOCUMENT_APP.url_map.iter_rules():
        access = route_access(_DOCUMENT_APP.view_functions[rule.endpoint]) or ""
        if access.startswith("permission:") and access.split(":", 1)[1] not in ROLE_PERMISSIONS[role]:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        allowed.update((method, path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return allowed


@pytest.fixture
def login_as(factory, make_client):  # type: ignore[no-untyped-def]
    """case.call() arguments for a logged-in user of a role: the session cookie and the CSRF
    header (one user per role and test)."""
    cache: dict[Role, dict[str, dict[str, str]]] = {}
    clients: dict[Role, ApiClient] = {}

    def headers(role: Role) -> dict[str, dict[str, str]]:
        if role not in cache:
            kind = {Role.CASEWORKER: OrganisationKind.NGO, Role.LIAISON: OrganisationKind.AGENCY}.get(
                role, OrganisationKind.POLICE_UNIT
            )
            client: ApiClient = make_client().as_user(factory.user(role, factory.organisation(kind)))
            cookie = client.http.get_cookie("casework_session")
            assert cookie is not None
            cache[role] = {
                "cookies": {"casework_session": cookie.value},
                "headers": {"X-CSRF-Token": client.csrf or ""},
            }
            clients[role] = client
        return cache[role]

    headers.clients = clients  # type: ignore[attr-defined]
    return headers


def _messages(node, path: str = ""):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _messages(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for item in node:
            yield from _messages(item, path)
    else:
        yield f"{path}: {node}"


def _shape_refusals(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The errors of a response that refuse a request for its shape (empty when none)."""
    if response.status_code in (400, 413, 415):
        return [response.text[:300]]
    if response.status_code != 422:
        return []
    errors = (response.json() or {}).get("errors", {})
    return [m for m in _messages(errors) if any(marker in m for marker in SHAPE_ERRORS)]


def _operations(role: Role):  # type: ignore[no-untyped-def]
    allowed = _operations_for(role)
    role_schema = schema.include(func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in allowed)
    return [result.ok() for result in role_schema.get_all_operations()]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_the_document_tells_the_truth(role, app_ctx, login_as):
    """One test per role (one login), every operation the role may call, EXAMPLES each."""
    session = login_as(role)
    operations = _operations(role)
    assert operations
    # A real case in the role's reach, so that case routes answer with data, not only 404.
    case_id = None
    if "case.create" in ROLE_PERMISSIONS[role]:
        example = schema.raw_schema["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]
        case_id = login_as.clients[role].post("/api/v1/cases", json=example["example"]).get_json()["id"]
    for operation in operations:
        for mode in MODES:
            _fuzz(operation, mode, app_ctx, session, case_id)


def _fuzz(operation, mode, app, session, case_id) -> None:  # type: ignore[no-untyped-def]
    """EXAMPLES requests of one mode for one operation, each checked against the document."""

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):  # type: ignore[no-untyped-def]
        if case_id is not None and "case_id" in (case.path_parameters or {}):
            case.path_parameters["case_id"] = case_id
        response = case.call(app=app, **session)
        assert response.status_code != 401 or case.path in PUBLIC_OPERATIONS, "the fuzz must run logged in"
        case.validate_response(response, checks=CHECKS)
        refused = _shape_refusals(response) if mode is GenerationMode.POSITIVE else []
        assert not refused, (case.method, case.path, refused)

    fuzz()


@pytest.mark.parametrize(
    "method, path",
    [
        (method.upper(), path)
        for path, item in schema.raw_schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and "example" in operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ],
)
def test_request_examples_in_the_document_are_accepted(client, factory, method, path):
    """The examples "Try it out" starts from are requests the service accepts."""
    content = schema.raw_schema["paths"]
    body = content[path][method.lower()]["requestBody"]["content"]["application/json"]["example"]
    if path == "/api/v1/auth/login":
        factory.user(Role.INVESTIGATOR, email=body["email"], password="an example password 1")
        body = {**body, "password": "an example password 1"}
    else:
        client.as_user(factory.user(Role.SUPERVISOR))
    url = path
    if "{case_id}" in path:
        case_example = content["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]["example"]
        url = path.replace("{case_id}", str(client.post("/api/v1/cases", json=case_example).get_json()["id"]))
    response = client.open(url, method, json=body)
    assert 200 <= response.status_code < 300, (method, path, response.get_json())


def test_every_operation_declares_503_and_login_429_with_retry_after():
    document = schema.raw_schema
    for item in document["paths"].values():
        for operation in (op for op in item.values() if isinstance(op, dict)):
            assert operation["responses"]["503"] == {"$ref": "#/components/responses/RETRY_LATER"}
    assert document["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"]["$ref"].endswith("/THROTTLED")
    for name in ("RETRY_LATER", "THROTTLED"):
        assert "Retry-After" in document["components"]["responses"][name]["headers"]
