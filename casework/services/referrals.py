"""Referrals between organisations: drafting (consent-gated), the status workflow on each side,
takedown items, the police case an NGO case became, inbox/outbox lists and the overdue scan.

Who sees a referral:
- the **sending side**: users whose case scope includes the referred case (the sender's
  organisation keeps the case; an investigator sees the referrals of the cases they may see);
- the **receiving side**: users of the recipient organisation with referral.read, once it is
  sent (never drafts). Liaisons of an agency organisation work it (referral.act); in a police
  unit receiving a police-report referral, supervisors and investigators see it and link the
  police case, and the unit's liaison (if any) acknowledges and completes it.
Anything else is NotFound, exactly like a referral that does not exist. A user's inbox is the
referrals addressed to *their organisation*: the same as "to their agency" when an agency has
one organisation here, and regional desks of one agency do not see each other's referrals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from casework import policies
from casework.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from casework.extensions import db
from casework.models.cases import Case, EvidenceKind, Victim
from casework.models.notifications import NotificationKind
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.reference import Agency, Platform
from casework.models.referrals import (
    OPEN_STATUSES,
    RECIPIENT_TRANSITIONS,
    SENDER_TRANSITIONS,
    TAKEDOWN_ITEM_TRANSITIONS,
    Consent,
    Referral,
    ReferralPurpose,
    ReferralStatus,
    TakedownItem,
    TakedownItemStatus,
)
from casework.models.users import User
from casework.policies import Scope
from casework.referral_purposes import PURPOSES
from casework.services import audit, consents, notifications, reference, sharing
from casework.services.scoping import get_visible_case, scoped, scoped_case_ids

POLICE_AGENCY = "PDRM"
SENDER, RECIPIENT = "sender", "recipient"

_ACTIONS = {
    ReferralStatus.SENT: "sent",
    ReferralStatus.ACKNOWLEDGED: "acknowledged",
    ReferralStatus.IN_PROGRESS: "started",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.DECLINED: "declined",
    ReferralStatus.WITHDRAWN: "withdrawn",
}
_UNFINISHED_ITEMS = {TakedownItemStatus.REQUESTED, TakedownItemStatus.REUPLOADED}
# What the sender (and the case's assignee) hears of the recipient's moves and item updates.
_SENDER_HEARS = {
    ReferralStatus.ACKNOWLEDGED: NotificationKind.REFERRAL_ACKNOWLEDGED,
    ReferralStatus.IN_PROGRESS: NotificationKind.REFERRAL_STARTED,
    ReferralStatus.COMPLETED: NotificationKind.REFERRAL_COMPLETED,
    ReferralStatus.DECLINED: NotificationKind.REFERRAL_DECLINED,
}
_ITEM_NEWS = {
    TakedownItemStatus.REMOVED: (NotificationKind.TAKEDOWN_ITEM_REMOVED, "removed"),
    TakedownItemStatus.REFUSED: (NotificationKind.TAKEDOWN_ITEM_REFUSED, "refused"),
    TakedownItemStatus.REUPLOADED: (NotificationKind.TAKEDOWN_ITEM_REUPLOADED, "found re-uploaded"),
}
# The move to each status as its endpoint names it (POST /referrals/{id}/<move>).
_MOVES = {
    ReferralStatus.SENT: "send",
    ReferralStatus.ACKNOWLEDGED: "acknowledge",
    ReferralStatus.IN_PROGRESS: "start",
    ReferralStatus.COMPLETED: "complete",
    ReferralStatus.DECLINED: "decline",
    ReferralStatus.WITHDRAWN: "withdraw",
}


def _refused_move(
    referral: Referral, to: ReferralStatus, moves: dict[ReferralStatus, frozenset[ReferralStatus]]
) -> InvalidTransition:
    """409 naming the moves this side may make now, and the one that leads to `to` if any."""
    allowed = sorted(moves.get(referral.status, frozenset()), key=list(ReferralStatus).index)
    first = next((_MOVES[s] for s in allowed if to in moves.get(s, frozenset())), None)
    return InvalidTransition("referral", referral.status.value, _MOVES[to], [_MOVES[s] for s in allowed], first=first)


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- scope


def _sent_by_my_side(actor: User) -> ColumnElement[bool]:
    if policies.case_scope(actor) == Scope.NONE:
        return false()
    return Referral.case_id.in_(scoped(actor, select(Case.id)))


def _received_by_my_organisation(actor: User) -> ColumnElement[bool]:
    return (Referral.recipient_organisation_id == actor.organisation_id) & Referral.sent_at.is_not(None)


def visible(actor: User) -> ColumnElement[bool]:
    return or_(_sent_by_my_side(actor), _received_by_my_organisation(actor))


def _mark_sides(actor: User, referrals: Sequence[Referral]) -> None:
    """Tell the output schemas which view each referral gets (sender: everything but the
    shared values; recipient: the shared values of its purpose only)."""
    sees_cases = policies.case_scope(actor) != Scope.NONE
    in_scope = scoped_case_ids(actor, {r.case_id for r in referrals}) if sees_cases else set()
    police_ids = {r.case.police_case_id for r in referrals if r.case.police_case_id}
    police_cases = (
        {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(police_ids)))} if police_ids else {}
    )
    for referral in referrals:
        police_case_id = referral.case.police_case_id
        referral._side = SENDER if referral.case_id in in_scope else RECIPIENT  # type: ignore[attr-defined]
        referral._police_case = police_cases.get(police_case_id) if police_case_id else None  # type: ignore[attr-defined]


# Many-to-one in the same query; the two collections in one query each.
_ONE = (
    joinedload(Referral.case),
    joinedload(Referral.consent),
    joinedload(Referral.sender_organisation),
    joinedload(Referral.recipient_organisation),
)
_DETAIL = (*_ONE, selectinload(Referral.events), selectinload(Referral.takedown_items))


def _find(actor: User, referral_id: int, *, for_update: bool = False) -> Referral:
    """A referral in scope (NotFound otherwise), marked with the actor's side. For update, the
    case row is locked first, then the referral: the order a consent withdrawal takes, so the
    two never deadlock."""
    query = select(Referral).where(Referral.id == referral_id, visible(actor))
    if for_update:
        case_id = db.session.scalar(query.with_only_columns(Referral.case_id))
        if case_id is None:
            raise NotFound()
        db.session.execute(select(Case.id).where(Case.id == case_id).with_for_update(key_share=True))
        query = query.with_for_update(of=Referral)
    referral = db.session.scalar(query.options(*_DETAIL))
    if referral is None:
        raise NotFound()
    _mark_sides(actor, [referral])
    return referral


def _require_side(referral: Referral, actor: User, side: str) -> None:
    if side == SENDER and referral._side != SENDER:  # type: ignore[attr-defined]
        raise PermissionDenied("Only the referring organisation can do this.")
    if side == RECIPIENT and referral.recipient_organisation_id != actor.organisation_id:
        raise PermissionDenied("Only the organisation the referral was sent to can do this.")


# ---------------------------------------------------------------- recipients and consent


def recipient_organisations(agency: str) -> list[Organisation]:
    """Active organisations here that receive referrals for an agency: those linked to it by
    acronym, and for police every police unit."""
    clause = Organisation.agency_acronym == agency
    if agency == POLICE_AGENCY:
        clause = clause | (Organisation.kind == OrganisationKind.POLICE_UNIT)
    query = select(Organisation).where(clause, Organisation.is_active.is_(True)).order_by(Organisation.name)
    return list(db.session.scalars(query))


def _resolve_recipient(agency: str, requested_id: int | None, sender_organisation_id: int) -> Organisation:
    candidates = [o for o in recipient_organisations(agency) if o.id != sender_organisation_id]
    if requested_id is not None:
        match = next((o for o in candidates if o.id == requested_id), None)
        if match is None:
            raise ValidationFailed(
                "Not a recipient for this agency.",
                {"recipient_organisation_id": [f"Not an organisation receiving referrals for {agency}."]},
            )
        return match
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValidationFailed(
            "No organisation here receives referrals for this agency.",
            {"agency": [f"No organisation here receives referrals for {agency} yet."]},
        )
    raise ValidationFailed(
        "Several organisations receive referrals for this agency.",
        {"recipient_organisation_id": [f"Name one of: {', '.join(str(o.id) for o in candidates)}."]},
    )


def _consent_for(
    actor: User, victim_id: int, agency: str, purpose: ReferralPurpose, override_reason: str | None
) -> Consent | None:
    """The current, given consent; or None when the actor overrides (needs its own permission
    and a reason). Conflict, saying why, when there is neither."""
    consent = consents.current_consent(victim_id, agency, purpose)
    if consent is not None and consent.allows_sharing:
        if override_reason:
            raise ValidationFailed(
                "The victim's consent is on record; nothing to override.",
                {"override_consent_reason": ["Leave it out: a current consent covers this referral."]},
            )
        return consent
    if not override_reason:
        raise Conflict(
            consents.describe_missing(consent, agency, purpose),
            {"consent": ["No current consent from the victim for this agency and purpose."]},
        )
    policies.require(actor, "referral.override_consent")
    return None


# ---------------------------------------------------------------- creating


def _takedown_items(case: Case, items: list[dict[str, Any]] | None) -> list[TakedownItem]:
    """Items from the request (evidence ids or addresses), or every posted address of the case."""
    evidence = {e.id: e for e in case.evidence}
    if items is None:
        items = [{"evidence_id": e.id} for e in case.evidence if e.kind == EvidenceKind.POSTED_URL and e.url]
        if not items:
            raise ValidationFailed(
                "Nothing to take down.",
                {"takedown_items": ["The case has no posted addresses; list the addresses to take down."]},
            )
    result: list[TakedownItem] = []
    errors: dict[int, dict[str, list[str]]] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.get("evidence_id") is not None:
            source = evidence.get(item["evidence_id"])
            if source is None or not source.url:
                errors[index] = {"evidence_id": ["Not evidence of this case with an address."]}
                continue
            url, platform, sha256 = source.url, source.platform, source.sha256
        else:
            url, platform, sha256 = item["url"], item.get("platform"), item.get("sha256")
        if url in seen:
            errors[index] = {"url": ["The same address twice."]}
            continue
        seen.add(url)
        result.append(
            TakedownItem(
                evidence_id=item.get("evidence_id"),
                url=url,
                platform=platform,
                sha256=sha256,
                status=TakedownItemStatus.REQUESTED,
            )
        )
    if errors:
        raise ValidationFailed("Some takedown items are not valid.", {"takedown_items": errors})
    reference.require_known("takedown_items", Platform, [i.platform for i in result])
    return result


def create_referral(*, actor: User, case_id: int, data: dict[str, Any]) -> Referral:
    """Draft a referral of one victim's case to an agency for a purpose.

    Needs referral.create (edge) and a current consent of the victim for that agency and
    purpose; without one, Conflict (409) saying why, unless the actor has
    referral.override_consent and gives a reason (audited as an override). ValidationFailed
    (422) for a victim of another case, an agency that does not receive the purpose, or an
    unclear recipient organisation. Audits.
    """
    case = get_visible_case(actor, case_id, for_update=True)
    victim = consents.victim_of(case, data["victim_id"])
    purpose: ReferralPurpose = data["purpose"]
    agency = consents.check_agency_for_purpose(data["agency"], purpose)
    recipient = _resolve_recipient(agency, data.get("recipient_organisation_id"), case.organisation_id)
    override = data.get("override_consent_reason")
    consent = _consent_for(actor, victim.id, agency, purpose, override)
    referral = Referral(
        case=case,
        victim_id=victim.id,
        sender_organisation_id=case.organisation_id,
        agency_acronym=agency,
        recipient_organisation_id=recipient.id,
        purpose=purpose,
        status=ReferralStatus.DRAFT,
        consent=consent,
        consent_override_reason=override if consent is None else None,
        consent_overridden_by_id=actor.id if consent is None else None,
        note=data.get("note"),
        created_by_id=actor.id,
        shared={},
    )
    if purpose == ReferralPurpose.TAKEDOWN:
        referral.takedown_items = _takedown_items(case, data.get("takedown_items"))
    elif data.get("takedown_items"):
        raise ValidationFailed("Only takedown referrals list addresses.", {"takedown_items": ["Only for takedown."]})
    referral.record("created", actor_id=actor.id, note=data.get("note"))
    db.session.add(referral)
    db.session.flush()
    audit.record(
        actor,
        "referral.created",
        referral,
        case_id=case.id,
        victim_id=victim.id,
        purpose=purpose.value,
        agency=agency,
        recipient_organisation_id=recipient.id,
        consent_id=consent.id if consent else None,
    )
    if consent is None:
        existing = consents.current_consent(victim.id, agency, purpose)
        audit.record(
            actor,
            "referral.consent_overridden",
            referral,
            consent_state=existing.state if existing else "none",
            has_reason=True,
        )
    _mark_sides(actor, [referral])
    return referral


# ---------------------------------------------------------------- the workflow


def _send(actor: User, referral: Referral, now: datetime) -> None:
    """Re-check consent at the moment of sharing, snapshot the shared fields, set the deadlines."""
    consent = consents.current_consent(referral.victim_id, referral.agency_acronym, referral.purpose)
    if consent is not None and consent.allows_sharing:
        referral.consent = consent
    elif referral.consent_override_reason:
        referral.consent = None
    else:
        raise Conflict(
            consents.describe_missing(consent, referral.agency_acronym, referral.purpose),
            {"consent": ["No current consent from the victim for this agency and purpose."]},
        )
    if not referral.recipient_organisation.is_active:
        raise Conflict("The receiving organisation is no longer active; draft the referral again.")
    case = referral.case
    victim = db.session.get(Victim, referral.victim_id)
    assert victim is not None  # cascades with the case
    deadline = PURPOSES[referral.purpose].deadline(referral.agency_acronym)
    acknowledge = deadline.acknowledge
    if deadline.critical_acknowledge is not None and case.risk_level == "critical":
        acknowledge = deadline.critical_acknowledge
    referral.sent_at = now
    referral.sent_by_id = actor.id
    referral.due_acknowledge_at = now + acknowledge
    referral.due_complete_at = now + deadline.complete
    for item in referral.takedown_items:
        item.requested_at = now
    referral.shared = sharing.build_snapshot(referral, case, victim, referral.consent, now.date())


def _complete(referral: Referral, outcome: str | None) -> None:
    if not outcome:  # the schema requires it; kept for callers other than the API
        raise ValidationFailed("Completing needs an outcome.", {"outcome": ["Required."]})
    unfinished = [i.id for i in referral.takedown_items if i.status in _UNFINISHED_ITEMS]
    if unfinished:
        raise Conflict(
            "Record the result of every takedown item before completing.",
            {"takedown_items": [f"Still requested or re-uploaded: {', '.join(map(str, unfinished))}."]},
        )
    referral.outcome = outcome


def transition(
    *,
    actor: User,
    referral_id: int,
    to: ReferralStatus,
    note: str | None = None,
    outcome: str | None = None,
    reason: str | None = None,
) -> Referral:
    """Move a referral. The sender sends (consent re-checked, snapshot taken, recipients told)
    and withdraws (needs referral.create, edge); the recipient acknowledges, starts, completes
    (with an outcome) and declines (with a reason) (needs referral.act, edge). PermissionDenied
    for the other side's moves, InvalidTransition (409) for moves the workflow does not allow;
    nothing changes then. Each move is a ReferralEvent and an audit row."""
    referral = _find(actor, referral_id, for_update=True)
    side = SENDER if to in (ReferralStatus.SENT, ReferralStatus.WITHDRAWN) else RECIPIENT
    _require_side(referral, actor, side)
    allowed = (SENDER_TRANSITIONS if side == SENDER else RECIPIENT_TRANSITIONS).get(referral.status, frozenset())
    if to not in allowed:
        raise _refused_move(referral, to, SENDER_TRANSITIONS if side == SENDER else RECIPIENT_TRANSITIONS)
    now, previous = _now(), referral.status
    if to == ReferralStatus.SENT:
        _send(actor, referral, now)
    elif to == ReferralStatus.ACKNOWLEDGED:
        referral.acknowledged_at = now
    elif to == ReferralStatus.IN_PROGRESS:
        referral.started_at = now
    elif to == ReferralStatus.COMPLETED:
        _complete(referral, outcome)
    elif to == ReferralStatus.DECLINED:
        referral.decline_reason = reason
    if to in (ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN):
        referral.closed_at = now
    if to == ReferralStatus.WITHDRAWN and referral.sent_at is not None:
        referral.shared, referral.shared_redacted_at = {}, now  # taken back: no longer shared
    event = referral.record(_ACTIONS[to], actor_id=actor.id, to=to, note=note, at=now)
    db.session.flush()
    if to in _SENDER_HEARS:
        notifications.tell_sender(referral, event, _SENDER_HEARS[to], _ACTIONS[to], actor)
    details: dict[str, Any] = {"previous": previous.value, "new": to.value, "has_note": bool(note)}
    if to == ReferralStatus.SENT:
        details.update(consent_id=referral.consent_id, shared=sharing.shared_field_names(referral))
        due = f"{referral.due_acknowledge_at:%Y-%m-%d %H:%M} UTC"
        message = f"{notifications.describe(referral)} received; acknowledge by {due}."
        notifications.notify(
            notifications.recipient_user_ids(referral), NotificationKind.REFERRAL_RECEIVED, referral, message
        )
    audit.record(actor, f"referral.{_ACTIONS[to]}", referral, **details)
    return referral


def update_takedown_item(
    *,
    actor: User,
    referral_id: int,
    item_id: int,
    status: TakedownItemStatus,
    note: str | None = None,
    occurred_at: datetime | None = None,
) -> Referral:
    """Record what happened to one address (removed, refused, re-uploaded), when. Needs
    referral.act (edge) and the receiving side; the referral must be acknowledged or in
    progress. InvalidTransition (409) for a status the item cannot take next. Audits."""
    referral = _find(actor, referral_id, for_update=True)
    _require_side(referral, actor, RECIPIENT)
    if referral.status not in (ReferralStatus.ACKNOWLEDGED, ReferralStatus.IN_PROGRESS):
        raise Conflict(
            f"Takedown results are recorded on acknowledged or started referrals, not {referral.status.value} ones.",
            details={"current_status": referral.status.value},
        )
    item = next((i for i in referral.takedown_items if i.id == item_id), None)
    if item is None:
        raise NotFound()
    if status not in TAKEDOWN_ITEM_TRANSITIONS[item.status]:
        allowed = sorted(TAKEDOWN_ITEM_TRANSITIONS[item.status], key=list(TakedownItemStatus).index)
        raise InvalidTransition(
            "takedown item", item.status.value, f"become {status.value}", [s.value for s in allowed]
        )
    at = occurred_at or _now()
    if item.requested_at is not None and at < item.requested_at:
        raise ValidationFailed("Before the request.", {"occurred_at": ["Must not be before the referral was sent."]})
    previous = item.status
    item.status, item.status_note = status, note
    if status == TakedownItemStatus.REMOVED:
        item.removed_at = at
        item.first_removed_at = item.first_removed_at or at
    elif status == TakedownItemStatus.REFUSED:
        item.refused_at = at
    elif status == TakedownItemStatus.REUPLOADED:
        item.reuploaded_at = at
    event = referral.record(f"takedown_item_{status.value}", actor_id=actor.id, note=note, takedown_item_id=item.id)
    db.session.flush()
    what = f"- address {item.id} {_ITEM_NEWS[status][1]}"
    notifications.tell_sender(referral, event, _ITEM_NEWS[status][0], what, actor)
    audit.record(
        actor, "referral.takedown_item_updated", referral, item_id=item.id, previous=previous.value, new=status.value
    )
    return referral


def link_police_case(*, actor: User, referral_id: int, police_case_id: int) -> Referral:
    """Link the police case that a police-report referral led to, on the referred case (which
    then counts once, and as reported to police). Needs case.update (edge). Only the receiving
    police unit links, and only a case its linking user can see, from the moment it has the
    referral (opening the case shows it was received): the unit names the case, so the referring
    NGO learns the reference and report number of that case and of no other (PermissionDenied
    for the sender; NotFound for a case outside the user's scope, nothing linked). Conflict if
    the case is already linked to another police case, or the referral is not a police report.
    Audits."""
    referral = _find(actor, referral_id, for_update=True)
    if referral.purpose != ReferralPurpose.POLICE_REPORT:
        raise Conflict("Only police-report referrals link a police case.")
    if referral.recipient_organisation_id != actor.organisation_id:
        raise PermissionDenied("Only the police unit the referral was sent to links its case.")
    if referral.status not in {
        ReferralStatus.SENT,
        ReferralStatus.ACKNOWLEDGED,
        ReferralStatus.IN_PROGRESS,
        ReferralStatus.COMPLETED,
    }:
        raise Conflict(f"A {referral.status.value} referral links no police case.")
    police_case = get_visible_case(actor, police_case_id, detail=False)
    if police_case.organisation_id != referral.recipient_organisation_id:
        raise NotFound()
    case = referral.case
    if case.police_case_id == police_case.id:
        return referral
    if case.police_case_id is not None:
        raise Conflict("This case is already linked to another police case.")
    if police_case.id == case.id or police_case.police_case_id is not None:
        raise ValidationFailed("Not a police case.", {"police_case_id": ["Link the police unit's own case."]})
    case.police_case_id = police_case.id
    case.reported_to_police = True
    case.reported_to_police_on = (
        case.reported_to_police_on or police_case.reported_to_police_on or police_case.received_on
    )
    case.police_report_number = case.police_report_number or police_case.police_report_number
    case.touch()
    referral.record("police_case_linked", actor_id=actor.id)
    db.session.flush()
    audit.record(actor, "case.police_case_linked", case, police_case_id=police_case.id, referral_id=referral.id)
    _mark_sides(actor, [referral])
    return referral


# ---------------------------------------------------------------- reading


def get_referral(*, actor: User, referral_id: int) -> Referral:
    """One referral in scope. The receiving side gets the shared data, and that read is audited
    like any release of victim data. Needs referral.read (edge)."""
    referral = _find(actor, referral_id)
    if referral._side == RECIPIENT and referral.shared:  # type: ignore[attr-defined]
        audit.record(actor, "referral.shared_data_viewed", referral, sections=sorted(referral.shared))
    return referral


@dataclass(frozen=True)
class ReferralPage:
    items: list[Referral]
    page: int
    per_page: int
    total: int


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    late_ack = (Referral.status == ReferralStatus.SENT) & (Referral.due_acknowledge_at < now)
    return Referral.status.in_(OPEN_STATUSES) & or_(late_ack, Referral.due_complete_at < now)


def _filtered(actor: User, filters: dict[str, Any]) -> Select[Any]:
    box = filters.get("box")
    if box == "inbox":
        query = select(Referral).where(_received_by_my_organisation(actor))
    elif box == "outbox":
        query = select(Referral).where(_sent_by_my_side(actor))
    else:
        query = select(Referral).where(visible(actor))
    if "status" in filters:
        query = query.where(Referral.status == filters["status"])
    if "agency" in filters:
        query = query.where(Referral.agency_acronym == filters["agency"].upper())
    if "purpose" in filters:
        query = query.where(Referral.purpose == filters["purpose"])
    if "case_id" in filters:
        query = query.where(Referral.case_id == filters["case_id"])
    if "overdue" in filters:
        clause = overdue_clause(_now())
        query = query.where(clause if filters["overdue"] else ~clause)
    return query


_SUMMARY = (*_ONE, selectinload(Referral.takedown_items))


def list_referrals(*, actor: User, filters: dict[str, Any]) -> ReferralPage:
    """Referrals in scope: inbox (addressed to my organisation), outbox (of cases I may see), or
    both; filtered by status, agency, purpose, case and overdue. Needs referral.read (edge)."""
    query = _filtered(actor, filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page, per_page = filters["page"], filters["per_page"]
    items = list(
        db.session.scalars(
            query.options(*_SUMMARY).order_by(Referral.id.desc()).limit(per_page).offset((page - 1) * per_page)
        )
    )
    _mark_sides(actor, items)
    return ReferralPage(items, page, per_page, total)


def list_case_referrals(*, actor: User, case_id: int) -> list[Referral]:
    """The referrals of one case: all of them for the case's own side; for a receiving
    organisation, those addressed to it (NotFound when there are none: the case stays hidden)."""
    query = select(Referral).where(Referral.case_id == case_id, visible(actor)).options(*_SUMMARY)
    referrals = list(db.session.scalars(query.order_by(Referral.id)))
    if not referrals and not scoped_case_ids(actor, [case_id]):
        raise NotFound()
    _mark_sides(actor, referrals)
    return referrals


def referral_form(*, actor: User, case_id: int) -> dict[str, Any]:
    """What the referral form needs for a case: per victim, current consents and legal aid
    eligibility from the declared means (audited as a use of means data); per purpose, the
    agencies, recipient organisations, deadlines and what is shared. Needs referral.create."""
    case = get_visible_case(actor, case_id)
    today = _now().date()
    current = {
        (c.victim_id, c.agency_acronym, c.purpose): c
        for c in db.session.scalars(
            select(Consent).where(Consent.case_id == case.id, Consent.superseded_at.is_(None)).order_by(Consent.id)
        )
    }
    victims = [
        {
            "victim_id": v.id,
            "pseudonym": v.pseudonym,
            "is_minor": v.is_minor,
            "legal_aid_eligibility": sharing.eligibility(v, today),
            "consents": [c for (victim_id, _, _), c in current.items() if victim_id == v.id],
        }
        for v in case.victims
    ]
    agencies = {a.acronym: a for a in db.session.scalars(select(Agency))}
    purposes = []
    for purpose in PURPOSES.values():
        purposes.append(
            {
                "purpose": purpose.code.value,
                "title": purpose.title,
                "shares": purpose.shared_field_names(with_identity=False),
                "shares_with_identity_consent": purpose.shared_field_names(with_identity=True)
                if purpose.identity_with_consent
                else None,
                "notes": purpose.notes,
                "agencies": [
                    {
                        "acronym": acronym,
                        "name": agencies[acronym].name if acronym in agencies else acronym,
                        "recipient_organisations": [
                            o for o in recipient_organisations(acronym) if o.id != case.organisation_id
                        ],
                        "acknowledge_within_hours": purpose.deadline(acronym).acknowledge.total_seconds() / 3600,
                        "complete_within_days": purpose.deadline(acronym).complete.days,
                        "critical_acknowledge_within_hours": (
                            critical.total_seconds() / 3600
                            if (critical := purpose.deadline(acronym).critical_acknowledge)
                            else None
                        ),
                        "deadline_source": purpose.deadline(acronym).source,
                    }
                    for acronym in purpose.agencies
                ],
            }
        )
    if case.victims:
        audit.record(actor, "victim.means_assessed", case, victim_ids=[v.id for v in case.victims])
    return {"case_id": case.id, "victims": victims, "purposes": purposes}


# ---------------------------------------------------------------- the overdue scan


def mark_overdue(*, now: datetime | None = None) -> dict[str, int]:
    """Mark referrals past their acknowledgement or completion deadline, once each, and notify
    the sender and the recipient. Run by the scheduled job and `flask referrals mark-overdue`;
    safe to run twice or concurrently (marked rows are skipped, locked rows left to the other
    run, notifications are unique). Audits each marking as the system."""
    now = now or _now()
    counts = {"acknowledgement_overdue": 0, "completion_overdue": 0}
    scans = (
        (
            "acknowledgement_overdue",
            Referral.acknowledge_overdue_at,
            (Referral.status == ReferralStatus.SENT) & (Referral.due_acknowledge_at < now),
            NotificationKind.REFERRAL_ACKNOWLEDGEMENT_OVERDUE,
            "acknowledgement",
        ),
        (
            "completion_overdue",
            Referral.complete_overdue_at,
            Referral.status.in_(OPEN_STATUSES) & (Referral.due_complete_at < now),
            NotificationKind.REFERRAL_COMPLETION_OVERDUE,
            "completion",
        ),
    )
    for action, marker, due, kind, what in scans:
        rows = db.session.scalars(
            select(Referral)
            .where(due, marker.is_(None))
            .order_by(Referral.id)
            .with_for_update(skip_locked=True)
            .options(selectinload(Referral.events))
        ).all()
        for referral in rows:
            setattr(referral, marker.key, now)
            referral.record(action, actor_id=None, at=now)
            deadline = referral.due_acknowledge_at if what == "acknowledgement" else referral.due_complete_at
            message = f"{notifications.describe(referral)} is overdue for {what} (due {deadline:%Y-%m-%d %H:%M} UTC)."
            users = notifications.sender_user_ids(referral) + notifications.recipient_user_ids(referral)
            notifications.notify(users, kind, referral, message)
            audit.record(None, f"referral.{action}", referral, due=deadline.isoformat() if deadline else None)
            counts[action] += 1
    db.session.flush()
    return counts
