"""Base schema and shared field helpers: unknown fields are errors, integers are strict."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


def Id(**kwargs):  # noqa: N802 - reads like a field type
    """A positive integer id; strict so 2.5e-42 is not silently truncated to 0."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1), **kwargs)


class PaginationQuerySchema(BaseSchema):
    """page and per_page (at most 100) for list endpoints."""

    page = fields.Integer(strict=False, load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(strict=False, load_default=25, validate=validate.Range(min=1, max=100))


class PageSchema(BaseSchema):
    """A bounded list page {items, page, per_page, total}; subclasses declare `items`."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
