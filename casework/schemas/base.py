"""Base schema and shared field helpers: unknown fields are errors, integers are strict, and
every input field gets the limits of the edge (see `input_limits`)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

# What PostgreSQL and the rest of the stack can hold: text without NUL, valid Unicode (no lone
# surrogate halves), dates in a range any column and any time zone conversion can represent,
# integers that fit an `integer` column.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
INT32 = (-(2**31), 2**31 - 1)
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _clean_text(value: Any) -> None:
    if isinstance(value, str) and _BAD_TEXT.search(value):
        raise ValidationError("Must not contain NUL characters or unpaired surrogates.")


def _sane_year(value: Any) -> None:
    # The year of the value as written: checked before any time zone arithmetic can overflow.
    if isinstance(value, date | datetime) and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(f"Must be between {EARLIEST_YEAR} and {LATEST_YEAR}.")


def input_limits(field: fields.Field) -> None:
    """Give one field (and the fields inside it) the edge's limits; idempotent.

    Text refuses NUL and unpaired surrogates, dates and date-times must lie in 1900-2100 and
    integers without a range of their own must fit 32 bits. Fields that declare a Range keep it.
    """
    has_range = any(isinstance(v, validate.Range) for v in field.validators)
    if isinstance(field, fields.String):
        if _clean_text not in field.validators:
            field.validators.insert(0, _clean_text)
    elif isinstance(field, fields.Date | fields.DateTime):
        if _sane_year not in field.validators:
            field.validators.insert(0, _sane_year)
    elif isinstance(field, fields.Integer) and not has_range:
        field.validators.append(validate.Range(min=INT32[0], max=INT32[1]))
    if isinstance(field, fields.List):
        input_limits(field.inner)
    elif isinstance(field, fields.Tuple):
        for inner in field.tuple_fields:
            input_limits(inner)
    elif isinstance(field, fields.Mapping):
        for part in (field.key_field, field.value_field):
            if part is not None:
                input_limits(part)


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        input_limits(field_obj)


class IdInteger(fields.Integer):
    """A strict integer that also reads its decimal digits from a query string (`?assignee_id=4`),
    while refusing floats such as 2.5e-42 in JSON."""

    _DIGITS = re.compile(r"^[0-9]{1,10}$")

    def _validated(self, value: Any) -> int:
        if isinstance(value, str) and self._DIGITS.match(value):
            value = int(value)
        return super()._validated(value)


def Id(**kwargs):  # noqa: N802 - reads like a field type
    """A positive integer id; strict so 2.5e-42 is not silently truncated to 0."""
    return IdInteger(strict=True, validate=validate.Range(min=1, max=2**31 - 1), **kwargs)


class PaginationQuerySchema(BaseSchema):
    """page and per_page (at most 100) for list endpoints."""

    page = fields.Integer(strict=False, load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(strict=False, load_default=25, validate=validate.Range(min=1, max=100))


class PageSchema(BaseSchema):
    """A bounded list page {items, page, per_page, total}; subclasses declare `items`."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
