"""The de-identified line list: one row per case-offence, for roles allowed to have it, streamed.

What a row holds is chosen so that it cannot name anyone: no names, no contact details, no
identifiers (not even the case id or reference: a keyed hash that changes with every export lets
rows of one case be grouped without linking them to the case or to another export), no exact
dates (months), age bands instead of ages, and no free text (codes and categories only). A case
with no offence recorded yet has one row with the offence columns empty, so every case counts.

The writer uses openpyxl's write-only mode: rows go to the file as they come from the iterator, so
memory stays flat for a million rows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.counting import most_serious
from reports.dimensions import ORDER, Dimension, case_values, period, sort_values, victim_value
from reports.records import ScopedCase

Progress = Callable[[float], None]
PROGRESS_EVERY = 5_000
MAX_ROWS_PER_SHEET = 1_048_575  # Excel's 1,048,576 rows, less the header


@dataclass(frozen=True, slots=True)
class LineListRow:
    case_key: str
    received_month: str
    incident_month: str
    state: str
    organisation_kind: str
    intake_channel: str
    known_to: str
    platforms: str
    abuse_types: str
    offence_code: str | None
    severity_rank: int | None
    is_most_serious: bool | None
    victims: int | None
    minor_victims: int | None
    victim_age_bands: str | None
    victim_genders: str | None
    payments: str
    material_released: str


HEADERS: dict[str, str] = {
    "case_key": "Case key (changes with every export)",
    "received_month": "Month received",
    "incident_month": "Month of incident",
    "state": "State",
    "organisation_kind": "Organisation kind",
    "intake_channel": "Intake channel",
    "known_to": "Known to",
    "platforms": "Platforms",
    "abuse_types": "Abuse types",
    "offence_code": "Offence code",
    "severity_rank": "Severity rank",
    "is_most_serious": "Most serious offence of the case",
    "victims": "Victims of this offence",
    "minor_victims": "Of whom minors",
    "victim_age_bands": "Victims' age bands",
    "victim_genders": "Victims' genders",
    "payments": "Payments before reporting",
    "material_released": "Material released",
}
COLUMNS = tuple(f.name for f in fields(LineListRow))


def new_export_key() -> bytes:
    """A fresh random key for one export's case keys (never stored with the file)."""
    return secrets.token_bytes(32)


def case_key(case_id: int, key: bytes) -> str:
    return hmac.new(key, str(case_id).encode(), hashlib.sha256).hexdigest()[:16]


def _joined(dimension: Dimension, values: Iterable[str]) -> str:
    return "; ".join(sort_values(dimension, values))


def line_list_rows(cases: Iterable[ScopedCase], key: bytes) -> Iterator[LineListRow]:
    """Rows for scoped cases (see ``reports.scope.iter_scope``), one per case-offence, lazily."""
    if len(key) < 16:
        raise ValueError("the export key must be at least 16 random bytes")
    for scoped in cases:
        case = scoped.case
        common: dict[str, Any] = {
            "case_key": case_key(case.case_id, key),
            "received_month": period(case.received_on, "month"),
            "incident_month": period(case.incident_on, "month"),
            "state": next(iter(case_values(scoped, Dimension.STATE))),
            "organisation_kind": case.organisation_kind,
            "intake_channel": case.intake_channel,
            "known_to": next(iter(case_values(scoped, Dimension.KNOWN_TO))),
            "platforms": _joined(Dimension.PLATFORM, case_values(scoped, Dimension.PLATFORM)),
            "abuse_types": _joined(Dimension.ABUSE_TYPE, case_values(scoped, Dimension.ABUSE_TYPE)),
            "payments": next(iter(case_values(scoped, Dimension.PAYMENTS))),
            "material_released": next(iter(case_values(scoped, Dimension.MATERIAL_RELEASED))),
        }
        if not case.offences:
            empty: dict[str, Any] = dict.fromkeys(HEADERS.keys() - common.keys())  # the offence columns
            yield LineListRow(**common, **empty)
            continue
        victims = {v.victim_id: v for v in case.victims}
        top = most_serious(case.offences)
        for offence in case.offences:
            against = [victims[i] for i in offence.victim_ids if i in victims]
            yield LineListRow(
                **common,
                offence_code=offence.code,
                severity_rank=offence.severity_rank,
                is_most_serious=offence is top,
                victims=len(offence.victim_ids),
                minor_victims=sum(1 for v in against if v.is_minor),
                victim_age_bands=_joined(Dimension.AGE_BAND, (victim_value(v, Dimension.AGE_BAND) for v in against)),
                victim_genders=_joined(Dimension.GENDER, (victim_value(v, Dimension.GENDER) for v in against)),
            )


def write_line_list(
    rows: Iterable[LineListRow],
    output: str | os.PathLike[str] | BinaryIO,
    *,
    generated_by: str,
    filter_lines: Iterable[tuple[str, str]] = (),
    generated_at: datetime | None = None,
    total_rows: int | None = None,
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
    rows_per_sheet: int = MAX_ROWS_PER_SHEET,
    anonymisation: Iterable[tuple[str, str]] = (),
) -> int:
    """Stream rows into a write-only workbook (About sheet, then the line list); returns the number
    of rows. ``progress`` gets the fraction done every few thousand rows when ``total_rows`` is known,
    and 1.0 at the end."""
    if not generated_by or len(generated_by) > 120:
        raise ValueError("generated_by must label the requesting user (1-120 characters)")
    generated_at = (generated_at or datetime.now(UTC)).astimezone(UTC)
    workbook = Workbook(write_only=True)
    about = workbook.create_sheet("About")
    about.column_dimensions["A"].width = 30
    about.column_dimensions["B"].width = 100
    bold = Font(bold=True)

    def line(label: str, text: str = "") -> list[WriteOnlyCell | str]:
        cell = WriteOnlyCell(about, label)
        cell.font = bold
        return [cell, text]

    about.append(line("De-identified line list"))
    about.append(line("Generated at (UTC)", generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")))
    about.append(line("Generated by", generated_by))
    for what, how in filter_lines:
        about.append(line(what, how))
    about.append(
        line(
            "What a row is",
            "One offence of one counted case (a case with no offence recorded has one row with the offence columns "
            "empty). Linked NGO and police records are one case.",
        )
    )
    about.append(
        line(
            "De-identification",
            "No names, contact details, identifiers, case references or free text. Case keys are keyed hashes that "
            "change with every export. Dates are months; ages are bands ("
            + ", ".join(ORDER[Dimension.AGE_BAND])
            + ").",
        )
    )
    for what, how in anonymisation:  # reports.kanon: how far it was generalised and suppressed
        about.append(line(what, how))
    about.append(line("Handling", "Restricted: a line list is microdata. Do not publish or share it."))

    def new_sheet(number: int) -> Any:
        sheet = workbook.create_sheet("Line list" if number == 1 else f"Line list ({number})")
        sheet.freeze_panes = "B2"
        for index, name in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(len(HEADERS[name]) + 2, 36))
        header = []
        for name in COLUMNS:
            cell = WriteOnlyCell(sheet, HEADERS[name])
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F4E78")
            header.append(cell)
        sheet.append(header)
        return sheet

    def close(sheet: Any, rows_in_sheet: int) -> None:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{rows_in_sheet + 1}"

    sheets, in_sheet, written = 1, 0, 0
    sheet = new_sheet(sheets)
    for row in rows:
        if in_sheet == rows_per_sheet:  # Excel stops at 1,048,576 rows: continue on a new sheet
            close(sheet, in_sheet)
            sheets, in_sheet = sheets + 1, 0
            sheet = new_sheet(sheets)
        sheet.append(astuple(row))
        in_sheet += 1
        written += 1
        if progress and total_rows and written % progress_every == 0:
            progress(min(written / total_rows, 0.99))
    close(sheet, in_sheet)
    workbook.save(output)
    if progress:
        progress(1.0)
    return written
