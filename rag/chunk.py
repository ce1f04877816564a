"""Chunking stage: an ``Article`` in, ``Chunk`` objects out.

Sentences come from blingfire (a fast, offset-preserving sentence splitter) run per
line, so paragraph breaks always end a sentence. Sentences are packed greedily into
chunks of at most ``max_tokens`` tokens *as counted by the embedder's own tokenizer*,
so nothing is silently truncated at embedding time; consecutive chunks share
``overlap`` whole sentences. A sentence longer than the limit is cut at token
boundaries. Every chunk's text is the exact substring ``body[start:end]``, which the
chat page uses to highlight quotes and the benchmark uses to score retrieval.
Chunk ids are ``<article_id>-<ordinal>``: stable while the article is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.types import Article, Chunk

Span = tuple[int, int]
_LINE = re.compile(r"[^\n]+")
# Abbreviations after which blingfire ends a sentence before a capitalised word although the
# sentence goes on ("Epic v. Google", "Amb. Linda Thomas-Greenfield"); checked against its
# other common ones (Mr., Dr., Sen., Gov., Gen., U.S., Dec., Inc., ...), which it keeps whole.
_NOT_AN_END = re.compile(r"(?:^|[\s(])(?:v|Amb)\.$")


def split_sentences(text: str) -> list[Span]:
    """Character spans of the sentences of ``text`` (whitespace trimmed, in order)."""
    import blingfire

    spans: list[Span] = []
    for m in _LINE.finditer(text):
        line = m.group()
        if not line.strip():
            continue
        _, offsets = blingfire.text_to_sentences_and_offsets(line)
        for a, b in offsets:
            seg = line[a:b]
            lead = len(seg) - len(seg.lstrip())
            trail = len(seg) - len(seg.rstrip())
            if b - trail <= a + lead:
                continue
            span = (m.start() + a + lead, m.start() + b - trail)
            if spans and spans[-1][1] > m.start() and _NOT_AN_END.search(text[spans[-1][0] : spans[-1][1]]):
                spans[-1] = (spans[-1][0], span[1])  # same line, the last one ended on an abbreviation
            else:
                spans.append(span)
    return spans


def _cut_long(
    text: str,
    span: Span,
    max_tokens: int,
    token_offsets: Callable[[str], list[tuple[int, int]]],
    count_tokens: Callable[[list[str]], list[int]],
) -> list[Span]:
    """Cut one over-long sentence into pieces of at most ``max_tokens`` tokens.

    A cut inside a word (between sub-word tokens) can make the piece re-tokenize into
    more tokens than its window held, so each piece is re-counted and shrunk until it fits.
    """
    a, b = span
    offs = token_offsets(text[a:b])
    pieces = []
    i = 0
    while i < len(offs):
        j = min(i + max_tokens, len(offs))
        while j - i > 1 and count_tokens([text[a + offs[i][0] : a + offs[j - 1][1]]])[0] > max_tokens:
            j -= 1
        pieces.append((a + offs[i][0], a + offs[j - 1][1]))
        i = j
    return pieces


def chunk_article(
    article: Article,
    count_tokens: Callable[[list[str]], list[int]],
    token_offsets: Callable[[str], list[tuple[int, int]]],
    max_tokens: int,
    overlap: int = 1,
) -> list[Chunk]:
    """Pack the article's sentences into token-bounded, overlapping chunks."""
    body = article.body
    spans = split_sentences(body)
    if not spans:
        return []
    counts = count_tokens([body[a:b] for a, b in spans])
    units: list[tuple[Span, int]] = []
    for sp, n in zip(spans, counts, strict=True):
        if n > max_tokens:
            pieces = _cut_long(body, sp, max_tokens, token_offsets, count_tokens)
            units.extend(zip(pieces, count_tokens([body[a:b] for a, b in pieces]), strict=True))
        else:
            units.append((sp, n))

    def joined(i: int, j: int) -> str:
        return body[units[i][0][0] : units[j - 1][0][1]]

    chunks: list[Chunk] = []
    i = 0
    prev_j = 0  # units[:prev_j] are covered by the chunks so far
    while i < len(units):
        j, total = i, 0
        while j < len(units) and total + units[j][1] <= max_tokens:
            total += units[j][1]
            j += 1
        j = max(j, i + 1)
        text = joined(i, j)
        n = count_tokens([text])[0]  # re-count the joined text: the bound is on what gets embedded
        while n > max_tokens and j - i > 1:
            j -= 1
            text = joined(i, j)
            n = count_tokens([text])[0]
        if j <= prev_j:
            # only overlap sentences fit: the chunk would repeat the previous one; overlap less
            i += 1
            continue
        prev_j = j
        k = len(chunks)
        chunks.append(
            Chunk(
                chunk_id=f"{article.article_id}-{k:04d}",
                article_id=article.article_id,
                ordinal=k,
                start=units[i][0][0],
                end=units[j - 1][0][1],
                text=text,
                n_tokens=n,
            )
        )
        if j >= len(units):
            break
        # the next chunk repeats up to `overlap` whole sentences, but always moves forward
        i = max(j - overlap, i + 1)
    return chunks
