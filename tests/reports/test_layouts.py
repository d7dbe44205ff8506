"""The standard report's layout: shared figures, zero-filled months, margins of multi-valued breakdowns."""

from __future__ import annotations

from datetime import date

import pytest

from reports.aggregates import from_records
from reports.dimensions import Dimension
from reports.layouts import build_report
from reports.scope import ReportFilter
from reports.tables import SuppressedTable, suppress_report
from tests.reports.dataset import CASES, FIVE_TIMES


def table(report, name: str) -> SuppressedTable:  # type: ignore[no-untyped-def]
    return next(t for t in report.tables if t.name == name)


def column(t: SuppressedTable, header: str) -> dict[object, object]:
    index = t.value_headers.index(header)
    return {row.labels[0]: row.values[index] for row in t.rows}


def test_months_without_cases_show_as_zero_across_the_filter_period() -> None:
    report_filter = ReportFilter(date_from=date(2025, 12, 1), date_to=date(2026, 4, 30))
    report = suppress_report(build_report(from_records(FIVE_TIMES, report_filter)))

    assert column(table(report, "Cases by month"), "All cases") == {
        "2025-12": 0,
        "2026-01": 5,
        "2026-02": 10,
        "2026-03": 15,
        "2026-04": 0,
        "All cases": 30,
    }


def test_a_figure_in_two_tables_is_shown_alike_in_both() -> None:
    report = suppress_report(build_report(from_records(CASES, group_by=Dimension.STATE)))

    all_cases = table(report, "Known to").rows[-1].values[0]
    assert table(report, "Offences").rows[-1].values[0] == all_cases
    assert table(report, "Cases by month").rows[-1].values[-1] == all_cases
    assert table(report, "Most serious - state").rows[-1].values[-1] == all_cases
    assert table(report, "Payments").rows[-1].values[3] == all_cases


def test_multi_valued_breakdown_totals_are_distinct_cases_not_sums() -> None:
    report = suppress_report(build_report(from_records(FIVE_TIMES, group_by=Dimension.PLATFORM)))

    cases = column(table(report, "Cases - platform"), "All cases")
    assert cases == {
        "dating_app": 5,
        "instagram": 10,
        "telegram": 10,
        "whatsapp": 10,
        "Not recorded": 5,
        "All cases": 30,  # 40 case-platform pairs, 30 cases
    }
    assert "do not add up" in table(report, "Cases - platform").description


def test_victims_by_gender_add_up_because_each_victim_has_one() -> None:
    report = suppress_report(build_report(from_records(FIVE_TIMES, group_by=Dimension.GENDER)))

    victims = table(report, "Victims - gender")
    # female, male, non-binary, undisclosed, not recorded, all (times five): every gender is a column
    assert victims.rows[-1].values == (90, 20, 0, 10, 0, 120)
    assert "do not add up" not in victims.description
    assert "do not add up" in table(report, "Most serious - gender").description


def test_estimate_is_shown_only_when_enough_victims_are_on_both_lists() -> None:
    withheld = suppress_report(build_report(from_records(CASES)))
    shown = suppress_report(build_report(from_records(FIVE_TIMES)))

    assert table(withheld, "Estimate").rows[4].values == ("n/a",)  # its inputs are hidden as small counts
    assert table(shown, "Estimate").rows[4].values == (51,)
    notes = dict(withheld.notes)
    assert notes["Estimate status"].startswith("fewer than 7 victims")


def test_the_filter_lines_name_the_organisations_of_a_scope_by_code() -> None:
    everyone = build_report(from_records(FIVE_TIMES))
    one_ngo = build_report(
        from_records(FIVE_TIMES, ReportFilter(organisation_ids=frozenset({2, 3}))), organisation_labels={2: "WAO"}
    )

    assert dict(everyone.filter_lines)["Organisations"] == "all organisations"
    assert dict(one_ngo.filter_lines)["Organisations"] == "WAO, organisation 3"


@pytest.mark.parametrize("group_by", list(Dimension), ids=str)
def test_every_breakdown_builds_tables_whose_names_fit_a_sheet(group_by: Dimension) -> None:
    report = suppress_report(build_report(from_records(CASES, group_by=group_by)))

    assert all(len(t.name) <= 31 for t in report.tables)
    assert len({t.name for t in report.tables}) == len(report.tables)
