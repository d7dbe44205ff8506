"""A case's consents and referrals, and the data its referral form needs (under /cases/{id})."""

from __future__ import annotations

from typing import Any

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.schemas.referrals import (
    ConsentCreateSchema,
    ConsentSchema,
    ConsentWithdrawalSchema,
    ReferralCreateSchema,
    ReferralFormSchema,
    ReferralStateSchema,
    ReferralSummarySchema,
)
from casework.services import consents, referrals

blp = Blueprint("case-referrals", __name__, description="Victims' consents and a case's referrals")


@blp.route("/<int:case_id>/consents", methods=["GET"])
@requires("case.read")
@blp.response(200, ConsentSchema(many=True))
def list_consents(case_id: int) -> Any:
    """Every consent decision for the case's victims, superseded and withdrawn ones included."""
    return consents.list_consents(actor=actor(), case_id=case_id)


@blp.route("/<int:case_id>/consents", methods=["POST"])
@requires("consent.manage")
@blp.arguments(ConsentCreateSchema())
@blp.response(201, ConsentSchema)
def record_consent(data: dict[str, Any], case_id: int) -> Any:
    """Record a victim's decision for an agency and purpose (replaces the previous one)."""
    consent = consents.record_consent(actor=actor(), case_id=case_id, data=data)
    db.session.commit()
    return consent


@blp.route("/<int:case_id>/consents/<int:consent_id>/withdrawal", methods=["POST"])
@requires("consent.manage")
@blp.arguments(ConsentWithdrawalSchema())
@blp.response(200, ConsentSchema)
def withdraw_consent(data: dict[str, Any], case_id: int, consent_id: int) -> Any:
    """Withdraw a consent: drafts relying on it are withdrawn, sent referrals stop sharing."""
    consent = consents.withdraw_consent(actor=actor(), case_id=case_id, consent_id=consent_id, data=data)
    db.session.commit()
    return consent


@blp.route("/<int:case_id>/referrals", methods=["GET"])
@requires("referral.read")
@blp.response(200, ReferralSummarySchema(many=True))
def list_referrals(case_id: int) -> Any:
    """The case's referrals (a receiving organisation sees only those addressed to it)."""
    return referrals.list_case_referrals(actor=actor(), case_id=case_id)


@blp.route("/<int:case_id>/referrals", methods=["POST"])
@requires("referral.create")
@blp.arguments(ReferralCreateSchema())
@blp.response(201, ReferralStateSchema)
def create_referral(data: dict[str, Any], case_id: int) -> Any:
    """Draft a referral; refused (409) without the victim's current consent unless overridden."""
    referral = referrals.create_referral(actor=actor(), case_id=case_id, data=data)
    db.session.commit()
    return referral


@blp.route("/<int:case_id>/referral-form", methods=["GET"])
@requires("referral.create")
@blp.response(200, ReferralFormSchema)
def referral_form(case_id: int) -> Any:
    """Purposes, agencies, recipients, deadlines, current consents and legal aid eligibility."""
    form = referrals.referral_form(actor=actor(), case_id=case_id)
    db.session.commit()  # the audit row of the means assessment
    return form
