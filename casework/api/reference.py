"""Reference data for forms: offence codes (with seriousness), states, platforms, abuse types, agencies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from casework import payment_providers as providers
from casework.api.access import authenticated
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.models.reference import AbuseType, Agency, Platform, State
from casework.schemas.reference import (
    AgencySchema,
    CodeNameSchema,
    OffenceCodeSchema,
    OffenceQuerySchema,
    PaymentProviderSchema,
)
from casework.services import reference

blp = Blueprint("reference", __name__, description="Reference data")


@blp.route("/offences", methods=["GET"])
@authenticated
@blp.arguments(OffenceQuerySchema(), location="query")
@blp.response(200, OffenceCodeSchema(many=True))
def offences(args: dict[str, Any]) -> Any:
    """Offence codes, most serious first; is_confirmed=false marks facts not yet verified.
    `q` finds them by section (`376` -> PC 376(1)..(4)), statute (`SOAC`) or words of the title."""
    return reference.list_offence_codes(args.get("q"))


@blp.route("/payment-providers", methods=["GET"])
@authenticated
@blp.response(200, PaymentProviderSchema(many=True))
def payment_providers() -> Any:
    """Banks (with SWIFT/BIC) and e-wallet providers: the `qualifier` of bank_account and ewallet
    identifiers. Any listed name, alias or SWIFT/BIC is stored as the provider's `code`."""
    return list(providers.providers())  # a list: a tuple would read as (body, status, headers)


@blp.route("/states", methods=["GET"])
@authenticated
@blp.response(200, CodeNameSchema(many=True))
def states() -> Any:
    return db.session.scalars(select(State).order_by(State.code)).all()


@blp.route("/platforms", methods=["GET"])
@authenticated
@blp.response(200, CodeNameSchema(many=True))
def platforms() -> Any:
    return db.session.scalars(select(Platform).order_by(Platform.name)).all()


@blp.route("/abuse-types", methods=["GET"])
@authenticated
@blp.response(200, CodeNameSchema(many=True))
def abuse_types() -> Any:
    return db.session.scalars(select(AbuseType).order_by(AbuseType.code)).all()


@blp.route("/agencies", methods=["GET"])
@authenticated
@blp.response(200, AgencySchema(many=True))
def agencies() -> Any:
    return db.session.scalars(select(Agency).order_by(Agency.acronym)).all()
