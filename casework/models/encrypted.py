"""Column types that store values encrypted (casework.encryption) and read them back transparently.

`mapped_column(EncryptedText("victims.full_name"))`: the model holds plain values, the table holds
`bytea` ciphertext. The label is the associated data that binds a ciphertext to its column; it is
given explicitly so that renaming a column or attribute never makes stored values unreadable.
Every column of these types is found by `encrypted_columns()`, which `flask keys rotate` walks, so a
new encrypted column (a user's MFA secret, say) needs nothing more than its type.

An encrypted column cannot be compared by value (the same value encrypts differently every time):
such a comparison raises TypeError instead of silently matching nothing. Look people up by the
keyed hashes (`Victim.national_id_hash`, `Victim.phone_hash`). IS NULL / IS NOT NULL still work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Column, LargeBinary, MetaData, Table
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from casework import encryption


class _Encrypted(TypeDecorator[Any]):
    """Base: encode the value to bytes, encrypt under the current key; decrypt and decode on load."""

    impl = LargeBinary
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[Any]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            nullness = op in (operators.is_, operators.is_not) or (
                op in (operators.eq, operators.ne) and other and other[0] is None
            )
            # The column against itself: how the ORM matches the columns of `update(...).values(...)`.
            itself = op is operators.eq and other and _same_column(self.expr, other[0])
            if not (nullness or itself):
                raise TypeError("An encrypted column cannot be compared by value; use its keyed hash.")
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            raise TypeError("An encrypted column cannot be compared by value; use its keyed hash.")

    comparator_factory = Comparator

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return encryption.ring().encrypt(self.encode(value), self.label)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return self.decode(encryption.ring().decrypt(bytes(value), self.label))

    def __repr__(self) -> str:  # what Alembic's autogenerate would write
        return f"{type(self).__name__}({self.label!r})"


def _same_column(a: Any, b: Any) -> bool:
    """Whether two expressions are one table column (either may carry ORM annotations)."""
    return isinstance(a, ColumnElement) and isinstance(b, ColumnElement) and a._deannotate() is b._deannotate()


class EncryptedText(_Encrypted):
    """A string, stored encrypted (UTF-8)."""

    cache_ok = True

    @property
    def python_type(self) -> type:
        return str

    def encode(self, value: Any) -> bytes:
        return str(value).encode()

    def decode(self, data: bytes) -> str:
        return data.decode()


class EncryptedDate(_Encrypted):
    """A date, stored encrypted as its ISO form."""

    cache_ok = True

    @property
    def python_type(self) -> type:
        return date

    def encode(self, value: Any) -> bytes:
        return value.isoformat().encode()

    def decode(self, data: bytes) -> date:
        return date.fromisoformat(data.decode())


class EncryptedJSON(_Encrypted):
    """A JSON document (dicts, lists, strings, numbers), stored encrypted as compact JSON.
    Reassign it to change it: in-place changes are not tracked (as with a plain JSON column)."""

    cache_ok = True

    @property
    def python_type(self) -> type:
        return dict

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


def encrypted_columns(metadata: MetaData) -> Iterator[tuple[Table, list[Column[Any]]]]:
    """Every table with encrypted columns, and those columns (rotation walks them)."""
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, _Encrypted)]
        if columns:
            yield table, columns
