"""Citation check: the model's raw output + the evidence it was shown -> a checked answer.

Output format (see ``rag.prompt``): the first line is the short answer (``Yes``/``No``,
a name, a number, a date, or ``Insufficient information.``); the following sentences
explain it, each ending with markers like ``[2]`` or ``[1][3]``.

For every sentence:

* markers pointing outside the evidence are dropped (and counted);
* the sentence is *supported* if its cited evidence contains every number, name and
  date it states, and enough of its content words (``min_overlap``) or, when an
  embedding function is given, is similar enough (``min_cosine``);
* a sentence without a marker is unsupported.

The short answer must itself appear in cited, supporting evidence unless it is a
Yes/No. When nothing supports the answer, the result is a refusal whose reason says
so. This module does no retrieval and no generation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunk import split_sentences
from rag.lexical import terms
from rag.types import AnswerSentence, Citation, Evidence

REFUSAL = "Insufficient information."
MARKER = re.compile(r"\[(\d{1,3})\]")
NUMBER = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?%?")
MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")
CAPWORD = re.compile(r"\b[A-Z][a-zA-Z'’\-]+\b")
YES_NO = {"yes", "no"}
_COMMON_CAPS = {
    "The", "A", "An", "In", "On", "At", "As", "It", "Its", "This", "That", "These", "Those", "Both", "Yes", "No",
    "However", "While", "Although", "According", "But", "And", "Article", "He", "She", "They", "We", "I", "His",
    "Her", "Their", "Our", "There", "Here", "Insufficient", "Based", "From", "For", "By", "With", "After", "Before",
    "Between", "During", "Also", "So", "Then", "Thus", "Which", "What", "Who", "When", "Where", "If", "Not",
}  # fmt: skip


@dataclass(frozen=True)
class CheckResult:
    short: str
    text: str
    refused: bool
    reason: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    dropped_markers: int


def parse_output(raw: str) -> tuple[str, str]:
    """Split raw model output into (short answer line, explanation)."""
    raw = raw.strip()
    if not raw:
        return "", ""
    first, _, rest = raw.partition("\n")
    first = first.strip()
    # a model that writes "Yes. Because ... [1]" on one line: split off the short answer
    m = re.match(r"^(Yes|No)\b[.,:;!]?\s+(.+)$", first, flags=re.I)
    if m and not rest.strip():
        return m.group(1).capitalize(), m.group(2).strip()
    return first, rest.strip()


def _norm_num(s: str) -> str:
    return s.replace(",", "").replace("$", "").rstrip("%").rstrip(".")


def _facts(sentence: str) -> tuple[set[str], list[str], set[str]]:
    """(numbers, names, months) stated in a sentence."""
    nums = {_norm_num(n) for n in NUMBER.findall(sentence)}
    months = set(MONTH.findall(sentence))
    words = CAPWORD.findall(sentence)
    names = list(dict.fromkeys(w for w in words if w not in _COMMON_CAPS and w not in months))
    return nums, names, months


def check_sentence(
    sentence: str,
    cited: Sequence[Evidence],
    question: str = "",
    min_overlap: float = 0.5,
    cosine: Callable[[str, str], float] | None = None,
    min_cosine: float = 0.6,
) -> tuple[bool, str]:
    """Is ``sentence`` supported by the evidence it cites? Returns (supported, reason)."""
    body = MARKER.sub("", sentence).strip()
    if not cited:
        return False, "cites no evidence"
    ev_text = " ".join(f"{e.text} {e.title} {e.source} {e.published_at}" for e in cited)
    ev_nums = {_norm_num(n) for n in NUMBER.findall(ev_text)}
    ev_low = ev_text.lower()
    nums, names, months = _facts(body)
    q_low = question.lower()
    for n in nums:
        if n not in ev_nums and n not in ev_low.replace(",", ""):
            return False, f"number {n} is not in the cited passage"
    for m in months:
        if m.lower() not in ev_low and not _month_in_dates(m, cited):
            return False, f"date {m} is not in the cited passage"
    missing = [w for w in names if w.lower() not in ev_low and w.lower() not in q_low]
    if missing:
        return False, f"name {missing[0]} is not in the cited passage"
    sent_terms = set(terms(body))
    if not sent_terms:
        return True, ""
    overlap = len(sent_terms & set(terms(ev_text))) / len(sent_terms)
    if overlap >= min_overlap:
        return True, ""
    if cosine is not None:
        sim = max(cosine(body, e.text) for e in cited)
        if sim >= min_cosine:
            return True, ""
        return False, f"too different from the cited passage (word overlap {overlap:.2f}, similarity {sim:.2f})"
    return False, f"too different from the cited passage (word overlap {overlap:.2f})"


def _month_in_dates(month: str, cited: Sequence[Evidence]) -> bool:
    names = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
    idx = names.index(month.lower()) + 1
    return any(e.published_at[5:7] == f"{idx:02d}" for e in cited if len(e.published_at) >= 7)


def check_answer(
    raw: str,
    evidence: Sequence[Evidence],
    question: str = "",
    min_overlap: float = 0.5,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    min_cosine: float = 0.6,
) -> CheckResult:
    """Parse, validate and check the model's output against the evidence it was shown."""
    by_n = {e.n: e for e in evidence}
    short, expl = parse_output(raw)
    cosine = None
    if embed is not None:

        def cosine(a: str, b: str) -> float:
            v = embed([a, b])
            return float(v[0] @ v[1])

    if not short or short.lower().startswith("insufficient information"):
        reason = expl.splitlines()[0].strip() if expl else "the passages do not answer the question"
        return CheckResult(REFUSAL, f"{REFUSAL}\n{reason}", True, reason, (), (), 0)

    sentences: list[AnswerSentence] = []
    dropped = 0
    cited_ns: dict[int, bool] = {}
    pieces = [expl[a:b] for a, b in split_sentences(expl)]
    merged: list[str] = []
    for piece in pieces:  # a splitter may leave the closing markers on their own: glue them back
        if merged and not re.search(r"\w", MARKER.sub("", piece)):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    for s in merged:
        marks = [int(x) for x in MARKER.findall(s)]
        valid = tuple(dict.fromkeys(n for n in marks if n in by_n))
        dropped += len(marks) - len([n for n in marks if n in by_n])
        clean = MARKER.sub("", s).strip()
        clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
        if not clean or not re.search(r"\w", clean):
            continue
        ok, why = check_sentence(clean, [by_n[n] for n in valid], question, min_overlap, cosine, min_cosine)
        text = clean + "".join(f" [{n}]" for n in valid) if valid else clean
        sentences.append(AnswerSentence(text=text, cites=valid, supported=ok, reason=why))
        for n in valid:
            cited_ns[n] = cited_ns.get(n, False) or ok

    supported = [s for s in sentences if s.supported]
    is_yes_no = short.lower().rstrip(".!") in YES_NO
    if is_yes_no:
        short = short.rstrip(".!").capitalize()
    short_ok = is_yes_no or any(
        short.lower().rstrip(".") in by_n[n].text.lower() or short.lower().rstrip(".") in by_n[n].title.lower()
        for s in supported
        for n in s.cites
    )
    if not supported or not short_ok:
        if sentences:
            why = "the model's answer is not supported by the passages it cites"
        elif is_yes_no:
            why = "the model gave no explanation citing the passages"
        else:
            why = f"the model answered '{short}', which no passage shown to it states"
        if supported and not short_ok:
            why = f"'{short}' does not appear in the cited passages"
        return CheckResult(REFUSAL, f"{REFUSAL}\n{why}", True, why, tuple(sentences), (), dropped)

    citations = tuple(
        Citation(
            n=n,
            chunk_id=by_n[n].chunk_id,
            article_id=by_n[n].article_id,
            title=by_n[n].title,
            source=by_n[n].source,
            published_at=by_n[n].published_at,
            quote=by_n[n].text,
            start=by_n[n].start,
            end=by_n[n].end,
            supported=ok,
        )  # fmt: skip
        for n, ok in sorted(cited_ns.items())
    )
    text = short + "\n" + " ".join(s.text for s in sentences)
    return CheckResult(short, text.strip(), False, "", tuple(sentences), citations, dropped)


QUOTE_WORDS = 28


def _quote(text: str, focus: str = "", max_words: int = QUOTE_WORDS) -> str:
    """The sentence, or a window of ``max_words`` words around ``focus`` with ellipses."""
    words = " ".join(text.split()).split(" ")
    if len(words) <= max_words:
        return " ".join(words)
    at = 0
    if focus:
        low = [w.lower() for w in words]
        first = focus.lower().split()[0]
        at = next((i for i, w in enumerate(low) if first in w), 0)
    start = max(0, min(at - max_words // 3, len(words) - max_words))
    piece = " ".join(words[start : start + max_words])
    return ("…" if start > 0 else "") + piece + ("…" if start + max_words < len(words) else "")


def contains_answer(text: str, answer: str) -> bool:
    """Does ``text`` state ``answer``? Case-insensitive; every word of 3+ letters must occur."""
    low = " ".join(text.lower().split())
    a = " ".join(answer.lower().strip(" .").split())
    if not a:
        return False
    if a in low:
        return True
    words = [w for w in re.findall(r"[\w$%.-]+", a) if len(w) >= 3]
    return bool(words) and all(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", low) for w in words)


SECOND_QUOTE_RATIO = 0.8


def compose_extractive(
    short: str,
    evidence: Sequence[Evidence],
    focus_sources: Sequence[Sequence[str]] = (),
    max_quotes: int = 2,
) -> str:
    """The answer text of the extractive style: the short answer, then quotes of the
    evidence that carries it, each with its citation.

    Yes/No: the best-scored sentence from each outlet the question names (in order);
    with no outlet, the best sentence, plus the best of another article when it scores
    at least ``SECOND_QUOTE_RATIO`` of the first. Other answers: the best sentences that contain the
    answer; if none does, only the short answer (which ``check_answer`` then refuses).
    """
    is_yes_no = short.lower() in YES_NO
    ranked = sorted(evidence, key=lambda e: -e.score)
    picked: list[Evidence] = []
    if is_yes_no:
        for sources in focus_sources:
            best = next((e for e in ranked if e.source in sources and e not in picked), None)
            if best is not None and len(picked) < max_quotes:
                picked.append(best)
        if not picked:  # no outlet named (or none of its passages shown): the best sentences overall,
            # a second article's only when it scores close to the best (a comparison needs both sides)
            for e in ranked:
                if len(picked) >= max_quotes:
                    break
                if not picked or (e.score >= SECOND_QUOTE_RATIO * picked[0].score
                                  and all(e.article_id != p.article_id for p in picked)):
                    picked.append(e)
    else:
        picked = [e for e in ranked if contains_answer(e.text, short)][:1]
        if not picked:  # named only in an article's title: quote that article's best sentence
            picked = [e for e in ranked if contains_answer(e.title, short)][:1]
    picked.sort(key=lambda e: e.n)
    quotes = [
        f"{e.source or 'An article'} ({e.published_at or 'undated'}): “{_quote(e.text, '' if is_yes_no else short)}” [{e.n}]"
        for e in picked
    ]
    return short + ("\n" + "\n".join(quotes) if quotes else "")


def is_refusal(text: str) -> bool:
    return text.strip().lower().startswith("insufficient information")


def clean_short(raw: str) -> str:
    """The model's short answer line without chatter: first line, no "Answer:" prefix,
    no trailing period, no wrapping quotes or markers."""
    line = raw.strip().split("\n", 1)[0].strip()
    line = re.sub(r"^(?:the\s+)?answer\s*(?:is)?\s*[:\-]?\s*", "", line, flags=re.I)
    line = MARKER.sub("", line).strip().strip("\"“”'*").strip()
    if is_refusal(line):
        return REFUSAL
    return line.rstrip(".").strip()


_CAND = re.compile(r"[A-Z][\w&.'’-]*(?:\s+(?:(?:of|the|de|van|von|del|la)\s+)?[A-Z][\w&.'’-]*)*")
_CAND_STOP = _COMMON_CAPS | {
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "Mr", "Mrs", "Ms", "Dr", "Is", "Was", "Are", "Will", "Can", "Do", "Does", "Did", "Has", "Have", "Why", "How",
}  # fmt: skip


_ROLES = {"CEO", "Chief", "President", "Senator", "Sen", "Rep", "Judge", "Prosecutor", "Minister", "Coach", "Dr",
          "Mr", "Mrs", "Ms", "Sir", "Governor", "Gov", "Chairman", "Founder", "Director", "Professor", "Prof", "Attorney"}  # fmt: skip


def _clean_name(name: str) -> str:
    name = re.split(r"['’]s\s", name)[-1]  # "OpenAI's ChatGPT" -> "ChatGPT"
    words = re.sub(r"['’]s?$", "", name.strip(" .,:;'’\"")).split()
    while words and (words[0] in _CAND_STOP or (words[0].rstrip(".") in _ROLES and len(words) > 1)):
        words = words[1:]
    return " ".join(words).rstrip(".,:;").strip()


def candidate_names(evidence: Sequence[Evidence], question: str, exclude: Sequence[str] = ()) -> list[tuple[str, int]]:
    """Names the answer to a wh-question may be: capitalised word runs in the evidence and
    article titles, minus names the question already states (unless it offers alternatives
    with "or") and outlet names; a surname is folded into the full name it ends ("Bankman-Fried"
    into "Sam Bankman-Fried"). Ordered by how many articles mention them, then how often."""
    q_low = question.lower()
    offers_choice = bool(re.search(r"\bor\b", q_low))
    banned = {x.lower() for x in exclude}
    counts: dict[str, int] = {}
    articles: dict[str, set[str]] = {}
    for e in evidence:
        for text in (e.text, e.title):
            for m in _CAND.finditer(text):
                n = _clean_name(m.group())
                if len(n) < 2 or n.lower() in banned or (not offers_choice and n.lower() in q_low):
                    continue
                counts[n] = counts.get(n, 0) + 1
                articles.setdefault(n, set()).add(e.article_id)
    # a surname folds into the person's full name ("Bankman-Fried" -> "Sam Bankman-Fried")
    people = [n for n in sorted(counts, key=len, reverse=True) if 2 <= len(n.split()) <= 3 and len(set(n.split())) == len(n.split())]
    for short in sorted(counts, key=len):
        longer = next((n for n in people if n != short and n.endswith(" " + short)), None)
        if longer is not None and short in counts:
            counts[longer] += counts.pop(short)
            articles[longer] |= articles.pop(short)
    ranked = sorted(counts, key=lambda n: (-len(articles[n]), -counts[n], n))
    return [(n, len(articles[n])) for n in ranked]


def ground_name(answer: str, candidates: Sequence[str], evidence: Sequence[Evidence] = ()) -> str | None:
    """The candidate the model's answer names: equal, or the full name whose tail it is
    (a person's name of 2-3 distinct words that a passage states in full)."""
    a = answer.lower().strip()
    for c in candidates:
        if c.lower() == a:
            return c
    for c in candidates:
        words = c.split()
        if (
            c.lower().endswith(" " + a)
            and 2 <= len(words) <= 3
            and len(set(words)) == len(words)
            and any(c.lower() in " ".join(e.text.lower().split()) for e in evidence)
        ):
            return c
    return None
