"""Inserting a new case's child rows without the ORM unit of work.

The unit of work was the largest share of an intake's CPU in the app: sorting dependencies,
tracking every attribute, batching per table. A new case's victims, offences and identifier links
need none of that: each table's rows go in one statement and the objects are then made
persistent, clean, as if loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached

from casework.extensions import db


def insert_persistent(objects: Sequence[Any]) -> None:
    """INSERT new objects of one mapped class with one statement (RETURNING their ids, in order)
    and add them to the session as persistent and unchanged.

    Column defaults are applied here, in Python, so the objects hold every value they were stored
    with (nothing is left to load). Relationships are not saved: set them with set_committed_value.
    """
    if not objects:
        return
    mapper = inspect(type(objects[0]))
    [key] = mapper.primary_key
    columns = [(attr.key, attr.columns[0]) for attr in mapper.column_attrs if attr.columns[0] is not key]
    for obj in objects:
        for name, column in columns:
            if name not in obj.__dict__:
                setattr(obj, name, _default(column))
    rows = [{column.key: getattr(obj, name) for name, column in columns} for obj in objects]
    statement = insert(mapper.local_table).returning(key, sort_by_parameter_order=True)
    for obj, identity in zip(objects, db.session.scalars(statement, rows), strict=True):
        setattr(obj, mapper.get_property_by_column(key).key, identity)
        make_transient_to_detached(obj)
        db.session.add(obj)


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a plain callable as fn(context)
    if default.is_scalar:
        return default.arg
    raise ValueError(f"{column} has a SQL default; set it before inserting.")
