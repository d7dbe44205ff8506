"""Demo organisations and one user per role, for `make run` and `flask seed demo`."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import current_app
from sqlalchemy import func, select

from casework import encryption
from casework.extensions import db
from casework.models.cases import Case
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.users import Role, User
from casework.services import organisations, reference, users
from seed import generator

DEMO_ORGANISATIONS = [
    ("PDRM D11 Sexual, Women and Child Investigations (demo)", OrganisationKind.POLICE_UNIT, "D11", None),
    ("Women's Aid Organisation (demo)", OrganisationKind.NGO, "WAO", "WAO"),  # also receives counselling referrals
    ("MCMC takedown desk (demo)", OrganisationKind.AGENCY, "MCMC", "MCMC"),
    ("Legal Aid Department (demo)", OrganisationKind.AGENCY, "JBG", "JBG"),
]

DEMO_USERS = [
    ("admin@casework.demo", "Demo Admin", Role.ADMIN, "D11"),
    ("supervisor@casework.demo", "Demo Supervisor", Role.SUPERVISOR, "D11"),
    ("investigator@casework.demo", "Demo Investigator", Role.INVESTIGATOR, "D11"),
    ("caseworker@casework.demo", "Demo Caseworker", Role.CASEWORKER, "WAO"),
    ("liaison@casework.demo", "Demo MCMC Liaison", Role.LIAISON, "MCMC"),
    ("analyst@casework.demo", "Demo Analyst", Role.ANALYST, "D11"),
]


def seed_demo_accounts(echo: Callable[[str], None]) -> list[tuple[str, str]]:
    """Create missing demo organisations and users; returns (email, password) of new users only.

    Passwords are random and shown once: they are never stored in clear anywhere.
    """
    for name, kind, code, acronym in DEMO_ORGANISATIONS:
        if db.session.scalar(select(Organisation).where(Organisation.code == code)) is None:
            organisations.create_organisation(actor=None, name=name, kind=kind, code=code, agency_acronym=acronym)
    created = []
    for email, full_name, role, code in DEMO_USERS:
        if db.session.scalar(select(User).where(User.email == email)) is not None:
            continue
        password = secrets.token_urlsafe(12)
        users.create_user(
            actor=None,
            email=email,
            full_name=full_name,
            role=role,
            organisation_id=organisations.get_by_code(code).id,
            password=password,
        )
        created.append((email, password))
    if created:
        echo("Demo accounts (shown once; reset with `flask users set-password EMAIL`):")
        for email, password in created:
            echo(f"  {email:<30} {password}")
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


DEMO_CASES = 300


def seed_demo_cases(echo: Callable[[str], None]) -> None:
    """A small synthetic case load for the demo police unit and NGO, once (fake people only)."""
    owners = [organisations.get_by_code(code).id for code in ("D11", "WAO")]
    if db.session.scalar(select(func.count()).select_from(Case).where(Case.organisation_id.in_(owners))):
        return
    connection = db.session.connection().connection.driver_connection  # COPY needs the DB-API connection
    generator.generate(
        connection,
        DEMO_CASES,
        identity_key=current_app.config["IDENTITY_HASH_KEY"].encode(),
        key_ring=encryption.ring(),
        organisations=owners,
        progress=False,
    )
    echo(f"demo cases: {DEMO_CASES} synthetic cases for D11 and WAO")


def seed_everything(echo: Callable[[str], None]) -> None:
    """Reference data, demo accounts and demo cases; idempotent. Commits."""
    counts = reference.load_reference_data()
    echo(f"reference data: {counts}")
    seed_demo_accounts(echo)
    seed_demo_cases(echo)
    db.session.commit()
