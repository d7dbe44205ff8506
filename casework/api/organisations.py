"""Organisations directory and administration."""

from __future__ import annotations

from typing import Any

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.organisations import (
    OrganisationCreateSchema,
    OrganisationQuerySchema,
    OrganisationSchema,
)
from casework.services import organisations

blp = Blueprint("organisations", __name__, description="Police units, NGOs and agencies")


@blp.route("", methods=["GET"])
@requires("organisations.read")
@blp.arguments(OrganisationQuerySchema(), location="query")
@blp.response(200, OrganisationSchema(many=True))
def list_organisations(args: dict[str, Any]) -> Any:
    return organisations.list_organisations(kind=args["kind"])


@blp.route("", methods=["POST"])
@requires("organisations.manage")
@blp.arguments(OrganisationCreateSchema())
@blp.response(201, OrganisationSchema)
def create_organisation(data: dict[str, Any]) -> Any:
    organisation = organisations.create_organisation(actor=actor(), **data)
    db.session.commit()
    return organisation
