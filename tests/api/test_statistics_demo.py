"""The figures the product exists to show are visible in the demo's national report (issue 14):
cases known only to an NGO, and the hidden numbers of the sections that have many."""

from __future__ import annotations

from typing import Any

import pytest

from casework.extensions import db
from casework.models.users import Role
from casework.services import demo


def _rows(report: dict[str, Any], name: str) -> dict[Any, list[Any]]:
    table = next(t for t in report["tables"] if t["name"] == name)
    return {row["labels"][0] or row["labels"][1]: row["cells"] for row in table["rows"]}


@pytest.mark.committing  # statistics read through their own connection: the cases must be committed
def test_the_demo_national_report_shows_ngo_only_cases_and_large_hidden_numbers(app_ctx, make_client, factory):
    demo.seed_everything(echo=lambda _: None)  # reference data, demo accounts, 3,000 synthetic cases
    user = factory.user(Role.ANALYST)
    db.session.commit()
    analyst = make_client().as_user(user)
    response = analyst.get("/api/v1/statistics/report")  # the national report: every organisation, all time
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["scope"] == "all organisations" and not report["suppression"]["exact"]

    ngo_only = _rows(report, "Known to")["Known only to an NGO"][0]
    assert isinstance(ngo_only, int) and ngo_only >= 20, ngo_only

    # (b) involving - (a) most serious, per section: adjusted by at most 2, so a number >= 20 here
    # is a true hidden number of at least 18, shown rather than withheld.
    offences = {code: cells for code, cells in _rows(report, "Offences").items() if code != "Total"}
    shown_hidden = [code for code, cells in offences.items() if isinstance(cells[-1], int) and cells[-1] >= 20]
    assert len(shown_hidden) >= 3, offences
    assert all(cell != "x" for cells in offences.values() for cell in cells)
