"""User administration: list, create, change role, deactivate, unlock, set password, reset the
second factor."""

from __future__ import annotations

from typing import Any

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.users import (
    PasswordSetSchema,
    UserCreateSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from casework.services import mfa, users

blp = Blueprint("users", __name__, description="User accounts (admins; supervisors read their own)")


@blp.route("", methods=["GET"])
@requires("users.read")
@blp.arguments(UserQuerySchema(), location="query")
@blp.response(200, UserSchema(many=True))
def list_users(args: dict[str, Any]) -> Any:
    return users.list_users(actor=actor(), organisation_id=args["organisation_id"])


@blp.route("", methods=["POST"])
@requires("users.manage")
@blp.arguments(UserCreateSchema())
@blp.response(201, UserSchema)
def create_user(data: dict[str, Any]) -> Any:
    user = users.create_user(actor=actor(), **data)
    db.session.commit()
    return user


@blp.route("/<int:user_id>", methods=["GET"])
@requires("users.read")
@blp.response(200, UserSchema)
def get_user(user_id: int) -> Any:
    return users.get_user(actor=actor(), user_id=user_id)


@blp.route("/<int:user_id>", methods=["PATCH"])
@requires("users.manage")
@blp.arguments(UserUpdateSchema())
@blp.response(200, UserSchema)
def update_user(data: dict[str, Any], user_id: int) -> Any:
    """Change name or role, or set is_active (false ends every session of the user)."""
    me = actor()
    user = users.get_user(actor=me, user_id=user_id)
    users.update_user(actor=me, user=user, role=data.get("role"), full_name=data.get("full_name"))
    if "is_active" in data:
        users.set_active(actor=me, user=user, active=data["is_active"])
    db.session.commit()
    return user


@blp.route("/<int:user_id>/unlock", methods=["POST"])
@requires("users.manage")
@blp.response(200, UserSchema)
def unlock_user(user_id: int) -> Any:
    me = actor()
    user = users.unlock(actor=me, user=users.get_user(actor=me, user_id=user_id))
    db.session.commit()
    return user


@blp.route("/<int:user_id>/password", methods=["PUT"])
@requires("users.manage")
@blp.arguments(PasswordSetSchema())
@blp.response(204)
def set_password(data: dict[str, Any], user_id: int) -> Any:
    me = actor()
    users.set_password(actor=me, user=users.get_user(actor=me, user_id=user_id), password=data["password"])
    db.session.commit()


@blp.route("/<int:user_id>/mfa", methods=["DELETE"])
@requires("users.manage")
@blp.response(204)
def reset_mfa(user_id: int) -> Any:
    """Reset the user's second factor (lost device): ends their sessions; they enrol again at
    their next login. Users of other organisations are 404; your own factor is 409. Audited."""
    me = actor()
    mfa.reset(actor=me, user=users.get_user(actor=me, user_id=user_id))
    db.session.commit()
