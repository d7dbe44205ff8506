"""Per-request metadata (request id, client address) for audit rows and log lines."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, has_request_context, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def current_client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def init_app(app: Flask) -> None:
    """Take a well-formed X-Request-ID from the proxy or make one, and echo it back."""

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response
