"""The TOTP second factor: enrolment (QR code drawn here), codes at login, recovery codes, reset.

A user's secret lives in users.mfa_secret (encrypted at rest, casework.models.encrypted); enrolment
is in force once confirmed with a first code (mfa_enrolled_at). Each accepted TOTP time step is
remembered (mfa_last_step) and only later steps are accepted, so a code cannot be replayed. Recovery
codes are random, single use, and stored as SHA-256 digests bound to the user: at ~79 bits of
entropy each they cannot be guessed from a digest, so a slow password hash would add only cost (up
to ten argon2 checks per attempt), and a key would tie the codes to a key that may be rotated.
Neither codes nor secrets are ever audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from functools import cached_property

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, select

from casework.errors import Conflict, NotFound
from casework.extensions import db
from casework.models.users import MfaRecoveryCode, PendingStep, User, UserSession
from casework.services import audit, auth

# Recovery codes: 16 characters in four groups, from an alphabet without look-alikes (0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16
_TOTP_CODE = re.compile(r"[0-9]{6}")
STEP_SECONDS = 30  # RFC 6238's default, which every authenticator app assumes


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs, shown once: the secret, its otpauth URI and the URI as a
    QR code (data URIs only: an <img> cannot run script, inline SVG markup could). The QR code is
    drawn when first asked for (~15 ms), so command-line enrolment does not pay for it."""

    secret: str
    otpauth_uri: str

    @cached_property
    def _qr(self) -> segno.QRCode:
        return segno.make(self.otpauth_uri, error="m")

    @cached_property
    def qr_svg_data_uri(self) -> str:
        return self._qr.svg_data_uri(scale=4)

    @cached_property
    def qr_png_data_uri(self) -> str:
        return self._qr.png_data_uri(scale=4)


@dataclass(frozen=True)
class Verification:
    """Outcome of a second step: the new full session, or None (refused, with the reason audited)."""

    session: UserSession | None
    locked: bool = False


def _locked(user: User) -> User:
    """The user row, locked until commit: two requests racing with one code cannot both pass."""
    return db.session.scalars(
        select(User).where(User.id == user.id).with_for_update(key_share=True).execution_options(populate_existing=True)
    ).one()


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (within the valid window around now) whose code this is, else None."""
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    window = current_app.config["MFA_VALID_WINDOW"]
    current = int(time.time()) // STEP_SECONDS
    for step in range(current - window, current + window + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _check_totp(user: User, code: str) -> str | None:
    """None when the code is right and unused (its step is then remembered), else the reason."""
    if user.mfa_secret is None or not _TOTP_CODE.fullmatch(code):
        return "bad_code"
    step = _matching_step(user.mfa_secret, code)
    if step is None:
        return "bad_code"
    if user.mfa_last_step is not None and step <= user.mfa_last_step:
        return "replayed"
    user.mfa_last_step = step
    return None


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _recovery_hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_normalise(code)}".encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones; returns them (the only time they exist)."""
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    codes = []
    for _ in range(current_app.config["MFA_RECOVERY_CODES"]):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    db.session.add_all(MfaRecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, c)) for c in codes)
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    """Spend one unused recovery code; False when it is not one (or already spent)."""
    normalised = _normalise(code)
    if len(normalised) != _RECOVERY_LENGTH or set(normalised) - set(RECOVERY_ALPHABET):
        return False
    row = db.session.scalar(
        select(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user.id,
            MfaRecoveryCode.code_hash == _recovery_hash(user.id, normalised),
            MfaRecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if row is None:
        return False
    row.used_at = auth.now()
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))
    ).scalar_one()


def _draw_secret(user: User) -> Enrolment:
    user = _locked(user)
    if user.has_second_factor:
        raise Conflict("A second factor is already enrolled; an administrator can reset it.")
    user.mfa_secret, user.mfa_last_step = pyotp.random_base32(), None
    uri = pyotp.TOTP(user.mfa_secret).provisioning_uri(name=user.email, issuer_name=current_app.config["MFA_ISSUER"])
    return Enrolment(secret=user.mfa_secret, otpauth_uri=uri)


def start_enrolment(user: User) -> Enrolment:
    """Draw a new secret for a user not yet enrolled (a previous unconfirmed one is replaced).

    The user's own step (any session of theirs, half-open or full). Conflict when already enrolled:
    only an admin's reset starts over. Audits auth.mfa_enrolment_started (never the secret).
    """
    enrolment = _draw_secret(user)
    audit.record(user, "auth.mfa_enrolment_started", user)
    db.session.flush()
    return enrolment


def confirm_enrolment(user_session: UserSession, code: str) -> tuple[list[str], Verification]:
    """Put enrolment in force with a first code from the app; returns the recovery codes (shown once).

    In a half-open session this is the login's second step: the login completes (a new full
    session), and a wrong code counts toward the lockout. Audits auth.mfa_enrolled, or
    auth.mfa_failed. Conflict when no enrolment was started or one is already in force.
    """
    user = _locked(user_session.user)
    if user.has_second_factor:
        raise Conflict("A second factor is already enrolled; an administrator can reset it.")
    if user.mfa_secret is None:
        raise Conflict("Start the enrolment first (POST /api/v1/auth/mfa/enrolment).")
    half_open = user_session.pending_step is not None
    if half_open and (not user.is_active or user.is_locked(auth.now())):
        user_session.revoked_at = auth.now()
        audit.record(user, "auth.mfa_failed", user, outcome="failure", reason="account_unavailable", step="enrolment")
        db.session.flush()
        return [], Verification(None, locked=True)
    reason = _check_totp(user, code.strip())
    if reason is not None:
        if half_open:
            locked = auth.record_failure(user, "auth.mfa_failed", reason=reason, step="enrolment")
            if locked:
                user_session.revoked_at = auth.now()
            return [], Verification(None, locked)
        audit.record(user, "auth.mfa_failed", user, outcome="failure", reason=reason, step="enrolment")
        db.session.flush()
        return [], Verification(None)
    user.mfa_enrolled_at = auth.now()
    codes = _new_recovery_codes(user)
    audit.record(user, "auth.mfa_enrolled", user, recovery_codes=len(codes))
    session = auth.complete_login(user_session, second_factor="enrolment") if half_open else user_session
    db.session.flush()
    return codes, Verification(session)


def verify(user_session: UserSession, code: str) -> Verification:
    """The login's second step: a TOTP code (not used before) or an unused recovery code.

    Success ends the half-open session and opens a full one; audits auth.mfa_verified (and
    auth.mfa_recovery_code_used). A wrong or replayed code counts toward the lockout (audited
    auth.mfa_failed); when it locks the account the half-open session ends too. Conflict when
    this session is not waiting for a code. The caller commits either way.
    """
    if user_session.pending_step is not PendingStep.MFA:
        raise Conflict("This session is not waiting for a second-factor code.")
    user = _locked(user_session.user)
    if not user.is_active or user.is_locked(auth.now()) or not user.has_second_factor:
        user_session.revoked_at = auth.now()
        audit.record(user, "auth.mfa_failed", user, outcome="failure", reason="account_unavailable")
        db.session.flush()
        return Verification(None, locked=True)
    code = code.strip()
    if _TOTP_CODE.fullmatch(code):
        reason, method = _check_totp(user, code), "totp"
    else:
        reason, method = (None if _use_recovery_code(user, code) else "bad_code"), "recovery_code"
    if reason is not None:
        locked = auth.record_failure(user, "auth.mfa_failed", reason=reason, method=method)
        if locked:
            user_session.revoked_at = auth.now()
        return Verification(None, locked)
    if method == "recovery_code":
        db.session.flush()
        audit.record(user, "auth.mfa_recovery_code_used", user, left=recovery_codes_left(user))
    audit.record(user, "auth.mfa_verified", user, method=method)
    return Verification(auth.complete_login(user_session, second_factor=method))


def reset(*, actor: User | None, user: User) -> User:
    """Remove a user's second factor (lost device): secret, recovery codes, replay guard; ends
    every session of the user, whose next login enrols again (or skips it, for optional roles).

    Needs users.manage, checked at the edge; an admin resets users of their own organisation only
    (NotFound otherwise, as for a missing user), and never their own factor (Conflict: ask another
    admin, so a stolen admin session cannot swap the factor). actor=None is the CLI. Audits
    user.mfa_reset.
    """
    if actor is not None and actor.organisation_id != user.organisation_id:
        raise NotFound()
    if actor is not None and actor.id == user.id:
        raise Conflict("You cannot reset your own second factor; ask another administrator.")
    user = _locked(user)
    was_enrolled = user.has_second_factor
    user.mfa_secret = user.mfa_enrolled_at = user.mfa_last_step = None
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    auth.revoke_all_sessions(user)
    audit.record(actor, "user.mfa_reset", user, was_enrolled=was_enrolled)
    db.session.flush()
    return user


def enrol_by_operator(user: User, *, recovery_codes: bool = True) -> tuple[Enrolment, list[str]]:
    """Enrol a user from the command line (ops, demo accounts): a new secret in force at once and
    (unless told not to) fresh recovery codes, for the operator to hand over. Conflict when
    already enrolled (reset first). Audits user.mfa_enrolled (actor: the operator, None)."""
    enrolment = _draw_secret(user)
    user.mfa_enrolled_at = auth.now()
    codes = _new_recovery_codes(user) if recovery_codes else []
    audit.record(None, "user.mfa_enrolled", user, recovery_codes=len(codes))
    db.session.flush()
    return enrolment, codes
