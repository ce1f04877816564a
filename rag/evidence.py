"""Evidence selection: retrieved hits in, the few numbered sentences the model reads out.

Each retrieved chunk is split into sentences (same splitter as chunking, offsets kept
relative to the article body). Sentences are scored against the question by idf-weighted
term overlap (idf from the index's own BM25 statistics), against an outlet's own part of
the question for sentences from an outlet the question names, minus a small penalty per
retrieval rank; the best sentences overall are kept, a few per article, until a token
budget measured with the generator's tokenizer is spent. They are numbered [1]..[n]
grouped by article under a short header (outlet, date, first words of the title). Every
``Evidence`` keeps its chunk id and exact character span, so a citation can always be
traced and highlighted. (Scoring sentences with the embedder as well was measured: +1
point of gold-fact recall for ~0.5 s per question, so it is not done.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunk import split_sentences
from rag.lexical import lexical_scores
from rag.types import Evidence, Hit

MIN_SENTENCE_CHARS = 25


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int  # offsets in the article body
    end: int
    text: str
    score: float = 0.0


def candidates(hits: Sequence[Hit]) -> list[Candidate]:
    """Every distinct sentence of the hits, in hit order."""
    seen: set[tuple[str, int]] = set()
    out = []
    for h in hits:
        for a, b in split_sentences(h.text):
            key = (h.article_id, h.start + a)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(h, h.start + a, h.start + b, h.text[a:b]))
    return out


TITLE_WORDS = 8


def header(source: str, published_at: str, title: str) -> str:
    """The line above an article's sentences: outlet, date and the first words of the title."""
    words = title.split()
    short = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    meta = ", ".join(x for x in (source, published_at) if x) or "unknown outlet"
    return f'{meta}: "{short}"'


def format_evidence(evidence: Sequence[Evidence]) -> str:
    """The evidence block of the prompt: a header per article, then its numbered sentences."""
    lines: list[str] = []
    current = None
    for e in evidence:
        if e.article_id != current:
            current = e.article_id
            lines.append(header(e.source, e.published_at, e.title))
        lines.append(f"[{e.n}] {_clean(e.text)}")
    return "\n".join(lines)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def select_evidence(
    query: str,
    hits: Sequence[Hit],
    count_tokens: Callable[[str], int],
    budget: int,
    idf: Callable[[list[str]], dict[str, float]],
    segments: Sequence[tuple[Sequence[str], str]] = (),
    max_articles: int = 8,
    per_article: int = 3,
    rank_penalty: float = 0.02,
) -> list[Evidence]:
    """Choose and number the sentences the model will read, within ``budget`` tokens.

    A sentence scores the share of the question's idf mass it contains; a sentence from
    an outlet the question names scores at least its share of that outlet's segment of
    the question (``segments``: (outlets, words) pairs); each step down the retrieval
    ranking costs ``rank_penalty``. The best sentences overall are taken (at most
    ``per_article`` per article, from the first ``max_articles`` articles) until the
    budget, counted with the model's tokenizer on the formatted block, is spent.
    """
    cands = [c for c in candidates(hits) if len(c.text) >= MIN_SENTENCE_CHARS]
    if not cands:
        return []
    texts = [c.text for c in cands]
    score = lexical_scores(query, texts, idf)
    for sources, words in segments:
        inside = np.array([c.hit.source in sources for c in cands])
        if inside.any() and words.strip():
            score = np.where(inside, np.maximum(score, lexical_scores(words, texts, idf)), score)
    rank = {h.chunk_id: i for i, h in enumerate(hits)}
    score = score - rank_penalty * np.array([rank[c.hit.chunk_id] for c in cands])

    order: list[str] = list(dict.fromkeys(c.hit.article_id for c in cands))[:max_articles]
    allowed = set(order)
    pool = sorted(
        (x for x in zip(score.tolist(), range(len(cands)), strict=True) if cands[x[1]].hit.article_id in allowed),
        key=lambda x: -x[0],
    )
    chosen: list[tuple[float, Candidate]] = []
    per: dict[str, int] = {}
    used = 0
    for sc, i in pool:
        c = cands[i]
        aid = c.hit.article_id
        if per.get(aid, 0) >= per_article:
            continue
        cost = count_tokens(f"[{len(chosen) + 1}] {_clean(c.text)}\n")
        if aid not in per:
            cost += count_tokens(header(c.hit.source, c.hit.published_at, c.hit.title) + "\n")
        if used + cost > budget:
            continue
        used += cost
        per[aid] = per.get(aid, 0) + 1
        chosen.append((sc, c))
    article_rank = {aid: i for i, aid in enumerate(order)}
    chosen.sort(key=lambda x: (article_rank[x[1].hit.article_id], x[1].start))
    return [
        Evidence(
            n=i, chunk_id=c.hit.chunk_id, article_id=c.hit.article_id, title=c.hit.title, source=c.hit.source,
            published_at=c.hit.published_at, text=c.text, start=c.start, end=c.end, score=round(sc, 4),
        )  # fmt: skip
        for i, (sc, c) in enumerate(chosen, 1)
    ]
