"""A small world for referral tests: an NGO, two agencies (MCMC, Legal Aid), a police unit, their
users, and helpers that drive the HTTP API to open a case, record consent and refer."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from casework.models.organisations import OrganisationKind
from casework.models.users import Role, User
from tests.helpers import ApiClient, Factory

VICTIM = {
    "key": "a",
    "full_name": "Nur Aisyah binti Ahmad",
    "national_id": "990101-14-5678",
    "phone": "012-998 7766",
    "email": "aisyah@example.test",
    "safe_contact_instructions": "WhatsApp only after 9pm",
    "gender": "female",
    "date_of_birth": "1999-01-01",
    "declared_annual_income": "42000.00",
}
# Values that must never reach a recipient who is not entitled to them.
IDENTITY_VALUES = ("Aisyah", "990101", "998 7766", "aisyah@", "9pm", "42000")
POSTED = [f"https://t.me/GroupOf30k/{n}" for n in (101, 102, 103)]


def case_body(**extra: Any) -> dict[str, Any]:
    return {
        "intake_channel": "ngo_intake",
        "received_on": "2026-06-01",
        "contact_platform": "telegram",
        "abuse_types": ["non_consensual_distribution"],
        "material_released": True,
        "victims": [VICTIM],
        "offences": [{"code": "PC 292"}, {"code": "CMA 233(1)"}],
        "identifiers": [
            {"kind": "chat_group", "value": "https://t.me/GroupOf30k", "role": "posting_location"},
            {"kind": "bank_account", "value": "5621 0000 1234", "qualifier": "CIMB", "role": "payment_destination"},
        ],
        "evidence": [
            {"kind": "posted_url", "url": url, "platform": "telegram", "sha256": f"{n:x}" * 64, "description": "photos"}
            for n, url in enumerate(POSTED, start=10)
        ],
        **extra,
    }


class World:
    def __init__(self, factory: Factory, make_client: Any) -> None:
        self.factory, self.make_client = factory, make_client
        self.ngo = factory.organisation(OrganisationKind.NGO, code="SIS", name="Sisters NGO")
        self.mcmc = factory.organisation(OrganisationKind.AGENCY, code="MCMCD", agency_acronym="MCMC")
        self.jbg = factory.organisation(OrganisationKind.AGENCY, code="JBGD", agency_acronym="JBG")
        self.police = factory.organisation(OrganisationKind.POLICE_UNIT, code="D11")
        self.users: dict[str, User] = {}

    ROLES = {
        "caseworker": (Role.CASEWORKER, "ngo"),
        "ngo_supervisor": (Role.SUPERVISOR, "ngo"),
        "mcmc": (Role.LIAISON, "mcmc"),
        "jbg": (Role.LIAISON, "jbg"),
        "police_liaison": (Role.LIAISON, "police"),
        "police_supervisor": (Role.SUPERVISOR, "police"),
    }

    def user(self, name: str) -> User:
        """Created on first use (notifications reach only users that exist when they are sent)."""
        if name not in self.users:
            role, organisation = self.ROLES[name]
            self.users[name] = self.factory.user(role, getattr(self, organisation))
        return self.users[name]

    def client(self, name: str) -> ApiClient:
        return self.make_client().as_user(self.user(name))

    @cached_property
    def caseworker(self) -> ApiClient:
        return self.client("caseworker")

    @cached_property
    def ngo_supervisor(self) -> ApiClient:
        return self.client("ngo_supervisor")

    @cached_property
    def mcmc_liaison(self) -> ApiClient:
        return self.client("mcmc")

    @cached_property
    def jbg_liaison(self) -> ApiClient:
        return self.client("jbg")

    @cached_property
    def police_liaison(self) -> ApiClient:
        return self.client("police_liaison")

    @cached_property
    def police_supervisor(self) -> ApiClient:
        return self.client("police_supervisor")

    # ------------------------------------------------------------ API steps

    def open_case(self, client: ApiClient | None = None, **extra: Any) -> dict[str, Any]:
        response = (client or self.caseworker).post("/api/v1/cases", json=case_body(**extra))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def consent(
        self, case: dict[str, Any], agency: str, purpose: str, *, client: ApiClient | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "victim_id": case["victims"][0]["id"],
            "agency": agency,
            "purpose": purpose,
            "decision": "given",
            "method": "written",
            **extra,
        }
        response = (client or self.caseworker).post(f"/api/v1/cases/{case['id']}/consents", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def draft(  # type: ignore[no-untyped-def]
        self,
        case: dict[str, Any],
        agency: str,
        purpose: str,
        *,
        client: ApiClient | None = None,
        overrides: dict[str, Any] | None = None,
        **extra: Any,
    ):
        body = {"victim_id": case["victims"][0]["id"], "agency": agency, "purpose": purpose, **extra}
        body.update(overrides or {})
        return (client or self.caseworker).post(f"/api/v1/cases/{case['id']}/referrals", json=body)

    def refer(
        self, case: dict[str, Any], agency: str, purpose: str, *, consent: bool = True, **extra: Any
    ) -> dict[str, Any]:
        """Consent (unless told not to), draft and send; returns the sent referral."""
        if consent:
            self.consent(case, agency, purpose)
        drafted = self.draft(case, agency, purpose, **extra)
        assert drafted.status_code == 201, drafted.get_json()
        sent = self.caseworker.post(f"/api/v1/referrals/{drafted.get_json()['id']}/send", json={})
        assert sent.status_code == 200, sent.get_json()
        return sent.get_json()
