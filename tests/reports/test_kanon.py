"""The line list is k-anonymous on its quasi-identifiers: checked over the written file."""

from __future__ import annotations

import io
from collections import Counter

from openpyxl import load_workbook

from reports.kanon import LEVELS, SUPPRESSED, anonymise, generalise
from reports.linelist import HEADERS, line_list_rows, new_export_key, write_line_list
from reports.scope import scope
from tests.reports.synthetic import generate

QUASI = ("received_month", "incident_month", "state", "victim_age_bands", "victim_genders", "platforms", "offence_code")


def written(size: int, k: int) -> tuple[list[dict[str, object]], dict[str, str]]:
    cases = generate(size, seed=9)
    key = new_export_key()
    result, rows = anonymise(lambda: line_list_rows(scope(cases), key), k)
    output = io.BytesIO()
    write_line_list(rows, output, generated_by="analyst 7", anonymisation=result.describe())
    book = load_workbook(io.BytesIO(output.getvalue()), read_only=True)
    about = {str(r[0]): str(r[1]) for r in book["About"].iter_rows(values_only=True) if r[0]}
    sheet = list(book["Line list"].iter_rows(values_only=True))
    names = {title: name for name, title in HEADERS.items()}
    columns = [names[h] for h in sheet[0]]
    return [dict(zip(columns, row, strict=True)) for row in sheet[1:]], about


def test_every_combination_of_quasi_identifiers_has_at_least_k_rows_in_the_file() -> None:
    rows, about = written(1500, k=5)

    classes = Counter(tuple(row[q] for q in QUASI) for row in rows)
    assert min(classes.values()) >= 5
    assert "at least 5 rows" in about["k-anonymity"]
    assert "Level" in about["Generalisation"] and "rows were left out" in about["Suppression"]


def test_generalisation_goes_as_far_as_needed_and_says_so() -> None:
    rows, about = written(300, k=5)  # few cases: months and states are too fine

    assert "Level 0" not in about["Generalisation"]
    months = {row["received_month"] for row in rows} - {SUPPRESSED}
    assert all("-" not in str(m) or "Q" in str(m) for m in months)  # quarters or years, never months
    suppressed = sum(1 for row in rows if row["state"] == SUPPRESSED)
    assert f"{suppressed:,} of" in about["Suppression"]


def test_levels_coarsen_month_state_and_age() -> None:
    row = next(iter(line_list_rows(scope(generate(5, seed=2)), new_export_key())))
    coarsest = generalise(row, LEVELS[-3])  # year, region, under 18 or not
    assert len(coarsest.received_month) in (4, len("unknown"))
    assert coarsest.state in {"Northern", "Central", "Southern", "East Coast", "East Malaysia", "unknown"}
