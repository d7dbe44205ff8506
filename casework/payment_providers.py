"""Banks and e-wallet providers, so a bank account's or e-wallet's qualifier names one provider
whatever its spelling: `AmBank`, `AmBank Berhad`, `AmBank (M) Berhad`, `AMBB` and its SWIFT/BIC
`ARBKMYKL` are all `ambank`, and the same account number there is one identifier.

The list is seed/data/payment_providers.csv (Malaysian banks with their common names and SWIFT/BIC
codes, e-wallets such as Touch 'n Go, GrabPay, Boost, ShopeePay). A provider not on it keeps the
qualifier as written (lower-cased): a foreign bank is still recorded.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SEED_FILE = Path(__file__).resolve().parents[1] / "seed" / "data" / "payment_providers.csv"
# Company-form words that people add or leave out: "AmBank (M) Berhad" is "AmBank".
_FORM_WORDS = re.compile(r"\b(berhad|bhd|m|malaysia)\b")


@dataclass(frozen=True, slots=True)
class Provider:
    code: str  # the canonical qualifier, e.g. "ambank"
    kind: str  # bank | ewallet
    name: str
    swift: str | None
    aliases: tuple[str, ...]
    is_confirmed: bool
    note: str | None


def _key(text: str) -> str:
    """'AmBank (M) Berhad' -> 'ambank'; "Touch 'n Go" -> 'touchngo': letters and digits only."""
    lowered = text.lower().replace("&", " and ").replace("'", "")
    words = re.sub(r"[^a-z0-9]+", " ", lowered)
    stripped = _FORM_WORDS.sub(" ", words)
    return re.sub(r"\s+", "", stripped if stripped.strip() else words)


@cache
def providers() -> tuple[Provider, ...]:
    with SEED_FILE.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Provider(
                code=row["code"],
                kind=row["kind"],
                name=row["name"],
                swift=row["swift"] or None,
                aliases=tuple(a for a in row["aliases"].split(";") if a),
                is_confirmed=row["is_confirmed"].strip().lower() == "true",
                note=row["note"] or None,
            )
            for row in csv.DictReader(handle)
        )


@cache
def _by_key(kind: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for provider in providers():
        if provider.kind != kind:
            continue
        names = [provider.code, provider.name, *provider.aliases]
        if provider.swift:
            names += [provider.swift, provider.swift[:4]]
        for name in names:
            found.setdefault(_key(name), provider.code)
    return found


def canonical(kind: str, qualifier: str) -> str | None:
    """The provider's code for a spelling of its name, alias or SWIFT/BIC (8 or 11 characters),
    or None when it is not on the list."""
    key = _key(qualifier)
    table = _by_key(kind)
    if key in table:
        return table[key]
    if len(key) == 11 and key[:8] in table:  # a branch BIC: the bank's 8 characters
        return table[key[:8]]
    return None
