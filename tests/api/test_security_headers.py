"""Security headers on every response, no caching of anything that may carry victim data, and
no server banner from gunicorn."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from casework import create_app
from casework.models.users import Role

ROOT = Path(__file__).resolve().parents[2]
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _check_common(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Server" not in response.headers


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/api/v1/cases", "/api/v1/openapi.json", "/api/v1/nowhere", "/api/v1/docs/assets/swagger-ui.css"],
)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()  # a file response holds its file open until closed
    _check_common(response)
    assert "Strict-Transport-Security" not in response.headers  # cookies are not Secure in tests


def test_api_responses_allow_nothing_and_are_never_stored(client, factory):
    client.as_user(factory.user(Role.SUPERVISOR))
    case = client.post(
        "/api/v1/cases",
        json={"intake_channel": "police_report", "received_on": "2026-01-10", "victims": [{"full_name": "A B"}]},
    ).get_json()
    for response in (
        client.get(f"/api/v1/cases/{case['id']}?include_identity=true"),
        client.get("/api/v1/cases"),
        client.get("/api/v1/auth/me"),
        client.get("/api/v1/cases/999999"),
    ):
        _check_common(response)
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["Cache-Control"] == "no-store"


def test_docs_page_allows_its_own_scripts_and_its_inline_script_by_hash(client):
    response = client.get("/api/v1/docs")
    _check_common(response)
    csp = response.headers["Content-Security-Policy"]
    inline = re.search(rb"<script>(.*?)</script>", response.data, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    asset.close()
    assert "max-age" in asset.headers["Cache-Control"]  # static assets may be cached


def test_hsts_when_cookies_are_secure(app):
    secure = create_app({**app.config, "SESSION_COOKIE_SECURE": True})
    response = secure.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_sends_no_banner(app):
    port = _free_port()
    env = {
        **os.environ,
        "CASEWORK_ENV": "test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    headers = response.headers
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)
    assert "gunicorn" not in (headers.get("Server") or "").lower()
    assert headers["X-Content-Type-Options"] == "nosniff"
