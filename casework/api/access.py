"""Route-level access declarations: every route is @public, @authenticated, @login_step or
@requires(permission).

`requires` authenticates (401) and checks the role grants the permission (403); record scope is
the service's job. A half-open session (password passed, second factor due) is refused by all of
them but @login_step, with 401 and reason mfa_required / mfa_enrolment_required. The declarations
are attributes a test reads off app.url_map.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g
from flask_login import current_user

from casework import policies
from casework.errors import SecondFactorRequired, Unauthenticated
from casework.models.users import PendingStep, User, UserSession

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints that flask-smorest and Flask add themselves; both are public by design.
PUBLIC_ENDPOINTS = frozenset({"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"})


def _mark(wrapper: Callable[..., Any], name: str, value: object) -> None:
    """Set a function attribute that route_access reads back (typed: mypy has no attribute on a Callable)."""
    vars(wrapper)[name] = value


def public(func: F) -> F:
    """Mark a route as reachable without logging in."""
    _mark(func, "casework_public", True)
    return func


_SECOND_STEP_MESSAGES = {
    PendingStep.MFA: "Enter the code from your authenticator app (POST /api/v1/auth/mfa/verification).",
    PendingStep.ENROLMENT: "Your role must use a second factor: enrol first (POST /api/v1/auth/mfa/enrolment).",
}


def _refuse() -> Unauthenticated:
    """401, saying which second step is due when the session is half-open."""
    pending = g.get("user_session")
    if pending is not None and pending.pending_step is not None:
        return SecondFactorRequired(pending.pending_step.value, _SECOND_STEP_MESSAGES[pending.pending_step])
    return Unauthenticated()


def authenticated(func: F) -> F:
    """Any logged-in, active user whose login is complete (reference data, for example)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            raise _refuse()
        return func(*args, **kwargs)

    _mark(wrapper, "casework_authenticated", True)
    return cast(F, wrapper)


def requires(permission: str) -> Callable[[F], F]:
    """Require a logged-in, active user whose role grants `permission`."""
    if permission not in policies.PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                raise _refuse()
            policies.require(current_user, permission)
            return func(*args, **kwargs)

        _mark(wrapper, "casework_permission", permission)
        return cast(F, wrapper)

    return decorator


def login_step(func: F) -> F:
    """A live session, complete or half-open (password passed, second factor due): for me, logout
    and the second-factor steps. The view reads the session with current_session()."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated and g.get("user_session") is None:
            raise Unauthenticated()
        return func(*args, **kwargs)

    _mark(wrapper, "casework_login_step", True)
    return cast(F, wrapper)


def current_session() -> UserSession:
    """This request's session row (complete or half-open); only inside @login_step views."""
    return g.user_session


def actor() -> User:
    """The logged-in user as a plain model object, to pass to services."""
    return current_user._get_current_object()


def route_access(view: Callable[..., Any]) -> str | None:
    """'public', 'authenticated', 'login_step', 'permission:<name>' or None for a view function
    (follows wrappers)."""
    seen: Callable[..., Any] | None = view
    while seen is not None:
        if getattr(seen, "casework_public", False):
            return "public"
        if getattr(seen, "casework_authenticated", False):
            return "authenticated"
        if getattr(seen, "casework_login_step", False):
            return "login_step"
        permission = getattr(seen, "casework_permission", None)
        if permission:
            return f"permission:{permission}"
        seen = getattr(seen, "__wrapped__", None)
    return None
