"""The API's request parser: the one place where a body or query string is read.

Every blueprint of the API is a `Blueprint` from here, so every route parses with `EdgeParser`:
an undecodable body or one nested deeper than MAX_JSON_DEPTH is 400 (not a RecursionError, not
a 500), and unknown query parameters are refused (422) like unknown body fields. The body size
is capped before parsing by Flask's MAX_CONTENT_LENGTH (413); ids in paths have at most 9 digits.
"""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser, abort
from werkzeug.routing import IntegerConverter

MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class EdgeParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            data = None
        else:
            if not isinstance(data, dict | list) or not json_depth_exceeds(data):
                return data
        abort(400, messages={"json": [f"JSON nested more than {MAX_JSON_DEPTH} levels deep."]})


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint parsing with EdgeParser (use it for every API blueprint)."""

    ARGUMENTS_PARSER = EdgeParser()


class IdConverter(IntegerConverter):
    """`<int:...>` in paths: at most 9 digits, so every id that matches fits an `integer` column
    and a longer number matches no route (404). (A `max` would make werkzeug answer 405.)"""

    regex = r"\d{1,9}"


def _refuse_query_nobody_reads() -> None:
    """A query string on an API route that declares no query arguments: 422, as the parser would."""
    view = flask.current_app.view_functions.get(flask.request.endpoint or "")
    apidoc = getattr(view, "_apidoc", None)
    if not flask.request.args or apidoc is None:
        return
    if any(p.get("in") == "query" for p in apidoc.get("arguments", {}).get("parameters", [])):
        return
    abort(422, messages={"query": {name: ["Unknown field."] for name in flask.request.args}})


def init_app(app: flask.Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_query_nobody_reads)
