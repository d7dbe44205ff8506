"""A small fixed dataset whose every figure is computed by hand in the tests.

Severity ranks are those of seed/data/offences.csv (the SQL test checks they still are):
PC 376(1) 12 > PC 383 = PC 384 7 > PC 506 6 > PC 509 = CMA 233(3) 4 > PC 292 3 > CMA 233(1) 2.

  A (1) police, Jan: PC 376(1) + PC 383 + PC 506 against one victim (the source articles' case:
        extortion that escalated to rape). Most serious: 376(1); 383 is hidden.
  B (2) police, Feb: a Telegram group posting intimate images of six victims: CMA 233(1) and
        PC 292 against all six, PC 509 against three. Most serious: 509.
  C (3) police, Feb: PC 384 + CMA 233(1), one victim. Most serious: 384. Known to an NGO too (D).
  D (4) NGO, Feb: the same victim as C, linked to C: counted once, as C.
  E (5) NGO, Mar: not reported to police; CMA 233(3) against a 15-year-old.
  F (6) NGO, Mar: no offence recorded yet; no state, no platform, no abuse type.
  G (7) police, Mar: PC 383 + PC 384 (equal rank: the tie goes to PC 383) + PC 509, a minor.
Perpetrator identifiers: phone 101 in A and C; bank account 103 in C, D and E; chat group 102 in B.
Organisations: police unit 1 (A, B, C, G), NGO 2 (D, E), NGO 3 (F).
Referrals (deadline to acknowledge: one day after sending):
  A -> MCMC takedown: acknowledged after 12 h, completed after 4 days; two addresses removed after
       1 and 2 days.
  B -> CYBER999 incident help: withdrawn, never acknowledged.
  D -> PDRM police report: acknowledged after 6 h, completed after 2 days (police case C).
  E -> MCMC takedown: acknowledged after 2 days (late), in progress; three addresses: removed after
       3 days, refused, still requested.
  E -> WAO counselling: declined without acknowledgement. E -> JBG legal aid: a draft (not counted).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from reports.records import (
    CaseRecord,
    IdentifierRef,
    OffenceRecord,
    ReferralRecord,
    TakedownItemRecord,
    VictimRecord,
)

RANKS = {
    "PC 376(1)": 12,
    "PC 383": 7,
    "PC 384": 7,
    "PC 506": 6,
    "PC 509": 4,
    "CMA 233(3)": 4,
    "PC 292": 3,
    "CMA 233(1)": 2,
}
TITLES = {
    "PC 376(1)": "Punishment for rape",
    "PC 383": "Extortion (definition; punished under s.384)",
    "PC 384": "Punishment for extortion",
    "PC 506": "Punishment for criminal intimidation",
    "PC 509": "Word, gesture or act intended to insult the modesty of a person",
    "CMA 233(3)": "Improper use of network facilities - victim under 18",
    "PC 292": "Sale etc. of obscene books, objects or documents (incl. online content since 2017)",
    "CMA 233(1)": "Improper use of network facilities",
}


def offence(code: str, *victim_ids: int) -> OffenceRecord:
    return OffenceRecord(code, RANKS[code], tuple(victim_ids), TITLES[code])


POLICE, NGO, OTHER_NGO = 1, 2, 3


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def referral(
    agency: str,
    purpose: str,
    status: str,
    sent: datetime | None,
    *,
    acknowledged_after: timedelta | None = None,
    closed_after: timedelta | None = None,
    items: tuple[TakedownItemRecord, ...] = (),
) -> ReferralRecord:
    return ReferralRecord(
        agency=agency,
        purpose=purpose,
        status=status,
        sent_at=sent,
        acknowledged_at=sent + acknowledged_after if sent and acknowledged_after is not None else None,
        due_acknowledge_at=sent + timedelta(days=1) if sent else None,
        closed_at=sent + closed_after if sent and closed_after is not None else None,
        takedown_items=items,
    )


def item(status: str, sent: datetime, removed_after: timedelta | None = None) -> TakedownItemRecord:
    return TakedownItemRecord(status, sent, sent + removed_after if removed_after is not None else None)


HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SENT_A, SENT_B, SENT_D, SENT_E = (
    at(date(2026, 1, 16)),
    at(date(2026, 2, 3)),
    at(date(2026, 2, 10)),
    at(date(2026, 3, 5)),
)

PHONE = IdentifierRef(101, "phone")
GROUP = IdentifierRef(102, "chat_group")
BANK = IdentifierRef(103, "bank_account")

CASE_A = CaseRecord(
    case_id=1,
    organisation_kind="police_unit",
    intake_channel="police_report",
    received_on=date(2026, 1, 15),
    organisation_id=POLICE,
    incident_on=date(2025, 12, 20),
    reported_to_police=True,
    state="MY-14",
    contact_platform="instagram",
    moved_to_platforms=("telegram",),
    abuse_types=("financial_sextortion", "sextortion_acts"),
    payments_count=2,
    material_released=False,
    victims=(VictimRecord(11, "female", 22, False, "h-alia"),),
    offences=(offence("PC 376(1)", 11), offence("PC 383", 11), offence("PC 506", 11)),
    identifiers=(PHONE,),
    referrals=(
        referral(
            "MCMC",
            "takedown",
            "completed",
            SENT_A,
            acknowledged_after=12 * HOUR,
            closed_after=4 * DAY,
            items=(item("removed", SENT_A, DAY), item("removed", SENT_A, 2 * DAY)),
        ),
    ),
)
CASE_B = CaseRecord(
    case_id=2,
    organisation_kind="police_unit",
    intake_channel="police_report",
    received_on=date(2026, 2, 3),
    organisation_id=POLICE,
    incident_on=date(2026, 1, 28),
    reported_to_police=True,
    state="MY-10",
    contact_platform="telegram",
    abuse_types=("non_consensual_distribution",),
    has_minor=True,
    payments_count=0,
    material_released=True,
    victims=(
        VictimRecord(21, "female", 16, True, "h-b1"),
        VictimRecord(22, "female", 19, False, "h-b2"),
        VictimRecord(23, "female", 23, False, "h-b3"),
        VictimRecord(24, "female", 30, False, None),
        VictimRecord(25, "male", 27, False, "h-b5"),
        VictimRecord(26, "undisclosed", None, False, None),
    ),
    offences=(
        offence("CMA 233(1)", 21, 22, 23, 24, 25, 26),
        offence("PC 292", 21, 22, 23, 24, 25, 26),
        offence("PC 509", 21, 22, 23),
    ),
    identifiers=(GROUP,),
    referrals=(referral("CYBER999", "incident_help", "withdrawn", SENT_B, closed_after=DAY),),
)
CASE_C = CaseRecord(
    case_id=3,
    organisation_kind="police_unit",
    intake_channel="referral",
    received_on=date(2026, 2, 20),
    organisation_id=POLICE,
    incident_on=date(2026, 2, 1),
    reported_to_police=True,
    state="MY-14",
    contact_platform="dating_app",
    moved_to_platforms=("whatsapp",),
    abuse_types=("financial_sextortion",),
    payments_count=1,
    material_released=None,
    victims=(VictimRecord(31, "male", 34, False, "h-chen"),),
    offences=(offence("PC 384", 31), offence("CMA 233(1)", 31)),
    identifiers=(PHONE, BANK),
)
CASE_D = CaseRecord(
    case_id=4,
    organisation_kind="ngo",
    intake_channel="ngo_intake",
    received_on=date(2026, 2, 10),
    organisation_id=NGO,
    incident_on=date(2026, 2, 1),
    reported_to_police=True,
    police_case_id=3,
    state="MY-14",
    contact_platform="dating_app",
    abuse_types=("financial_sextortion",),
    payments_count=1,
    victims=(VictimRecord(41, "male", 34, False, "h-chen"),),
    offences=(offence("PC 383", 41),),
    identifiers=(BANK,),
    referrals=(
        referral("PDRM", "police_report", "completed", SENT_D, acknowledged_after=6 * HOUR, closed_after=2 * DAY),
    ),
)
CASE_E = CaseRecord(
    case_id=5,
    organisation_kind="ngo",
    intake_channel="hotline",
    received_on=date(2026, 3, 5),
    organisation_id=NGO,
    incident_on=date(2026, 2, 25),
    state="MY-01",
    contact_platform="instagram",
    abuse_types=("threat_to_distribute", "impersonation"),
    has_minor=True,
    payments_count=0,
    material_released=False,
    victims=(VictimRecord(51, "female", 15, True, "h-e"),),
    offences=(offence("CMA 233(3)", 51),),
    identifiers=(BANK,),
    referrals=(
        referral(
            "MCMC",
            "takedown",
            "in_progress",
            SENT_E,
            acknowledged_after=2 * DAY,
            items=(item("removed", SENT_E, 3 * DAY), item("refused", SENT_E), item("requested", SENT_E)),
        ),
        referral("WAO", "counselling", "declined", SENT_E, closed_after=DAY),
        referral("JBG", "legal_aid", "draft", None),
    ),
)
CASE_F = CaseRecord(
    case_id=6,
    organisation_kind="ngo",
    intake_channel="ngo_intake",
    received_on=date(2026, 3, 28),
    organisation_id=OTHER_NGO,
    victims=(VictimRecord(61, "female", None, False, "h-alia"),),
)
CASE_G = CaseRecord(
    case_id=7,
    organisation_kind="police_unit",
    intake_channel="police_report",
    received_on=date(2026, 3, 10),
    organisation_id=POLICE,
    reported_to_police=True,
    state="MY-10",
    contact_platform="whatsapp",
    abuse_types=("sextortion_images",),
    has_minor=True,
    payments_count=3,
    material_released=False,
    victims=(VictimRecord(71, "female", 17, True, "h-g"),),
    offences=(offence("PC 383", 71), offence("PC 384", 71), offence("PC 509", 71)),
)

CASES = (CASE_A, CASE_B, CASE_C, CASE_D, CASE_E, CASE_F, CASE_G)


def copy(case: CaseRecord, k: int) -> CaseRecord:
    """The k-th copy of a case: other ids, other perpetrators' identifiers, other people's hashes."""
    shift = 100 * k
    return replace(
        case,
        case_id=case.case_id + shift,
        police_case_id=case.police_case_id + shift if case.police_case_id else None,
        victims=tuple(
            replace(v, victim_id=v.victim_id + shift, match_hash=f"{v.match_hash}-{k}" if v.match_hash else None)
            for v in case.victims
        ),
        offences=tuple(replace(o, victim_ids=tuple(i + shift for i in o.victim_ids)) for o in case.offences),
        identifiers=tuple(replace(r, identifier_id=r.identifier_id + 1000 * k) for r in case.identifiers),
    )


# Five copies: every count is a multiple of five, so nothing is suppressed at the default threshold
# and every hand-computed figure (times five) can be read back from the workbook.
FIVE_TIMES = tuple(copy(case, k) for k in range(5) for case in CASES)
