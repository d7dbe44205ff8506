"""Random case records for the disclosure tests: any size, reproducible from a seed, no database.

Distributions are rough (a few states, platforms and codes; some NGO cases linked to the police
case they became), enough to give small and large cells in every table.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from reports.records import CaseRecord, OffenceRecord, VictimRecord
from tests.reports.dataset import RANKS, TITLES

STATES = ("MY-10", "MY-14", "MY-01", "MY-07", "MY-12", "MY-13")
PLATFORMS = ("telegram", "instagram", "whatsapp", "facebook", "tiktok", "other")
ABUSE = ("financial_sextortion", "non_consensual_distribution", "sextortion_images", "impersonation")
CODES = tuple(RANKS)
POLICE, NGO_A, NGO_B = 1, 2, 3


def generate(size: int, seed: int = 1, start: date = date(2025, 1, 1), days: int = 365) -> tuple[CaseRecord, ...]:
    rng = random.Random(seed)
    cases: list[CaseRecord] = []
    police_ids: list[int] = []
    victim_id = 0
    for case_id in range(1, size + 1):
        organisation = rng.choices((POLICE, NGO_A, NGO_B), weights=(5, 3, 2))[0]
        victims = []
        for _ in range(1 if rng.random() < 0.85 else rng.randint(2, 4)):
            victim_id += 1
            age = rng.randint(12, 50) if rng.random() < 0.9 else None
            victims.append(
                VictimRecord(
                    victim_id,
                    rng.choices(("female", "male", "non_binary", "undisclosed"), weights=(6, 3, 0.3, 0.5))[0],
                    age,
                    age is not None and age < 18,
                    f"h{rng.randint(1, size)}" if rng.random() < 0.7 else None,
                )
            )
        codes = rng.sample(CODES, rng.choices((0, 1, 2, 3), weights=(1, 6, 3, 2))[0])
        offences = tuple(
            OffenceRecord(code, RANKS[code], tuple(v.victim_id for v in victims), TITLES[code]) for code in codes
        )
        linked = organisation != POLICE and police_ids and rng.random() < 0.1
        cases.append(
            CaseRecord(
                case_id=case_id,
                organisation_kind="police_unit" if organisation == POLICE else "ngo",
                intake_channel="police_report" if organisation == POLICE else rng.choice(("ngo_intake", "hotline")),
                received_on=start + timedelta(days=rng.randrange(days)),
                organisation_id=organisation,
                reported_to_police=organisation == POLICE or rng.random() < 0.2,
                police_case_id=rng.choice(police_ids) if linked else None,
                state=rng.choice(STATES) if rng.random() < 0.95 else None,
                contact_platform=rng.choice(PLATFORMS) if rng.random() < 0.9 else None,
                moved_to_platforms=tuple(rng.sample(PLATFORMS, rng.choice((0, 0, 1)))),
                abuse_types=tuple(rng.sample(ABUSE, rng.choice((1, 1, 2)))),
                has_minor=any(v.is_minor for v in victims),
                payments_count=rng.choice((0, 0, 0, 1, 2, 3, 5)),
                material_released=rng.choice((True, False, None)),
                offences=offences,
                victims=tuple(victims),
            )
        )
        if organisation == POLICE:
            police_ids.append(case_id)
    return tuple(cases)
