"""`make run`'s demo accounts: created once, and those whose role needs a second factor enrolled,
with the password and TOTP secret shown once, so a first look works with no enrolment step."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from casework.extensions import db
from casework.models.users import Role, User
from casework.services import demo
from tests.helpers import totp_code


def _seed() -> list[str]:
    lines: list[str] = []
    demo.seed_demo_accounts(lines.append)
    return lines


def test_demo_accounts_are_enrolled_and_their_secrets_printed_once(client):
    lines = _seed()
    rows = {m[1]: (m[2], m[3]) for m in (re.match(r"\s+(\S+@casework\.demo)\s+(\S+)\s+(\S+)", ln) for ln in lines) if m}
    assert set(rows) == {email for email, *_ in demo.DEMO_USERS}
    for email, _name, role, _org in demo.DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.has_second_factor is (role != Role.ANALYST)
        assert rows[email][1] == (user.mfa_secret if role != Role.ANALYST else "-")

    # The printed password and secret are all a first look needs.
    password, secret = rows["investigator@casework.demo"]
    response = client.post("/api/v1/auth/login", json={"email": "investigator@casework.demo", "password": password})
    assert response.get_json()["mfa"]["next_step"] == "mfa_required"
    client.csrf = response.get_json()["csrf_token"]
    assert client.post("/api/v1/auth/mfa/verification", json={"code": totp_code(secret)}).status_code == 200

    assert _seed() == []  # nothing new, nothing printed


def test_older_demo_accounts_are_enrolled_without_a_new_password(app_ctx):
    _seed()
    db.session.execute(
        update(User).where(User.email == "supervisor@casework.demo").values(mfa_secret=None, mfa_enrolled_at=None)
    )
    db.session.expire_all()
    (line,) = [ln for ln in _seed() if "@casework.demo" in ln]
    assert "supervisor@casework.demo" in line and "(password unchanged)" in line
