"""Prompt templates (constants) and the question-form classifier.

Two answer styles share one evidence block and one question line:

* ``extractive`` (default, for small models): the model only *decides*. For a Yes/No
  question it reads the prompt once and the pipeline compares the probabilities of
  "Yes" and "No" as its first token; for other questions it writes the short answer
  (a name, number or date) and stops at the end of the line. The pipeline then quotes
  the evidence sentences that support the decision, with their citations.
* ``generative`` (for bigger models): the model writes the short answer and one or
  two sentences ending in citation markers, shaped by a GBNF grammar; ``rag.cite``
  checks every sentence.

All instructions live in the system message, which is identical for every question,
so llama.cpp keeps it in its cache; the variable part (evidence, then the question)
follows, and a short cue comes *last*, where small models follow it best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSTEM = (
    "You answer questions about news articles using only the numbered passages given with the "
    "question, never outside knowledge. Each passage shows its outlet and publication date. "
    "Answer Yes/No questions with Yes or No. Answer other questions with only the name, number or "
    "date asked for, in a few words. If the passages do not contain the answer, say: "
    "Insufficient information."
)

USER = "Passages:\n{evidence}\n\nQuestion: {question}\n{instruction}"

INSTRUCTIONS = {
    ("extractive", "yesno"): "Answer Yes or No.",
    ("extractive", "open"): "Answer in a few words.",
    ("generative", "yesno"): (
        "Answer Yes or No on the first line. On the second line write one sentence that says why, "
        "ending with the numbers of the passages it uses, like [1] or [2][3]."
    ),
    ("generative", "open"): (
        "On the first line write only the answer: a name, a number or a date. On the second line "
        "write one sentence that supports it, ending with the numbers of the passages it uses, like "
        "[1] or [2][3]. If the passages do not contain the answer, write only: Insufficient information."
    ),
}

_SENTENCE = r'sentence ::= [^\n\[\]]+ cites "."?' + "\n" + r'cites ::= ("[" [1-9] [0-9]? "]")+'
GRAMMARS = {
    "yesno": 'root ::= ("Yes" | "No") "\\n" sentence\n' + _SENTENCE,
    "open": (
        'root ::= answer | refuse\nrefuse ::= "Insufficient information."\nanswer ::= [^\\n\\[\\]]+ "\\n" sentence\n' + _SENTENCE
    ),
}

_AUX = "does|did|do|is|was|were|are|has|have|had|can|could|would|will|should|shall|may|might|must"
_WH = "who|whom|whose|what|which|when|where|why|how"
_AUX_START = re.compile(rf"^\s*(?:{_AUX})\b", re.I)
_CLAUSE_AUX = re.compile(rf",\s*(?:and\s+)?(?:{_AUX})\b", re.I)
_WH_ANY = re.compile(rf"(?:^|[,;]\s*|\s)(?:{_WH})\b", re.I)


def question_form(question: str) -> str:
    """'yesno' for questions answered by Yes/No, else 'open'.

    Yes/No: the question starts with an auxiliary verb ("Does ...", "Was ..."), or an
    introductory phrase is followed by ", <auxiliary>" ("After the report ..., was there
    ...") before any wh-word.
    """
    q = question.strip()
    if _AUX_START.match(q):
        return "yesno"
    aux = _CLAUSE_AUX.search(q)
    wh = _WH_ANY.search(q)
    if aux and (wh is None or aux.start() < wh.start()):
        return "yesno"
    return "open"


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    form: str
    style: str
    grammar: str | None


def build_prompt(question: str, evidence_block: str, form: str | None = None, style: str = "extractive") -> Prompt:
    """The prompt for one question; ``style`` is 'extractive' or 'generative' (see above)."""
    form = form or question_form(question)
    user = USER.format(evidence=evidence_block, question=" ".join(question.split()), instruction=INSTRUCTIONS[style, form])
    return Prompt(SYSTEM, user, form, style, GRAMMARS[form] if style == "generative" else None)
