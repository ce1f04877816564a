"""Prompt templates (constants) and the answer grammar.

One fixed system message holds every instruction, so llama.cpp keeps its KV cache
from one question to the next; the variable part follows: the numbered evidence,
the question, and last a short cue for the question's form (``rag.forms``), where
small models follow it best.

The model writes the *direct answer*: one or two short plain sentences, or
"Insufficient information."; the pipeline stops it at the end of the line or of its
last allowed sentence, and ``rag.compose`` ties each sentence to the passages that
state what it says (the model's own ``[n]`` markers are kept when they point at such
a passage). For a Yes/No question the model first chooses between "Yes", "No" and
"Insufficient" over all the passages (first-token probabilities, no bias); "Insufficient"
refuses, otherwise Yes or No is decided again over the one passage that settles it
(``build_settle_prompt``), the passage the answer then shows, unless the model is unsure
between them (``rag.pipeline.YESNO_SURE``): then that passage is quoted for the reader. A
claim of two parts (``rag.claims``) is settled part by part, each part put to its own passage
as "Does this passage ...?". (A GBNF grammar that forced a marker after every sentence was
tried: the 0.5B model then ran on without ever closing a sentence, and grammar-
constrained sampling cost about a second per token here.)
The supporting sentences that follow the direct answer are chosen and checked by
``rag.compose`` and ``rag.cite``, not written by the model.
"""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM = (
    "You answer questions about news articles using only the numbered passages given with the "
    "question, never outside knowledge. Each passage shows its outlet and publication date. "
    "Answer exactly what is asked, in one or two short, plain sentences. Write dates in full, "
    "like October 2, 2023. Do not add anything the passages do not say. If the passages do not "
    "answer the question, write: Insufficient information."
)

USER = "Passages:\n{evidence}\n\nQuestion: {question}\n{cue}"

CUES = {
    "fact": "Answer with the name, number or date asked for, in one short sentence.",
    "yesno": "Answer Yes or No, then give the reason from the passages.",
    "explanation": "Explain why or how, in one or two sentences.",
    "event": "Say what happened, in one or two sentences.",
    "summary": "Summarize the story in one or two sentences.",
    "timeline": "Say how it developed, with dates, in one or two sentences.",
    "comparison": "Say how they compare, in one or two sentences.",
    "list": "Name them all in one sentence.",
    "latest": "Give the latest news and its date, in one or two sentences.",
    "open": "Answer in one or two sentences.",
}

# A Yes/No question is decided over the one passage that bears on it most (the one shown as
# settling it): over all the passages the 0.5B model said "No" to 8 of 8 sample questions
# whatever they said; over that passage alone it decided 15 of 18 natural Yes/No questions right
SETTLE_USER = "Passage: {passage}\n\nQuestion: {question}\nAnswer Yes or No, from the passage only."


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    form: str
    sentences: int  # how many sentences the direct answer may have


def build_settle_prompt(question: str, passage: str) -> Prompt:
    """The prompt deciding a Yes/No question over its settling passage (first token Yes / No)."""
    q = " ".join(question.split())
    return Prompt(SYSTEM, SETTLE_USER.format(passage=" ".join(passage.split()), question=q), "yesno", 1)


def build_prompt(question: str, evidence_block: str, form: str = "open") -> Prompt:
    """The prompt for one question of the given form (``rag.forms`` kinds)."""
    cue = CUES.get(form, CUES["open"])
    user = USER.format(evidence=evidence_block, question=" ".join(question.split()), cue=cue)
    return Prompt(SYSTEM, user, form, 1 if form in ("fact", "yesno", "list", "latest") else 2)
