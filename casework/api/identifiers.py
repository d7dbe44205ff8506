"""Finding cases by a perpetrator identifier, across organisations without exposing them."""

from __future__ import annotations

from typing import Any

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.cases import LookupQuerySchema, LookupResultSchema
from casework.services import identifiers

blp = Blueprint("identifiers", __name__, description="Perpetrator identifiers")


@blp.route("/lookup", methods=["GET"])
@requires("identifier.lookup")
@blp.arguments(LookupQuerySchema(), location="query")
@blp.response(200, LookupResultSchema)
def lookup(args: dict[str, Any]) -> Any:
    """Cases naming this identifier (any spelling): yours in full, others as organisation + count."""
    qualifier, value = args["normalised"]
    result = identifiers.lookup(
        actor=actor(),
        kind=args["kind"],
        qualifier=qualifier,
        value=value,
        qualifier_given=bool(args.get("qualifier")) or bool(qualifier),
    )
    db.session.commit()  # the audit row of the look-up
    return result
