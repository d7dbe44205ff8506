"""Creating and listing organisations (police units, NGOs, agencies)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from casework.errors import Conflict, NotFound
from casework.extensions import db
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.users import User
from casework.services import audit


def list_organisations(*, kind: OrganisationKind | None = None) -> Sequence[Organisation]:
    """Directory of organisations, so staff know whom to refer to or coordinate with."""
    query = select(Organisation).order_by(Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return db.session.scalars(query).all()


def get(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    return organisation


def get_by_code(code: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == code.upper()))
    if organisation is None:
        raise NotFound(f"No organisation with code {code!r}.")
    return organisation


def create_organisation(
    *,
    actor: User | None,
    name: str,
    kind: OrganisationKind,
    code: str,
    agency_acronym: str | None = None,
) -> Organisation:
    """Create an organisation. Admin only (checked at the edge). Audits. Conflict if taken."""
    code = code.upper()
    taken = db.session.scalar(
        select(func.count())
        .select_from(Organisation)
        .where((Organisation.code == code) | (func.lower(Organisation.name) == name.lower()))
    )
    if taken:
        raise Conflict("An organisation with this name or code already exists.")
    organisation = Organisation(name=name, kind=kind, code=code, agency_acronym=agency_acronym)
    db.session.add(organisation)
    db.session.flush()
    audit.record(actor, "organisation.created", organisation, kind=kind.value, code=code)
    return organisation
