"""Chunking: exact spans, the real tokenizer's bound, whole-sentence overlap, long sentences, stable ids.

Fast unit tests use the HashEmbedder's word tokenizer; the token-bound tests use the real
MiniLM tokenizer (the session ``real_embedder``) on the corpus slice and the seed.
"""

from __future__ import annotations

import itertools
import random
import string
from pathlib import Path

import pytest

from rag.chunk import chunk_article, split_sentences
from rag.ingest import load_corpus, make_article
from rag.types import Article, Chunk


def _chunks(article: Article, emb, max_tokens: int | None = None, overlap: int = 1) -> list[Chunk]:
    return chunk_article(article, emb.count_tokens, emb.token_offsets, max_tokens or emb.max_tokens, overlap)


@pytest.fixture(scope="module")
def slice_articles(corpus_slice: Path, seed_dir: Path) -> list[Article]:
    return load_corpus([corpus_slice, seed_dir]).articles


@pytest.fixture(scope="module")
def slice_chunks(slice_articles, real_embedder) -> list[tuple[Article, list[Chunk]]]:
    return [(a, _chunks(a, real_embedder)) for a in slice_articles]


def _check_overlap(body: str, chunks: list[Chunk], overlap: int) -> int:
    """Assert consecutive chunks share whole sentences (at most ``overlap``); return how many pairs overlap."""
    spans = split_sentences(body)
    starts = {a for a, _ in spans}
    ends = {b for _, b in spans}
    overlapping = 0
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start > prev.start and nxt.end > prev.end, "every chunk must add new text"
        if nxt.start < prev.end:
            overlapping += 1
            assert nxt.start in starts and prev.end in ends, "overlap must be whole sentences"
            shared = [s for s in spans if s[0] >= nxt.start and s[1] <= prev.end]
            assert 1 <= len(shared) <= overlap
        else:
            # no overlap (the shared sentence did not fit): nothing may be skipped either
            assert not [s for s in spans if s[0] >= prev.end and s[1] <= nxt.start]
    return overlapping


# ------------------------------------------------------------------------ real tokenizer, real articles


def test_chunk_text_is_exact_body_span(slice_chunks) -> None:
    total = 0
    for a, chunks in slice_chunks:
        assert chunks, a.title
        for k, c in enumerate(chunks):
            assert c.text == a.body[c.start : c.end]
            assert c.article_id == a.article_id and c.ordinal == k
            assert c.text == c.text.strip()
        total += len(chunks)
    assert total > 100  # the slice really is chunked into many pieces


def test_no_chunk_exceeds_real_tokenizer_limit(slice_chunks, real_embedder) -> None:
    limit = real_embedder.max_tokens
    assert limit == real_embedder.max_seq_length - 2  # [CLS] + [SEP]
    texts = [c.text for _, chunks in slice_chunks for c in chunks]
    counts = real_embedder.count_tokens(texts)
    assert max(counts) <= limit
    assert [c.n_tokens for _, chunks in slice_chunks for c in chunks] == counts
    # chunks are packed, not one sentence each: the typical chunk is well over half full
    full = sorted(counts)[len(counts) // 2]
    assert full > limit // 2


def test_smaller_chunk_budget_respected(slice_articles, real_embedder) -> None:
    for a in slice_articles[:6]:
        chunks = _chunks(a, real_embedder, max_tokens=64)
        assert chunks
        assert max(real_embedder.count_tokens([c.text for c in chunks])) <= 64
        assert all(c.text == a.body[c.start : c.end] for c in chunks)


def test_whole_sentence_overlap_on_real_articles(slice_chunks) -> None:
    pairs = overlapping = 0
    for a, chunks in slice_chunks:
        overlapping += _check_overlap(a.body, chunks, overlap=1)
        pairs += len(chunks) - 1
    assert pairs > 50
    assert overlapping >= 0.9 * pairs  # overlap is the rule; it is dropped only when it cannot fit


def test_chunks_cover_all_text(slice_chunks) -> None:
    for a, chunks in slice_chunks:
        covered = bytearray(len(a.body))
        for c in chunks:
            covered[c.start : c.end] = b"\x01" * (c.end - c.start)
        lost = "".join(ch for ch, m in zip(a.body, covered, strict=True) if not m)
        assert not lost.strip(), f"text of {a.title!r} in no chunk: {lost.strip()[:80]!r}"


def test_over_long_sentence_is_cut_into_fitting_pieces(real_embedder) -> None:
    words = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet " * 70).split()[:600]
    body = "Intro sentence here. " + " ".join(words) + " and then it ends. Outro sentence."
    a = make_article(key="k", title="t", body=body)
    assert real_embedder.count_tokens([" ".join(words)])[0] >= 600
    chunks = _chunks(a, real_embedder)
    assert len(chunks) >= 3
    counts = real_embedder.count_tokens([c.text for c in chunks])
    assert max(counts) <= real_embedder.max_tokens
    assert all(c.text == body[c.start : c.end] for c in chunks)
    # all the words survive, in order
    covered = " ".join(body[c.start : c.end] for c in chunks)
    pos = 0
    for w in words:
        pos = covered.index(w, pos)


@pytest.mark.parametrize("seed", range(4))
def test_cut_inside_words_still_fits(real_embedder, seed: int) -> None:
    # regression: cutting between sub-word tokens made a piece re-tokenize into max_tokens + 1
    rng = random.Random(seed)
    alphabet = string.ascii_lowercase + string.digits
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(3, 15))) for _ in range(300)]
    body = " ".join(words)
    assert real_embedder.count_tokens([body])[0] > 3 * real_embedder.max_tokens
    chunks = _chunks(make_article(key="k", title="t", body=body), real_embedder)
    counts = real_embedder.count_tokens([c.text for c in chunks])
    assert max(counts) <= real_embedder.max_tokens
    assert [c.n_tokens for c in chunks] == counts
    assert chunks[0].start == 0 and chunks[-1].end == len(body)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start >= prev.end and not body[prev.end : nxt.start].strip()  # no text lost


def test_chunk_ids_stable(slice_articles, real_embedder) -> None:
    a = slice_articles[0]
    first, second = _chunks(a, real_embedder), _chunks(a, real_embedder)
    assert first == second
    assert [c.chunk_id for c in first] == [f"{a.article_id}-{k:04d}" for k in range(len(first))]


# ------------------------------------------------------------------------ fast unit tests (word tokenizer)


def _article(body: str) -> Article:
    return make_article(key="unit", title="Unit", body=body)


def test_no_chunk_repeats_only_the_previous_overlap(hash_embedder) -> None:
    # regression: A(4) B(4) C(8) words with a 10-word budget made chunks [A B], [B], [C]:
    # the middle chunk was nothing but the previous chunk's overlap sentence
    body = "One two three four. Five six seven eight. A b c d e f g h."
    chunks = _chunks(_article(body), hash_embedder, max_tokens=10)
    assert [c.text for c in chunks] == ["One two three four. Five six seven eight.", "A b c d e f g h."]
    _check_overlap(body, chunks, overlap=1)


def test_overlap_is_whole_sentences_unit(hash_embedder) -> None:
    sentences = [f"Sentence number {i} has {'some ' * (i % 4)}words." for i in range(40)]
    body = " ".join(sentences)
    for overlap in (1, 2):
        chunks = _chunks(_article(body), hash_embedder, max_tokens=20, overlap=overlap)
        assert len(chunks) > 5
        assert _check_overlap(body, chunks, overlap) == len(chunks) - 1
        assert all(c.n_tokens <= 20 for c in chunks)


def test_overlap_zero_tiles_the_body(hash_embedder) -> None:
    body = " ".join(f"Short sentence {i} here." for i in range(30))
    chunks = _chunks(_article(body), hash_embedder, max_tokens=12, overlap=0)
    assert chunks[0].start == 0 and chunks[-1].end == len(body)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start > prev.end and body[prev.end : nxt.start] == " "


def test_paragraph_breaks_end_sentences() -> None:
    text = "A headline without a period\nThe first real sentence. The second one"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "A headline without a period",
        "The first real sentence.",
        "The second one",
    ]


def test_case_names_and_titles_do_not_end_sentences() -> None:
    text = "Tim Cook testified at the Epic v. Google trial on Monday. Amb. Linda Thomas-Greenfield spoke.\nRoe v.\nWade"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Tim Cook testified at the Epic v. Google trial on Monday.",
        "Amb. Linda Thomas-Greenfield spoke.",
        "Roe v.",  # a line break still ends a sentence
        "Wade",
    ]


def test_non_ascii_offsets_are_characters(hash_embedder) -> None:
    body = "Le café était fermé. Ünïcödé 😀 text here! Third sentence — with dashes."
    chunks = _chunks(_article(body), hash_embedder, max_tokens=5, overlap=0)
    assert [c.text for c in chunks] == ["Le café était fermé.", "Ünïcödé 😀 text here!", "Third sentence — with dashes."]


def test_empty_body_gives_no_chunks(hash_embedder) -> None:
    assert _chunks(Article(article_id="x", title="t", body=""), hash_embedder) == []
    assert _chunks(Article(article_id="x", title="t", body=" \n \n"), hash_embedder) == []
