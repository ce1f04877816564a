"""The parts of a Yes/No claim naming two outlets (``rag.claims``)."""

from __future__ import annotations

from datetime import date

import pytest

from rag.claims import claim_parts
from rag.query import OutletMatcher, parse_query

SOURCES = ["TechCrunch", "The Verge", "Sporting News", "The Guardian", "Cnbc | World Business News Leader", "Fortune", "Harbor Daily", "The Ledger"]


def parts(q: str) -> list[tuple[str, str]]:
    parsed = parse_query(q, OutletMatcher(SOURCES), date(2023, 12, 31))
    return [(p.outlet, p.question) for p in claim_parts(parsed)]


def test_two_outlets_one_shared_claim() -> None:
    assert parts("Did Sporting News and The Guardian both single out Scott McTominay in United's win over Chelsea?") == [
        ("Sporting News", "Does this passage single out Scott McTominay in United's win over Chelsea?"),
        ("The Guardian", "Does this passage single out Scott McTominay in United's win over Chelsea?"),
    ]


def test_two_outlets_two_claims_third_person_verb() -> None:
    got = parts(
        "Does the TechCrunch article suggest that app rankings are dominated by Chinese companies, while the report "
        "from Cnbc | World Business News Leader indicates that U.S. companies face new restrictions?"
    )
    assert got == [
        ("TechCrunch", "Does this passage suggest that app rankings are dominated by Chinese companies?"),
        ("Cnbc | World Business News Leader", "Does this passage indicate that U.S. companies face new restrictions?"),
    ]


def test_casual_and_did() -> None:
    got = parts("did fortune say altman was fired by the board, and did The Verge say he returned as CEO?")
    # "fortune" in lower case is not the outlet: that clause is asked as it is, of any passage
    assert got == [("", "Did fortune say altman was fired by the board?"), ("The Verge", "Does this passage say he returned as CEO?")]
    got = parts("Did Fortune say Altman was fired by the board, and did The Verge say he returned as CEO?")
    assert got == [
        ("Fortune", "Does this passage say Altman was fired by the board?"),
        ("The Verge", "Does this passage say he returned as CEO?"),
    ]


def test_both_outlets_call() -> None:
    got = parts("Did Harbor Daily and The Ledger both call Quillon's fine the largest the board had issued?")
    assert [q for _, q in got] == ["Does this passage call Quillon's fine the largest the board had issued?"] * 2


@pytest.mark.parametrize(
    "q",
    [
        # a relation between the reports is not a claim of each
        "Between the TechCrunch report on Uber's safety and The Verge report on its earnings, was there a change in focus?",
        "Do TechCrunch and The Verge agree on the price of the Steam Deck OLED?",
        "Did TechCrunch report on the layoffs before The Verge did?",
        "Does Fortune describe the deal differently from TechCrunch?",
        # one outlet, or two articles of one outlet: a passage cannot tell the parts apart
        "Did TechCrunch report that Cruise recalled its cars?",
        "Does the TechCrunch article say X, while the other TechCrunch article says Y?",
        # no claim at all
        "Did TechCrunch and The Verge?",
    ],
)
def test_not_a_conjunction(q: str) -> None:
    assert parts(q) == []


def test_clauses_joined_by_and_with_a_new_auxiliary() -> None:
    got = parts("At the Bankman-Fried trial, did Danielle Sassoon give the opening statement, and was she also the prosecutor who cross-examined him?")
    assert got == [
        ("", "At the Bankman-Fried trial, did Danielle Sassoon give the opening statement?"),
        ("", "Was Danielle Sassoon also the prosecutor who cross-examined him?"),
    ]
    # "and Will" joins two people: one question
    assert parts("Did Jada Pinkett Smith reveal that she and Will have been separated since 2016?") == []
    got = parts("Could you check whether TechCrunch said the DOJ claims Google gets 16 times more data, and whether Judge Mehta has ruled?")
    assert got == [
        ("TechCrunch", "Does this passage say that the DOJ claims Google gets 16 times more data?"),
        ("", "Has Judge Mehta ruled?"),
    ]


def test_it_after_the_second_auxiliary_is_named_unless_it_is_only_there_for_the_grammar() -> None:
    assert parts("Was Quillon fined $48 million, and did it win its appeal?") == [
        ("", "Was Quillon fined $48 million?"),
        ("", "Did Quillon win its appeal?"),
    ]
    assert parts("Did Michigan beat Ohio State 30-24, and was it Blake Corum who broke his leg?")[1] == (
        "",
        "Was it Blake Corum who broke his leg?",
    )


def test_a_past_reporting_verb_is_asked_in_its_base_form() -> None:
    got = parts("Could you check whether Harbor Daily reported the fine, and whether the tribunal upheld it?")
    assert got[0] == ("Harbor Daily", "Does this passage report the fine?")
