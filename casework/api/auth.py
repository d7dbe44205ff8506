"""Login, logout and "who am I" (with the CSRF token a JSON client sends back)."""

from __future__ import annotations

from flask import current_app, g, session
from flask_login import login_user, logout_user

from casework import policies, throttle
from casework.api.access import actor, authenticated, public
from casework.api.edge import Blueprint
from casework.errors import Unauthenticated
from casework.extensions import db
from casework.schemas.users import LoginSchema, MeSchema
from casework.services import auth

blp = Blueprint("auth", __name__, description="Sessions: log in, log out, who am I")

INVALID_LOGIN = "Invalid e-mail or password, or the account is locked."


def _me():  # type: ignore[no-untyped-def]
    user, user_session = actor(), g.user_session
    return {
        "user": user,
        "permissions": sorted(policies.ROLE_PERMISSIONS[user.role]),
        "csrf_token": user_session.csrf_token,
        "session_expires_at": min(
            user_session.created_at + current_app.config["ABSOLUTE_TIMEOUT"],
            user_session.last_seen_at + current_app.config["IDLE_TIMEOUT"],
        ),
    }


@blp.route("/login", methods=["POST"])
@public
@throttle.by_address
@throttle.by_account
@blp.arguments(LoginSchema(), example={"email": "investigator@example.org", "password": "your password"})
@blp.response(200, MeSchema)
def login(data):  # type: ignore[no-untyped-def]
    """Log in with e-mail and password; sets a fresh session cookie."""
    result = auth.login(data["email"], data["password"])
    db.session.commit()  # failed attempts and lockouts must persist too
    if not result.ok:
        raise Unauthenticated(INVALID_LOGIN)
    session.clear()  # new session id at login: nothing from before survives
    session["sid"] = result.session.id
    session.permanent = True
    login_user(result.user)
    g.user_session = result.session
    return _me()


@blp.route("/logout", methods=["POST"])
@authenticated
@blp.response(204)
def logout():  # type: ignore[no-untyped-def]
    """End this session (the cookie stops working everywhere it was copied)."""
    auth.logout(actor(), g.user_session)
    db.session.commit()
    logout_user()
    session.clear()


@blp.route("/me", methods=["GET"])
@authenticated
@blp.response(200, MeSchema)
def me():  # type: ignore[no-untyped-def]
    """The logged-in user, their permissions and the CSRF token for state-changing requests."""
    return _me()
