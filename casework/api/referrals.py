"""Referrals: inbox and outbox, one referral, its workflow actions, takedown items and the
police case it led to. Each action declares the permission of the side that takes it."""

from __future__ import annotations

from typing import Any

from casework.api.access import actor, requires
from casework.api.edge import Blueprint
from casework.extensions import db
from casework.models.referrals import ReferralStatus
from casework.schemas.referrals import (
    PoliceCaseLinkSchema,
    ReferralCompleteSchema,
    ReferralDeclineSchema,
    ReferralNoteSchema,
    ReferralPageSchema,
    ReferralQuerySchema,
    ReferralSchema,
    ReferralStateSchema,
    TakedownItemUpdateSchema,
)
from casework.services import referrals

blp = Blueprint("referrals", __name__, description="Referrals between organisations")


@blp.route("", methods=["GET"])
@requires("referral.read")
@blp.arguments(ReferralQuerySchema(), location="query")
@blp.response(200, ReferralPageSchema)
def list_referrals(filters: dict[str, Any]) -> Any:
    """Inbox (addressed to your organisation) and outbox (of cases you work), filtered."""
    return referrals.list_referrals(actor=actor(), filters=filters)


@blp.route("/<int:referral_id>", methods=["GET"])
@requires("referral.read")
@blp.response(200, ReferralSchema)
def get_referral(referral_id: int) -> Any:
    """One referral; the recipient receives the shared data of its purpose (read audited)."""
    referral = referrals.get_referral(actor=actor(), referral_id=referral_id)
    db.session.commit()
    return referral


def _move(referral_id: int, to: ReferralStatus, **data: Any) -> Any:
    referral = referrals.transition(actor=actor(), referral_id=referral_id, to=to, **data)
    db.session.commit()
    return referral


@blp.route("/<int:referral_id>/send", methods=["POST"])
@requires("referral.create")
@blp.arguments(ReferralNoteSchema())
@blp.response(200, ReferralStateSchema)
def send(data: dict[str, Any], referral_id: int) -> Any:
    """Sender: share now (consent re-checked, snapshot taken, deadlines start)."""
    return _move(referral_id, ReferralStatus.SENT, **data)


@blp.route("/<int:referral_id>/withdraw", methods=["POST"])
@requires("referral.create")
@blp.arguments(ReferralNoteSchema())
@blp.response(200, ReferralStateSchema)
def withdraw(data: dict[str, Any], referral_id: int) -> Any:
    """Sender: withdraw a referral that is not finished."""
    return _move(referral_id, ReferralStatus.WITHDRAWN, **data)


@blp.route("/<int:referral_id>/acknowledge", methods=["POST"])
@requires("referral.act")
@blp.arguments(ReferralNoteSchema())
@blp.response(200, ReferralStateSchema)
def acknowledge(data: dict[str, Any], referral_id: int) -> Any:
    """Recipient: acknowledge receipt."""
    return _move(referral_id, ReferralStatus.ACKNOWLEDGED, **data)


@blp.route("/<int:referral_id>/start", methods=["POST"])
@requires("referral.act")
@blp.arguments(ReferralNoteSchema())
@blp.response(200, ReferralStateSchema)
def start(data: dict[str, Any], referral_id: int) -> Any:
    """Recipient: work has started (in progress)."""
    return _move(referral_id, ReferralStatus.IN_PROGRESS, **data)


@blp.route("/<int:referral_id>/complete", methods=["POST"])
@requires("referral.act")
@blp.arguments(ReferralCompleteSchema())
@blp.response(200, ReferralStateSchema)
def complete(data: dict[str, Any], referral_id: int) -> Any:
    """Recipient: completed, with the outcome (takedown: every item resolved first)."""
    return _move(referral_id, ReferralStatus.COMPLETED, **data)


@blp.route("/<int:referral_id>/decline", methods=["POST"])
@requires("referral.act")
@blp.arguments(ReferralDeclineSchema())
@blp.response(200, ReferralStateSchema)
def decline(data: dict[str, Any], referral_id: int) -> Any:
    """Recipient: decline, with the reason."""
    return _move(referral_id, ReferralStatus.DECLINED, **data)


@blp.route("/<int:referral_id>/takedown-items/<int:item_id>", methods=["PATCH"])
@requires("referral.act")
@blp.arguments(TakedownItemUpdateSchema())
@blp.response(200, ReferralStateSchema)
def update_takedown_item(data: dict[str, Any], referral_id: int, item_id: int) -> Any:
    """Recipient: an address was removed, refused, or found re-uploaded (and when)."""
    referral = referrals.update_takedown_item(actor=actor(), referral_id=referral_id, item_id=item_id, **data)
    db.session.commit()
    return referral


@blp.route("/<int:referral_id>/police-case", methods=["POST"])
@requires("case.update")
@blp.arguments(PoliceCaseLinkSchema())
@blp.response(200, ReferralStateSchema)
def link_police_case(data: dict[str, Any], referral_id: int) -> Any:
    """Link the police case this police-report referral led to (counted once from then on)."""
    referral = referrals.link_police_case(actor=actor(), referral_id=referral_id, **data)
    db.session.commit()
    return referral
