"""Reference data for forms: offence codes (with seriousness), states, platforms, abuse types, agencies."""

from __future__ import annotations

from sqlalchemy import select

from casework.api.access import authenticated
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.models.reference import AbuseType, Agency, Platform, State
from casework.schemas.reference import AgencySchema, CodeNameSchema, OffenceCodeSchema
from casework.services import reference

blp = Blueprint("reference", __name__, description="Reference data")


@blp.route("/offences", methods=["GET"])
@authenticated
@blp.response(200, OffenceCodeSchema(many=True))
def offences():  # type: ignore[no-untyped-def]
    """Offence codes, most serious first; is_confirmed=false marks facts not yet verified."""
    return reference.list_offence_codes()


@blp.route("/states", methods=["GET"])
@authenticated
@blp.response(200, CodeNameSchema(many=True))
def states():  # type: ignore[no-untyped-def]
    return db.session.scalars(select(State).order_by(State.code)).all()


@blp.route("/platforms", methods=["GET"])
@authenticated
@blp.response(200, CodeNameSchema(many=True))
def platforms():  # type: ignore[no-untyped-def]
    return db.session.scalars(select(Platform).order_by(Platform.name)).all()


@blp.route("/abuse-types", methods=["GET"])
@authenticated
@blp.response(200, CodeNameSchema(many=True))
def abuse_types():  # type: ignore[no-untyped-def]
    return db.session.scalars(select(AbuseType).order_by(AbuseType.code)).all()


@blp.route("/agencies", methods=["GET"])
@authenticated
@blp.response(200, AgencySchema(many=True))
def agencies():  # type: ignore[no-untyped-def]
    return db.session.scalars(select(Agency).order_by(Agency.acronym)).all()
