"""Login, logout and "who am I" (with the CSRF token a JSON client sends back)."""

from __future__ import annotations

from typing import Any

from flask import g, session
from flask_login import login_user, logout_user

from casework import policies, throttle
from casework.api.access import current_session, login_step, public
from casework.api.edge import Blueprint
from casework.errors import Unauthenticated
from casework.extensions import db
from casework.models.users import UserSession
from casework.schemas.users import LoginSchema, MeSchema
from casework.services import auth, mfa

blp = Blueprint("auth", __name__, description="Sessions: log in, log out, who am I")

INVALID_LOGIN = "Invalid e-mail or password, or the account is locked."


def me_view(user_session: UserSession) -> dict[str, Any]:
    """The session as MeSchema shows it: no permissions while the login is half-way."""
    user, pending = user_session.user, user_session.pending_step
    return {
        "user": user,
        "permissions": [] if pending else sorted(policies.ROLE_PERMISSIONS[user.role]),
        "csrf_token": user_session.csrf_token,
        "session_expires_at": auth.expires_at(user_session),
        "mfa": {
            "next_step": pending.value if pending else None,
            "required": policies.requires_second_factor(user.role),
            "enrolled": user.has_second_factor,
            "recovery_codes_left": mfa.recovery_codes_left(user) if user.has_second_factor else 0,
        },
    }


def start_cookie_session(user_session: UserSession) -> None:
    """Point the cookie at a new session row (a new id at every login step)."""
    session.clear()  # nothing from before survives
    session["sid"] = user_session.id
    session.permanent = True
    # The cookie names the user either way; a half-open row still loads as nobody (web_sessions).
    login_user(user_session.user)
    g.user_session = user_session


@blp.route("/login", methods=["POST"])
@public
@throttle.by_address
@throttle.by_account
@blp.arguments(LoginSchema(), example={"email": "investigator@example.org", "password": "your password"})
@blp.response(200, MeSchema)
def login(data: dict[str, Any]) -> Any:
    """Log in with e-mail and password; sets a fresh session cookie.

    When `mfa.next_step` is set in the answer, the session holds no rights yet: send a code to
    `/auth/mfa/verification` (mfa_required), or enrol first (mfa_enrolment_required).
    """
    result = auth.login(data["email"], data["password"])
    db.session.commit()  # failed attempts and lockouts must persist too
    if result.session is None:  # i.e. not result.ok, in a form mypy narrows
        raise Unauthenticated(INVALID_LOGIN)
    start_cookie_session(result.session)
    return me_view(result.session)


@blp.route("/logout", methods=["POST"])
@login_step
@blp.response(204)
def logout() -> Any:
    """End this session (the cookie stops working everywhere it was copied)."""
    user_session = current_session()
    auth.logout(user_session.user, user_session)
    db.session.commit()
    logout_user()
    session.clear()


@blp.route("/me", methods=["GET"])
@login_step
@blp.response(200, MeSchema)
def me() -> Any:
    """The logged-in user, their permissions, the CSRF token for state-changing requests, and
    which second step is due (if any)."""
    return me_view(current_session())
