"""Prompt templates (constants) and the question-form classifier.

The system message is identical for every question, so llama.cpp reuses its cached
prefix. The variable part (evidence, then the question) comes next, and the short
form-specific instruction comes *last*, where small models follow it best. A GBNF
grammar per form makes the output shape reliable: a first line with the short
answer, then one or two sentences ending in citation markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSTEM = (
    "You answer questions about news articles. Use only the numbered passages you are given, "
    "never outside knowledge. Passages come from articles whose outlet and publication date are "
    "shown above them. Be brief and exact."
)

USER = "Passages:\n{evidence}\n\nQuestion: {question}\n\n{instruction}"

INSTRUCTIONS = {
    "yesno": (
        "Answer Yes or No on the first line. On the second line write one sentence that says why, "
        "ending with the numbers of the passages it uses, like [1] or [2][3]."
    ),
    "open": (
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
    grammar: str


def build_prompt(question: str, evidence_block: str, form: str | None = None) -> Prompt:
    form = form or question_form(question)
    user = USER.format(evidence=evidence_block, question=" ".join(question.split()), instruction=INSTRUCTIONS[form])
    return Prompt(SYSTEM, user, form, GRAMMARS[form])
