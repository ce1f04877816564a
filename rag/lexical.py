"""Lexical analysis shared by the BM25 index, query parsing and evidence selection.

One tokenizer for everything lexical (bm25s's tokenizer with English stop words and the
Snowball English stemmer from PyStemmer), so index-time and query-time terms always agree.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rag.words import FRAME_WORDS

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_WORD = re.compile(TOKEN_PATTERN)


@functools.lru_cache(maxsize=1)
def stemmer() -> Any:
    import Stemmer  # PyStemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms of ``text`` (the BM25 vocabulary)."""
    sw = stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in sw]
    return list(stemmer().stemWords(words)) if words else []


def import_bm25s() -> Any:
    """``bm25s``, imported lazily. Its import pins its logger to DEBUG, which printed a debug
    line on every build; the logger is put back to following the application's logging."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


def tokenize_many(texts: list[str], show_progress: bool = False) -> list[list[str]]:
    """``terms`` for many texts (bm25s's own tokenizer, same settings)."""
    bm25s = import_bm25s()

    out = bm25s.tokenize(
        texts,
        lower=True,
        token_pattern=TOKEN_PATTERN,
        stopwords="en",
        stemmer=stemmer(),
        return_ids=False,
        show_progress=show_progress,
    )
    return out  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def question_words() -> frozenset[str]:
    """Terms of the words that only shape a question (who, what, did, does, ...): BM25's
    English stop-word list keeps them, but they say nothing about what is asked."""
    from rag.words import AUXILIARIES, WH_WORDS

    return frozenset(terms(" ".join(w for w in (*WH_WORDS, *AUXILIARIES) if "'" not in w)))


@functools.lru_cache(maxsize=1)
def frame_terms() -> frozenset[str]:
    """Terms of the words that frame a question ("what happened", "how many", "summarize"):
    they say what shape the answer takes, not what it is about."""
    return frozenset(terms(" ".join(sorted(FRAME_WORDS))))


def query_terms(query: str) -> list[str]:
    """Distinct terms of a question without its question words (all of them if nothing else is left)."""
    q = list(dict.fromkeys(terms(query)))
    qw = question_words()
    return [t for t in q if t not in qw] or q


def lexical_scores(query: str, texts: Sequence[str], idf: Callable[[list[str]], dict[str, float]]) -> np.ndarray:
    """Share of the question's idf mass (question words left out) that each text contains."""
    q = query_terms(query)
    if not q:
        return np.zeros(len(texts))
    w = idf(q)
    total = sum(w.values()) or 1.0
    out = np.zeros(len(texts))
    for i, t in enumerate(texts):
        present = set(terms(t))
        out[i] = sum(w[x] for x in q if x in present) / total
    return out
