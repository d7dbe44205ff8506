"""Security headers on every response, and no caching of anything but the docs' static assets.

The API answers JSON only, so its Content-Security-Policy allows nothing at all. The docs page
(Swagger UI, served from our own origin) gets a policy that allows our scripts and styles plus
the hash of its one inline script, computed from the page itself so it follows the template.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app, request

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
HSTS = "max-age=31536000; includeSubDomains"


def docs_csp(page: bytes) -> str:
    """The docs page's policy: own-origin assets, its inline script by hash, data: images (icons)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _secure(response: Response) -> Response:
    headers = response.headers
    if request.endpoint == DOCS_ENDPOINT and not response.direct_passthrough:
        headers["Content-Security-Policy"] = docs_csp(response.get_data())
    else:
        headers["Content-Security-Policy"] = API_CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = HSTS
    # Responses carry victim data or session state: never stored by a browser or proxy. Only the
    # Swagger UI assets (which set their own max-age) may be cached.
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    headers.pop("Server", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
