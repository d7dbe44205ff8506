"""Domain errors raised by services and policies; the API maps each to one HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a message safe to show to the caller, optional field errors, and optional
    details that say what to do next (added to the envelope beside the message).

    `reason`, when set, is a stable machine-readable word sent in the envelope (e.g. mfa_required),
    for clients that must tell apart answers sharing a status.
    """

    status = 400
    reason: str | None = None

    def __init__(
        self, message: str, errors: dict[str, Any] | None = None, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.details = details


class NotFound(DomainError):
    """The record does not exist *or* is outside the caller's scope (never say which)."""

    status = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do this.") -> None:
        super().__init__(message)


class Unauthenticated(DomainError):
    status = 401

    def __init__(self, message: str = "Authentication required.") -> None:
        super().__init__(message)


class SecondFactorRequired(Unauthenticated):
    """The session passed the password step only: it holds no rights until the second factor does."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Conflict(DomainError):
    """The request conflicts with the current state (duplicate, missing consent, ...)."""

    status = 409


class InvalidTransition(Conflict):
    """A status change that the workflow does not allow from the current status. The message and
    details name the moves allowed from it, and the one to make first when there is one."""

    def __init__(self, noun: str, current: str, wanted: str, allowed: list[str], *, first: str | None = None) -> None:
        message = f"A {noun} cannot {wanted} when it is {current}"
        message += f": {first} first." if first else "."
        message += f" Allowed now: {', '.join(allowed)}." if allowed else " No moves are left."
        super().__init__(message, details={"current_status": current, "allowed_moves": allowed})


class PreconditionFailed(DomainError):
    """An If-Match / version that no longer matches: someone else changed the record."""

    status = 412


class ValidationFailed(DomainError):
    """Input that passed the schema but breaks a rule needing the database (field-level)."""

    status = 422


class ServiceUnavailable(DomainError):
    status = 503
