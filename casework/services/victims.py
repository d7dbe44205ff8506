"""Victims: adding them, the keyed hashes that match a person across organisations, and
releasing their identity to the roles allowed to see it (every release audited)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from casework import policies
from casework.errors import PermissionDenied
from casework.extensions import db
from casework.identifiers import normalise_phone
from casework.models.cases import Case, Victim
from casework.models.users import User
from casework.services import audit
from casework.services.bulk_insert import insert_persistent

IDENTITY_FIELDS = ("full_name", "national_id", "date_of_birth", "phone", "email", "safe_contact_instructions")


def identity_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised identity value (kind: national_id or phone), hex."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed_hash(kind: str, value: str) -> str:
    """The identity hash under the server's key: equal inputs match, nothing is revealed."""
    return identity_hash(current_app.config["IDENTITY_HASH_KEY"].encode(), kind, value)


def normalise_national_id(raw: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", raw.upper())


def age_on(date_of_birth: date, on: date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def new_victim(case: Case, data: dict[str, Any], position: int) -> Victim:
    """A victim of the case from validated input, with derived age, minor flag and matching
    hashes; not yet in the case's collection nor in the session."""
    victim = Victim(
        pseudonym=data.get("pseudonym") or f"Victim {position}",
        gender=data["gender"],
        age_years=data.get("age_years"),
        declared_annual_income=data.get("declared_annual_income"),
        **{name: data.get(name) for name in IDENTITY_FIELDS},
    )
    refresh_derived(victim, case)
    return victim


def build_victim(case: Case, data: dict[str, Any], position: int) -> Victim:
    """new_victim(), in the case's collection (saved by the next flush)."""
    victim = new_victim(case, data, position)
    case.victims.append(victim)  # through the collection, so the save cascade reaches it
    return victim


def insert_new_victims(case: Case, new: list[Victim]) -> None:
    """Store the victims of a case just created (flushed), in one statement; they become the
    case's victims."""
    for victim in new:
        victim.case_id = case.id
    insert_persistent(new)
    set_committed_value(case, "victims", new)


def refresh_derived(victim: Victim, case: Case) -> None:
    """Recompute age, minor flag and hashes after identity or case dates change."""
    reference_day = case.incident_started_on or case.received_on
    if victim.date_of_birth is not None and reference_day is not None:
        victim.age_years = max(0, age_on(victim.date_of_birth, reference_day))
    victim.is_minor = victim.age_years is not None and victim.age_years < 18
    victim.national_id_hash = (
        keyed_hash("national_id", normalise_national_id(victim.national_id)) if victim.national_id else None
    )
    victim.phone_hash = keyed_hash("phone", normalise_phone(victim.phone)) if victim.phone else None


def add_victim(*, actor: User, case: Case, data: dict[str, Any]) -> Victim:
    """Add a victim to a case in scope. Needs case.update (checked at the edge). Audits."""
    victim = build_victim(case, data, len(case.victims) + 1)
    case.has_minor_victim = any(v.is_minor for v in case.victims)
    case.touch()
    db.session.flush()
    audit.record(actor, "victim.added", case, victim_id=victim.id)
    return victim


def release_identity(*, actor: User, case: Case, victims: Iterable[Victim]) -> None:
    """Mark victims' identity for output and audit the access; PermissionDenied if not allowed."""
    if not policies.sees_victim_identity(actor):
        raise PermissionDenied("Your role does not give access to victims' identity.")
    released = []
    for victim in victims:
        victim._identity_released = True  # type: ignore[attr-defined]  # read by VictimSchema
        released.append(victim.id)
    if released:
        audit.record(actor, "victim.identity_viewed", case, victim_ids=released)
