"""Repeat perpetrators: identifiers in two or more cases, and the groups of cases they join."""

from __future__ import annotations

from reports.perpetrators import IdentifierLink, case_groups, repeat_links, summarise


def link(case_id: int, identifier_id: int, kind: str = "phone") -> IdentifierLink:
    return IdentifierLink(case_id, identifier_id, kind)


def test_cases_sharing_identifiers_through_a_chain_form_one_group() -> None:
    # 1-2 share phone 10, 2-3 share bank account 20, 4-5 share phone 30, 6 shares nothing
    links = [
        link(1, 10),
        link(2, 10),
        link(2, 20, "bank_account"),
        link(3, 20, "bank_account"),
        link(4, 30),
        link(5, 30),
        link(6, 40),
    ]

    assert case_groups(links) == [frozenset({1, 2, 3}), frozenset({4, 5})]
    assert repeat_links(links) == [x for x in links if x.identifier_id != 40]
    summary = summarise(links)
    assert summary.identifiers == {"phone": 2, "bank_account": 1}
    assert summary.cases == {"phone": 4, "bank_account": 2}
    assert summary.cases_total == 5
    assert summary.groups == {"2 cases": (1, 2), "3-5 cases": (1, 3), "6-10 cases": (0, 0), "11 or more cases": (0, 0)}


def test_an_identifier_named_twice_in_one_case_is_not_a_repeat() -> None:
    links = [link(1, 10), link(1, 10)]

    assert repeat_links(links) == []
    assert summarise(links).cases_total == 0


def test_a_telegram_group_shared_by_eleven_cases_is_one_large_group() -> None:
    links = [link(case_id, 99, "chat_group") for case_id in range(1, 12)]

    assert summarise(links).groups["11 or more cases"] == (1, 11)
