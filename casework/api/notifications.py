"""The logged-in user's notifications."""

from __future__ import annotations

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.notifications import NotificationPageSchema, NotificationQuerySchema, NotificationSchema
from casework.services import notifications

blp = Blueprint("notifications", __name__, description="Your notifications")


@blp.route("", methods=["GET"])
@requires("notifications.read")
@blp.arguments(NotificationQuerySchema(), location="query")
@blp.response(200, NotificationPageSchema)
def list_notifications(filters):  # type: ignore[no-untyped-def]
    """Newest first, with the number unread."""
    return notifications.list_notifications(actor=actor(), filters=filters)


@blp.route("/<int:notification_id>/read", methods=["POST"])
@requires("notifications.read")
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int):  # type: ignore[no-untyped-def]
    notification = notifications.mark_read(actor=actor(), notification_id=notification_id)
    db.session.commit()
    return notification
