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


def article_recall_at_k(retrieved_articles: Sequence[str], gold_articles: Sequence[str], k: int = 10) -> float:
    """Share of distinct gold articles (by title or id) among the articles of the top-``k`` hits."""
    gold = set(gold_articles)
    if not gold:
        return 0.0
    return len(gold & set(retrieved_articles[:k])) / len(gold)


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
