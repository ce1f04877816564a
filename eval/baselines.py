"""Trivial answerers that put the pipeline's answer scores in context.

A constant answerer replies with the same text to every question. It is scored with
the same functions as the pipeline (``lenient_correct`` and ``strict_correct``), the
constant being both the short answer and the full answer text. On MultiHop-RAG about
a third of the questions are answered "Yes" and about a ninth are unanswerable, so a
pipeline that does not beat these numbers is not answering.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from eval.metrics import lenient_correct, mean, strict_correct

CONSTANTS = ("Yes", "Insufficient information.")


def score_constant(answer: str, golds: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Score the constant ``answer`` against ``(question type, gold answer)`` pairs:
    overall and per type, ``lenient`` and ``strict`` accuracy."""
    by_type: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    rows: list[tuple[bool, bool]] = []
    for qtype, gold in golds:
        r = (lenient_correct(answer, gold), strict_correct(answer, gold))
        rows.append(r)
        by_type[qtype].append(r)

    def agg(rs: list[tuple[bool, bool]]) -> dict[str, Any]:
        return {"n": len(rs), "lenient": mean([float(a) for a, _ in rs]), "strict": mean([float(b) for _, b in rs])}

    return {**agg(rows), "per_type": {t: agg(v) for t, v in sorted(by_type.items())}}


def score_baselines(golds: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Every constant answerer of ``CONSTANTS`` scored on the same questions."""
    return {c: score_constant(c, golds) for c in CONSTANTS}
