"""Evidence selection: retrieved hits in, the few numbered sentences the model reads out.

Each retrieved chunk is split into sentences (same splitter as chunking, offsets kept
relative to the article body). Sentences are scored against the question (idf-weighted
term overlap from the index's own BM25 statistics, plus, when an embedder is given,
cosine similarity), then chosen round-robin across articles, best first, so every
article the question needs is represented before any article gets a second sentence.
The chosen sentences are numbered [1]..[n] in article order and cut to a token
budget measured with the generator's tokenizer. Every ``Evidence`` keeps its chunk
id and exact character span, so a citation can always be traced and highlighted.
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


def _format_header(h: Hit) -> str:
    meta = ", ".join(x for x in (h.source, h.published_at) if x)
    return f'Article: "{h.title}" ({meta})' if meta else f'Article: "{h.title}"'


def format_evidence(evidence: Sequence[Evidence]) -> str:
    """The evidence block of the prompt: a header per article, then its numbered sentences."""
    lines: list[str] = []
    current = None
    for e in evidence:
        if e.article_id != current:
            current = e.article_id
            meta = ", ".join(x for x in (e.source, e.published_at) if x)
            lines.append(f'Article: "{e.title}" ({meta})' if meta else f'Article: "{e.title}"')
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
    embed: Callable[[list[str]], np.ndarray] | None = None,
    query_vec: np.ndarray | None = None,
    max_articles: int = 6,
    per_article: int = 3,
    dense_weight: float = 0.5,
) -> list[Evidence]:
    """Choose and number the sentences the model will read, within ``budget`` tokens."""
    cands = [c for c in candidates(hits) if len(c.text) >= MIN_SENTENCE_CHARS]
    if not cands:
        return []
    lex = lexical_scores(query, [c.text for c in cands], idf)
    score = lex
    if embed is not None and query_vec is not None:
        vecs = embed([c.text for c in cands])
        score = (1 - dense_weight) * lex + dense_weight * (vecs @ query_vec)
    # articles in retrieval order; each article's sentences best first
    order: list[str] = []
    by_article: dict[str, list[tuple[float, Candidate]]] = {}
    for c, s in zip(cands, score, strict=True):
        if c.hit.article_id not in by_article:
            order.append(c.hit.article_id)
            by_article[c.hit.article_id] = []
        by_article[c.hit.article_id].append((float(s), c))
    order = order[:max_articles]
    for aid in order:
        by_article[aid].sort(key=lambda x: -x[0])

    chosen: list[Candidate] = []
    used = 0
    header_seen: set[str] = set()
    for round_ in range(per_article):
        for aid in order:
            if round_ >= len(by_article[aid]):
                continue
            s, c = by_article[aid][round_]
            if round_ > 0 and s <= 0:
                continue
            cost = count_tokens(f"[{len(chosen) + 1}] {_clean(c.text)}\n")
            if aid not in header_seen:
                cost += count_tokens(_format_header(c.hit) + "\n")
            if used + cost > budget:
                continue
            used += cost
            header_seen.add(aid)
            chosen.append(Candidate(c.hit, c.start, c.end, c.text, s))
    rank = {aid: i for i, aid in enumerate(order)}
    chosen.sort(key=lambda c: (rank[c.hit.article_id], c.start))
    return [
        Evidence(
            n=i,
            chunk_id=c.hit.chunk_id,
            article_id=c.hit.article_id,
            title=c.hit.title,
            source=c.hit.source,
            published_at=c.hit.published_at,
            text=c.text,
            start=c.start,
            end=c.end,
            score=round(c.score, 4),
        )  # fmt: skip
        for i, c in enumerate(chosen, 1)
    ]
