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

from rag.chunk import chunk_article
from rag.embed import Embedder, parse_model_id
from rag.errors import CorpusError, IndexMismatch, IndexNotFound, rebuild_hint
from rag.index import choose_index_type, open_index, write_index, writer_lock
from rag.ingest import IngestReport, iter_files, load_corpus
from rag.progress import progress_bar
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


EMBED_SLICE = 512  # texts per embedding call: the bar and the progress callback move this often


class _CountedRoots:
    """The corpus roots, moving the reading bar by each root's file count as ``load_corpus``
    reaches the next one (it reads roots in order; a root's files are counted up front)."""

    def __init__(self, roots: Sequence[str | Path], bar: Any) -> None:
        self.roots, self.bar = list(roots), bar
        self.sizes = []
        for r in self.roots:
            try:
                self.sizes.append(sum(1 for _ in iter_files(Path(r))))
            except CorpusError:  # a missing path: load_corpus reports it
                self.sizes.append(0)
        bar.reset(total=sum(self.sizes))

    def __iter__(self) -> Any:
        done = 0
        for r, n in zip(self.roots, self.sizes, strict=True):
            yield r  # load_corpus asks for the next root once this one is read
            done += n
            self.bar.n = done
            self.bar.refresh()


def read_corpus(corpus: Sequence[str | Path], skip_bad: bool = False, progress: bool = True) -> IngestReport:
    """``load_corpus`` with a "reading" bar (files; it moves per corpus root)."""
    with progress_bar(total=0, desc="reading", unit="file", disable=not progress) as bar:
        report = load_corpus(_CountedRoots(corpus, bar), skip_bad=skip_bad)
        bar.set_postfix_str(f"{len(report.articles)} articles", refresh=False)
        bar.n = report.files
    return report


def _chunk_all(articles: Sequence[Article], embedder: Embedder, meta: dict[str, Any], opts: BuildOptions) -> list[Chunk]:
    chunks: list[Chunk] = []
    with progress_bar(total=len(articles), desc="chunking", unit="article", disable=not opts.progress or len(articles) < 2) as bar:
        for i, a in enumerate(articles):
            chunks.extend(chunk_article(a, embedder.count_tokens, embedder.token_offsets, meta["max_tokens"], meta["overlap"]))
            bar.update()
            if opts.on_progress:
                opts.on_progress("chunking", i + 1, len(articles))
    return chunks


def _embed_all(chunks: Sequence[Chunk], embedder: Embedder, opts: BuildOptions) -> np.ndarray:
    """Vectors in chunk order. Texts go longest first in slices of ``EMBED_SLICE`` (as one
    ``encode`` call would order them), so the bar and the callback move as the work does."""
    texts = [c.text for c in chunks]
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    with progress_bar(total=len(texts), desc="embedding", unit="chunk", disable=not opts.progress or not texts) as bar:
        for i in range(0, len(texts), EMBED_SLICE):
            idx = order[i : i + EMBED_SLICE]
            out[idx] = embedder.embed_documents([texts[j] for j in idx])
            bar.update(len(idx))
            if opts.on_progress:
                opts.on_progress("embedding", min(i + EMBED_SLICE, len(texts)), len(texts))
    if opts.on_progress:
        opts.on_progress("writing", 0, 1)
    return out


def embed_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """The batches ``_embed_all`` has the model embed, in order, as indices into ``texts``:
    longest first, in slices of ``EMBED_SLICE``, each cut into ``batch_size`` texts by the
    embedder (one ONNX run; one batch of a torch ``encode``). An engine that embeds exactly these
    batches gets this build's vectors, also with onnx-int8, which quantizes activations with a
    scale per batch (a text's vector depends on its batch by up to ~1e-2 cosine)."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [
        order[s : s + EMBED_SLICE][b : b + batch_size]
        for s in range(0, len(texts), EMBED_SLICE)
        for b in range(0, min(EMBED_SLICE, len(texts) - s), batch_size)
    ]


# chunk_and_embed(articles, embedder, chunker_meta, opts) -> (chunks in article order, their vectors)
Stage = Callable[[Sequence[Article], Embedder, dict[str, Any], BuildOptions], tuple[list[Chunk], np.ndarray]]


def local_stage(articles: Sequence[Article], embedder: Embedder, cmeta: dict[str, Any], opts: BuildOptions) -> tuple[list[Chunk], np.ndarray]:
    """Chunk and embed in this process (the default engine)."""
    chunks = _chunk_all(articles, embedder, cmeta, opts)
    return chunks, _embed_all(chunks, embedder, opts)


def _meta(embedder: Embedder, cmeta: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "embedder": {
            "model_id": embedder.model_id, "dim": embedder.dim, "normalized": True, "max_tokens": embedder.max_tokens,
            **(embedder.manifest_meta() if hasattr(embedder, "manifest_meta") else {}),
        },  # fmt: skip
        "chunker": cmeta,
        **extra,
    }


def build_index(
    corpus: Sequence[str | Path],
    index_dir: str | Path,
    embedder: Embedder,
    opts: BuildOptions = BuildOptions(),
    report: IngestReport | None = None,
    stage: Stage = local_stage,
) -> BuildResult:
    """Full build: read, chunk and embed everything, then switch to the new version.
    ``report``: the corpus already read by the caller (it is read here otherwise).
    ``stage``: who chunks and embeds (``local_stage``; ``rag.ray_build`` passes a Ray one)."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    report = report or read_corpus(corpus, opts.skip_bad, opts.progress)
    with writer_lock(index_dir):
        cmeta = chunker_meta(embedder, opts)
        chunks, vectors = stage(report.articles, embedder, cmeta, opts)
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
    stage: Stage = local_stage,
) -> BuildResult:
    """Incremental update: embed only new or changed articles; drop articles gone from ``corpus``."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    try:
        old = open_index(index_dir, embedder_id=None)
    except IndexNotFound:
        log.info("no index in %s yet: doing a full build", index_dir)
        return build_index(corpus, index_dir, embedder, opts, report, stage)
    try:
        ob, oback, _ = parse_model_id(old.embedder_id)
        if old.embedder_id != embedder.model_id and ob == parse_model_id(embedder.model_id)[0] and hasattr(embedder, "with_backend"):
            # same model, another backend: new vectors must come from the backend the index was built with
            log.info("%s was built with the %s backend: updating with it", index_dir, oback)
            embedder = embedder.with_backend(oback)
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
        report = report or read_corpus(corpus, opts.skip_bad, opts.progress)
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
            new_chunks, new_vecs = stage(changed, embedder, cmeta, opts)
            chunks = kept_chunks + new_chunks
            vectors = np.vstack([all_vecs[kept_rows], new_vecs]) if len(chunks) else np.zeros((0, embedder.dim), np.float32)
            by_id = {a.article_id: a for a in new_articles}
            articles = [by_id[i] for i in sorted(keep_ids)] + changed
            itype = choose_index_type(opts.index_type, len(chunks), opts.hnsw_threshold)
            seconds = time.perf_counter() - t0
            manifest = write_index(
                index_dir, articles, chunks, vectors,
                _meta(embedder, cmeta, {"build": {"mode": "update", "seconds": round(seconds, 3), "corpus": [str(p) for p in corpus]}}),
                index_type=itype, show_progress=opts.progress,
            )  # fmt: skip
    finally:
        old.close()
    return BuildResult(
        articles=len(articles), chunks=len(chunks), embedded=len(new_chunks), removed=removed, skipped=report.skipped,
        seconds=time.perf_counter() - t0, duplicates=report.duplicates, unchanged=len(keep_ids), manifest=manifest,
    )  # fmt: skip
