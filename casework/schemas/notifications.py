"""Notification schemas."""

from __future__ import annotations

from marshmallow import fields

from casework.models.notifications import NotificationKind
from casework.schemas.base import BaseSchema, PageSchema, PaginationQuerySchema


class NotificationQuerySchema(PaginationQuerySchema):
    unread = fields.Boolean(load_default=False)


class NotificationSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.Enum(NotificationKind, by_value=True)
    referral_id = fields.Integer(allow_none=True)
    message = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class MarkedReadSchema(BaseSchema):
    marked = fields.Integer(metadata={"description": "How many were unread"})


class NotificationPageSchema(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread = fields.Integer()
