"""Notifications to users about referrals: who is told, idempotent creation, reading them.

Messages carry ids, codes and dates only, never victim data: they are shown in lists and may
be mirrored to e-mail later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert

from casework.errors import NotFound
from casework.extensions import db
from casework.models.cases import Case
from casework.models.notifications import Notification, NotificationKind
from casework.models.referrals import Referral, ReferralEvent
from casework.models.users import Role, User

# On the receiving side: those who work the inbox (liaisons) and supervisors (police units
# receiving police-report referrals may have no liaison).
RECIPIENT_ROLES = (Role.LIAISON, Role.SUPERVISOR)


def _active(user_ids: Iterable[int | None]) -> list[int]:
    wanted = {u for u in user_ids if u is not None}
    if not wanted:
        return []
    return sorted(db.session.scalars(select(User.id).where(User.id.in_(wanted), User.is_active.is_(True))))


def sender_user_ids(referral: Referral) -> list[int]:
    """Whoever sent the referral (or drafted it) and the case's assignee."""
    assignee = db.session.scalar(select(Case.assignee_id).where(Case.id == referral.case_id))
    return _active([referral.sent_by_id or referral.created_by_id, assignee])


def recipient_user_ids(referral: Referral) -> list[int]:
    return list(
        db.session.scalars(
            select(User.id)
            .where(
                User.organisation_id == referral.recipient_organisation_id,
                User.is_active.is_(True),
                User.role.in_(RECIPIENT_ROLES),
            )
            .order_by(User.id)
        )
    )


def notify(
    user_ids: Iterable[int],
    kind: NotificationKind,
    referral: Referral,
    message: str,
    *,
    event: ReferralEvent | None = None,
) -> int:
    """Create one notification per user; a (user, kind, referral), or with `event` a (user, event),
    that exists is left alone, so callers may run twice. Returns how many were new."""
    rows = [
        {
            "user_id": user_id,
            "kind": kind,
            "referral_id": referral.id,
            "referral_event_id": event.id if event else None,
            "message": message,
        }
        for user_id in dict.fromkeys(user_ids)
    ]
    if not rows:
        return 0
    if event is None:
        target, where = ["user_id", "kind", "referral_id"], Notification.referral_event_id.is_(None)
    else:
        target, where = ["user_id", "referral_event_id"], Notification.referral_event_id.isnot(None)
    statement = (
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=target, index_where=where)
        .returning(Notification.id)
    )
    return len(db.session.execute(statement).all())


def acted_by(user: User) -> str:
    """'Nur Hafizah (JBG Legal Aid)': a member of staff, never a victim."""
    return f"{user.full_name} ({user.organisation.name})"


def tell_sender(referral: Referral, event: ReferralEvent, kind: NotificationKind, what: str, actor: User) -> int:
    """The sender and the case's assignee hear what the recipient did (one notification per event)."""
    message = f"{describe(referral)} {what} by {acted_by(actor)}."
    return notify(sender_user_ids(referral), kind, referral, message[:300], event=event)


def describe(referral: Referral) -> str:
    return f"Referral {referral.id} ({referral.purpose.value} to {referral.agency_acronym})"


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    page: int
    per_page: int
    total: int
    unread: int


def list_notifications(*, actor: User, filters: dict[str, Any]) -> NotificationPage:
    """The actor's own notifications, newest first. Needs notifications.read (edge)."""
    mine = select(Notification).where(Notification.user_id == actor.id)
    query = mine.where(Notification.read_at.is_(None)) if filters.get("unread") else mine
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    unread = db.session.scalar(select(func.count()).select_from(mine.where(Notification.read_at.is_(None)).subquery()))
    page, per_page = filters["page"], filters["per_page"]
    items = db.session.scalars(
        query.order_by(Notification.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return NotificationPage(list(items), page, per_page, total, unread or 0)


def mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many were unread."""
    # An UPDATE executes to a CursorResult (the one that has rowcount); Session.execute is typed Result.
    marked = cast(
        CursorResult[Any],
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
            .values(read_at=datetime.now(UTC))
        ),
    )
    return marked.rowcount or 0


def mark_read(*, actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (idempotent). NotFound for anyone else's."""
    notification = db.session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == actor.id)
    )
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        notification.read_at = datetime.now(UTC)
        db.session.flush()
    return notification
