"""The contracts between stages: small frozen dataclasses and nothing else.

Every stage takes and returns these types, so a stage can be replaced (or faked in a
unit test) without the others noticing. No behaviour lives here beyond trivial
derived properties and JSON conversion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One news article as read from the corpus.

    ``article_id`` is stable across rebuilds (derived from an explicit id, the url,
    the title/outlet/date, or the file path); ``content_hash`` changes whenever the
    text or metadata changes, which is what incremental updates compare.
    """

    article_id: str
    title: str
    body: str
    source: str = ""
    published_at: str = ""  # ISO date (YYYY-MM-DD) or "" when unknown
    author: str = ""
    category: str = ""
    url: str = ""
    origin: str = ""  # file (and position inside it) the article came from
    content_hash: str = ""


@dataclass(frozen=True)
class Chunk:
    """A span of an article body: ``text == article.body[start:end]`` always holds."""

    chunk_id: str
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    n_tokens: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its article metadata and the scores that ranked it."""

    chunk_id: str
    article_id: str
    title: str
    source: str
    published_at: str
    text: str
    start: int
    end: int
    score: float
    rank: int = 0
    dense_score: float | None = None
    bm25_score: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "chunk_id": self.chunk_id,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at,
            "text": self.text,
        }


@dataclass(frozen=True)
class Evidence:
    """One numbered evidence passage shown to the model.

    ``start``/``end`` are character offsets into the article body, so the UI can
    highlight the exact span and a reader can check it.
    """

    n: int
    chunk_id: str
    article_id: str
    title: str
    source: str
    published_at: str
    text: str
    start: int
    end: int
    score: float = 0.0
    # the text as the model reads it: ``text`` with relative days resolved from the
    # publication date ("on Monday" -> "on Monday (October 2, 2023)"); "" = same as text
    context: str = ""

    @property
    def model_text(self) -> str:
        return self.context or self.text

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at,
            "text": self.text,
        }


@dataclass(frozen=True)
class Citation:
    """A marker [n] in the answer, resolved to the evidence it points at."""

    n: int
    chunk_id: str
    article_id: str
    title: str
    source: str
    published_at: str
    quote: str
    start: int
    end: int
    supported: bool

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("start")
        d.pop("end")
        return d


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer with the evidence numbers it cites and the check's verdict."""

    text: str
    cites: tuple[int, ...]
    supported: bool
    reason: str = ""
    # "answer" (the direct answer), "support" (a supporting sentence), "conflict" (sources disagree),
    # "bearing" (in a refusal: the passage a Yes/No question could not be settled from, for the reader)
    role: str = "support"


@dataclass(frozen=True)
class Answer:
    """The checked final answer of the online pipeline."""

    query: str
    answer: str
    refused: bool
    short: str = ""
    reason: str = ""
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    hits: tuple[Hit, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""
    rewritten_query: str = ""
    raw: str = ""
    form: str = ""  # the question's form (rag.forms kinds)
    as_of: str = ""  # the date relative dates in the question were read against
    notes: tuple[str, ...] = ()  # what the pipeline noticed (a quoted outlet, disagreeing sources)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "answer": self.answer,
            "refused": self.refused,
            "reason": self.reason,
            "form": self.form,
            "as_of": self.as_of,
            "notes": list(self.notes),
            "sentences": [
                {"text": x.text, "cites": list(x.cites), "supported": x.supported, "role": x.role, "reason": x.reason}
                for x in self.sentences
            ],
            "citations": [c.to_json() for c in self.citations],
            "evidence": [e.to_json() for e in self.evidence],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "model": self.model,
        }
