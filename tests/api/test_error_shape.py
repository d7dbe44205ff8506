"""One shape for every 422: errors keyed by the field's dotted path in the body or the query,
whether the schema or a service found the problem; documented once in the OpenAPI document."""

from __future__ import annotations

from casework.error_handlers import field_paths
from casework.models.users import Role
from casework.schemas.errors import FIELD_ERRORS


def test_nested_errors_become_dotted_paths():
    nested = {"victims": {1: {"date_of_birth": ["Bad."]}}, "_schema": ["Whole."], "demands": {"_schema": ["X."]}}
    assert field_paths(nested) == {
        "victims.1.date_of_birth": ["Bad."],
        "_request": ["Whole."],
        "demands": ["X."],
    }
    assert field_paths({"victims.1.date_of_birth": ["Bad."]}) == {"victims.1.date_of_birth": ["Bad."]}


def test_schema_errors_in_the_body_are_keyed_by_their_path(client, factory):
    client.as_user(factory.user(Role.CASEWORKER))
    response = client.post(
        "/api/v1/cases",
        json={
            "intake_channel": "ngo_intake",
            "received_on": "2026-03-01",
            "victims": [{"gender": "female"}, {"gender": "female", "date_of_birth": "2099-01-01"}],
        },
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"victims.1.date_of_birth": ["Must not be in the future."]}


def test_service_errors_have_the_same_shape(client, factory):
    client.as_user(factory.user(Role.CASEWORKER))
    response = client.post(
        "/api/v1/cases",
        json={
            "intake_channel": "ngo_intake",
            "received_on": "2026-03-01",
            "victims": [{"gender": "female"}],
            "offences": [{"code": "PC 999"}],
        },
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["offences.0.code"]


def test_query_errors_are_under_query(client, factory):
    client.as_user(factory.user(Role.CASEWORKER))
    response = client.get("/api/v1/cases", query_string={"per_page": 1000})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["query.per_page"]


def test_header_errors_are_under_headers(client, factory):
    client.as_user(factory.user(Role.CASEWORKER))
    case = client.post("/api/v1/cases", json={"intake_channel": "ngo_intake", "received_on": "2026-03-01"}).get_json()
    response = client.patch(f"/api/v1/cases/{case['id']}", json={"notes": "x"}, headers={"If-Match": "soon"})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["headers.If-Match"]


def test_the_openapi_document_describes_the_shape_once(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["errors"]["description"] == FIELD_ERRORS
    assert spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
