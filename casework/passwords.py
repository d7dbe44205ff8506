"""Password hashing (argon2id) and the password policy (length, common-password list)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

_COMMON_LIST = Path(__file__).parent / "data" / "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line and not line.startswith("#"))


def init_app(app: Flask) -> None:
    hasher = PasswordHasher(time_cost=app.config["ARGON2_TIME_COST"], memory_cost=app.config["ARGON2_MEMORY_COST"])
    app.extensions["casework.hasher"] = hasher
    # Verified against when the e-mail is unknown so both answers cost the same.
    app.extensions["casework.dummy_hash"] = hasher.hash("casework-timing-equaliser")


def _hasher() -> PasswordHasher:
    return current_app.extensions["casework.hasher"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-shape check: always runs one argon2 verification."""
    target = password_hash or current_app.extensions["casework.dummy_hash"]
    try:
        ok = _hasher().verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def policy_problems(password: str, *, email: str = "", min_length: int = 12) -> list[str]:
    """Reasons a new password is refused (NIST 800-63B style: length and known-bad, no rules)."""
    problems = []
    if len(password) < min_length:
        problems.append(f"Must be at least {min_length} characters long.")
    folded = password.casefold()
    if folded in common_passwords() or len(set(folded)) <= 2:
        problems.append("Is too common or too easy to guess; choose another.")
    local = email.split("@", 1)[0].casefold()
    if len(local) >= 4 and local in folded:
        problems.append("Must not contain your e-mail name.")
    return problems
