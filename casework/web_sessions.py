"""Cookie sessions backed by server-side rows, and the CSRF header check for JSON clients.

A half-open session (password passed, second factor due) loads as no user at all: current_user
stays anonymous, so no permission check anywhere can pass; only the routes marked @login_step
(casework.api.access) reach it, through g.user_session.
"""

from __future__ import annotations

import hmac

from flask import Flask, g, request, session
from flask_login import current_user

from casework.errors import PermissionDenied
from casework.extensions import db, login_manager
from casework.models.users import User
from casework.services import auth

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
# Logging in has no session yet to protect; everything else that changes state does (the second
# step of a login included: it sends the token the password step returned).
CSRF_EXEMPT_ENDPOINTS = frozenset({"auth.login"})


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    session_id = session.get("sid")
    if not session_id or not user_id.isdigit():
        return None
    user_session, changed = auth.load_session(session_id, int(user_id))
    if changed:
        db.session.commit()  # expiry (with its audit row) or last-seen touch, apart from the view's work
    if user_session is None:
        session.clear()
        return None
    g.user_session = user_session
    if user_session.pending_step is not None:
        return None  # half-open: no rights until the second factor passes
    return user_session.user


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    if "sid" not in session or (not current_user.is_authenticated and g.get("user_session") is None):
        return  # no live cookie session: the route itself answers 401
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent, g.user_session.csrf_token):
        raise PermissionDenied(f"Missing or invalid {CSRF_HEADER} header (get it from /api/v1/auth/me).")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # our session rows do this job
    app.before_request(_check_csrf)
