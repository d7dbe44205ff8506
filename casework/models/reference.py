"""Reference data: offence codes, states, platforms, abuse types and agencies (from seed/)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import Model


class OffenceCode(Model):
    """One statute section. Definition sections (PC 383, 503) take their seriousness from the
    section that punishes them (384, 506): investigators record the one they use."""

    __tablename__ = "offence_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. "PC 376(1)"
    statute: Mapped[str] = mapped_column(String(120))  # e.g. "Penal Code (Act 574)"
    statute_code: Mapped[str] = mapped_column(String(8))  # PC, CMA, SOAC
    section: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    max_punishment: Mapped[str] = mapped_column(Text)
    max_years: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # death or life = 99
    min_years: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    whipping_mandatory: Mapped[bool] = mapped_column(default=False)
    # Higher is more serious; dense rank over the punishing section's maximum, minimum, whipping.
    severity_rank: Mapped[int]
    punished_under_id: Mapped[int | None] = mapped_column(ForeignKey("offence_codes.id"))
    is_definition: Mapped[bool] = mapped_column(default=False)
    is_addon: Mapped[bool] = mapped_column(default=False)  # adds to a base offence (PC 507, SOAC 16)
    is_confirmed: Mapped[bool] = mapped_column(default=True)  # False: UNCONFIRMED in the sources
    note: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[str | None] = mapped_column(String(200))

    punished_under: Mapped[OffenceCode | None] = relationship(remote_side=[id])


class State(Model):
    __tablename__ = "states"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # ISO 3166-2:MY, e.g. MY-14
    name: Mapped[str] = mapped_column(String(80))
    is_federal_territory: Mapped[bool] = mapped_column(default=False)


class Platform(Model):
    __tablename__ = "platforms"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class AbuseType(Model):
    __tablename__ = "abuse_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)


class Agency(Model):
    """An agency or service victims are referred to (seed data; re-verified before go-live)."""

    __tablename__ = "agencies"

    acronym: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))  # regulator, cert, legal_aid, ngo, helpline, ...
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    hours: Mapped[str | None] = mapped_column(String(120))
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    referral_consent_required: Mapped[bool] = mapped_column(default=True)
    verified_on: Mapped[date | None] = mapped_column(Date)
    is_confirmed: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text)
