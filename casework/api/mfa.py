"""The second factor's own steps: verify a code at login, enrol (QR code) and confirm enrolment.

All are @login_step: reachable halfway through a login (password passed, second factor due) as
well as in a complete session. Answers that carry a secret or recovery codes are never cached.
"""

from __future__ import annotations

from typing import Any

from casework.api.access import current_session, login_step
from casework.api.auth import me_view, start_cookie_session
from casework.api.edge import Blueprint
from casework.errors import Unauthenticated, ValidationFailed
from casework.extensions import db
from casework.schemas.users import EnrolmentConfirmedSchema, EnrolmentSchema, MeSchema, SecondFactorCodeSchema
from casework.services import mfa

blp = Blueprint("mfa", __name__, description="Second factor (TOTP): verification at login and enrolment")

NO_STORE = {"Cache-Control": "no-store"}


class InvalidCode(Unauthenticated):
    reason = "mfa_code_invalid"

    def __init__(self) -> None:
        super().__init__("Invalid or already used code.")


@blp.route("/verification", methods=["POST"])
@login_step
@blp.arguments(SecondFactorCodeSchema())
@blp.response(200, MeSchema)
def verify(data: dict[str, Any]) -> Any:
    """Second step of a login: a code from the authenticator app, or an unused recovery code.

    Success replaces the half-open session with a full one (new cookie and CSRF token). A wrong
    or already used code is 401 `mfa_code_invalid` and counts toward the account's lockout.
    """
    outcome = mfa.verify(current_session(), data["code"])
    db.session.commit()  # failures and lockouts must persist too
    if outcome.session is None:
        raise Unauthenticated() if outcome.locked else InvalidCode()
    start_cookie_session(outcome.session)
    return me_view(outcome.session)


@blp.route("/enrolment", methods=["POST"])
@login_step
@blp.response(200, EnrolmentSchema)
def start_enrolment() -> Any:
    """Start (or restart) enrolment: a new secret, its otpauth URI and QR code, made here.

    409 once a factor is enrolled: only an administrator's reset starts over.
    """
    enrolment = mfa.start_enrolment(current_session().user)
    db.session.commit()
    return enrolment, 200, NO_STORE


@blp.route("/enrolment/confirmation", methods=["POST"])
@login_step
@blp.arguments(SecondFactorCodeSchema())
@blp.response(200, EnrolmentConfirmedSchema)
def confirm_enrolment(data: dict[str, Any]) -> Any:
    """Confirm enrolment with a first code from the app; answers the recovery codes, once.

    Halfway through a login this completes it (new cookie and CSRF token), and a wrong code counts
    toward the lockout. A wrong code is 422.
    """
    user_session = current_session()
    codes, outcome = mfa.confirm_enrolment(user_session, data["code"])
    db.session.commit()
    if outcome.session is None:
        if outcome.locked:
            raise Unauthenticated()
        raise ValidationFailed("The code does not match.", {"code": ["Does not match; check the device's clock."]})
    if outcome.session is not user_session:
        start_cookie_session(outcome.session)
    return {**me_view(outcome.session), "recovery_codes": codes}, 200, NO_STORE
