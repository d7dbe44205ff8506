"""Referral purposes as data: every agency is seeded and has deadlines; each purpose's recipient
schema returns exactly the fields the purpose declares, no more."""

from __future__ import annotations

import json

import pytest

from casework.models.referrals import ReferralPurpose
from casework.referral_purposes import PURPOSES, TAKEDOWN_IDENTIFIERS, TAKEDOWN_ITEMS
from casework.schemas.referrals import SHARE_SCHEMAS
from casework.services.reference import SEED_DIR

SEEDED = {a["acronym"] for a in json.loads((SEED_DIR / "agencies.json").read_text())}
# Snapshot key of each section (takedown items are rows, not part of the snapshot).
SECTION_KEYS = {TAKEDOWN_IDENTIFIERS: "identifiers", "evidence_described": "evidence"}


def test_every_purpose_is_defined():
    assert set(PURPOSES) == set(ReferralPurpose) and set(SHARE_SCHEMAS) == set(ReferralPurpose)


@pytest.mark.parametrize("purpose", list(PURPOSES.values()), ids=lambda p: p.code.value)
def test_agencies_are_seeded_and_have_deadlines(purpose):
    assert set(purpose.agencies) <= SEEDED
    assert set(purpose.deadlines) == set(purpose.agencies)
    for deadline in purpose.deadlines.values():
        assert deadline.acknowledge < deadline.complete and deadline.source


@pytest.mark.parametrize("purpose", list(PURPOSES.values()), ids=lambda p: p.code.value)
def test_recipient_schema_has_exactly_the_declared_fields(purpose):
    schema = SHARE_SCHEMAS[purpose.code]
    sections = {SECTION_KEYS.get(s, s) for s in purpose.sections if s != TAKEDOWN_ITEMS}
    assert set(schema.fields) == {"victim"} | sections
    victim_schema = schema.fields["victim"].schema
    assert set(victim_schema.fields) == set(purpose.victim_fields) | set(purpose.identity_with_consent)


def test_takedown_shares_no_identity_unless_consented_and_counselling_only_safe_contact():
    takedown = PURPOSES[ReferralPurpose.TAKEDOWN]
    assert takedown.victim_fields == ("is_minor",)
    assert "victim.full_name" in takedown.shared_field_names(with_identity=True)
    assert "victim.full_name" not in takedown.shared_field_names(with_identity=False)
    counselling = PURPOSES[ReferralPurpose.COUNSELLING]
    assert set(counselling.victim_fields) == {"pseudonym", "phone", "safe_contact_instructions"}
    assert counselling.sections == ()


def test_cyber999_acknowledges_critical_cases_within_a_day():
    deadline = PURPOSES[ReferralPurpose.INCIDENT_HELP].deadline("CYBER999")
    assert deadline.critical_acknowledge is not None and deadline.critical_acknowledge.days == 1
    assert deadline.acknowledge.days == 3
