"""Retrieval stage: a question in, ranked ``Hit`` objects out.

1. Query understanding (``rag.query``): outlets and dates named in the question.
2. Candidates: dense FAISS top-N and BM25 top-N over the whole index, plus the same
   restricted to each outlet the question names (so a small outlet's article is not
   drowned by a big one's).
3. Fusion: ``dense_weight * cosine + (1 - dense_weight) * bm25 / max_bm25``, plus a
   bonus for chunks from a named outlet and for articles dated as the question says.
   Boosts only re-rank; they never remove anything.
4. Diversity: at most ``max_per_article`` chunks per article, and each named outlet is
   guaranteed its best chunks, so multi-article questions get evidence from every
   article they need.

Explicit filters (``Filters``: sources, since, until) are hard filters; when they
exclude everything the result is empty and ``SearchResult.notes`` says why.
This module does not build indexes, select sentences or call an LLM.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from rag.chunk import split_sentences
from rag.embed import Embedder
from rag.index import Index
from rag.lexical import lexical_scores, terms
from rag.query import OutletMatcher, ParsedQuery, parse_query, topic_text
from rag.types import Hit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filters:
    """Hard filters chosen by the user (CLI flags, chat-page controls)."""

    sources: tuple[str, ...] = ()
    since: str = ""  # YYYY-MM-DD inclusive
    until: str = ""  # YYYY-MM-DD inclusive

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until)


@dataclass(frozen=True)
class RetrievalParams:
    candidates: int = 100
    dense_weight: float = 0.4
    source_boost: float = 0.3
    date_boost: float = 0.3
    max_per_article: int = 4
    outlet_quota: int = 1
    free_slots: int = 3  # top-k slots never reserved for sub-queries
    rerank_weight: float = 0.6  # second stage: best-sentence term overlap re-orders the top k
    relative_boost: float = 0.6  # "this week", "last month": the window the question means
    recency_boost: float = 0.4  # "recently", "the latest": newer articles first, fading over a month
    use_dense: bool = True
    use_bm25: bool = True
    understand: bool = True


@dataclass
class SearchResult:
    hits: list[Hit]
    parsed: ParsedQuery
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    as_of: str = ""  # the day relative dates were read against


class Retriever:
    """Hybrid dense + BM25 retrieval over one loaded ``Index``."""

    def __init__(self, index: Index, embedder: Embedder, params: RetrievalParams = RetrievalParams(), as_of: str = "") -> None:
        self.index = index
        self.embedder = embedder
        self.params = params
        metas = index.articles_meta()
        self.sources = sorted({m["source"] for m in metas if m["source"]})
        self.matcher = OutletMatcher(self.sources)
        dates = [m["published_at"][:10] for m in metas if m["published_at"]]
        self.as_of = date.fromisoformat(as_of) if as_of else default_as_of(dates)
        # per-row metadata as arrays, for vectorised filters and boosts
        art_source = {m["article_id"]: m["source"] for m in metas}
        art_date = {m["article_id"]: m["published_at"] for m in metas}
        self.row_source = np.array([art_source[a] for a in index.row_article], dtype=object)
        self.row_date = np.array([art_date[a] or "" for a in index.row_article], dtype=object)
        self.row_article = np.array(index.row_article, dtype=object)
        self._source_rows = {s: np.flatnonzero(self.row_source == s) for s in self.sources}

    # ------------------------------------------------------------------ helpers
    def resolve_sources(self, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """Map user-typed outlet names to index outlets (case-insensitive, variants ok)."""
        found, unknown = [], []
        lower = {s.lower(): s for s in self.sources}
        for n in names:
            if n.lower() in lower:
                found.append(lower[n.lower()])
                continue
            ms = self.matcher.find(n) or self.matcher.find(n.title())
            if ms:
                found.extend(s for m in ms for s in m.sources)
            else:
                unknown.append(n)
        return sorted(set(found)), unknown

    def _filter_mask(self, filters: Filters, notes: list[str]) -> np.ndarray | None:
        if not filters:
            return None
        mask = np.ones(self.index.n_chunks, dtype=bool)
        if filters.sources:
            found, unknown = self.resolve_sources(filters.sources)
            if unknown:
                notes.append(f"no outlet named {', '.join(unknown)} in the index (outlets: {', '.join(self.sources)})")
            mask &= np.isin(self.row_source, found)
        if filters.since:
            mask &= self.row_date >= filters.since
        if filters.until:
            mask &= (self.row_date <= filters.until + "T99") & (self.row_date != "")
        if not mask.any():
            notes.append(f"no passages match the filters ({_describe(filters)}); widen or clear them")
        return mask

    def _dense_in(self, qv: np.ndarray, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        if rows is None:
            return self.index.dense_search(qv, k)
        if len(rows) == 0:
            return rows.astype(np.int64), np.zeros(0, np.float32)
        if len(rows) <= 4 * k:  # small subset: exact scores directly
            sc = self.index.dense_scores(qv, rows)
            top = np.argsort(-sc)[:k]
            return rows[top], sc[top]
        import faiss

        sel = faiss.IDSelectorBatch(self.index.row_vid[rows])
        params = faiss.SearchParameters(sel=sel)
        scores, vids = self.index.faiss.search(qv.reshape(1, -1).astype(np.float32), k, params=params)
        keep = vids[0] >= 0
        return self.index.rows_for_vids(vids[0][keep]), scores[0][keep]

    # ------------------------------------------------------------------ search
    def parse(self, query: str, as_of: date | None = None) -> ParsedQuery:
        return parse_query(query, self.matcher, as_of or self.as_of, self.index.has_word)

    def mentions(self, name: str, limit: int = 2000) -> np.ndarray:
        """Rows of the chunks whose text contains ``name`` as written (an outlet that the
        collection quotes without holding its articles)."""
        bm = self.index.bm25_scores(terms(name))
        rows = np.flatnonzero(bm > 0)[:limit]
        pat = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
        return np.array([c.row for c in self.index.chunks(rows.tolist()) if pat.search(c.text)], dtype=np.int64)

    def _sub_bm25(self, text: str, scope: np.ndarray | None, mask: np.ndarray | None) -> np.ndarray:
        bm = self.index.bm25_scores(terms(text)) if self.params.use_bm25 else np.zeros(self.index.n_chunks, np.float32)
        keep = mask
        if scope is not None:
            keep = np.zeros(len(bm), dtype=bool)
            keep[scope] = True
        return bm if keep is None else np.where(keep, bm, 0.0)

    def _combine(self, rows: np.ndarray, qv: np.ndarray | None, bm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.params
        d = self.index.dense_scores(qv, rows) if qv is not None else np.zeros(len(rows), np.float32)
        bmax = float(bm.max()) if bm.size else 0.0
        b = bm[rows] / bmax if bmax > 0 else np.zeros(len(rows), np.float32)
        w = p.dense_weight if (p.use_dense and p.use_bm25) else (1.0 if p.use_dense else 0.0)
        return w * d + (1 - w) * b, d, b

    def _subqueries(self, query: str, parsed: ParsedQuery, allowed: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
        """(text, scope rows, quota) for each outlet named in the question: the words
        around that mention, searched within that outlet's articles. (Searching each
        comma-separated claim the same way was tried and did not help on the dev set.)"""
        out: list[tuple[str, np.ndarray]] = []

        def rows_of(sources: Sequence[str]) -> np.ndarray:
            rows = np.concatenate([self._source_rows[s] for s in sources]) if sources else np.zeros(0, np.int64)
            return np.intersect1d(rows, allowed) if allowed is not None else rows

        for m, seg in parsed.segments():
            rows = rows_of(m.sources)
            if len(rows):
                out.append((seg if len(terms(seg)) >= 2 else query, rows))
        return out

    def search(
        self, query: str, k: int = 10, filters: Filters = Filters(), as_of: date | None = None, within: np.ndarray | None = None
    ) -> SearchResult:
        """The top ``k`` chunks for ``query``; ``as_of`` overrides the date relative phrases are
        read against; ``within`` (rows) restricts the search to those chunks."""
        t0 = time.perf_counter()
        p = self.params
        notes: list[str] = []
        as_of = as_of or self.as_of
        parsed = self.parse(query, as_of) if p.understand else ParsedQuery(query)
        # "What did Tim Cook say ..." reads like an outlet's report: the collection has no outlet of
        # that name, which is not to say that no article mentions him
        if parsed.unknown_outlets:
            notes.append("no outlet in this collection is named " + " or ".join(parsed.unknown_outlets))
        if parsed.unknown_names:
            notes.append("not in the index: " + ", ".join(parsed.unknown_names))
        mask = self._filter_mask(filters, notes)
        if within is not None:
            inside = np.zeros(self.index.n_chunks, dtype=bool)
            inside[within] = True
            mask = inside if mask is None else (mask & inside)
        if mask is not None and not mask.any():
            return SearchResult([], parsed, notes, time.perf_counter() - t0, as_of.isoformat())
        allowed = None if mask is None else np.flatnonzero(mask)
        C = min(p.candidates, self.index.n_chunks)
        subs = self._subqueries(query, parsed, allowed) if p.understand else []
        query = topic_text(query, parsed) if p.understand else query  # "the latest", "this week": boosts, not words
        texts = list(dict.fromkeys([query] + [t for t, _ in subs]))
        vecs = dict(zip(texts, self.embedder.embed_documents(texts), strict=True)) if p.use_dense else {}

        cand: set[int] = set()
        bm_full = self._sub_bm25(query, None, mask)
        sub_bm = [self._sub_bm25(t, scope, None) for t, scope in subs]
        for qv, bm, scope, n in [(vecs.get(query), bm_full, allowed, C)] + [
            (vecs.get(t), b, scope, max(10, C // 4)) for (t, scope), b in zip(subs, sub_bm, strict=True)
        ]:
            if qv is not None:
                cand.update(self._dense_in(qv, scope, n)[0].tolist())
            if bm.any():
                top = np.argpartition(-bm, min(n, len(bm) - 1))[:n]
                cand.update(int(t) for t in top if bm[t] > 0)
        if not cand:
            return SearchResult([], parsed, notes + ["nothing in the index matches the question"], time.perf_counter() - t0, as_of.isoformat())
        rows = np.array(sorted(cand), dtype=np.int64)
        fused, d, b = self._combine(rows, vecs.get(query), bm_full)
        groups: list[tuple[np.ndarray, np.ndarray]] = []  # per outlet mention: rows in scope, their scores
        for (t, scope), bm in zip(subs, sub_bm, strict=True):
            inside = np.isin(rows, scope)
            sc, _, _ = self._combine(rows, vecs.get(t), bm)
            sc = np.where(inside, sc, -np.inf)
            fused = np.maximum(fused, sc)
            groups.append((rows[inside], sc[inside]))
        if p.understand:
            fused = fused + self._boosts(rows, parsed, as_of)
        hits = self._hits(self._select(rows, fused, groups, k), rows, fused, d, b)
        if p.rerank_weight:
            hits = self._rerank(query, hits)
        return SearchResult(hits, parsed, notes, time.perf_counter() - t0, as_of.isoformat())

    def _rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """Second stage: add ``rerank_weight`` x the best sentence's share of the question's
        idf mass, so the chunk holding the one matching sentence moves up the top k."""
        out = []
        for h in hits:
            sents = [h.text[a:b] for a, b in split_sentences(h.text)]
            best = float(lexical_scores(query, sents, self.index.idf).max()) if sents else 0.0
            out.append(replace(h, score=h.score + self.params.rerank_weight * best))
        out.sort(key=lambda h: -h.score)
        return [replace(h, rank=i) for i, h in enumerate(out, 1)]

    def _boosts(self, rows: np.ndarray, parsed: ParsedQuery, as_of: date | None = None) -> np.ndarray:
        p = self.params
        as_of = as_of or self.as_of
        out = np.zeros(len(rows), np.float32)
        if parsed.outlets and p.source_boost:
            out += p.source_boost * np.isin(self.row_source[rows], list(parsed.sources))
        if parsed.dates and p.date_boost:
            dates = self.row_date[rows]
            for rng in parsed.dates:
                if rng.kind == "recent":  # newest first, fading over the window; nothing after as_of
                    if p.recency_boost:
                        ages = np.array([_age(x, as_of) for x in dates], dtype=np.float32)
                        span = max(1, (rng.end - rng.start).days)
                        out += np.where(ages >= 0, p.recency_boost * np.exp(-np.maximum(ages, 0) / span), 0.0)
                    continue
                lo, hi = rng.start, rng.end
                if rng.kind == "day":  # publication times are UTC; allow a day either way
                    lo, hi = lo - timedelta(days=1), hi + timedelta(days=1)
                weight = {"relative": p.relative_boost, "day": p.date_boost, "month": p.date_boost}.get(rng.kind, p.date_boost / 3)
                lo_s, hi_s = lo.isoformat(), hi.isoformat() + "T99"
                inside = np.array([bool(x) and lo_s <= x <= hi_s for x in dates])
                out += weight * inside
        return out

    def _select(self, rows: np.ndarray, fused: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray]], k: int) -> list[int]:
        """Top-k rows by fused score with a per-article cap; first, each outlet named in the
        question gets its best ``outlet_quota`` chunks (distinct articles) by its own sub-search."""
        p = self.params
        order = rows[np.argsort(-fused, kind="stable")]
        per_article: dict[str, int] = {}
        chosen: list[int] = []

        def take(r: int) -> bool:
            a = self.row_article[r]
            if r in chosen or per_article.get(a, 0) >= p.max_per_article:
                return False
            chosen.append(r)
            per_article[a] = per_article.get(a, 0) + 1
            return True

        reserve = max(0, k - p.free_slots)
        for g_rows, g_scores in groups:
            got, seen_articles = 0, set()
            for r in g_rows[np.argsort(-g_scores, kind="stable")].tolist():
                if got >= p.outlet_quota or len(chosen) >= reserve:
                    break
                if r in chosen:
                    got += 1
                    continue
                if self.row_article[r] not in seen_articles and take(r):
                    seen_articles.add(self.row_article[r])
                    got += 1
        for r in order.tolist():
            if len(chosen) >= k:
                break
            take(r)
        rank = {int(r): i for i, r in enumerate(order.tolist())}
        return sorted(chosen, key=lambda r: rank[r])

    def _hits(self, chosen: list[int], rows: np.ndarray, fused: np.ndarray, d: np.ndarray, b: np.ndarray) -> list[Hit]:
        pos = {int(r): i for i, r in enumerate(rows.tolist())}
        out = []
        for rank, c in enumerate(self.index.chunks(chosen), 1):
            i = pos[c.row]
            meta = self.index.article_meta(c.article_id)
            out.append(
                Hit(
                    chunk_id=c.chunk_id,
                    article_id=c.article_id,
                    title=meta["title"],
                    source=meta["source"],
                    published_at=meta["published_at"],
                    text=c.text,
                    start=c.start,
                    end=c.end,
                    score=float(fused[i]),
                    rank=rank,
                    dense_score=float(d[i]),
                    bm25_score=float(b[i]),
                )  # fmt: skip
            )
        return out


def _age(iso: str, as_of: date) -> float:
    """Days from a publication date to ``as_of`` (negative: after it; NaN-free: undated = far)."""
    try:
        return float((as_of - date.fromisoformat(iso[:10])).days)
    except ValueError:
        return 1e6


def default_as_of(dates: Sequence[str], today: date | None = None) -> date:
    """The day relative phrases mean: today when the collection reaches today (its newest
    article is from yesterday or later), else the newest article's day."""
    today = today or date.today()
    if not dates:
        return today
    newest = date.fromisoformat(max(dates)[:10])
    return today if newest >= today - timedelta(days=1) else newest


def _describe(f: Filters) -> str:
    parts = []
    if f.sources:
        parts.append("source=" + "|".join(f.sources))
    if f.since:
        parts.append(f"since={f.since}")
    if f.until:
        parts.append(f"until={f.until}")
    return ", ".join(parts)
