"""The TOTP second factor: enrolment, the rights-less half-open session, codes, recovery codes,
replay, lockout, and the admin's reset (audited, own organisation only)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import segno
from sqlalchemy import select, text, update

from casework import encryption
from casework.api.access import route_access
from casework.encryption import KeyRing, key_id_of
from casework.extensions import db
from casework.models.audit import AuditEvent
from casework.models.users import MfaRecoveryCode, Role, User, UserSession
from casework.services import encryption_keys, mfa
from tests.api.test_route_inventory import PUBLIC_ROUTES
from tests.helpers import PASSWORD, ApiClient, current_step, totp_code

LOGIN = "/api/v1/auth/login"
VERIFY = "/api/v1/auth/mfa/verification"
ENROL = "/api/v1/auth/mfa/enrolment"
CONFIRM = "/api/v1/auth/mfa/enrolment/confirmation"


def password_only(client, email: str):  # type: ignore[no-untyped-def]
    """The first step alone, as a browser would: the session is half-open afterwards."""
    response = client.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    client.csrf = response.get_json()["csrf_token"]
    return response


def enrolled(factory, role: Role = Role.INVESTIGATOR, organisation=None):  # type: ignore[no-untyped-def]
    """A user enrolled by an operator: (user, secret, recovery codes)."""
    user = factory.user(role, organisation)
    enrolment, codes = mfa.enrol_by_operator(user)
    return user, enrolment.secret, codes


def wrong_code(secret: str) -> str:
    """A well-formed code that is none of the codes the server accepts now."""
    valid = {totp_code(secret, current_step() + offset) for offset in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000, 10**6, 7919)) if c not in valid)


def actions_for(user_id: int) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.object_id == str(user_id)).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


# --- enrolment -------------------------------------------------------------------------------


def test_required_role_enrols_at_first_login_with_a_locally_drawn_qr_code(client, factory):
    user = factory.user(Role.INVESTIGATOR)
    first = password_only(client, user.email).get_json()
    assert first["permissions"] == [] and first["mfa"]["next_step"] == "mfa_enrolment_required"
    assert first["mfa"]["required"] is True and first["mfa"]["enrolled"] is False

    started = client.post(ENROL)
    assert started.status_code == 200 and started.headers["Cache-Control"] == "no-store"
    body = started.get_json()
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    assert body["otpauth_uri"].startswith("otpauth://totp/casework:")
    assert f"secret={body['secret']}" in body["otpauth_uri"] and "issuer=casework" in body["otpauth_uri"]
    # The QR code encodes exactly the URI, drawn here (no image service is called).
    qr = segno.make(body["otpauth_uri"], error="m")
    assert body["qr_svg_data_uri"] == qr.svg_data_uri(scale=4)
    assert body["qr_png_data_uri"] == qr.png_data_uri(scale=4)
    assert body["qr_png_data_uri"].startswith("data:image/png;base64,")

    confirmed = client.post(CONFIRM, json={"code": totp_code(body["secret"])})
    assert confirmed.status_code == 200 and confirmed.headers["Cache-Control"] == "no-store"
    done = confirmed.get_json()
    assert len(done["recovery_codes"]) == 10 and len(set(done["recovery_codes"])) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", c) for c in done["recovery_codes"])
    assert "victim.identity.read" in done["permissions"] and done["mfa"]["next_step"] is None
    assert done["mfa"]["enrolled"] is True and done["mfa"]["recovery_codes_left"] == 10
    assert done["csrf_token"] != first["csrf_token"]  # a new session, not the half-open one
    client.csrf = done["csrf_token"]
    assert client.get("/api/v1/cases").status_code == 200

    db.session.refresh(user)
    assert user.mfa_secret == body["secret"] and user.mfa_enrolled_at is not None
    stored = db.session.scalars(select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(stored) & set(done["recovery_codes"])  # digests only
    assert actions_for(user.id)[-4:] == [
        "auth.password_accepted",
        "auth.mfa_enrolment_started",
        "auth.mfa_enrolled",
        "auth.login",
    ]


@pytest.mark.committing
def test_the_secret_is_stored_encrypted_and_survives_key_rotation(app, make_client, factory):
    """users.mfa_secret holds ciphertext (a dump cannot mint codes); login still checks codes
    against it, and `keys rotate` re-encrypts it under the new key."""
    user = factory.user(Role.INVESTIGATOR)
    db.session.commit()
    browser = make_client()
    password_only(browser, user.email)
    secret = browser.post(ENROL).get_json()["secret"]
    assert browser.post(CONFIRM, json={"code": totp_code(secret)}).status_code == 200

    def stored() -> bytes:
        raw = db.session.execute(text("SELECT mfa_secret FROM users WHERE id = :id"), {"id": user.id}).scalar_one()
        db.session.rollback()
        return bytes(raw)

    assert secret.encode() not in stored() and key_id_of(stored()) == "dev"
    assert db.session.scalar(select(User.mfa_secret).where(User.id == user.id)) == secret
    db.session.rollback()

    original = app.extensions[encryption.EXTENSION]
    app.extensions[encryption.EXTENSION] = KeyRing({"dev": original.keys["dev"], "k2": bytes(range(32))}, "k2")
    try:
        assert encryption_keys.rotate(pause=0).rows["users"] == 1
        assert secret.encode() not in stored() and key_id_of(stored()) == "k2"
        later = make_client()  # a TOTP code (the next time step) is checked against the rotated secret
        password_only(later, user.email)
        assert later.post(VERIFY, json={"code": totp_code(secret, current_step() + 1)}).status_code == 200
    finally:
        app.extensions[encryption.EXTENSION] = original


def test_a_wrong_first_code_does_not_enrol(client, factory):
    user = factory.user(Role.CASEWORKER)
    password_only(client, user.email)
    secret = client.post(ENROL).get_json()["secret"]
    refused = client.post(CONFIRM, json={"code": wrong_code(secret)})
    assert refused.status_code == 422 and "code" in refused.get_json()["errors"]
    assert client.get("/api/v1/cases").get_json()["reason"] == "mfa_enrolment_required"
    db.session.refresh(user)
    assert user.mfa_enrolled_at is None and user.failed_login_count == 1
    assert client.post(CONFIRM, json={"code": totp_code(secret)}).status_code == 200


def test_an_account_locked_meanwhile_cannot_finish_enrolling(make_client, factory):
    user = factory.user(Role.CASEWORKER)
    browser = make_client()
    password_only(browser, user.email)
    secret = browser.post(ENROL).get_json()["secret"]
    for _ in range(5):  # someone else guesses the password meanwhile
        make_client().post(LOGIN, json={"email": user.email, "password": "not the password"})
    refused = browser.post(CONFIRM, json={"code": totp_code(secret)})
    assert refused.status_code == 401
    assert browser.get("/api/v1/auth/me").status_code == 401
    db.session.refresh(user)
    assert user.mfa_enrolled_at is None


def test_restarting_enrolment_replaces_the_unconfirmed_secret(client, factory):
    user = factory.user(Role.SUPERVISOR)
    password_only(client, user.email)
    old = client.post(ENROL).get_json()["secret"]
    new = client.post(ENROL).get_json()["secret"]
    assert old != new
    assert client.post(CONFIRM, json={"code": totp_code(old)}).status_code == 422
    assert client.post(CONFIRM, json={"code": totp_code(new)}).status_code == 200


def test_an_enrolled_factor_cannot_be_re_enrolled_by_its_user(client, factory):
    user, _secret, _codes = enrolled(factory)
    client.as_user(user)
    response = client.post(ENROL)
    assert response.status_code == 409 and "administrator" in response.get_json()["message"]


def test_optional_role_logs_in_without_a_second_factor_and_may_enrol(make_client, factory):
    analyst = factory.user(Role.ANALYST)
    browser = make_client()
    body = browser.login(analyst.email).get_json()
    assert browser.password_step.get_json() == body  # one step only
    assert body["mfa"] == {"next_step": None, "required": False, "enrolled": False, "recovery_codes_left": 0}
    assert "statistics.read" in body["permissions"]
    assert browser.get("/api/v1/statistics/dimensions").status_code == 200

    secret = browser.post(ENROL).get_json()["secret"]
    confirmed = browser.post(CONFIRM, json={"code": totp_code(secret)})
    assert confirmed.status_code == 200 and len(confirmed.get_json()["recovery_codes"]) == 10
    assert confirmed.get_json()["csrf_token"] == browser.csrf  # the same full session goes on
    # Once enrolled, every login asks for a code.
    again = make_client()
    assert password_only(again, analyst.email).get_json()["mfa"]["next_step"] == "mfa_required"


# --- the half-open session holds no rights ----------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/cases"),
        ("GET", "/api/v1/cases/1?include_identity=true"),
        ("POST", "/api/v1/cases"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/referrals?box=inbox"),
        ("GET", "/api/v1/reference/offences"),
        ("GET", "/api/v1/statistics/report"),
    ],
)
@pytest.mark.parametrize("due", ["mfa_required", "mfa_enrolment_required"])
def test_half_open_session_is_refused_with_the_step_due(client, factory, method, path, due):
    user = enrolled(factory, Role.SUPERVISOR)[0] if due == "mfa_required" else factory.user(Role.SUPERVISOR)
    password_only(client, user.email)
    response = client.open(path, method, json={} if method == "POST" else None)
    body = response.get_json()
    assert response.status_code == 401 and body["reason"] == due
    assert "/api/v1/auth/mfa/" in body["message"]


def test_every_route_but_the_login_steps_refuses_a_half_open_session(app, client, factory):
    user, _secret, _codes = enrolled(factory, Role.SUPERVISOR)
    password_only(client, user.email)
    checked = 0
    for rule in app.url_map.iter_rules():
        access = route_access(app.view_functions[rule.endpoint])
        if rule.rule in PUBLIC_ROUTES or access in (None, "public", "login_step"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule), method, json={})
            assert response.status_code == 401, (method, rule.rule, response.status_code)
            assert response.get_json()["reason"] == "mfa_required", (method, rule.rule)
            checked += 1
    assert checked >= 40


def test_half_open_session_may_see_me_and_log_out(client, factory):
    user, _secret, _codes = enrolled(factory)
    password_only(client, user.email)
    me = client.get("/api/v1/auth/me").get_json()
    assert me["user"]["email"] == user.email and me["permissions"] == []
    assert me["mfa"]["next_step"] == "mfa_required" and me["mfa"]["recovery_codes_left"] == 10
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_half_open_session_ends_after_five_minutes(client, factory):
    user, secret, _codes = enrolled(factory)
    password_only(client, user.email)
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=datetime.now(UTC) - timedelta(minutes=5, seconds=1))
    )
    assert client.post(VERIFY, json={"code": totp_code(secret)}).status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
    assert "auth.session_expired" in actions_for(user.id)


def test_second_step_needs_the_csrf_token_of_the_first(client, factory):
    user, secret, _codes = enrolled(factory)
    password_only(client, user.email)
    refused = client.post(VERIFY, json={"code": totp_code(secret)}, headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403
    assert client.post(VERIFY, json={"code": totp_code(secret)}).status_code == 200


# --- login with a code ------------------------------------------------------------------------


def test_login_with_a_code_opens_a_full_session_with_a_new_id(client, factory):
    user, secret, _codes = enrolled(factory)
    first = password_only(client, user.email)
    half_open = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    response = client.post(VERIFY, json={"code": totp_code(secret)})
    assert response.status_code == 200 and "HttpOnly" in response.headers["Set-Cookie"]
    body = response.get_json()
    assert body["mfa"]["next_step"] is None and "case.read" in body["permissions"]
    assert body["csrf_token"] != first.get_json()["csrf_token"]
    client.csrf = body["csrf_token"]
    assert client.get("/api/v1/cases").status_code == 200
    db.session.refresh(half_open)
    assert half_open.revoked_at is not None  # the half-open cookie is worth nothing now
    assert actions_for(user.id)[-3:] == ["auth.password_accepted", "auth.mfa_verified", "auth.login"]


def test_verification_is_only_for_a_session_waiting_for_a_code(client, factory):
    user, secret, _codes = enrolled(factory)
    client.as_user(user)
    assert client.post(VERIFY, json={"code": totp_code(secret, current_step() + 1)}).status_code == 409


def test_a_wrong_code_is_refused_and_audited(client, factory):
    user, secret, _codes = enrolled(factory)
    password_only(client, user.email)
    response = client.post(VERIFY, json={"code": wrong_code(secret)})
    assert response.status_code == 401 and response.get_json()["reason"] == "mfa_code_invalid"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.mfa_failed")).one()
    assert event.outcome == "failure" and event.details == {"reason": "bad_code", "method": "totp"}
    # Still half-open: the right code passes.
    assert client.post(VERIFY, json={"code": totp_code(secret)}).status_code == 200


def test_a_used_code_cannot_be_replayed(make_client, factory):
    user, secret, _codes = enrolled(factory)
    code = totp_code(secret)
    first, second = make_client(), make_client()
    password_only(first, user.email)
    password_only(second, user.email)
    assert first.post(VERIFY, json={"code": code}).status_code == 200
    replay = second.post(VERIFY, json={"code": code})
    assert replay.status_code == 401 and replay.get_json()["reason"] == "mfa_code_invalid"
    # An earlier step's code, still inside the drift window, is refused after a later one passed.
    assert second.post(VERIFY, json={"code": totp_code(secret, current_step() - 1)}).status_code == 401
    reasons = db.session.scalars(
        select(AuditEvent.details["reason"].astext).where(AuditEvent.action == "auth.mfa_failed")
    ).all()
    assert reasons == ["replayed", "replayed"]
    # The next step's code is new: accepted.
    assert second.post(VERIFY, json={"code": totp_code(secret, current_step() + 1)}).status_code == 200


@pytest.mark.committing
def test_the_same_code_sent_twice_at_once_passes_once(app, factory):
    user, secret, _codes = enrolled(factory)
    db.session.commit()
    browsers = [ApiClient(app.test_client()) for _ in range(2)]
    for browser in browsers:
        password_only(browser, user.email)
    code, barrier, results = totp_code(secret), threading.Barrier(2), []

    def send(browser: ApiClient) -> None:
        barrier.wait()
        results.append(browser.post(VERIFY, json={"code": code}).status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 401]


def test_a_code_outside_the_drift_window_is_refused(client, factory):
    user, secret, _codes = enrolled(factory)
    password_only(client, user.email)
    assert client.post(VERIFY, json={"code": totp_code(secret, current_step() + 3)}).status_code == 401


# --- recovery codes ---------------------------------------------------------------------------


def test_a_recovery_code_works_once(make_client, factory):
    user, _secret, codes = enrolled(factory)
    browser = make_client()
    password_only(browser, user.email)
    response = browser.post(VERIFY, json={"code": codes[0].upper().replace("-", " ")})  # as typed
    assert response.status_code == 200 and response.get_json()["mfa"]["recovery_codes_left"] == 9
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.mfa_recovery_code_used")).one()
    assert event.details == {"left": 9}
    again = make_client()
    password_only(again, user.email)
    refused = again.post(VERIFY, json={"code": codes[0]})
    assert refused.status_code == 401 and refused.get_json()["reason"] == "mfa_code_invalid"
    assert again.post(VERIFY, json={"code": codes[1]}).status_code == 200


def test_recovery_codes_are_bound_to_their_user(client, factory):
    user, _secret, _codes = enrolled(factory)
    _other, _other_secret, other_codes = enrolled(factory)
    password_only(client, user.email)
    assert client.post(VERIFY, json={"code": other_codes[0]}).status_code == 401


# --- lockout ----------------------------------------------------------------------------------


def test_wrong_codes_count_toward_the_lockout(client, factory):
    user, secret, _codes = enrolled(factory)
    password_only(client, user.email)
    for _ in range(4):
        assert client.post(VERIFY, json={"code": wrong_code(secret)}).get_json()["reason"] == "mfa_code_invalid"
    fifth = client.post(VERIFY, json={"code": wrong_code(secret)})
    assert fifth.status_code == 401 and "reason" not in fifth.get_json()  # the half-open session ended
    assert client.post(VERIFY, json={"code": totp_code(secret)}).status_code == 401
    db.session.refresh(user)
    assert user.is_locked(datetime.now(UTC))
    assert client.post(LOGIN, json={"email": user.email, "password": PASSWORD}).status_code == 401
    assert "auth.account_locked" in actions_for(user.id)


def test_logging_in_again_does_not_reset_the_count_of_wrong_codes(make_client, factory):
    user, secret, _codes = enrolled(factory)
    for attempts in (3, 2):  # the password passes each time, the codes never do
        browser = make_client()
        password_only(browser, user.email)
        for _ in range(attempts):
            browser.post(VERIFY, json={"code": wrong_code(secret)})
    db.session.refresh(user)
    assert user.is_locked(datetime.now(UTC))


def test_mixed_wrong_passwords_and_codes_lock_together(client, factory):
    user, secret, _codes = enrolled(factory)
    for _ in range(3):
        assert client.post(LOGIN, json={"email": user.email, "password": "not the password"}).status_code == 401
    password_only(client, user.email)
    client.post(VERIFY, json={"code": wrong_code(secret)})
    client.post(VERIFY, json={"code": wrong_code(secret)})
    db.session.refresh(user)
    assert user.is_locked(datetime.now(UTC))


def test_a_full_login_clears_the_failure_count(client, factory):
    user, secret, _codes = enrolled(factory)
    password_only(client, user.email)
    client.post(VERIFY, json={"code": wrong_code(secret)})
    assert client.post(VERIFY, json={"code": totp_code(secret)}).status_code == 200
    db.session.refresh(user)
    assert user.failed_login_count == 0


# --- reset by an admin ------------------------------------------------------------------------


def test_admin_of_the_same_organisation_resets_a_factor(make_client, factory):
    user, _secret, _codes = enrolled(factory, Role.INVESTIGATOR)
    admin = factory.user(Role.ADMIN, user.organisation)
    theirs = make_client().as_user(user)
    admins = make_client().as_user(admin)
    assert admins.get(f"/api/v1/users/{user.id}").get_json()["has_second_factor"] is True
    response = admins.delete(f"/api/v1/users/{user.id}/mfa")
    assert response.status_code == 204
    assert admins.get(f"/api/v1/users/{user.id}").get_json()["has_second_factor"] is False
    assert theirs.get("/api/v1/auth/me").status_code == 401  # sessions ended
    db.session.refresh(user)
    assert user.mfa_secret is None and user.mfa_enrolled_at is None and user.mfa_last_step is None
    assert not db.session.scalars(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id)).all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.mfa_reset")).one()
    assert event.actor_id == admin.id and event.object_id == str(user.id) and event.details == {"was_enrolled": True}
    # The next login enrols again.
    assert password_only(make_client(), user.email).get_json()["mfa"]["next_step"] == "mfa_enrolment_required"


def test_admin_of_another_organisation_gets_404_and_changes_nothing(make_client, factory):
    user, _secret, _codes = enrolled(factory, Role.INVESTIGATOR)
    outsider = factory.user(Role.ADMIN)  # another organisation
    assert make_client().as_user(outsider).delete(f"/api/v1/users/{user.id}/mfa").status_code == 404
    db.session.refresh(user)
    assert user.has_second_factor
    assert "user.mfa_reset" not in actions_for(user.id)


def test_an_admin_cannot_reset_their_own_factor(client, factory):
    admin = factory.user(Role.ADMIN)
    client.as_user(admin)
    assert client.delete(f"/api/v1/users/{admin.id}/mfa").status_code == 409


def test_only_user_managers_reset_factors(client, factory):
    user, _secret, _codes = enrolled(factory, Role.INVESTIGATOR)
    supervisor = factory.user(Role.SUPERVISOR, user.organisation)
    client.as_user(supervisor)
    assert client.delete(f"/api/v1/users/{user.id}/mfa").status_code == 403


# --- command line, and no secrets anywhere -----------------------------------------------------


def test_cli_enrols_and_resets(app_ctx, factory):
    user = factory.user(Role.CASEWORKER)
    runner = app_ctx.test_cli_runner()
    enrolled_out = runner.invoke(args=["users", "enrol-mfa", user.email])
    assert enrolled_out.exit_code == 0, enrolled_out.output
    db.session.refresh(user)
    assert user.has_second_factor and user.mfa_secret in enrolled_out.output
    assert "otpauth://totp/" in enrolled_out.output
    assert runner.invoke(args=["users", "enrol-mfa", user.email]).exit_code != 0  # already enrolled
    reset = runner.invoke(args=["users", "reset-mfa", user.email])
    assert reset.exit_code == 0 and "reset" in reset.output
    db.session.refresh(user)
    assert not user.has_second_factor
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(user.id))).all()
    assert {"user.mfa_enrolled", "user.mfa_reset"} <= {e.action for e in events}
    assert all(e.actor_id is None for e in events if e.action.startswith("user.mfa"))


def test_no_secret_or_code_reaches_the_audit_trail(make_client, factory):
    user = factory.user(Role.INVESTIGATOR)
    browser = make_client()
    password_only(browser, user.email)
    secret = browser.post(ENROL).get_json()["secret"]
    codes = browser.post(CONFIRM, json={"code": totp_code(secret)}).get_json()["recovery_codes"]
    later = make_client()
    password_only(later, user.email)
    later.post(VERIFY, json={"code": codes[3]})
    trail = " ".join(
        repr(e.details) for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(user.id)))
    )
    assert secret not in trail and not any(c in trail or c.replace("-", "") in trail for c in codes)
    assert not re.search(r"\b\d{6}\b", trail)


def test_the_api_client_logs_the_same_user_in_many_times_in_one_time_step(make_client, factory):
    user = factory.user(Role.INVESTIGATOR)
    for _ in range(4):  # this step's code, the next step's, then recovery codes
        assert make_client().login(user.email).status_code == 200
    assert actions_for(user.id).count("auth.login") == 4
