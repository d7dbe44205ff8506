"""Loading reference data from seed/data idempotently, and looking it up."""

from __future__ import annotations

import csv
import difflib
import json
import re
import time
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import make_transient_to_detached

from casework.errors import ValidationFailed
from casework.extensions import db
from casework.models.reference import AbuseType, Agency, OffenceCode, Platform, State

SEED_DIR = Path(__file__).resolve().parents[2] / "seed" / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _bool(value: str) -> bool:
    return value.strip().lower() == "true"


def _decimal(value: str) -> Decimal | None:
    return Decimal(value) if value.strip() else None


def severity_ranks(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Dense rank (1 = least serious) by the punishing section's maximum years, then minimum
    years, then mandatory whipping. Definition rows take the rank of the section punishing them;
    sections with no known penalty rank lowest."""
    rows = list(rows)
    by_code = {r["code"]: r for r in rows}

    def key(row: dict[str, Any]) -> tuple[Decimal, Decimal, bool]:
        return (row["max_years"] or Decimal(-1), row["min_years"] or Decimal(-1), row["whipping_mandatory"])

    keys = sorted({key(r) for r in rows if not r["punished_under"]})
    dense = {k: i + 1 for i, k in enumerate(keys)}
    ranks = {}
    for row in rows:
        target = by_code[row["punished_under"]] if row["punished_under"] else row
        ranks[row["code"]] = dense[key(target)]
    return ranks


def _upsert(model: Any, rows: list[dict[str, Any]], key: str) -> None:
    if not rows:
        return
    statement = insert(model.__table__).values(rows)
    updates = {c: statement.excluded[c] for c in rows[0] if c != key}
    db.session.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates))


def load_reference_data() -> dict[str, int]:
    """Insert or update every reference table from seed/data. Safe to run any number of times."""
    statutes = {
        "PC": "Penal Code (Act 574)",
        "CMA": "Communications and Multimedia Act 1998 (Act 588)",
        "SOAC": "Sexual Offences against Children Act 2017 (Act 792)",
    }
    offences: list[dict[str, Any]] = [
        {
            "code": r["code"],
            "statute": statutes[r["statute_code"]],
            "statute_code": r["statute_code"],
            "section": r["section"],
            "title": r["title"],
            "max_punishment": r["max_punishment"],
            "max_years": _decimal(r["max_years"]),
            "min_years": _decimal(r["min_years"]),
            "whipping_mandatory": _bool(r["whipping_mandatory"]),
            "punished_under": r["punished_under"],
            "is_definition": _bool(r["is_definition"]),
            "is_addon": _bool(r["is_addon"]),
            "is_confirmed": _bool(r["is_confirmed"]),
            "note": r["note"] or None,
            "sources": r["sources"] or None,
        }
        for r in _rows("offences.csv")
    ]
    ranks = severity_ranks(offences)
    links = {r["code"]: r.pop("punished_under") for r in offences}
    for row in offences:
        row["severity_rank"] = ranks[row["code"]]
    _upsert(OffenceCode, offences, "code")
    ids: dict[str, int] = {code: id_ for code, id_ in db.session.execute(select(OffenceCode.code, OffenceCode.id))}
    for code, target in links.items():
        db.session.execute(
            cast(Table, OffenceCode.__table__)  # mapped to a Table; typed as the wider FromClause
            .update()
            .where(OffenceCode.code == code)
            .values(punished_under_id=ids[target] if target else None)
        )
    _upsert(
        State,
        [{**r, "is_federal_territory": _bool(r["is_federal_territory"])} for r in _rows("states.csv")],
        "code",
    )
    _upsert(Platform, _rows("platforms.csv"), "code")
    _upsert(AbuseType, _rows("abuse_types.csv"), "code")
    agencies = json.loads((SEED_DIR / "agencies.json").read_text(encoding="utf-8"))
    for agency in agencies:
        agency["verified_on"] = date.fromisoformat(agency["verified_on"]) if agency["verified_on"] else None
    _upsert(Agency, agencies, "acronym")
    db.session.flush()
    forget_cached_codes()
    return {
        "offence_codes": len(offences),
        "states": db.session.scalar(select(func.count()).select_from(State)) or 0,
        "agencies": len(agencies),
    }


def normalise_offence_code(code: str) -> str:
    """'pc  376(1)' -> 'PC 376(1)': what people type, in the stored form."""
    return " ".join(code.upper().split())


def offence_codes_by_code(codes: Iterable[str]) -> dict[str, OffenceCode]:
    """The offence codes named (in any spelling normalise_offence_code accepts), as rows of the
    current session, from the cache below without a query."""
    wanted = {normalise_offence_code(c) for c in codes}
    cached = _cached_offence_codes()
    return {code: db.session.merge(cached[code], load=False) for code in wanted if code in cached}


def list_offence_codes(q: str | None = None) -> list[OffenceCode]:
    """Offence codes, most serious first; with q, those matching every word of it (see matches_offence)."""
    rows = db.session.scalars(select(OffenceCode).order_by(OffenceCode.severity_rank.desc(), OffenceCode.code))
    if not q:
        return list(rows)
    words = _words(q)
    return [code for code in rows if matches_offence(code, words)]


def _words(text: str) -> list[str]:
    """'pc 376', 'PC376(1)', 'Rape' -> ['pc', '376', ...]: statute letters and sections apart."""
    return [w for w in re.split(r"\s+|(?<=[a-z])(?=\d)", text.lower().strip()) if w]


def matches_offence(code: OffenceCode, words: list[str]) -> bool:
    """Every word names the statute ('pc', 'soac', 'penal'), starts the section ('376' finds
    376(1)..376(4), '233(3)' itself) or starts a word of the title ('rape', 'extort')."""
    section = code.section.lower()
    title_words = re.findall(r"[a-z0-9]+", f"{code.title} {code.statute}".lower())
    for word in words:
        if word == code.statute_code.lower() or section == word:
            continue
        if section.startswith(word) and not section[len(word) : len(word) + 1].isdigit():
            continue
        if not word[:1].isdigit() and any(t.startswith(word) for t in title_words):
            continue
        return False
    return True


def suggest_offence_codes(code: str, limit: int = 5) -> list[str]:
    """The nearest known codes to an unknown one: the sections it starts ('PC 376' -> PC 376(1),
    PC 376(2)...), else the closest spellings."""
    known = sorted(_cached_offence_codes())
    wanted = normalise_offence_code(code)
    started = [c for c in known if c.startswith(wanted) and not c[len(wanted) : len(wanted) + 1].isdigit()]
    if started:
        return started[:limit]
    return difflib.get_close_matches(wanted, known, n=limit, cutoff=0.6)


def unknown_offence_message(code: str) -> str:
    """'Unknown offence code 'PC 376'. Did you mean PC 376(1), PC 376(2)...?' (or without the
    suggestion when nothing is near)."""
    message = f"Unknown offence code {code!r}."
    nearest = suggest_offence_codes(code)
    return f"{message} Did you mean {', '.join(nearest)}?" if nearest else message


# Reference tables change only through `flask seed reference`; a short per-process cache saves
# several queries per case intake without serving stale codes for long.
_CACHE_SECONDS = 300


def _all_codes(model: Any) -> frozenset[str]:
    cache = current_app.extensions.setdefault("casework.reference_codes", {})
    cached = cache.get(model.__tablename__)
    if cached is None or cached[0] < time.monotonic():
        cached = (time.monotonic() + _CACHE_SECONDS, frozenset(db.session.scalars(select(model.code))))
        cache[model.__tablename__] = cached
    return cached[1]


def _cached_offence_codes() -> dict[str, OffenceCode]:
    """Detached copies of every offence code (merged into a session, never used in one)."""
    cache = current_app.extensions.setdefault("casework.reference_codes", {})
    cached = cache.get("offence_codes_by_code")
    if cached is None or cached[0] < time.monotonic():
        by_code = {}
        for row in db.session.execute(select(OffenceCode.__table__)).mappings():
            code = OffenceCode(**row)
            make_transient_to_detached(code)
            by_code[code.code] = code
        cached = (time.monotonic() + _CACHE_SECONDS, by_code)
        cache["offence_codes_by_code"] = cached
    return cached[1]


def forget_cached_codes() -> None:
    current_app.extensions.pop("casework.reference_codes", None)


def known_codes(model: Any, values: Iterable[str]) -> set[str]:
    return set(values) & _all_codes(model)


def require_known(field: str, model: Any, values: Iterable[str | None]) -> None:
    """422 naming the field when a code is not in the reference table."""
    wanted = {v for v in values if v}
    unknown = sorted(wanted - known_codes(model, wanted))
    if unknown:
        raise ValidationFailed("Unknown reference code.", {field: [f"Unknown code(s): {', '.join(unknown)}."]})
