"""The four counting rules, the hidden number and the breakdowns, against hand-computed figures."""

from __future__ import annotations

from datetime import date

import pytest

from reports.aggregates import from_records
from reports.counting import count_cases, count_offences, most_serious
from reports.dimensions import Dimension, known_to
from reports.estimates import ListCounts
from reports.scope import ReportFilter, iter_scope, linked_police_case_ids, scope
from tests.reports.dataset import CASE_A, CASE_B, CASES, NGO, OTHER_NGO, POLICE, offence


def counts(rows, group=None):  # type: ignore[no-untyped-def]
    """{code: (a, b, c, d, hidden)} for one group (None: all groups), code None being the margin."""
    return {r.code: (r.most_serious, r.involving, r.offences, r.victims, r.hidden) for r in rows if r.group == group}


def cells(rows):  # type: ignore[no-untyped-def]
    return {(r.row, r.column): r.cases for r in rows}


# (a) most serious, (b) involving, (c) offences, (d) victims, hidden = (b) - (a)
EXPECTED_OFFENCES = {
    "PC 376(1)": (1, 1, 1, 1, 0),
    "PC 383": (1, 2, 2, 2, 1),
    "PC 384": (1, 2, 2, 2, 1),
    "PC 506": (0, 1, 1, 1, 1),
    "PC 509": (1, 2, 2, 4, 1),
    "CMA 233(3)": (1, 1, 1, 1, 0),
    "PC 292": (0, 1, 1, 6, 1),
    "CMA 233(1)": (0, 2, 2, 7, 2),
    None: (5, 5, 12, 24, 0),
}


def test_extortion_escalated_to_rape_counts_once_as_rape_and_under_every_section_when_involving() -> None:
    rows = count_offences(scope([CASE_A]))

    assert counts(rows) == {
        "PC 376(1)": (1, 1, 1, 1, 0),
        "PC 383": (0, 1, 1, 1, 1),
        "PC 506": (0, 1, 1, 1, 1),
        None: (1, 1, 3, 3, 0),
    }


def test_every_rule_for_every_code_of_the_fixed_dataset() -> None:
    assert counts(count_offences(scope(CASES))) == EXPECTED_OFFENCES


def test_rows_come_most_serious_first_with_the_margin_first() -> None:
    rows = count_offences(scope(CASES))

    assert [r.code for r in rows] == [
        None,
        "PC 376(1)",
        "PC 383",
        "PC 384",
        "PC 506",
        "CMA 233(3)",
        "PC 509",
        "PC 292",
        "CMA 233(1)",
    ]
    assert rows[1].title == "Punishment for rape" and rows[1].severity_rank == 12


def test_telegram_group_case_counts_every_victim_of_each_offence() -> None:
    rows = counts(count_offences(scope([CASE_B])))

    assert rows["CMA 233(1)"] == (0, 1, 1, 6, 1)
    assert rows["PC 292"] == (0, 1, 1, 6, 1)
    assert rows["PC 509"] == (1, 1, 1, 3, 0)


def test_ties_in_severity_go_to_the_lower_code_whatever_the_recording_order() -> None:
    forward = [offence("PC 384"), offence("PC 383"), offence("PC 509")]

    assert most_serious(forward).code == "PC 383"  # type: ignore[union-attr]
    assert most_serious(reversed(forward)).code == "PC 383"  # type: ignore[union-attr]
    assert most_serious([]) is None


def test_ngo_case_linked_to_a_police_case_is_counted_once_as_known_to_both() -> None:
    counted = scope(CASES)

    assert sorted(s.case.case_id for s in counted) == [1, 2, 3, 5, 6, 7]
    assert cells(count_cases(counted, None, Dimension.KNOWN_TO)) == {
        (None, None): 6,
        (None, "police_only"): 3,
        (None, "police_and_ngo"): 1,
        (None, "ngo_only"): 2,
    }


def test_by_month_received() -> None:
    rows = count_offences(scope(CASES), Dimension.RECEIVED_MONTH)

    assert counts(rows, "2026-01") == {
        "PC 376(1)": (1, 1, 1, 1, 0),
        "PC 383": (0, 1, 1, 1, 1),
        "PC 506": (0, 1, 1, 1, 1),
        None: (1, 1, 3, 3, 0),
    }
    assert counts(rows, "2026-02") == {
        "PC 384": (1, 1, 1, 1, 0),
        "PC 509": (1, 1, 1, 3, 0),
        "PC 292": (0, 1, 1, 6, 1),
        "CMA 233(1)": (0, 2, 2, 7, 2),
        None: (2, 2, 5, 17, 0),
    }
    assert counts(rows, "2026-03") == {
        "PC 383": (1, 1, 1, 1, 0),
        "PC 384": (0, 1, 1, 1, 1),
        "CMA 233(3)": (1, 1, 1, 1, 0),
        "PC 509": (0, 1, 1, 1, 1),
        None: (2, 2, 4, 4, 0),
    }
    assert counts(rows) == EXPECTED_OFFENCES
    assert {r.group for r in rows} == {None, "2026-01", "2026-02", "2026-03"}


def test_by_victim_gender_cases_count_under_each_victims_gender_and_victims_under_their_own() -> None:
    rows = count_offences(scope(CASES), Dimension.GENDER)

    assert counts(rows, "female") == {
        "PC 376(1)": (1, 1, 1, 1, 0),
        "PC 383": (1, 2, 2, 2, 1),
        "PC 384": (0, 1, 1, 1, 1),
        "PC 506": (0, 1, 1, 1, 1),
        "CMA 233(3)": (1, 1, 1, 1, 0),
        "PC 509": (1, 2, 2, 4, 1),
        "PC 292": (0, 1, 1, 4, 1),
        "CMA 233(1)": (0, 1, 1, 4, 1),
        None: (4, 4, 10, 18, 0),
    }
    assert counts(rows, "male") == {
        "PC 384": (1, 1, 1, 1, 0),
        "PC 509": (1, 1, 1, 0, 0),
        "PC 292": (0, 1, 1, 1, 1),
        "CMA 233(1)": (0, 2, 2, 2, 2),
        None: (2, 2, 5, 4, 0),
    }
    assert counts(rows, "undisclosed") == {
        "PC 509": (1, 1, 1, 0, 0),
        "PC 292": (0, 1, 1, 1, 1),
        "CMA 233(1)": (0, 1, 1, 1, 1),
        None: (1, 1, 3, 2, 0),
    }
    # victims add up across genders (each victim has one); cases do not (B has three genders)
    assert 18 + 4 + 2 == counts(rows)[None][3]


def test_by_platform_a_case_counts_under_each_of_its_platforms() -> None:
    rows = cells(count_cases(scope(CASES), Dimension.PLATFORM))

    assert rows == {
        (None, None): 6,
        ("instagram", None): 2,  # A, E
        ("telegram", None): 2,  # A (moved there), B
        ("dating_app", None): 1,  # C
        ("whatsapp", None): 2,  # C (moved there), G
        ("unknown", None): 1,  # F
    }


def test_payments_before_reporting_by_material_released() -> None:
    assert cells(count_cases(scope(CASES), Dimension.PAYMENTS, Dimension.MATERIAL_RELEASED)) == {
        ("none", "released"): 1,
        ("none", "not_released"): 1,
        ("none", "unknown"): 1,
        ("once", "unknown"): 1,
        ("twice", "not_released"): 1,
        ("3_or_more", "not_released"): 1,
        ("none", None): 3,
        ("once", None): 1,
        ("twice", None): 1,
        ("3_or_more", None): 1,
        (None, "released"): 1,
        (None, "not_released"): 3,
        (None, "unknown"): 2,
        (None, None): 6,
    }


@pytest.mark.parametrize(
    ("report_filter", "case_ids"),
    [
        (ReportFilter(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28)), [2, 3]),
        (ReportFilter(date_basis="incident", date_from=date(2026, 2, 1)), [3, 5]),
        (ReportFilter(date_basis="incident", date_to=date(2025, 12, 31)), [1]),
        (ReportFilter(only={Dimension.STATE: {"MY-14", "unknown"}}), [1, 3, 6]),
        (ReportFilter(only={Dimension.PLATFORM: {"telegram"}}), [1, 2]),
        (ReportFilter(only={Dimension.KNOWN_TO: {"ngo_only"}}), [5, 6]),
        (ReportFilter(only={Dimension.KNOWN_TO: {"police_only", "police_and_ngo"}}), [1, 2, 3, 7]),
        (ReportFilter(only={Dimension.AGE_BAND: {"16-17"}}), [2, 7]),
        (ReportFilter(only={Dimension.MINOR: {"minor"}, Dimension.ORGANISATION_KIND: {"police_unit"}}), [2, 7]),
        (ReportFilter(only={Dimension.INTAKE_CHANNEL: {"hotline", "referral"}}), [3, 5]),
        (ReportFilter(only={Dimension.ABUSE_TYPE: {"financial_sextortion"}}), [1, 3]),
    ],
)
def test_filters_keep_a_case_when_any_of_its_values_is_allowed(report_filter: ReportFilter, case_ids) -> None:  # type: ignore[no-untyped-def]
    assert sorted(s.case.case_id for s in scope(CASES, report_filter)) == case_ids


@pytest.mark.parametrize(
    ("organisations", "expected"),
    [
        # the police unit: C is its own case, known to an NGO too through D's link
        ({POLICE}, {1: "police_only", 2: "police_only", 3: "police_and_ngo", 7: "police_only"}),
        # the NGO: D names police case C, which is not the NGO's: D counts as the NGO's own record
        ({NGO}, {4: "police_and_ngo", 5: "ngo_only"}),
        ({OTHER_NGO}, {6: "ngo_only"}),
        # both: D is represented by C, counted once as everywhere else
        ({POLICE, NGO}, {1: "police_only", 2: "police_only", 3: "police_and_ngo", 5: "ngo_only", 7: "police_only"}),
    ],
)
def test_an_organisation_scope_counts_linked_records_once_only_when_both_are_in_it(
    organisations: set[int], expected: dict[int, str]
) -> None:
    counted = scope(CASES, ReportFilter(organisation_ids=frozenset(organisations)))

    assert {s.case.case_id: known_to(s) for s in counted} == expected


def test_an_ngo_scope_counts_the_linked_case_under_its_own_record() -> None:
    agg = from_records(CASES, ReportFilter(organisation_ids=frozenset({NGO})))

    # D's own PC 383 (not police case C's PC 384 and CMA 233(1)), and E's CMA 233(3)
    assert counts(agg.offences) == {
        "PC 383": (1, 1, 1, 1, 0),
        "CMA 233(3)": (1, 1, 1, 1, 0),
        None: (2, 2, 2, 2, 0),
    }
    assert cells(agg.cases_by_period)[("2026-02", "police_and_ngo")] == 1  # D, received in February


def test_streaming_an_organisation_scope_needs_the_cases_in_it() -> None:
    report_filter = ReportFilter(organisation_ids=frozenset({NGO}))
    with pytest.raises(ValueError):
        list(iter_scope(CASES, report_filter, linked_police_case_ids(CASES)))


def test_filter_rejects_an_inverted_period_and_empty_value_sets() -> None:
    with pytest.raises(ValueError):
        ReportFilter(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    with pytest.raises(ValueError):
        ReportFilter(only={Dimension.STATE: set()})
    with pytest.raises(ValueError):
        ReportFilter(organisation_ids=frozenset())


def test_aggregates_of_the_fixed_dataset() -> None:
    agg = from_records(CASES, group_by=Dimension.STATE)

    assert counts(agg.offences) == EXPECTED_OFFENCES
    assert cells(agg.cases_by_period) == {
        (None, None): 6,
        (None, "police_only"): 3,
        (None, "police_and_ngo"): 1,
        (None, "ngo_only"): 2,
        ("2026-01", None): 1,
        ("2026-02", None): 2,
        ("2026-03", None): 3,
        ("2026-01", "police_only"): 1,
        ("2026-02", "police_only"): 1,
        ("2026-02", "police_and_ngo"): 1,
        ("2026-03", "ngo_only"): 2,
        ("2026-03", "police_only"): 1,
    }
    assert cells(agg.cases_by)[("MY-14", None)] == 2  # A and C (D is counted as C)
    assert counts(agg.offences_by, "MY-10") == {
        "PC 383": (1, 1, 1, 1, 0),
        "PC 384": (0, 1, 1, 1, 1),
        "PC 509": (1, 2, 2, 4, 1),
        "PC 292": (0, 1, 1, 6, 1),
        "CMA 233(1)": (0, 1, 1, 6, 1),
        None: (2, 2, 6, 18, 0),
    }
    # phone 101 links A and C, bank account 103 links C and E (D is not counted): one group of 3
    assert agg.repeat.identifiers == {"phone": 1, "bank_account": 1}
    assert agg.repeat.cases == {"phone": 2, "bank_account": 2}
    assert agg.repeat.cases_total == 3
    assert agg.repeat.groups == {
        "2 cases": (0, 0),
        "3-5 cases": (1, 3),
        "6-10 cases": (0, 0),
        "11 or more cases": (0, 0),
    }
    # each organisation's own list: police know Alia, four of B's victims, Chen and G; NGOs know Chen
    # (D), E and Alia again (F)
    assert agg.lists == ListCounts(police=7, ngo=3, both=2)


def test_empty_input_still_has_its_margins() -> None:
    assert counts(count_offences([])) == {None: (0, 0, 0, 0, 0)}
    assert cells(count_cases([], Dimension.STATE, Dimension.KNOWN_TO)) == {(None, None): 0}


def test_ties_on_rank_go_to_the_code_first_in_natural_order() -> None:
    from reports.counting import code_order, most_serious
    from reports.records import OffenceRecord

    offences = [OffenceRecord("SOAC 13", 9), OffenceRecord("SOAC 6", 9), OffenceRecord("PC 376(10)", 1)]

    assert most_serious(offences) == offences[1]  # section 6 before section 13, not "1" before "6"
    assert sorted(["PC 376(10)", "PC 376(2)", "PC 376", "CMA 233(1)"], key=code_order) == [
        "CMA 233(1)",
        "PC 376",
        "PC 376(2)",
        "PC 376(10)",
    ]
