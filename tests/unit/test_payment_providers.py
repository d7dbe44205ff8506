"""A bank's or e-wallet's name in any spelling, alias or SWIFT/BIC is one qualifier."""

from __future__ import annotations

import pytest

from casework.identifiers import normalise
from casework.models.identifiers import IdentifierKind
from casework.payment_providers import canonical, providers


@pytest.mark.parametrize(
    "spelling", ["AmBank", "AmBank Berhad", "AMBB", "ambank (m) berhad", "ARBKMYKL", "ARBKMYKLXXX"]
)
def test_every_spelling_of_ambank_is_one_qualifier(spelling):
    assert normalise(IdentifierKind.BANK_ACCOUNT, "888-1234-5678", spelling) == ("ambank", "88812345678")


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("Maybank", "maybank"),
        ("Malayan Banking Berhad", "maybank"),
        ("MBBEMYKL", "maybank"),
        ("CIMB Bank Bhd", "cimb"),
        ("Public Bank", "public bank"),
        ("Bank Simpanan Nasional", "bsn"),
        ("HLB", "hong leong bank"),
    ],
)
def test_banks_by_name_alias_or_swift(spelling, code):
    assert canonical("bank", spelling) == code


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("Touch 'n Go", "touch 'n go"),
        ("TNG eWallet", "touch 'n go"),
        ("Grab Pay", "grabpay"),
        ("Boost", "boost"),
        ("ShopeePay", "shopeepay"),
    ],
)
def test_ewallets_by_name_or_alias(spelling, code):
    assert normalise(IdentifierKind.EWALLET, "012-345 6789", spelling) == (code, "+60123456789")


def test_a_provider_not_on_the_list_is_kept_as_written():
    assert normalise(IdentifierKind.BANK_ACCOUNT, "12345678", "  Bank Of  Somewhere ") == (
        "bank of somewhere",
        "12345678",
    )
    assert canonical("ewallet", "Maybank") is None  # banks are not e-wallet providers


def test_the_list_has_unique_codes_and_swift_codes_of_eight_characters():
    codes = [p.code for p in providers()]
    assert len(codes) == len(set(codes))
    assert all(len(p.swift) == 8 for p in providers() if p.swift)
    assert {p.kind for p in providers()} == {"bank", "ewallet"}
