"""Follow-up questions -> standalone questions, without an LLM.

A chat follow-up such as "What did The Verge say about him?" cannot be retrieved on
its own. ``rewrite`` resolves it against the previous turn:

* third-person pronouns (he/him/his/she/her/they/them/their/it/its) are replaced by
  the previous short answer when that answer is a name, else by the main named
  subject of the previous question;
* a fragment that names no subject of its own ("And The Verge?", "What about in
  November?") is completed with the previous question's subject.

A question that already stands alone is returned unchanged. The rewritten form is
shown to the user, so a wrong guess is visible and easy to correct.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.words import COMMON_CAPS, is_refusal

PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|they|them|their|theirs|it|its)\b", re.I)
POSSESSIVE = {"his", "her", "hers", "their", "theirs", "its"}
FRAGMENT = re.compile(r"^\s*(?:and|what about|how about|and what about|also)\b", re.I)
NAME = re.compile(r"\b(?:[A-Z][\w&'’.-]+)(?:\s+(?:of\s+|the\s+)?[A-Z][\w&'’.-]+)*")
_SKIP = COMMON_CAPS


@dataclass(frozen=True)
class Turn:
    question: str  # the standalone form that was answered
    answer: str  # the short answer ("" if none)


def _subject(question: str) -> str:
    for m in NAME.finditer(question):
        words = m.group().split()
        while words and words[0] in _SKIP:
            words = words[1:]
        if words:
            return " ".join(words)
    return ""


def _is_name(answer: str) -> bool:
    a = answer.strip().rstrip(".")
    return (
        bool(a)
        and a.lower() not in {"yes", "no"}
        and not is_refusal(a)
        and a[:1].isupper()
        and len(a.split()) <= 6
    )


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """The standalone form of ``question`` given the previous turns (most recent last)."""
    q = " ".join(question.split())
    if not history or not q:
        return q
    prev = history[-1]
    referent = prev.answer.strip().rstrip(".") if _is_name(prev.answer) else _subject(prev.question)
    if not referent:
        return q
    if PRONOUN.search(q):

        def sub(m: re.Match[str]) -> str:
            word = m.group(1)
            return referent + ("'s" if word.lower() in POSSESSIVE else "")

        return PRONOUN.sub(sub, q)
    if FRAGMENT.match(q):
        rest = FRAGMENT.sub("", q).strip(" ?,")
        return f"{prev.question.rstrip('?')} ({rest})?" if rest else prev.question
    return q
