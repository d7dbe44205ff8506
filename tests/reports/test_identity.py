"""Analysts receive no identity in any output: no hash, no id, no exact date, whatever the data."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from reports.aggregates import from_records
from reports.dimensions import Dimension
from reports.layouts import build_report
from reports.linelist import line_list_rows, write_line_list
from reports.records import CaseRecord, IdentifierRef, OffenceRecord, VictimRecord
from reports.scope import scope
from reports.tables import suppress_report
from reports.workbook import write_workbook
from tests.reports.dataset import RANKS

BIG = 10**8  # ids far above any count, so finding one in an output means it leaked
dates = st.dates(date(2025, 1, 1), date(2026, 12, 31))
hashes = st.text("0123456789abcdef", min_size=12, max_size=12).map(lambda h: f"HASH{h}")


@st.composite
def case_records(draw: st.DrawFn, case_id: int) -> CaseRecord:
    victim_ids = draw(st.lists(st.integers(BIG, 2 * BIG), max_size=4, unique=True))
    victims = tuple(
        VictimRecord(
            victim_id=i,
            gender=draw(st.sampled_from(["female", "male", "non_binary", "undisclosed"])),
            age_years=draw(st.none() | st.integers(0, 90)),
            is_minor=draw(st.booleans()),
            match_hash=draw(st.none() | hashes),
        )
        for i in victim_ids
    )
    codes = draw(st.lists(st.sampled_from(sorted(RANKS)), max_size=3, unique=True))
    offences = tuple(
        OffenceRecord(
            code, RANKS[code], tuple(draw(st.lists(st.sampled_from(victim_ids), unique=True))) if victim_ids else ()
        )
        for code in codes
    )
    return CaseRecord(
        case_id=case_id,
        organisation_kind=draw(st.sampled_from(["police_unit", "ngo"])),
        intake_channel=draw(st.sampled_from(["police_report", "ngo_intake", "hotline", "referral"])),
        received_on=draw(dates),
        incident_on=draw(st.none() | dates),
        reported_to_police=draw(st.booleans()),
        state=draw(st.none() | st.sampled_from(["MY-01", "MY-10", "MY-14"])),
        contact_platform=draw(st.none() | st.sampled_from(["instagram", "telegram"])),
        abuse_types=tuple(draw(st.lists(st.sampled_from(["financial_sextortion", "impersonation"]), unique=True))),
        has_minor=any(v.is_minor for v in victims),
        payments_count=draw(st.integers(0, 4)),
        material_released=draw(st.none() | st.booleans()),
        victims=victims,
        offences=offences,
        identifiers=tuple(
            IdentifierRef(i, "phone")
            for i in draw(st.lists(st.integers(3 * BIG, 3 * BIG + 5), max_size=2, unique=True))
        ),
    )


@st.composite
def datasets(draw: st.DrawFn) -> list[CaseRecord]:
    ids = draw(st.lists(st.integers(4 * BIG, 5 * BIG), min_size=1, max_size=25, unique=True))
    cases = [draw(case_records(i)) for i in ids]
    # some NGO cases linked to police cases
    police = [c.case_id for c in cases if c.organisation_kind == "police_unit"]
    if police:
        cases = [
            c if c.organisation_kind != "ngo" or not draw(st.booleans()) else _link(c, draw(st.sampled_from(police)))
            for c in cases
        ]
    return cases


def _link(case: CaseRecord, police_case_id: int) -> CaseRecord:
    return replace(case, police_case_id=police_case_id)


def secrets_of(cases: list[CaseRecord]) -> set[str]:
    found = set()
    for case in cases:
        found.add(str(case.case_id))
        found.update(str(r.identifier_id) for r in case.identifiers)
        for victim in case.victims:
            found.add(str(victim.victim_id))
            if victim.match_hash:
                found.add(victim.match_hash)
    return found


def every_value(data: bytes) -> list[object]:
    workbook = load_workbook(io.BytesIO(data))
    return [v for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]


EXACT_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(datasets(), st.sampled_from([None, Dimension.STATE, Dimension.AGE_BAND]))
def test_no_output_names_a_case_a_victim_or_an_identifier(cases: list[CaseRecord], group_by) -> None:  # type: ignore[no-untyped-def]
    statistics = io.BytesIO()
    report = suppress_report(build_report(from_records(cases, group_by=group_by)))
    write_workbook(report, statistics, generated_by="analyst", generated_at=datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    line_list = io.BytesIO()
    write_line_list(line_list_rows(scope(cases), b"k" * 32), line_list, generated_by="analyst")
    hidden = secrets_of(cases)

    for data in (statistics.getvalue(), line_list.getvalue()):
        for value in every_value(data):
            text = str(value)
            assert not any(secret in text for secret in hidden), text
            assert not isinstance(value, date | datetime), value
            assert not EXACT_DATE.search(text) or text.endswith(" UTC"), text  # only "generated at"
