"""Minimum necessary sharing: the snapshot a referral's purpose allows, taken when it is sent,
and erasing it when the victim withdraws consent."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from casework import legal_aid
from casework.extensions import db
from casework.models.cases import Case, Victim
from casework.models.identifiers import IdentifierRole
from casework.models.notifications import NotificationKind
from casework.models.referrals import Consent, Referral, ReferralStatus
from casework.models.users import User
from casework.referral_purposes import (
    CASE_SUMMARY,
    EVIDENCE,
    EVIDENCE_DESCRIBED,
    IDENTIFIERS,
    LEGAL_AID_ELIGIBILITY,
    OFFENCES,
    PLATFORMS,
    PURPOSES,
    RISK,
    TAKEDOWN_IDENTIFIERS,
    TAKEDOWN_ITEMS,
)
from casework.services import audit, notifications

# Perpetrator accounts and places of posting: what a takedown needs (not where money went).
_TAKEDOWN_ROLES = {IdentifierRole.CONTACT, IdentifierRole.POSTING_LOCATION, IdentifierRole.IMPERSONATION_PROFILE}


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO strings, money as strings, enums as values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _case_summary(case: Case) -> dict[str, Any]:
    names = (
        "received_on",
        "incident_started_on",
        "incident_ended_on",
        "intake_channel",
        "abuse_types",
        "contact_platform",
        "moved_to_platforms",
        "material_released",
        "reported_to_police",
        "reported_to_police_on",
        "police_report_number",
        "risk_level",
        "has_minor_victim",
    )
    summary = {name: _plain(getattr(case, name)) for name in names}
    demands = ("money", "amount", "currency", "images", "acts")
    summary["demands"] = {n: _plain(getattr(case, f"demand_{n}")) for n in demands}
    summary["payments"] = {n: _plain(getattr(case, f"payments_{n}")) for n in ("count", "total", "currency")}
    return summary


def _offences(case: Case, victim: Victim) -> list[dict[str, Any]]:
    return [
        {"code": o.offence_code.code, "title": o.offence_code.title, "status": o.status.value, "attempted": o.attempted}
        for o in case.offences
        if any(v.id == victim.id for v in o.victims)
    ]


def _identifiers(case: Case, roles: set[IdentifierRole] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "kind": ci.identifier.kind.value,
            "qualifier": ci.identifier.qualifier,
            "value": ci.identifier.value,
            "role": ci.role.value,
        }
        for ci in case.identifiers
        if roles is None or ci.role in roles
    ]


def _evidence(case: Case, *, described: bool) -> list[dict[str, Any]]:
    items = []
    for e in case.evidence:
        item = {
            "kind": e.kind.value,
            "url": e.url,
            "platform": e.platform,
            "sha256": e.sha256,
            "captured_at": _plain(e.captured_at),
        }
        if described:
            item["description"] = e.description
        items.append(item)
    return items


def _platforms(case: Case, referral: Referral) -> list[str]:
    found = [case.contact_platform, *case.moved_to_platforms, *(i.platform for i in referral.takedown_items)]
    return sorted({p for p in found if p})


def eligibility(victim: Victim, on: date) -> list[dict[str, Any]]:
    return [
        {
            "scheme": a.scheme,
            "aid": a.aid,
            "qualifies": a.qualifies,
            "basis": a.basis,
            "max_income": _plain(a.max_income),
            "effective_from": _plain(a.effective_from),
            "source": a.source,
        }
        for a in legal_aid.assess(victim.declared_annual_income, on)
    ]


def build_snapshot(referral: Referral, case: Case, victim: Victim, consent: Consent | None, on: date) -> dict[str, Any]:
    """Exactly the fields the referral's purpose shares, as plain JSON values."""
    purpose = PURPOSES[referral.purpose]
    with_identity = bool(consent and consent.includes_identity)
    victim_fields = list(purpose.victim_fields) + (list(purpose.identity_with_consent) if with_identity else [])
    snapshot: dict[str, Any] = {
        "victim": {name: _plain(getattr(victim, name)) for name in dict.fromkeys(victim_fields)}
    }
    for section in purpose.sections:
        if section == CASE_SUMMARY:
            snapshot["case_summary"] = _case_summary(case)
        elif section == OFFENCES:
            snapshot["offences"] = _offences(case, victim)
        elif section == IDENTIFIERS:
            snapshot["identifiers"] = _identifiers(case)
        elif section == TAKEDOWN_IDENTIFIERS:
            snapshot["identifiers"] = _identifiers(case, _TAKEDOWN_ROLES)
        elif section in (EVIDENCE, EVIDENCE_DESCRIBED):
            snapshot["evidence"] = _evidence(case, described=section == EVIDENCE_DESCRIBED)
        elif section == PLATFORMS:
            snapshot["platforms"] = _platforms(case, referral)
        elif section == RISK:
            snapshot["risk"] = {"risk_level": case.risk_level, "has_minor_victim": case.has_minor_victim}
        elif section == LEGAL_AID_ELIGIBILITY:
            snapshot["legal_aid_eligibility"] = eligibility(victim, on)
        elif section == TAKEDOWN_ITEMS:
            pass  # kept as TakedownItem rows, each with its own status
        else:  # pragma: no cover - a purpose naming a section nobody builds is a programming error
            raise KeyError(section)
    return snapshot


def shared_field_names(referral: Referral) -> list[str]:
    """What this referral shares (or shared), by name: for the sender and the audit trail."""
    with_identity = bool(referral.consent and referral.consent.includes_identity)
    return PURPOSES[referral.purpose].shared_field_names(with_identity=with_identity)


def stop_sharing(*, actor: User, consent: Consent, now: datetime) -> list[Referral]:
    """After a withdrawal: drafts relying on the consent are withdrawn; referrals already sent
    lose their shared data (the recipient sees 'consent withdrawn') and their recipients are
    told. Audits each referral. Returns the referrals affected."""
    referrals = list(
        db.session.scalars(
            select(Referral).where(Referral.consent_id == consent.id).order_by(Referral.id).with_for_update()
        )
    )
    for referral in referrals:
        if referral.status == ReferralStatus.DRAFT:
            referral.closed_at = now
            referral.record("withdrawn", actor_id=actor.id, to=ReferralStatus.WITHDRAWN, note="Consent withdrawn.")
            audit.record(actor, "referral.withdrawn", referral, previous="draft", reason="consent_withdrawn")
            continue
        referral.shared = {}
        referral.shared_redacted_at = now
        referral.record("consent_withdrawn", actor_id=actor.id)
        audit.record(actor, "referral.consent_withdrawn", referral, consent_id=consent.id)
        notifications.notify(
            notifications.recipient_user_ids(referral),
            NotificationKind.CONSENT_WITHDRAWN,
            referral,
            f"{notifications.describe(referral)}: the victim withdrew consent; its shared data is no longer available.",
        )
    db.session.flush()
    return referrals
