"""Accounts requested by a platform admin and approved by a second one (two-person rule)."""

from __future__ import annotations

from typing import Any

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.users import AccessGrantQuerySchema, AccessGrantSchema, UserCreateSchema
from casework.services import access_grants

blp = Blueprint("access-grants", __name__, description="Accounts a second platform admin approves")


@blp.route("", methods=["GET"])
@requires("users.grant")
@blp.arguments(AccessGrantQuerySchema(), location="query")
@blp.response(200, AccessGrantSchema(many=True))
def list_grants(args: dict[str, Any]) -> Any:
    return access_grants.list_grants(status=args["status"])


@blp.route("", methods=["POST"])
@requires("users.grant")
@blp.arguments(UserCreateSchema())
@blp.response(201, AccessGrantSchema)
def request_account(data: dict[str, Any]) -> Any:
    """Ask for an account in any organisation; it exists once another platform admin approves."""
    grant = access_grants.request_account(actor=actor(), **data)
    db.session.commit()
    return grant


@blp.route("/<int:grant_id>/approval", methods=["POST"])
@requires("users.grant")
@blp.response(200, AccessGrantSchema)
def approve(grant_id: int) -> Any:
    """A second platform admin approves: the account is created (not by its requester)."""
    grant = access_grants.approve(actor=actor(), grant_id=grant_id)
    db.session.commit()
    return grant


@blp.route("/<int:grant_id>/rejection", methods=["POST"])
@requires("users.grant")
@blp.response(200, AccessGrantSchema)
def reject(grant_id: int) -> Any:
    """Refuse a request, or withdraw one's own."""
    grant = access_grants.reject(actor=actor(), grant_id=grant_id)
    db.session.commit()
    return grant
