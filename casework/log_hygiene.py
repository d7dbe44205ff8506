"""Log hygiene: no log record carries SQL parameters, database row values or exception text.

Victim identity reaches PostgreSQL as bound parameters, and both SQLAlchemy and PostgreSQL echo
them back in error text: `[parameters: {...}]`, `DETAIL: Failing row contains (...)`,
`Key (email)=(...) already exists`, a trigger's `RAISE EXCEPTION '%', NEW`. The engine hides
parameters (`hide_parameters=True`, config.py); this module is the second line. Every record is
cleaned when it is made (a log record factory), so every handler, the root's, gunicorn's or a
test's, only ever sees the clean text: messages lose those passages, and an attached exception
is rendered as its types (with the SQLSTATE of database errors) and stack frames, never its
message, which can carry any value.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

HIDDEN = "[hidden]"

# Each passage runs to the next part of SQLAlchemy's error text, or to the end: cutting too much
# loses a little context, cutting too little leaks a value.
_NEXT = r"(?=\n\[SQL|\n\[parameters|\n\[SQL parameters|\n\(Background on this error|\Z)"
_NEXT_IN_TRACEBACK = r"(?=\n\nThe above exception|\n\nDuring handling of the above|\Z)"
_PASSAGES = [
    # A database's message can name any value (a trigger's RAISE, "invalid input syntax ... "):
    # SQLAlchemy's "(psycopg2.errors.X) message", and a formatted traceback's "X: message" line.
    re.compile(r"(\((?:psycopg2|sqlalchemy)[\w.]*\)) .*?" + _NEXT, re.S),
    re.compile(r"(?m)^((?:sqlalchemy\.exc|psycopg2(?:\.errors)?)\.\w+): .*?" + _NEXT_IN_TRACEBACK, re.S),
    re.compile(r"\[SQL: .*?" + _NEXT, re.S),
    re.compile(r"\[parameters: .*?" + _NEXT, re.S),
    re.compile(r"\b(?:DETAIL|HINT|CONTEXT|WHERE):.*?" + _NEXT, re.S),
    re.compile(r"Failing row contains \(.*?" + _NEXT, re.S),
    re.compile(r"Key \(.*?\)=\(.*?" + _NEXT, re.S),
]
_MARKERS = (
    "psycopg2",
    "sqlalchemy",
    "[SQL: ",
    "[parameters: ",
    "DETAIL:",
    "HINT:",
    "CONTEXT:",
    "WHERE:",
    "Failing row",
    "Key (",
)


def redact(text: str) -> str:
    """The text without database messages, SQL statements, parameter dumps and PostgreSQL's row
    details."""
    if any(marker in text for marker in _MARKERS):
        for passage in _PASSAGES:
            text = passage.sub(lambda m: (m.group(1) + " " if m.re.groups else "") + HIDDEN, text)
    return text


def describe(error: BaseException) -> str:
    """The exception's qualified type, and the SQLSTATE of a database error; never its message."""
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    sqlstate = getattr(getattr(error, "orig", None), "pgcode", None) or getattr(error, "pgcode", None)
    if sqlstate:
        name += f" (SQLSTATE {sqlstate})"
    is_database = isinstance(error, SQLAlchemyError) or sqlstate is not None
    return name + (": [database error text withheld]" if is_database else ": [message withheld]")


def sanitised_traceback(error: BaseException) -> str:
    """Python's traceback layout (frames and source lines, chained exceptions) with every
    exception's message replaced by its type: code, not values."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = (
                current.__context__,
                "During handling of the above exception, another exception occurred:",
            )
        else:
            current = None
    text = ""
    for exc, link in reversed(chain):  # oldest first, as Python prints them
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        text += f"Traceback (most recent call last):\n{frames}{describe(exc)}"
        if link:
            text += f"\n\n{link}\n\n"
    return text


def clean(record: logging.LogRecord) -> logging.LogRecord:
    """Clean one record in place: message redacted, exception rendered without its text."""
    if record.name.startswith("sqlalchemy.engine") and record.args:
        # Echoed statements come with their parameters as arguments ("[%s] %r").
        if isinstance(record.args, tuple):
            record.args = tuple(HIDDEN for _ in record.args)
        else:
            record.msg, record.args = HIDDEN, ()
    if isinstance(record.args, tuple) and any(isinstance(a, BaseException) for a in record.args):
        # log.error("failed: %s", error): the exception's type stands in for its text.
        record.args = tuple(describe(a) if isinstance(a, BaseException) else a for a in record.args)
    try:
        message = record.getMessage()
    except Exception:  # a malformed call; logging itself would report it, without values
        message = str(record.msg)
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = sanitised_traceback(record.exc_info[1])
        record.exc_info = None  # no handler may render the raw exception itself
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    return record


class CleaningFilter(logging.Filter):
    """The same cleaning as a handler filter, for handlers made before the factory was set."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean(record)
        return True


def _cleaning_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return clean(make(*args, **kwargs))

    vars(factory)["casework_cleaning"] = True  # a function attribute (mypy has none on a def)
    return factory


def install() -> None:
    """Clean every record at creation (once per process) and on the root logger's handlers."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "casework_cleaning", False):
        logging.setLogRecordFactory(_cleaning_factory(current))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, CleaningFilter) for f in handler.filters):
            handler.addFilter(CleaningFilter())


def init_app(app: Flask) -> None:
    install()
