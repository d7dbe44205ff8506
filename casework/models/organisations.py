"""Organisations: police units, NGOs and agencies that own cases or receive referrals."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import Model
from casework.models.base import TimestampMixin


class OrganisationKind(enum.StrEnum):
    POLICE_UNIT = "police_unit"
    NGO = "ngo"
    AGENCY = "agency"


class Organisation(TimestampMixin, Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, name="organisation_kind", values_callable=lambda e: [m.value for m in e])
    )
    # Short code used in case references, e.g. "D11" -> D11-2026-000123.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # For agencies: the acronym of the seeded agency this organisation is (e.g. "MCMC").
    agency_acronym: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"
