"""Route-level access declarations: every route is @public or @requires(permission).

`requires` authenticates (401) and checks the role grants the permission (403); record scope is
the service's job. The declarations are attributes a test reads off app.url_map.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user

from casework import policies
from casework.errors import Unauthenticated
from casework.models.users import User

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints that flask-smorest and Flask add themselves; both are public by design.
PUBLIC_ENDPOINTS = frozenset({"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"})


def public(func: F) -> F:
    """Mark a route as reachable without logging in."""
    func.casework_public = True  # type: ignore[attr-defined]
    return func


def authenticated(func: F) -> F:
    """Any logged-in, active user (for the user's own session: me, logout)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            raise Unauthenticated()
        return func(*args, **kwargs)

    wrapper.casework_authenticated = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def requires(permission: str) -> Callable[[F], F]:
    """Require a logged-in, active user whose role grants `permission`."""
    if permission not in policies.PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                raise Unauthenticated()
            policies.require(current_user, permission)
            return func(*args, **kwargs)

        wrapper.casework_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def actor() -> User:
    """The logged-in user as a plain model object, to pass to services."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def route_access(view: Callable[..., Any]) -> str | None:
    """'public', 'authenticated', 'permission:<name>' or None for a view function (follows wrappers)."""
    seen = view
    while seen is not None:
        if getattr(seen, "casework_public", False):
            return "public"
        if getattr(seen, "casework_authenticated", False):
            return "authenticated"
        permission = getattr(seen, "casework_permission", None)
        if permission:
            return f"permission:{permission}"
        seen = getattr(seen, "__wrapped__", None)
    return None
