"""Prompt templates: golden files, per-form cues, and a fixed cacheable prefix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.evidence import format_evidence
from rag.forms import KINDS
from rag.prompt import CUES, SYSTEM, build_prompt
from rag.types import Evidence

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("RAG_REGEN_GOLDEN") == "1"  # RAG_REGEN_GOLDEN=1 pytest tests/test_prompt.py


def _ev() -> list[Evidence]:
    return [
        Evidence(1, "a1-0000", "a1", "Regulators fine Quillon", "The Ledger", "2023-10-03", "The board fined Quillon Systems $48 million.", 0, 44),
        Evidence(2, "a1-0001", "a1", "Regulators fine Quillon", "The Ledger", "2023-10-03", "Quillon said on Monday it would appeal.", 45, 84,
                 context="Quillon said on Monday (October 2, 2023) it would appeal."),
        Evidence(3, "a2-0000", "a2", "Quillon appeal rejected", "Harbor Daily", "2023-12-13", "The tribunal upheld the fine.", 0, 29),
    ]


@pytest.mark.parametrize(
    ("name", "question", "form"),
    [("yesno", "Did the tribunal uphold the fine?", "yesno"), ("explanation", "Why was Quillon fined?", "explanation")],
)
def test_prompt_golden(name: str, question: str, form: str) -> None:
    p = build_prompt(question, format_evidence(_ev()), form)
    text = f"=== system\n{p.system}\n=== user\n{p.user}\n=== sentences\n{p.sentences}\n"
    path = GOLDEN / f"prompt_{name}.txt"
    if REGEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.read_text() == text
    assert p.form == form


def test_fixed_prefix_is_identical_across_questions_and_forms() -> None:
    a = build_prompt("Which company was fined?", format_evidence(_ev()), "fact")
    b = build_prompt("Summarize the strike", "Article: x\n[1] y", "summary")
    assert a.system == b.system == SYSTEM
    assert a.user.startswith("Passages:\n") and b.user.startswith("Passages:\n")
    # the cue comes last, after the evidence and the question
    assert a.user.index("Question:") > a.user.index("[3]")
    assert a.user.rstrip().endswith(CUES["fact"]) and b.user.rstrip().endswith(CUES["summary"])


def test_every_form_has_a_cue_and_the_model_reads_resolved_days() -> None:
    assert set(KINDS) <= set(CUES)
    block = format_evidence(_ev())
    assert "on Monday (October 2, 2023)" in block  # the model reads the resolved date
    assert "[2] Quillon said" in block
