"""The parts of a two-part Yes/No claim, each to be checked over its own passage.

"Was Quillon fined, and did it appeal?" is true only if both are; "Did Sporting News and
The Guardian both single out Scott McTominay?" only if each outlet did; "Does TechCrunch
report X, while CNBC reports Y?" only if TechCrunch reports X and CNBC reports Y. Decided
over one passage, such a question is judged on one side only (stop 35: the 0.5B said "No"
to most of them over the first side's passage). So each part becomes a question of its own,
asked of the passage that bears on it:

* clauses joined by "and" before a new auxiliary or "whether" ("..., and did X ...?",
  "whether X, and whether Y") are parts; a clause that names one outlet is asked of that
  outlet's passage, as "Does this passage ...?" (a passage does not say which outlet it is from);
* otherwise, two or more different outlets each get the words of the question that belong
  to them (``ParsedQuery.segments``); a part that states no claim of its own ("Did Sporting
  News and ...") shares the next part's claim.

Outlets asked whether they *differ*, *agree*, *changed* or came *before* one another are
not a conjunction of claims (each report may say what it says and the answer still be No),
so such a question gets no parts and is decided as one claim.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from rag.forms import AUX, unwrap
from rag.lexical import stopwords, terms
from rag.query import OutletMention, ParsedQuery

# a relation between the reports, not a claim of each: decided as one question
_RELATION = re.compile(
    r"\b(?:change[sd]?|changing|consisten\w*|inconsisten\w*|differ\w*|same|similar\w*|agree\w*|disagree\w*|"
    r"before|after|between|earlier|later|compar\w*|contradict\w*|match\w*|align\w*|alike)\b",
    re.I,
)
# "..., and did the board ...", "... and whether the judge ...": a second question joined to the first
# (in lower case: "she and Will have been separated" joins two people, not two questions)
_CLAUSE = re.compile(rf",?\s+and\s+(?=(?:{AUX}|whether|if)\s)")
_WHETHER = re.compile(r"^(?:whether|if)\s+", re.I)


def _asked(clause: str) -> str:
    """A clause without its polite frame: "Could you check whether X" -> "X" (``rag.forms.unwrap``)."""
    return _WHETHER.sub("", unwrap(clause.strip(" ,")))

# what opens a part before its claim: "Does the", "the report from", "while the", "and", "both"
_LEAD = re.compile(
    r"^(?:(?:,|;|while|whereas|and|but|also|both|as\s+well\s+as|in\s+contrast\s+to)\s+)*"
    rf"(?:(?:{AUX})(?:\s+|$))?"
    r"(?:(?:both|also|each)\s+)?(?:(?:the|a|an|this|that|its|their)\s+"
    r"(?:(?:article|report|piece|story|coverage|post|column|source|outlet|site|paper)s?\s+)?|"
    r"(?:article|piece|stor(?:y|ie)|coverage)s?\s+)?"  # a noun that is never a verb needs no article
    r"(?:(?:from|by|in|of|on)\s+)?(?:(?:both|also|each)\s+)?",
    re.I,
)
_PUNCT = re.compile(r"^[\s'\"‘’“”,;:|-]+|[\s'\"‘’“”,;:?.!|-]+$")
_BASE = {"has": "have", "does": "do", "focuses": "focus", "discusses": "discuss"}
# a reporting verb in the past, as the question to a passage has it: "reported the fine" -> "report the fine"
_PAST = {"said": "say", "wrote": "write"}
_PAST.update({v + "d" if v.endswith("e") else v + "ed": v for v in "report claim state call describe note reveal suggest indicate".split()})
_NOT_VERB = frozenset("is was were are has had been its his her their this that these those".split())
_FRAMING = frozenset("article report piece story coverage outlet source say said says report reported".split())
# "... report on 'Game 3' indicate that X": the claim is what follows the verb before "that"
_THAT = re.compile(r"\b([a-z]{3,})\s+that\s+(.+)$")
_VERB_START = re.compile(r"^[a-z]+\b(?!['’])")
# "Engadget's Mario review say X": the claim is what follows a reporting verb
_REPORTING = re.compile(
    r"\b(say|says|said|report|reports|reported|write|writes|wrote|claim|claims|claimed|state|states|stated|call|calls|called|"
    r"describe|describes|described|note|notes|noted)\s+(.+)$"
)


@dataclass(frozen=True)
class ClaimPart:
    """One part of a claim: the outlets its passage must be from (any, when empty), the
    question put to that passage, the words its passage is chosen by, and how it is named."""

    sources: tuple[str, ...]
    question: str
    words: str
    outlet: str = ""


def _states(claim: str) -> bool:
    """Does a part's claim say anything of its own ("Did Sporting News and ..." does not)?"""
    return bool(set(terms(claim)) - _FRAMING - stopwords())


def _base(verb: str) -> str:
    low = verb.lower()
    if low in _BASE:
        return _BASE[low]
    if low.endswith("ies") and len(low) > 4:
        return verb[:-3] + "y"
    if low.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return verb[:-2]
    if low.endswith("s") and not low.endswith("ss") and len(low) > 3:
        return verb[:-1]
    return verb


def _claim(words: str) -> str:
    """The claim of a part's words, as a verb phrase: "the report from indicates that X" -> "indicates that X"."""
    text = _PUNCT.sub("", " ".join(words.split()))
    prev = None
    while prev != text:  # "Does the article from" and "while the" may both open it
        prev = text
        text = _PUNCT.sub("", _LEAD.sub("", text, count=1))
        text = re.sub(r"^s\s+", "", text)  # what is left of "Engadget's" once the outlet is taken out
    return text


def _passage_question(claim: str) -> str:
    """The question put to an outlet's passage ("Does this passage indicate that X?"), or ''
    when the claim holds no verb phrase to put to it."""
    that = _THAT.search(claim)
    if that and that.group(1) not in _NOT_VERB and that.group(1) not in ("so", "such", "now"):
        verb = that.group(1)
        return f"Does this passage {_PAST.get(verb) or _base(verb)} that {that.group(2)}?"
    first, _, rest = claim.partition(" ")
    if not _VERB_START.match(claim) or first in _FRAMING - {"say", "says", "said", "report", "reported"}:
        said = _REPORTING.search(claim)  # "Engadget's Mario review say X"
        if not said:
            return ""
        first, rest = said.group(1), said.group(2)
    if first in _NOT_VERB:  # "is reporting that ...", "has said ..."
        return f"Does this passage say that it {claim}?"
    if first == "said":  # "said the DOJ claims X" -> "say that the DOJ claims X"
        return f"Does this passage say that {rest}?"
    if first in _PAST:  # "reported the fine" -> "report the fine" (not "say that the fine")
        return f"Does this passage {_PAST[first]}{' ' + rest if rest else ''}?"
    return f"Does this passage {_base(first)}{' ' + rest if rest else ''}?"


def _outlet_parts(parsed: ParsedQuery) -> list[ClaimPart]:
    segs = parsed.segments()
    if len(segs) < 2 or _RELATION.search(parsed.text):
        return []
    if len({m.sources for m, _ in segs}) < len(segs):
        return []  # two articles of one outlet: a passage cannot tell which part it speaks to
    claims = [_claim(words) for _, words in segs]
    if not any(_states(c) for c in claims):
        return []
    # a part that states nothing shares the claim of the next part that does ("Did Sporting News and
    # The Guardian both say X?", "... while the Fortune and TechCrunch articles accuse him of Y"), or
    # of the last one before it
    shared = []
    for i, c in enumerate(claims):
        later = [x for x in claims[i:] if _states(x)]
        shared.append(c if _states(c) else (later[0] if later else [x for x in claims[:i] if _states(x)][-1]))
    questions = [_passage_question(c) for c in shared]
    if not all(questions):
        return []
    return [ClaimPart(m.sources, q, c, m.text) for (m, _), q, c in zip(segs, questions, shared, strict=True)]


_NAME_RUN = re.compile(r"(?<!^)\b[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*")
# "it" only before a verb: "did it win its appeal?", not "was it Blake Corum who ..."
_PRONOUN = re.compile(rf"^((?:[^,]*,\s*)?(?:{AUX})\s+)(he|she|they|it(?=\s+(?-i:[a-z])))\b", re.I)


def _named(question: str, before: str) -> str:
    """A clause's "he", "she", "they" or "it" after its auxiliary, named as the clause before
    names its subject: "Has she since been sentenced?" after "Did Caroline Ellison testify ...?"."""
    names = [m.group(0) for m in _NAME_RUN.finditer(before) if m.group(0).lower() not in _NOT_VERB]
    # the subject is the name after the auxiliary ("At the Bankman-Fried trial, did Danielle Sassoon ...")
    subject = re.search(rf"\b(?:{AUX})\s+(?:the\s+)?([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)", before)
    names = [subject.group(1)] if subject else names
    pronoun = _PRONOUN.match(question)
    if not pronoun or not names:
        return question
    return question[: pronoun.start(2)] + names[0] + question[pronoun.end(2) :]


_INVERT = re.compile(
    r"^((?:(?!(?:said|says|reported|reports|claimed|claims|told|wrote|thinks?|believes?)\b)\S+\s+){0,5}?\S+)\s+"
    r"(has|have|had|is|are|was|were|will|would|can|could)\s+(.+)$",
    re.I,
)


def _clause_part(text: str, start: int, mentions: list[OutletMention]) -> ClaimPart | None:
    inside = [m for m in mentions if start <= m.start < start + len(text)]
    if len(inside) > 1:
        return None
    if inside:  # "did The Verge report X": asked of a Verge passage, which does not name The Verge
        m = inside[0]
        claim = _claim(_asked(text[: m.start - start] + " " + text[m.end - start :]))
        q = _passage_question(claim) if _states(claim) else ""
        return ClaimPart(m.sources, q, claim, m.text) if q else None
    clause = _PUNCT.sub("", _asked(text))
    if not _states(clause):
        return None
    if re.match(rf"(?:[^,]*,\s*)?(?:{AUX})\s", clause, re.I):  # "At the trial, did she ..."
        return ClaimPart((), clause[0].upper() + clause[1:] + "?", clause)
    # "whether Judge Mehta has ruled X" -> "Has Judge Mehta ruled X?"
    inverted = _INVERT.match(clause)
    if inverted:
        return ClaimPart((), f"{inverted.group(2).capitalize()} {inverted.group(1)} {inverted.group(3)}?", clause)
    return ClaimPart((), f"Is it so that {clause}?", clause)


def claim_parts(parsed: ParsedQuery) -> list[ClaimPart]:
    """The parts of a two-part Yes/No question (see the module docstring), each with its own
    question; [] when the question is not such a conjunction."""
    text = parsed.text
    cuts = list(_CLAUSE.finditer(text))
    if cuts:
        spans = [(0, cuts[0].start())]
        spans += [(a.end(), b.start()) for a, b in itertools.pairwise(cuts)] + [(cuts[-1].end(), len(text))]
        found = [_clause_part(text[a:b], a, list(parsed.outlets)) for a, b in spans]
        parts = [p for p in found if p is not None]
        if len(parts) == len(found):
            for i in range(1, len(parts)):
                q = _named(parts[i].question, parts[i - 1].words)
                if q != parts[i].question:
                    parts[i] = ClaimPart(parts[i].sources, q, _PUNCT.sub("", q), parts[i].outlet)
            return parts
    return _outlet_parts(parsed)
