"""Prompt templates: golden files, question forms, and a fixed cacheable prefix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.evidence import format_evidence
from rag.prompt import SYSTEM, build_prompt, question_form
from rag.types import Evidence

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("RAG_REGEN_GOLDEN") == "1"  # RAG_REGEN_GOLDEN=1 pytest tests/test_prompt.py


def _ev() -> list[Evidence]:
    return [
        Evidence(1, "a1-0000", "a1", "Regulators fine Quillon", "The Ledger", "2023-10-03", "The board fined Quillon Systems $48 million.", 0, 44),
        Evidence(2, "a1-0001", "a1", "Regulators fine Quillon", "The Ledger", "2023-10-03", "Quillon said it would appeal.", 45, 74),
        Evidence(3, "a2-0000", "a2", "Quillon appeal rejected", "Harbor Daily", "2023-12-13", "The tribunal upheld the fine.", 0, 29),
    ]


@pytest.mark.parametrize(
    ("name", "question"),
    [("yesno", "Did The Ledger report a fine before Harbor Daily reported the appeal ruling?"), ("open", "Which company was fined?")],
)
def test_prompt_golden(name: str, question: str) -> None:
    p = build_prompt(question, format_evidence(_ev()))
    text = f"=== system\n{p.system}\n=== user\n{p.user}\n=== grammar\n{p.grammar}\n"
    path = GOLDEN / f"prompt_{name}.txt"
    if REGEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.read_text() == text
    assert p.form == name


def test_fixed_prefix_is_identical_across_questions() -> None:
    a = build_prompt("Which company was fined?", format_evidence(_ev()))
    b = build_prompt("Did the strike end?", "Article: x\n[1] y")
    assert a.system == b.system == SYSTEM
    assert a.user.startswith("Passages:\n") and b.user.startswith("Passages:\n")
    # the instruction comes after the evidence and the question
    assert a.user.index("Question:") > a.user.index("[3]")
    assert a.user.rstrip().endswith(a.user.split("\n")[-1])


@pytest.mark.parametrize(
    ("q", "form"),
    [
        ("Does the TechCrunch article suggest X?", "yesno"),
        ("Was there a change in the reporting?", "yesno"),
        ("After the Verge report on October 7, was there consistency in the coverage?", "yesno"),
        ("Between the two TechCrunch reports, has the portrayal remained the same?", "yesno"),
        ("Who is the individual accused of fraud?", "open"),
        ("Which company, reported by both outlets, was fined?", "open"),
        ("What is the name of the company that, as The Verge said, did X?", "open"),
        ("Considering the articles, which team won, and did they celebrate?", "open"),
    ],
)
def test_question_form(q: str, form: str) -> None:
    assert question_form(q) == form
