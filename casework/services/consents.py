"""Victims' consents to share with an agency for a purpose: recording, withdrawing, finding the
current one. A withdrawal stops further sharing at once (casework.services.sharing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from casework.errors import Conflict, NotFound, ValidationFailed
from casework.extensions import db
from casework.models.cases import Case, Victim
from casework.models.reference import Agency
from casework.models.referrals import Consent, ConsentDecision, ReferralPurpose
from casework.models.users import User
from casework.referral_purposes import PURPOSES
from casework.services import audit, sharing
from casework.services.scoping import get_visible_case


def victim_of(case: Case, victim_id: int, field: str = "victim_id") -> Victim:
    """A victim of this case, else 422 naming the field (ids of other cases are not revealed)."""
    victim = next((v for v in case.victims if v.id == victim_id), None)
    if victim is None:
        raise ValidationFailed("No such victim in this case.", {field: ["Not a victim of this case."]})
    return victim


def check_agency_for_purpose(acronym: str, purpose: ReferralPurpose, field: str = "agency") -> str:
    """The agency acronym if it exists and receives this purpose, else 422 saying which do."""
    acronym = acronym.strip().upper()
    if db.session.get(Agency, acronym) is None:
        raise ValidationFailed("Unknown agency.", {field: [f"Unknown agency {acronym!r}."]})
    allowed = PURPOSES[purpose].agencies
    if acronym not in allowed:
        raise ValidationFailed(
            "This agency does not receive referrals for this purpose.",
            {field: [f"{acronym} does not receive {purpose.value} referrals; choose one of {', '.join(allowed)}."]},
        )
    return acronym


def current_consent(victim_id: int, agency: str, purpose: ReferralPurpose, *, lock: bool = False) -> Consent | None:
    """The current (not superseded) decision for this victim, agency and purpose, if any."""
    query = select(Consent).where(
        Consent.victim_id == victim_id,
        Consent.agency_acronym == agency,
        Consent.purpose == purpose,
        Consent.superseded_at.is_(None),
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def describe_missing(consent: Consent | None, agency: str, purpose: ReferralPurpose) -> str:
    """Why there is no consent to share, in words for the caseworker (no victim data)."""
    what = f"to share with {agency} for {purpose.value}"
    if consent is None:
        return f"The victim has not given consent {what}. Record the victim's consent first."
    if consent.decision == ConsentDecision.REFUSED:
        return f"The victim refused consent {what} (recorded {consent.recorded_at:%Y-%m-%d})."
    return f"The victim withdrew consent {what} on {consent.withdrawn_at:%Y-%m-%d}."


def list_consents(*, actor: User, case_id: int) -> Sequence[Consent]:
    """Every consent decision recorded for the case's victims, history included. Needs case.read."""
    case = get_visible_case(actor, case_id, detail=False)
    return db.session.scalars(select(Consent).where(Consent.case_id == case.id).order_by(Consent.id)).all()


def record_consent(*, actor: User, case_id: int, data: dict[str, Any]) -> Consent:
    """Record a victim's decision (given or refused) for an agency and purpose; it supersedes the
    previous decision for the same three. Needs consent.manage (edge). Audits (ids and codes only).
    ValidationFailed for a victim of another case, an unknown agency or one that does not
    receive the purpose, or includes_identity where the purpose has no identity option."""
    case = get_visible_case(actor, case_id, for_update=True)
    victim = victim_of(case, data["victim_id"])
    purpose: ReferralPurpose = data["purpose"]
    agency = check_agency_for_purpose(data["agency"], purpose)
    if data["includes_identity"]:
        if not PURPOSES[purpose].identity_with_consent:
            raise ValidationFailed(
                "Identity is part of this purpose already.",
                {"includes_identity": [f"Only for purposes that share no identity by default, not {purpose.value}."]},
            )
        if data["decision"] != ConsentDecision.GIVEN:
            raise ValidationFailed("A refusal names no one.", {"includes_identity": ["Only with a given consent."]})
    now = datetime.now(UTC)
    previous = current_consent(victim.id, agency, purpose, lock=True)
    if previous is not None:
        previous.superseded_at = now
        db.session.flush()  # before the insert: one current row per victim, agency and purpose
    consent = Consent(
        case_id=case.id,
        victim_id=victim.id,
        agency_acronym=agency,
        purpose=purpose,
        decision=data["decision"],
        method=data["method"],
        includes_identity=data["includes_identity"],
        obtained_at=data.get("obtained_at") or now,
        recorded_by_id=actor.id,
        note=data.get("note"),
    )
    db.session.add(consent)
    db.session.flush()
    audit.record(
        actor,
        "consent.recorded",
        case,
        consent_id=consent.id,
        victim_id=victim.id,
        agency=agency,
        purpose=purpose.value,
        decision=consent.decision.value,
        method=consent.method.value,
        includes_identity=consent.includes_identity,
        supersedes=previous.id if previous else None,
    )
    return consent


def withdraw_consent(*, actor: User, case_id: int, consent_id: int, data: dict[str, Any]) -> Consent:
    """Withdraw a current, given consent. Stops further sharing: drafts relying on it are
    withdrawn, sent referrals lose their shared data and the recipients are told. Needs
    consent.manage (edge). Audits. Conflict when there is nothing to withdraw."""
    case = get_visible_case(actor, case_id, for_update=True, detail=False)
    consent = db.session.scalar(
        select(Consent).where(Consent.id == consent_id, Consent.case_id == case.id).with_for_update()
    )
    if consent is None:
        raise NotFound()
    if not consent.allows_sharing:
        raise Conflict(f"Only a current, given consent can be withdrawn; this one is {consent.state}.")
    now = datetime.now(UTC)
    consent.withdrawn_at = now
    consent.withdrawn_by_id = actor.id
    consent.withdrawal_method = data["method"]
    consent.withdrawal_note = data.get("note")
    db.session.flush()
    affected = sharing.stop_sharing(actor=actor, consent=consent, now=now)
    audit.record(
        actor,
        "consent.withdrawn",
        case,
        consent_id=consent.id,
        victim_id=consent.victim_id,
        agency=consent.agency_acronym,
        purpose=consent.purpose.value,
        referral_ids=[r.id for r in affected],
    )
    return consent
