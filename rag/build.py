"""Offline composer: corpus paths in, a new index version out (ingest -> chunk -> embed -> index).

``build_index`` embeds everything; ``update_index`` embeds only articles whose content
hash is new, keeps the vectors of unchanged articles, and drops articles no longer in
the corpus. Both finish with one atomic ``write_index``: on any error (a bad file, a
refused embedder, a kill) the current index stays exactly as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.chunk import chunk_article
from rag.embed import Embedder
from rag.errors import IndexMismatch, IndexNotFound, rebuild_hint
from rag.index import choose_index_type, open_index, write_index, writer_lock
from rag.ingest import IngestReport, load_corpus
from rag.types import Article, Chunk

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    articles: int
    chunks: int
    embedded: int
    removed: int
    skipped: list[dict[str, str]]
    seconds: float
    duplicates: list[dict[str, str]] = field(default_factory=list)
    unchanged: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The ``--json`` summary line of ``rag index build/update``."""
        return {
            "articles": self.articles,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "removed": self.removed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class BuildOptions:
    chunk_tokens: int = 0  # 0: the embedder's own limit
    overlap: int = 1
    index_type: str = "auto"
    hnsw_threshold: int = 200_000
    skip_bad: bool = False
    progress: bool = True  # tqdm bars on stderr
    # called as on_progress(stage, done, total) for "chunking", "embedding" and "writing" (for UIs)
    on_progress: Callable[[str, int, int], None] | None = None


def chunker_meta(embedder: Embedder, opts: BuildOptions) -> dict[str, Any]:
    max_tokens = min(opts.chunk_tokens or embedder.max_tokens, embedder.max_tokens)
    return {"splitter": "blingfire", "max_tokens": max_tokens, "overlap": opts.overlap, "tokenizer": "embedder"}


EMBED_SLICE = 512  # texts per embedding call when a progress callback wants updates


def _chunk_all(articles: Sequence[Article], embedder: Embedder, meta: dict[str, Any], opts: BuildOptions) -> list[Chunk]:
    chunks: list[Chunk] = []
    for i, a in enumerate(tqdm(articles, desc="chunking", unit="article", disable=not opts.progress or len(articles) < 2)):
        chunks.extend(chunk_article(a, embedder.count_tokens, embedder.token_offsets, meta["max_tokens"], meta["overlap"]))
        if opts.on_progress:
            opts.on_progress("chunking", i + 1, len(articles))
    return chunks


def _embed_all(chunks: Sequence[Chunk], embedder: Embedder, opts: BuildOptions) -> np.ndarray:
    texts = [c.text for c in chunks]
    if opts.on_progress is None or len(texts) <= EMBED_SLICE:
        out = embedder.embed_documents(texts, progress=opts.progress)
    else:
        parts = []
        for i in range(0, len(texts), EMBED_SLICE):
            parts.append(embedder.embed_documents(texts[i : i + EMBED_SLICE], progress=opts.progress))
            opts.on_progress("embedding", min(i + EMBED_SLICE, len(texts)), len(texts))
        out = np.vstack(parts)
    if opts.on_progress:
        opts.on_progress("writing", 0, 1)
    return out


def _meta(embedder: Embedder, cmeta: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "embedder": {"model_id": embedder.model_id, "dim": embedder.dim, "normalized": True, "max_tokens": embedder.max_tokens},
        "chunker": cmeta,
        **extra,
    }


def build_index(
    corpus: Sequence[str | Path],
    index_dir: str | Path,
    embedder: Embedder,
    opts: BuildOptions = BuildOptions(),
    report: IngestReport | None = None,
) -> BuildResult:
    """Full build: read, chunk and embed everything, then switch to the new version.
    ``report``: the corpus already read by the caller (it is read here otherwise)."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    report = report or load_corpus(corpus, skip_bad=opts.skip_bad)
    with writer_lock(index_dir):
        cmeta = chunker_meta(embedder, opts)
        chunks = _chunk_all(report.articles, embedder, cmeta, opts)
        vectors = _embed_all(chunks, embedder, opts)
        itype = choose_index_type(opts.index_type, len(chunks), opts.hnsw_threshold)
        seconds = time.perf_counter() - t0
        manifest = write_index(
            index_dir, report.articles, chunks, vectors,
            _meta(embedder, cmeta, {"build": {"mode": "build", "seconds": round(seconds, 3), "corpus": [str(p) for p in corpus]}}),
            index_type=itype, show_progress=opts.progress,
        )  # fmt: skip
    return BuildResult(
        articles=len(report.articles), chunks=len(chunks), embedded=len(chunks), removed=0,
        skipped=report.skipped, seconds=time.perf_counter() - t0, duplicates=report.duplicates, manifest=manifest,
    )  # fmt: skip


def update_index(
    corpus: Sequence[str | Path],
    index_dir: str | Path,
    embedder: Embedder,
    opts: BuildOptions = BuildOptions(),
    report: IngestReport | None = None,
) -> BuildResult:
    """Incremental update: embed only new or changed articles; drop articles gone from ``corpus``."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    try:
        old = open_index(index_dir, embedder_id=None)
    except IndexNotFound:
        log.info("no index in %s yet: doing a full build", index_dir)
        return build_index(corpus, index_dir, embedder, opts, report)
    try:
        if old.embedder_id != embedder.model_id:
            raise IndexMismatch(
                f"{index_dir}: index was built with embedder '{old.embedder_id}', not '{embedder.model_id}'; "
                f"an update cannot mix embedders, {rebuild_hint(str(index_dir))}"
            )
        cmeta = chunker_meta(embedder, opts)
        if old.manifest["chunker"] != cmeta:
            raise IndexMismatch(
                f"{index_dir}: chunker settings differ from the index's ({old.manifest['chunker']} vs {cmeta}); "
                f"{rebuild_hint(str(index_dir))}"
            )
        report = report or load_corpus(corpus, skip_bad=opts.skip_bad)
        with writer_lock(index_dir):
            old_articles = {a.article_id: a for a in old.iter_articles()}
            new_articles = report.articles
            keep_ids = {
                a.article_id
                for a in new_articles
                if a.article_id in old_articles and old_articles[a.article_id].content_hash == a.content_hash
            }
            changed = [a for a in new_articles if a.article_id not in keep_ids]
            removed = len(set(old_articles) - {a.article_id for a in new_articles})
            if not changed and removed == 0:
                log.info("index is up to date")
                return BuildResult(
                    articles=len(new_articles), chunks=old.n_chunks, embedded=0, removed=0, skipped=report.skipped,
                    seconds=time.perf_counter() - t0, duplicates=report.duplicates, unchanged=len(keep_ids), manifest=old.manifest,
                )  # fmt: skip
            # kept chunks and their stored vectors, in the old row order
            all_vecs = old.all_vectors()
            kept_rows = [r for r, aid in enumerate(old.row_article) if aid in keep_ids]
            kept_chunks = [c.as_chunk() for c in old.chunks(kept_rows)]
            new_chunks = _chunk_all(changed, embedder, cmeta, opts)
            new_vecs = _embed_all(new_chunks, embedder, opts)
            chunks = kept_chunks + new_chunks
            vectors = np.vstack([all_vecs[kept_rows], new_vecs]) if len(chunks) else np.zeros((0, embedder.dim), np.float32)
            by_id = {a.article_id: a for a in new_articles}
            articles = [by_id[i] for i in sorted(keep_ids)] + changed
            itype = choose_index_type(opts.index_type, len(chunks), opts.hnsw_threshold)
            seconds = time.perf_counter() - t0
            manifest = write_index(
                index_dir, articles, chunks, vectors,
                _meta(embedder, cmeta, {"build": {"mode": "update", "seconds": round(seconds, 3), "corpus": [str(p) for p in corpus]}}),
                index_type=itype, show_progress=False,
            )  # fmt: skip
    finally:
        old.close()
    return BuildResult(
        articles=len(articles), chunks=len(chunks), embedded=len(new_chunks), removed=removed, skipped=report.skipped,
        seconds=time.perf_counter() - t0, duplicates=report.duplicates, unchanged=len(keep_ids), manifest=manifest,
    )  # fmt: skip
