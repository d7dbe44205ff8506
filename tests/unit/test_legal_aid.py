"""Legal aid eligibility from declared means: the thresholds as data, with the date they took effect."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from casework import legal_aid

TODAY = date(2026, 6, 1)


def by_scheme(income: str | None, on: date = TODAY) -> dict[str, legal_aid.Assessment]:
    return {a.scheme: a for a in legal_aid.assess(Decimal(income) if income else None, on)}


@pytest.mark.parametrize(
    ("income", "jbg_aid", "jbg_qualifies", "ybgk_aid"),
    [
        ("0", "full", True, "full"),
        ("36000", "full", True, "full"),  # RM3,000 a month exactly
        ("36000.12", "full", True, "not_eligible"),
        ("50000", "full", True, "not_eligible"),
        ("50000.50", "partial_with_contribution", True, "not_eligible"),  # between the file's 50,000 and 50,001
        ("70000", "partial_with_contribution", True, "not_eligible"),
        ("70000.01", "ministerial_approval", False, "not_eligible"),
    ],
)
def test_bands(income, jbg_aid, jbg_qualifies, ybgk_aid):
    result = by_scheme(income)
    assert (result["JBG"].aid, result["JBG"].qualifies) == (jbg_aid, jbg_qualifies)
    assert result["YBGK"].aid == ybgk_aid and result["YBGK"].basis == "monthly"


def test_jbg_bands_say_when_they_took_effect_and_where_from():
    jbg = by_scheme("42000")["JBG"]
    assert jbg.effective_from == date(2023, 5, 1) and "128/2023" in (jbg.source or "")
    assert jbg.max_income == Decimal(50000)


def test_unknown_income_is_unknown_not_ineligible():
    result = by_scheme(None)
    assert {a.aid for a in result.values()} == {"unknown"} and result["JBG"].qualifies is None


def test_before_the_2023_thresholds_jbg_is_not_assessed():
    # Older JBG tiers (RM25k/30k) are not in the data: better no answer than a wrong one.
    assert set(by_scheme("20000", on=date(2023, 4, 30))) == {"YBGK"}


def test_a_newer_set_of_thresholds_replaces_the_old_one_from_its_date():
    rows = [
        {"scheme": "JBG", "aid": "full", "basis": "annual", "max_income": 50000, "effective_from": "2023-05-01"},
        {"scheme": "JBG", "aid": "full", "basis": "annual", "max_income": 60000, "effective_from": "2027-01-01"},
    ]
    thresholds = legal_aid.parse_thresholds(rows)
    before = legal_aid.assess(Decimal(55000), date(2026, 12, 31), thresholds)
    after = legal_aid.assess(Decimal(55000), date(2027, 1, 1), thresholds)
    assert before[0].aid == "not_eligible" and after[0].aid == "full"
