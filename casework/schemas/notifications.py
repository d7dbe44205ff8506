"""Notification schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from casework.models.notifications import NotificationKind
from casework.schemas.base import BaseSchema


class NotificationQuerySchema(BaseSchema):
    unread = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class NotificationSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.Enum(NotificationKind, by_value=True)
    referral_id = fields.Integer(allow_none=True)
    message = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(BaseSchema):
    items = fields.List(fields.Nested(NotificationSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    unread = fields.Integer()
