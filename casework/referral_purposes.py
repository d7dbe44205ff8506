"""Referral purposes as data: who may receive each, what it shares, and its deadlines.

Minimum necessary sharing: a purpose names the victim fields and case sections the recipient
needs, nothing more. casework.services.sharing builds the snapshot from these lists and the
per-purpose schemas in casework.schemas.referrals dump only these fields.

Deadlines cite the agencies' sources (seed/data/agencies.json, seed/data/SOURCES.md) where they
give a figure; the others are our choice, to be confirmed with each agency (marked "choice").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from casework.models.referrals import ReferralPurpose

# Victim fields, in groups.
VICTIM_IDENTITY = ("full_name", "national_id", "date_of_birth")
VICTIM_CONTACT = ("phone", "email", "safe_contact_instructions")
VICTIM_SAFE_CONTACT = ("pseudonym", "phone", "safe_contact_instructions")
VICTIM_PROFILE = ("pseudonym", "gender", "age_years", "is_minor")
VICTIM_MEANS = ("declared_annual_income",)

# Case sections (see casework.services.sharing for the fields of each).
CASE_SUMMARY = "case_summary"  # dates, abuse types, platforms, demands, payments, police report, risk level
OFFENCES = "offences"  # the sections committed against this victim
IDENTIFIERS = "identifiers"  # every perpetrator identifier
TAKEDOWN_IDENTIFIERS = "takedown_identifiers"  # perpetrator accounts and posting places only
EVIDENCE = "evidence"  # kind, address, platform, SHA-256, capture time (no descriptions)
EVIDENCE_DESCRIBED = "evidence_described"  # the same with descriptions (for police)
PLATFORMS = "platforms"  # platforms involved
RISK = "risk"  # risk level and minor flag only
LEGAL_AID_ELIGIBILITY = "legal_aid_eligibility"  # schemes the declared means qualify for
TAKEDOWN_ITEMS = "takedown_items"  # one row per address, kept as TakedownItem rows


@dataclass(frozen=True)
class Deadline:
    acknowledge: timedelta
    complete: timedelta
    source: str
    # Faster acknowledgement when the case's risk level is critical (e.g. Cyber999 < 24 h).
    critical_acknowledge: timedelta | None = None


@dataclass(frozen=True)
class Purpose:
    code: ReferralPurpose
    title: str
    agencies: tuple[str, ...]
    victim_fields: tuple[str, ...]
    sections: tuple[str, ...]
    deadlines: dict[str, Deadline]  # per agency acronym
    # Victim fields added only when the consent says the victim agreed to be named.
    identity_with_consent: tuple[str, ...] = ()
    notes: str = ""

    def deadline(self, agency: str) -> Deadline:
        return self.deadlines[agency]

    def shared_field_names(self, *, with_identity: bool) -> list[str]:
        """What the recipient receives, as names (shown to the sender and on the form)."""
        victim = list(self.victim_fields) + (list(self.identity_with_consent) if with_identity else [])
        return [f"victim.{name}" for name in dict.fromkeys(victim)] + list(self.sections)


DAY = timedelta(days=1)
_CHOICE = "choice (no published figure; confirm with the agency)"

PURPOSES: dict[ReferralPurpose, Purpose] = {
    p.code: p
    for p in (
        Purpose(
            code=ReferralPurpose.TAKEDOWN,
            title="Takedown of posted material",
            agencies=("MCMC", "TAKEITDOWN", "STOPNCII"),
            victim_fields=("is_minor",),  # the minor flag decides child-abuse-material handling
            identity_with_consent=("full_name", "phone", "email"),
            sections=(PLATFORMS, TAKEDOWN_IDENTIFIERS, TAKEDOWN_ITEMS),
            deadlines={
                "MCMC": Deadline(DAY, 7 * DAY, _CHOICE),
                "TAKEITDOWN": Deadline(DAY, 7 * DAY, _CHOICE),
                "STOPNCII": Deadline(DAY, 7 * DAY, _CHOICE),
            },
            notes="The URLs, platforms, perpetrator identifiers and evidence hashes; no victim identity "
            "unless the consent includes it.",
        ),
        Purpose(
            code=ReferralPurpose.LEGAL_AID,
            title="Free legal aid",
            agencies=("JBG", "YBGK"),
            victim_fields=VICTIM_IDENTITY + VICTIM_CONTACT + ("gender", "age_years", "is_minor") + VICTIM_MEANS,
            sections=(CASE_SUMMARY, OFFENCES, LEGAL_AID_ELIGIBILITY),
            deadlines={
                "JBG": Deadline(3 * DAY, 30 * DAY, _CHOICE),
                "YBGK": Deadline(3 * DAY, 30 * DAY, _CHOICE),
            },
            notes="The victim's identity, contact and declared means, and a case summary.",
        ),
        Purpose(
            code=ReferralPurpose.COUNSELLING,
            title="Counselling, shelter and case support",
            agencies=("WAO",),
            victim_fields=VICTIM_SAFE_CONTACT,
            sections=(),
            deadlines={"WAO": Deadline(DAY, 14 * DAY, _CHOICE + "; WAO's TINA line answers 24 h (B3 75)")},
            notes="Safe contact only: pseudonym, phone and how to reach the victim safely.",
        ),
        Purpose(
            code=ReferralPurpose.INCIDENT_HELP,
            title="Cyber incident help",
            agencies=("CYBER999",),
            victim_fields=("pseudonym", "phone", "email", "safe_contact_instructions"),
            sections=(PLATFORMS, IDENTIFIERS, EVIDENCE),
            deadlines={
                "CYBER999": Deadline(
                    3 * DAY,
                    14 * DAY,
                    "acknowledge < 3 days, < 24 h when critical (B3 73); completion: " + _CHOICE,
                    critical_acknowledge=DAY,
                )
            },
            notes="Contact, identifiers, platforms and evidence metadata; no identity documents.",
        ),
        Purpose(
            code=ReferralPurpose.POLICE_REPORT,
            title="Report to police",
            agencies=("PDRM",),
            victim_fields=VICTIM_IDENTITY + VICTIM_CONTACT + ("gender", "age_years", "is_minor"),
            sections=(CASE_SUMMARY, OFFENCES, IDENTIFIERS, EVIDENCE_DESCRIBED),
            deadlines={"PDRM": Deadline(DAY, 14 * DAY, _CHOICE)},
            notes="Everything police need to open a case; the police case is then linked to this one.",
        ),
        Purpose(
            code=ReferralPurpose.HELPLINE,
            title="Welfare or emotional-support helpline",
            agencies=("TALIANKASIH", "BEFRIENDERS"),
            victim_fields=VICTIM_SAFE_CONTACT + ("is_minor",),
            sections=(RISK,),
            deadlines={
                "TALIANKASIH": Deadline(DAY, 14 * DAY, "same-day referral to welfare, feedback within 14 days (B3 76)"),
                "BEFRIENDERS": Deadline(DAY, 7 * DAY, _CHOICE),
            },
            notes="Safe contact, the risk level and whether the victim is a minor.",
        ),
    )
}
