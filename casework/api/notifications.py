"""The logged-in user's notifications."""

from __future__ import annotations

from typing import Any

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.notifications import (
    MarkedReadSchema,
    NotificationPageSchema,
    NotificationQuerySchema,
    NotificationSchema,
)
from casework.services import notifications

blp = Blueprint("notifications", __name__, description="Your notifications")


@blp.route("", methods=["GET"])
@requires("notifications.read")
@blp.arguments(NotificationQuerySchema(), location="query")
@blp.response(200, NotificationPageSchema)
def list_notifications(filters: dict[str, Any]) -> Any:
    """Newest first, with the number unread."""
    return notifications.list_notifications(actor=actor(), filters=filters)


@blp.route("/read", methods=["POST"])
@requires("notifications.read")
@blp.response(200, MarkedReadSchema)
def mark_all_read() -> Any:
    """Mark every unread notification of yours read."""
    marked = notifications.mark_all_read(actor=actor())
    db.session.commit()
    return {"marked": marked}


@blp.route("/<int:notification_id>/read", methods=["POST"])
@requires("notifications.read")
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int) -> Any:
    notification = notifications.mark_read(actor=actor(), notification_id=notification_id)
    db.session.commit()
    return notification
