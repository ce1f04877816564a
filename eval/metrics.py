"""Pure metric functions for offline evaluation. Each docstring is the definition.

Retrieval metrics follow MultiHop-RAG's ``retrieval_evaluate.py`` exactly, quirks
included (whitespace-stripped substring matching; MAP's denominator is
``min(len(gold), 10)``; precision at a rank counts only gold facts not found earlier).
Answer metrics: the benchmark's lenient word-overlap score and our strict score.
No I/O and no model calls here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

REFUSAL = "Insufficient information."
YES_NO = {"yes", "no"}
_CITE = re.compile(r"\s*\[\d+\](?:\s*\[\d+\])*")


def _squash(s: str) -> str:
    return s.replace(" ", "").replace("\n", "")


def _gold_hits(retrieved: Sequence[str], gold: Sequence[str], k: int) -> list[bool]:
    g = [_squash(x) for x in gold]
    return [any(x in _squash(r) for x in g) for r in retrieved[:k]]


def hits_at_k(retrieved: Sequence[str], gold: Sequence[str], k: int) -> float:
    """1.0 if any gold fact is a substring of any of the top-``k`` retrieved texts
    (both with spaces and newlines removed), else 0.0. MultiHop-RAG's Hits@k."""
    return float(any(_gold_hits(retrieved, gold, k)))


def mrr_at_10(retrieved: Sequence[str], gold: Sequence[str]) -> float:
    """1 / rank of the first top-10 text containing any gold fact; 0.0 if none. MultiHop-RAG's MRR@10."""
    for rank, hit in enumerate(_gold_hits(retrieved, gold, 10), 1):
        if hit:
            return 1.0 / rank
    return 0.0


def map_at_10(retrieved: Sequence[str], gold: Sequence[str]) -> float:
    """MultiHop-RAG's MAP@10: at each top-10 rank whose text contains a gold fact, add
    (number of gold facts found there for the first time) / rank; divide the sum by
    ``min(len(gold), 10)``."""
    g = [_squash(x) for x in gold]
    if not g:
        return 0.0
    found: set[str] = set()
    total = 0.0
    for rank, r in enumerate(retrieved[:10], 1):
        rs = _squash(r)
        if any(x in rs for x in g):
            new = [x for x in g if x in rs and x not in found]
            found.update(new)
            total += len(new) / rank
    return total / min(len(g), 10)


def all_at_k(retrieved: Sequence[str], gold: Sequence[str], k: int = 10) -> float:
    """1.0 if *every* gold fact is a substring of some top-``k`` text (complete evidence), else 0.0."""
    tops = [_squash(r) for r in retrieved[:k]]
    return float(bool(gold) and all(any(_squash(x) in t for t in tops) for x in gold))


def _norm_title(t: str) -> str:
    return " ".join(t.lower().split())


def title_matches(gold: str, retrieved: str) -> bool:
    """True if two article titles name the same article: equal after lower-casing and
    collapsing whitespace, or, when either is truncated (ends with "…" or "..."), the
    other starts with its remaining prefix (at least 20 characters)."""
    g, r = _norm_title(gold), _norm_title(retrieved)
    if not g or not r:
        return False
    if g == r:
        return True
    for a, b in ((g, r), (r, g)):
        if a.endswith("…") or a.endswith("..."):
            prefix = a.rstrip(".…").rstrip()
            if len(prefix) >= 20 and b.startswith(prefix):
                return True
    return False


def article_recall_at_k(retrieved_articles: Sequence[str], gold_articles: Sequence[str], k: int = 10) -> float:
    """Article-level recall@k: the share of distinct gold articles (by title, compared
    with ``title_matches``, or by id) that are the article of at least one of the
    top-``k`` hits; 0.0 when there are no gold articles."""
    gold = list(dict.fromkeys(gold_articles))
    if not gold:
        return 0.0
    top = list(retrieved_articles[:k])
    found = sum(1 for g in gold if any(title_matches(g, r) for r in top))
    return found / len(gold)


def strip_citations(text: str) -> str:
    """Answer text without ``[n]`` markers."""
    return _CITE.sub("", text).strip()


def lenient_correct(prediction: str, gold: str) -> bool:
    """MultiHop-RAG's answer score: prediction and gold share at least one word, after
    lower-casing and splitting on whitespace only (punctuation stays attached, so
    "yes." does not match "yes")."""
    return bool(set(prediction.lower().split()) & set(gold.lower().split()))


def is_refusal(text: str) -> bool:
    """True if the answer starts with "Insufficient information"."""
    return text.strip().lower().startswith("insufficient information")


def first_word(text: str) -> str:
    m = re.match(r"\W*(\w+)", text)
    return m.group(1).lower() if m else ""


def strict_correct(prediction: str, gold: str, max_words: int = 40) -> bool:
    """Strict answer score.

    * gold "Insufficient information.": the prediction must be a refusal;
    * gold Yes/No: the prediction's first word must be that Yes/No;
    * otherwise: not a refusal, at most ``max_words`` words once citation markers are
      removed, and the gold answer contained in it (case-insensitive).
    """
    g = gold.strip()
    if is_refusal(g):
        return is_refusal(prediction)
    if is_refusal(prediction):
        return False
    if g.lower().rstrip(".") in YES_NO:
        return first_word(prediction) == g.lower().rstrip(".")
    text = strip_citations(prediction)
    if len(text.split()) > max_words:
        return False
    return g.lower() in text.lower()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN for no values."""
    xs = sorted(values)
    if not xs:
        return math.nan
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; NaN for no values."""
    return sum(values) / len(values) if values else math.nan


# ---------------------------------------------------------------------- citations

_WORD = re.compile(r"\w+")
_STOP = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been being it its this that these "
    "those he she they we you i his her their our your not no so than then there here which who whom what when "
    "where why how has have had do does did will would can could should may might must also into over after "
    "before about said says".split()
)


def content_words(text: str) -> set[str]:
    """Distinct lower-cased word tokens (``\\w+``) of ``text`` minus a small stop-word list."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def token_overlap(fact: str, quote: str) -> float:
    """Share of the fact's content words (``content_words``) that also occur in the quote; 0.0 for a fact without any."""
    f = content_words(fact)
    return len(f & content_words(quote)) / len(f) if f else 0.0


def quote_supports_gold(quote: str, facts: Sequence[str], gold_answer: str, min_overlap: float = 0.8) -> bool:
    """True if a cited quote carries gold evidence. Any of:

    * a gold fact is a substring of the quote, or the quote of a gold fact, both with
      spaces and newlines removed (the benchmark's matching);
    * at least ``min_overlap`` of a gold fact's content words occur in the quote (for a
      fact of 3 or more content words: a quote that cuts a fact differently);
    * the gold answer appears in the quote (case-insensitive, spaces removed), unless the
      gold answer is Yes/No or the refusal, which say nothing about a passage.
    """
    q = _squash(quote)
    if not q:
        return False
    for fact in facts:
        f = _squash(fact)
        if f and (f in q or q in f):
            return True
        if len(content_words(fact)) >= 3 and token_overlap(fact, quote) >= min_overlap:
            return True
    g = gold_answer.strip()
    if g and not is_refusal(g) and g.lower().rstrip(".") not in YES_NO:
        return _squash(g.lower().rstrip(".")) in q.lower()
    return False


def citation_precision(quotes: Sequence[str], facts: Sequence[str], gold_answer: str) -> float:
    """Share of citations whose quoted evidence supports the gold answer (``quote_supports_gold``); NaN for no citations."""
    if not quotes:
        return math.nan
    return sum(quote_supports_gold(q, facts, gold_answer) for q in quotes) / len(quotes)


def supported_share(flags: Sequence[bool]) -> float:
    """Share of answer sentences whose citation check passed (``AnswerSentence.supported``:
    at least one cited passage supports the sentence); NaN for no sentences."""
    return sum(map(bool, flags)) / len(flags) if flags else math.nan


def outside_evidence(cited: Sequence[int], shown: Sequence[int]) -> int:
    """Number of citations whose number ``n`` is not among the evidence numbers shown to the model (must be 0)."""
    ok = set(shown)
    return sum(1 for n in cited if n not in ok)


def share(flags: Sequence[bool]) -> float:
    """Share of true values (e.g. refused questions); NaN for no values."""
    return sum(map(bool, flags)) / len(flags) if flags else math.nan


def hits_curve(retrieved: Sequence[str], gold: Sequence[str], k_max: int = 10) -> list[float]:
    """``[hits_at_k(retrieved, gold, k) for k in 1..k_max]`` (one pass)."""
    flags = _gold_hits(retrieved, gold, k_max)
    out, seen = [], False
    for k in range(k_max):
        seen = seen or (k < len(flags) and flags[k])
        out.append(float(seen))
    return out
