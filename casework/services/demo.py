"""Demo organisations and one user per role, for `make run` and `flask seed demo`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from casework import encryption, policies
from casework.extensions import db
from casework.models.cases import Case
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.users import Role, User
from casework.services import mfa, organisations, reference, users
from seed import generator

DEMO_ORGANISATIONS = [
    ("PDRM D11 Sexual, Women and Child Investigations (demo)", OrganisationKind.POLICE_UNIT, "D11", None),
    ("Women's Aid Organisation (demo)", OrganisationKind.NGO, "WAO", "WAO"),  # also receives counselling referrals
    ("MCMC takedown desk (demo)", OrganisationKind.AGENCY, "MCMC", "MCMC"),
    ("Legal Aid Department (demo)", OrganisationKind.AGENCY, "JBG", "JBG"),
    # Runs the service: its platform admin manages organisations and accounts, no cases.
    ("Casework operations (demo)", OrganisationKind.AGENCY, "OPS", None),
]

DEMO_USERS = [
    ("platform@casework.demo", "Demo Platform Admin", Role.PLATFORM_ADMIN, "OPS"),
    ("admin@casework.demo", "Demo Admin", Role.ADMIN, "D11"),
    ("supervisor@casework.demo", "Demo Supervisor", Role.SUPERVISOR, "D11"),
    ("investigator@casework.demo", "Demo Investigator", Role.INVESTIGATOR, "D11"),
    ("caseworker@casework.demo", "Demo Caseworker", Role.CASEWORKER, "WAO"),
    ("liaison@casework.demo", "Demo MCMC Liaison", Role.LIAISON, "MCMC"),
    ("analyst@casework.demo", "Demo Analyst", Role.ANALYST, "D11"),
]


def seed_demo_accounts(echo: Callable[[str], None]) -> list[tuple[str, str]]:
    """Create missing demo organisations and users; returns (email, password) of new users only.

    Passwords are random and shown once: they are never stored in clear anywhere. Demo accounts
    whose role must use a second factor are enrolled here too (also older ones not yet enrolled),
    and their TOTP secret and otpauth URI are shown once beside the password, so a first look
    needs no enrolment step; the analyst shows the optional path.
    """
    for name, kind, code, acronym in DEMO_ORGANISATIONS:
        if db.session.scalar(select(Organisation).where(Organisation.code == code)) is None:
            organisations.create_organisation(actor=None, name=name, kind=kind, code=code, agency_acronym=acronym)
    created, lines = [], []
    for email, full_name, role, code in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = users.create_user(
                actor=None,
                email=email,
                full_name=full_name,
                role=role,
                organisation_id=organisations.get_by_code(code).id,
                password=password,
            )
            created.append((email, password))
        secret = ""
        if policies.requires_second_factor(user.role) and not user.has_second_factor:
            enrolment, _ = mfa.enrol_by_operator(user, recovery_codes=False)
            secret = enrolment.secret
        if password or secret:
            lines.append(f"  {email:<30} {password or '(password unchanged)':<20} {secret or '-'}")
    if lines:
        echo(
            "Demo accounts (shown once; reset with `flask --app wsgi users set-password EMAIL`"
            " and `flask --app wsgi users reset-mfa EMAIL`):"
        )
        echo(f"  {'e-mail':<30} {'password':<20} TOTP secret (add it to an authenticator app)")
        for line in lines:
            echo(line)
        echo(
            "  A code without an app: .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"; "
            'log in with POST /api/v1/auth/login, then POST /api/v1/auth/mfa/verification {"code": ...}.'
        )
    return created


# Owners of generated cases (`flask seed synthetic`): police units and NGOs, clearly not real ones.
SYNTHETIC_ORGANISATIONS = [
    ("Synthetic police unit 1", OrganisationKind.POLICE_UNIT, "SYNPOL1"),
    ("Synthetic police unit 2", OrganisationKind.POLICE_UNIT, "SYNPOL2"),
    ("Synthetic police unit 3", OrganisationKind.POLICE_UNIT, "SYNPOL3"),
    ("Synthetic NGO 1", OrganisationKind.NGO, "SYNNGO1"),
    ("Synthetic NGO 2", OrganisationKind.NGO, "SYNNGO2"),
]


def ensure_synthetic_organisations() -> list[Organisation]:
    """Create the missing synthetic police units and NGOs (audited); returns all of them. Flushes."""
    found = []
    for name, kind, code in SYNTHETIC_ORGANISATIONS:
        organisation = db.session.scalar(select(Organisation).where(Organisation.code == code))
        if organisation is None:
            organisation = organisations.create_organisation(actor=None, name=name, kind=kind, code=code)
        found.append(organisation)
    return found


# Dense enough that a month of the national report is not all small (suppressed) counts: about
# 125 cases a month over the last two years, written by COPY in a second or two.
DEMO_CASES = 3000
DEMO_DAYS = 730


def seed_demo_cases(echo: Callable[[str], None]) -> None:
    """A synthetic case load for the demo police unit and NGO over the last two years, once (fake
    people only)."""
    owners = [organisations.get_by_code(code).id for code in ("D11", "WAO")]
    if db.session.scalar(select(func.count()).select_from(Case).where(Case.organisation_id.in_(owners))):
        return
    connection = db.session.connection().connection.driver_connection  # COPY needs the DB-API connection
    today = datetime.now(UTC).date()
    generator.generate(
        connection,
        DEMO_CASES,
        identity_key=current_app.config["IDENTITY_HASH_KEY"].encode(),
        key_ring=encryption.ring(),
        organisations=owners,
        progress=False,
        start=today - timedelta(days=DEMO_DAYS),
        end=today,
    )
    echo(f"demo cases: {DEMO_CASES} synthetic cases for D11 and WAO over the {DEMO_DAYS} days to {today}")


def seed_everything(echo: Callable[[str], None]) -> None:
    """Reference data, demo accounts and demo cases; idempotent. Commits."""
    counts = reference.load_reference_data()
    echo(f"reference data: {counts}")
    seed_demo_accounts(echo)
    seed_demo_cases(echo)
    db.session.commit()
