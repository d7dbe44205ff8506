"""The statistics workbook, read back with openpyxl: every table, every figure, the About sheet."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from reports.aggregates import from_records
from reports.counting import COUNTING_RULES
from reports.dimensions import Dimension
from reports.estimates import ASSUMPTIONS, ListCounts, chapman
from reports.layouts import build_report
from reports.tables import suppress_report
from reports.workbook import write_workbook
from tests.reports.dataset import CASES, FIVE_TIMES, TITLES
from tests.reports.test_counting import EXPECTED_OFFENCES

GENERATED_AT = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
SHEETS = [
    "About",
    "Known to",
    "Offences",
    "Cases by month",
    "Cases - month",
    "Most serious - month",
    "Involving - month",
    "Hidden - month",
    "Victims - month",
    "Payments",
    "Repeat identifiers",
    "Linked cases",
    "Estimate",
    "Referrals",
    "Takedown items",
    "Unidentified victims",
]
HEADER = 4  # title, description, blank, header


def workbook_of(cases, threshold: int = 5, group_by: Dimension | None = Dimension.RECEIVED_MONTH) -> Workbook:  # type: ignore[no-untyped-def]
    report = suppress_report(build_report(from_records(cases, group_by=group_by)), threshold=threshold)
    buffer = io.BytesIO()
    write_workbook(report, buffer, generated_by="user 42 (analyst)", generated_at=GENERATED_AT)
    buffer.seek(0)
    return load_workbook(buffer)


@pytest.fixture(scope="module")
def five_times() -> Workbook:
    return workbook_of(FIVE_TIMES)


def body(ws) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    """{first label: the rest of the row} for every row under the header (the table's columns only,
    not the hidden chart columns right of it)."""
    width = len(header(ws))
    rows = ws.iter_rows(min_row=HEADER + 1, max_col=width, values_only=True)
    return {row[0] if row[0] is not None else row[1]: tuple(row[1:]) for row in rows}


def header(ws) -> tuple:  # type: ignore[no-untyped-def]
    """The table's header: up to the empty column before the chart columns."""
    cells = next(ws.iter_rows(min_row=HEADER, max_row=HEADER, values_only=True))
    return tuple(cells[: cells.index(None)] if None in cells else cells)


def test_sheets_in_order_with_about_first(five_times: Workbook) -> None:
    assert five_times.sheetnames == SHEETS


def test_offences_sheet_has_every_rule_for_every_section(five_times: Workbook) -> None:
    ws = five_times["Offences"]

    assert ws["A1"].value == "Offences counted four ways, by statute and section"
    assert header(ws) == (
        "Code",
        "Offence",
        "Severity rank",
        "(a) Most serious offence",
        "(b) Cases involving",
        "(c) Offences",
        "(d) Victims",
        "Hidden number (b) - (a)",
    )
    rows = body(ws)
    for code, figures in EXPECTED_OFFENCES.items():
        if code is not None:
            assert rows[code][:2] == (
                TITLES[code],
                {"PC 376(1)": 12, "PC 383": 7, "PC 384": 7}.get(code, rows[code][1]),
            )
            assert rows[code][2:] == tuple(5 * f for f in figures), code
    assert rows["No offence recorded"] == ("No offence recorded", None, 5, None, None, None, None)
    # all cases; (b) does not add up; offences 12, victims 24 and hidden 7 per copy
    assert rows["Total"] == (None, None, 30, None, 60, 120, 35)
    assert [c.value for c in ws["A"][HEADER:]][:8] == [
        "PC 376(1)",
        "PC 383",
        "PC 384",
        "PC 506",
        "CMA 233(3)",
        "PC 509",
        "PC 292",
        "CMA 233(1)",
    ]


def test_table_sheets_have_styled_headers_frozen_panes_filters_and_formats(five_times: Workbook) -> None:
    ws = five_times["Offences"]

    assert ws.freeze_panes == "D5"
    assert ws.auto_filter.ref == "A4:H13"  # data rows, not the total
    assert ws["A4"].font.bold and ws["A4"].fill.fgColor.rgb.endswith("1F4E78")
    assert ws["D5"].number_format == "#,##0"
    assert ws["A14"].font.bold  # total row
    assert ws.column_dimensions["B"].width > ws.column_dimensions["D"].width
    known = five_times["Known to"]
    assert known.freeze_panes == "B5"
    assert known["C5"].number_format == "0.0%"


def test_charts_most_serious_vs_every_offence_and_cases_by_month(five_times: Workbook) -> None:
    offences, months = five_times["Offences"], five_times["Cases by month"]

    assert len(offences._charts) == 2 and len(months._charts) == 1
    bar, hidden, line = offences._charts[0], offences._charts[1], months._charts[0]
    assert bar.tagname == "barChart" and bar.grouping == "clustered" and len(bar.series) == 2
    assert "Most serious offence vs every offence" in str(bar.title.tx.rich.p[0].r[0].t)
    # drawn from hidden copies of columns D, E and H right of the table, "<5" left blank (a gap)
    assert bar.series[0].val.numRef.f == "'Offences'!$J$5:$J$12"  # the eight sections only
    assert bar.series[1].val.numRef.f == "'Offences'!$K$5:$K$12"
    assert "Hidden number by section" in str(hidden.title.tx.rich.p[0].r[0].t)
    assert hidden.series[0].val.numRef.f == "'Offences'!$L$5:$L$12"
    assert [offences.cell(r, 12).value for r in range(5, 13)] == [offences.cell(r, 8).value for r in range(5, 13)]
    assert line.tagname == "lineChart" and len(line.series) == 1 and line.display_blanks == "gap"
    assert line.series[0].val.numRef.f == "'Cases by month'!$G$5:$G$7"
    assert offences.column_dimensions["J"].hidden and offences.print_area  # printed: the table only
    assert all(not five_times[name]._charts for name in SHEETS if name not in ("Offences", "Cases by month"))


def test_known_to_and_cases_by_month(five_times: Workbook) -> None:
    known = body(five_times["Known to"])
    assert known["Known to police only"] == (15, pytest.approx(0.5))
    assert known["Known to police and an NGO"] == (5, pytest.approx(1 / 6))
    assert known["Known only to an NGO"] == (10, pytest.approx(1 / 3))
    assert known["All cases"] == (30, None)

    ws = five_times["Cases by month"]
    assert header(ws) == (
        "Month received",
        "Known to police only",
        "Known to police and an NGO",
        "Known only to an NGO",
        "All cases",
    )
    assert body(ws) == {
        "2026-01": (5, 0, 0, 5),
        "2026-02": (5, 5, 0, 10),
        "2026-03": (5, 0, 10, 15),
        "All cases": (15, 5, 10, 30),
    }


BY_MONTH = {  # (a), (b), hidden, (d) per month: Jan, Feb, Mar (see test_counting)
    "PC 376(1)": ((1, 0, 0), (1, 0, 0), (0, 0, 0), (1, 0, 0)),
    "PC 383": ((0, 0, 1), (1, 0, 1), (1, 0, 0), (1, 0, 1)),
    "PC 384": ((0, 1, 0), (0, 1, 1), (0, 0, 1), (0, 1, 1)),
    "PC 506": ((0, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0)),
    "CMA 233(3)": ((0, 0, 1), (0, 0, 1), (0, 0, 0), (0, 0, 1)),
    "PC 509": ((0, 1, 0), (0, 1, 1), (0, 0, 1), (0, 3, 1)),
    "PC 292": ((0, 0, 0), (0, 1, 0), (0, 1, 0), (0, 6, 0)),
    "CMA 233(1)": ((0, 0, 0), (0, 2, 0), (0, 2, 0), (0, 7, 0)),
}


@pytest.mark.parametrize(("sheet", "measure"), [("Most serious", 0), ("Involving", 1), ("Hidden", 2), ("Victims", 3)])
def test_offences_by_month_every_cell_and_margin(five_times: Workbook, sheet: str, measure: int) -> None:
    ws = five_times[f"{sheet} - month"]
    rows = body(ws)

    assert header(ws) == ("Code", "Offence", "2026-01", "2026-02", "2026-03", "All")
    for code, measures in BY_MONTH.items():
        months = tuple(5 * n for n in measures[measure])
        overall = 5 * (EXPECTED_OFFENCES[code][(0, 1, 4, 3)[measure]])
        assert rows[code] == (TITLES[code], *months, overall), code
    totals = {
        "Most serious": (5, 10, 15, 30),  # every case in the month: with its most serious offence or none
        "Hidden": (10, 15, 10, 35),
        "Victims": (15, 85, 20, 120),
    }
    if sheet == "Most serious":
        assert rows["No offence recorded"] == ("No offence recorded", 0, 0, 5, 5)
    if sheet in totals:
        assert rows["Total"] == (None, *totals[sheet])
    else:
        assert "Total" not in rows  # cases involving do not add up down a column


def test_cases_by_the_breakdown_dimension(five_times: Workbook) -> None:
    assert body(five_times["Cases - month"]) == body(five_times["Cases by month"])


def test_payments_material_repeat_identifiers_and_linked_cases(five_times: Workbook) -> None:
    payments = body(five_times["Payments"])
    assert header(five_times["Payments"]) == (
        "Payments before reporting",
        "Released",
        "Not released",
        "Not recorded",
        "All cases",
        "Share of cases",
    )
    assert payments["No payment"] == (5, 5, 5, 15, pytest.approx(0.5))
    assert payments["Paid once"] == (0, 0, 5, 5, pytest.approx(1 / 6))
    assert payments["Paid twice"] == (0, 5, 0, 5, pytest.approx(1 / 6))
    assert payments["Paid 3 or more times"] == (0, 5, 0, 5, pytest.approx(1 / 6))
    assert payments["Paid at least once"] == (0, 10, 5, 15, pytest.approx(0.5))
    assert payments["All cases"] == (5, 15, 10, 30, None)

    assert body(five_times["Repeat identifiers"]) == {
        "Bank account": (5, 10),
        "Phone": (5, 10),
        "All kinds": (10, 15),
    }
    assert body(five_times["Linked cases"]) == {
        "2 cases": (0, 0),
        "3-5 cases": (5, 15),
        "6-10 cases": (0, 0),
        "11 or more cases": (0, 0),
        "All groups": (5, 15),
    }


def test_estimate_sheet(five_times: Workbook) -> None:
    rows = {k: v[0] for k, v in body(five_times["Estimate"]).items()}
    expected = chapman(ListCounts(police=35, ngo=15, both=10))

    assert rows["Victims known to police (matched by keyed hash)"] == 35
    assert rows["Victims known to an NGO (matched by keyed hash)"] == 15
    assert rows["Victims known to both"] == 10
    assert rows["Victims known to either"] == 40
    assert rows["Estimated victims in all (estimate)"] == 51  # 36 * 16 / 11 - 1 = 51.4
    assert rows["95% interval, lower (estimate)"] == round(expected.lower or 0) == 44
    assert rows["95% interval, upper (estimate)"] == round(expected.upper or 0) == 75
    assert rows["Estimated victims known to neither (estimate)"] == 11


def test_about_sheet_explains_rules_filters_suppression_and_who_made_it(five_times: Workbook) -> None:
    ws = five_times["About"]
    cells = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row[0]}
    text = " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)

    assert cells["Generated at (UTC)"] == "2026-11-21 09:30:00 UTC"
    assert cells["Generated by"] == "user 42 (analyst)"
    assert cells["Period"] == "any to any (inclusive), by date received"
    assert cells["Broken down by"] == "Month received"
    assert "Counts from 1 to 4 are hidden and shown as '<5'" in cells["Threshold"]
    assert "'x'" in cells["Complementary suppression"]
    assert "at least 20 cases" in cells["Rates"]
    for rule in COUNTING_RULES.values():
        assert rule in text
    for assumption in ASSUMPTIONS:
        assert assumption in text
    for sheet in SHEETS[1:]:
        assert sheet in cells


def test_suppressed_workbook_shows_no_count_below_five(tmp_path: Path) -> None:
    workbook = workbook_of(CASES, group_by=None)

    shown = []
    for name in workbook.sheetnames[1:]:
        ws = workbook[name]
        labels = ws[ws.freeze_panes].column - 1  # panes freeze the label columns
        for row in ws.iter_rows(min_row=HEADER + 1, min_col=labels + 1, values_only=True):
            shown.extend(v for v in row if isinstance(v, int) and not isinstance(v, bool))
    assert shown and not [v for v in shown if 0 < v < 5]
    offences = body(workbook["Offences"])
    assert offences["PC 376(1)"][2] == "<5"
    assert offences["Total"][4:] == (12, 24, 7)  # offences, victims, hidden: safe to show
    assert body(workbook["Known to"])["All cases"][0] == "x"  # 6 cases, hidden to protect the '<5' parts
    estimate = body(workbook["Estimate"])
    assert estimate["Estimated victims in all (estimate)"][0] == "n/a"  # its inputs are hidden


def test_progress_is_reported_up_to_one() -> None:
    report = suppress_report(build_report(from_records(CASES)))
    seen: list[float] = []

    write_workbook(report, io.BytesIO(), generated_by="analyst", progress=seen.append)

    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == len(report.tables) + 2


def test_only_suppressed_reports_can_be_written() -> None:
    spec = build_report(from_records(CASES))

    with pytest.raises(TypeError):
        write_workbook(spec, io.BytesIO(), generated_by="analyst")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        write_workbook(suppress_report(spec), io.BytesIO(), generated_by="")


def test_workbook_opens_in_libreoffice(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc")
    path = tmp_path / "statistics.xlsx"
    report = suppress_report(build_report(from_records(FIVE_TIMES, group_by=Dimension.PLATFORM)))
    write_workbook(report, path, generated_by="analyst")

    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(tmp_path), str(path)],
        capture_output=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "statistics.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


def test_referral_sheets_show_medians_in_days_from_five_referrals(five_times: Workbook) -> None:
    referrals = body(five_times["Referrals"])
    takedown = body(five_times["Takedown items"])

    assert referrals["MCMC"] == ("Takedown of posted material", 10, 5, 5, 0, 5, 0, 0, 5, 1.25, 4.0)
    assert referrals["All referrals"][-2:] == (0.5, 3.0)
    assert takedown["All agencies"] == (25, 15, 5, 5, 2.0)
    assert five_times["Takedown items"].cell(HEADER + 1, 6).number_format == "0.00"


def test_months_shown_as_small_are_gaps_in_the_chart_not_zeros(tmp_path: Path) -> None:
    from reports.tables import perturb_report

    report = perturb_report(build_report(from_records(CASES)))
    path = tmp_path / "perturbed.xlsx"
    write_workbook(report, path, generated_by="analyst 7")
    ws = load_workbook(path)["Cases by month"]

    shown = [ws.cell(r, 5).value for r in range(5, 8)]  # All cases, January to March: seven cases
    plotted = [ws.cell(r, 7).value for r in range(5, 8)]
    assert "<5" in shown
    assert plotted == [None if v == "<5" else v for v in shown]
    about = " ".join(str(c) for row in load_workbook(path)["About"].iter_rows(values_only=True) for c in row if c)
    assert "Cell-key perturbation" in about and "rows may not sum to the total" in about
