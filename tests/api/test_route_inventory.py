"""Every route is public on purpose or declares the permission it needs; all else is 401."""

from __future__ import annotations

import re

import pytest

from casework.api.access import PUBLIC_ENDPOINTS, route_access
from casework.policies import PERMISSIONS

# The explicit public allow-list: anything else must declare a permission or need a login.
PUBLIC_ROUTES = {
    "/healthz",
    "/readyz",
    "/api/v1/auth/login",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/assets/<path:filename>",
    "/static/<path:filename>",
}


def _rules(app):  # type: ignore[no-untyped-def]
    return [r for r in app.url_map.iter_rules()]


def test_every_route_declares_its_access(app):
    undeclared, wrongly_public = [], []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        access = "public" if rule.endpoint in PUBLIC_ENDPOINTS else route_access(view)
        if access is None:
            undeclared.append(rule.rule)
        elif access == "public" and rule.rule not in PUBLIC_ROUTES:
            wrongly_public.append(rule.rule)
        elif access.startswith("permission:"):
            assert access.split(":", 1)[1] in PERMISSIONS
    assert undeclared == [], f"routes without an access declaration: {undeclared}"
    assert wrongly_public == [], f"public routes not on the allow-list: {wrongly_public}"


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule)


def test_protected_routes_answer_401_without_a_session(app, client):
    checked = 0
    for rule in _rules(app):
        if rule.rule in PUBLIC_ROUTES:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete(rule.rule), method, json={})
            assert response.status_code == 401, (method, rule.rule, response.status_code)
            assert response.get_json()["code"] == 401
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs", "/healthz"])
def test_public_routes_answer_without_a_session(client, path):
    assert client.get(path).status_code == 200
