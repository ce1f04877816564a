"""The index directory: FAISS vectors + BM25 + SQLite store + manifest, written atomically.

Layout of ``DIR``::

    DIR/CURRENT               name of the active version (switched with an atomic rename)
    DIR/v-<time>-<rand>/      one complete, immutable version
        manifest.json         format, embedder, chunker, index type, counts, checksums
        vectors.faiss         IndexIDMap2 over Flat or HNSW (inner product on unit vectors)
        store.sqlite          articles and chunks (no pickle anywhere)
        bm25/                 bm25s index over title + chunk text, row order = chunks.row
    DIR/.lock                 held by a writer; readers never need it

A writer builds a whole new version in a temporary folder, fsyncs it, renames it into
place, then replaces ``CURRENT``; a kill -9 at any moment therefore leaves the old or
the new version loadable, never a mix. Loading validates every file against the
manifest's checksums and counts and refuses a different embedder, or the same model through a
backend whose vectors are not measured compatible (``rag.embed.query_compatibility``).
This module stores and searches; it does not chunk, embed or rank.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import math
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__
from rag.embed import parse_model_id, query_compatibility
from rag.errors import IndexCorrupt, IndexMismatch, IndexNotFound, RagError, rebuild_hint
from rag.types import Article, Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "store.sqlite"
BM25_DIR = "bm25"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# bench/retrieval_speed.py at 1M synthetic 384-d chunks (M=32, efConstruction=80): efSearch 128 gave
# recall@10 0.865 in 1.2 ms, 512 gave 0.945 in 4.0 ms, 1024 gave 0.967 (recall@100 0.966) in 7.8 ms.
HNSW_EF_SEARCH = 1024
VECTOR_CACHE_MAX = 300_000  # rows; a flat index this small keeps a numpy copy (<= 460 MB at 384-d)

SCHEMA = """
CREATE TABLE articles (
    article_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL,
    published_at TEXT NOT NULL, author TEXT NOT NULL, category TEXT NOT NULL,
    url TEXT NOT NULL, origin TEXT NOT NULL, content_hash TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, vid INTEGER NOT NULL UNIQUE, chunk_id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles(article_id), ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, n_tokens INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX chunks_article ON chunks(article_id);
"""


def vector_id(chunk_id: str) -> int:
    """Stable 63-bit FAISS id of a chunk (so an article's vectors can be removed by id)."""
    return int.from_bytes(hashlib.blake2b(chunk_id.encode(), digest_size=8).digest(), "little") >> 1


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def corpus_fingerprint(articles: Sequence[Article]) -> str:
    h = hashlib.sha256()
    for ch in sorted(a.content_hash for a in articles):
        h.update(ch.encode())
    return h.hexdigest()


def choose_index_type(setting: str, n_vectors: int, threshold: int) -> str:
    if setting != "auto":
        return setting
    return "hnsw" if n_vectors >= threshold else "flat"


def make_faiss_index(vectors: np.ndarray, vids: np.ndarray, index_type: str) -> Any:
    import faiss

    dim = vectors.shape[1]
    if index_type == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        inner = faiss.IndexFlatIP(dim)
    index = faiss.IndexIDMap2(inner)
    if len(vectors):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), vids.astype(np.int64))
    return index


# ----------------------------------------------------------------------------------
# writing


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index directory (readers never block)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RagError(f"{index_dir}: another build or update is running; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                os.fsync(f.fileno())
        _fsync_dir(Path(dirpath))


def _write_store(path: Path, articles: Sequence[Article], chunks: Sequence[Chunk], vids: np.ndarray) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (a.article_id, a.title, a.source, a.published_at, a.author, a.category, a.url, a.origin, a.content_hash, a.body)
                for a in articles
            ],
        )
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (row, int(vid), c.chunk_id, c.article_id, c.ordinal, c.start, c.end, c.n_tokens, c.text)
                for row, (c, vid) in enumerate(zip(chunks, vids, strict=True))
            ],
        )
        con.commit()
    finally:
        con.close()


def bm25_text(title: str, chunk_text: str) -> str:
    return f"{title}\n{chunk_text}"


def _write_bm25(path: Path, docs: list[str], show_progress: bool) -> dict[str, Any]:
    from rag.lexical import import_bm25s, tokenize_many

    bm25s = import_bm25s()

    # bm25s's own bars stay off: the writing stage shows one bar of its steps (write_index)
    tokens = tokenize_many(docs, show_progress=False)
    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index(tokens, show_progress=False)
    retriever.save(str(path), show_progress=False)
    return {"library": "bm25s", "method": "lucene", "k1": 1.2, "b": 0.75, "stemmer": "snowball-english", "stopwords": "en"}


def write_index(
    index_dir: str | Path,
    articles: Sequence[Article],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    meta: dict[str, Any],
    index_type: str = "flat",
    show_progress: bool = False,
    keep_versions: int = 2,
) -> dict[str, Any]:
    """Write a complete new version and switch ``CURRENT`` to it. Caller holds ``writer_lock``.

    ``meta`` carries the embedder and chunker descriptions and build statistics.
    Returns the manifest written.
    """
    index_dir = Path(index_dir)
    t0 = time.perf_counter()
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    vids = np.array([vector_id(c.chunk_id) for c in chunks], dtype=np.int64)
    if len(np.unique(vids)) != len(vids):
        raise RagError("two chunks share a vector id; rebuild with a different article id scheme")
    by_id = {a.article_id: a for a in articles}

    name = f"v-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(3)}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir(parents=True)
    from rag.progress import progress_bar

    bar = progress_bar(total=5, desc="writing", unit="step", disable=not show_progress)
    try:
        import faiss

        bar.set_postfix_str(f"FAISS {index_type}", refresh=False)
        faiss.write_index(make_faiss_index(vectors, vids, index_type), str(tmp / VECTORS))
        bar.update()
        bar.set_postfix_str("SQLite store", refresh=False)
        _write_store(tmp / STORE, articles, chunks, vids)
        bar.update()
        bar.set_postfix_str("BM25", refresh=False)
        bm25_meta = _write_bm25(tmp / BM25_DIR, [bm25_text(by_id[c.article_id].title, c.text) for c in chunks], show_progress)
        bar.update()
        bar.set_postfix_str("checksums", refresh=False)
        files = {}
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                files[p.relative_to(tmp).as_posix()] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        bar.update()
        bar.set_postfix_str("fsync + switch", refresh=False)
        dates = sorted(a.published_at for a in articles if a.published_at)
        manifest = {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "version": name,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **meta,
            "index": {
                "type": index_type,
                "metric": "inner_product",
                **(
                    {"hnsw_m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH}
                    if index_type == "hnsw"
                    else {}
                ),
            },
            "bm25": bm25_meta,
            "counts": {"articles": len(articles), "chunks": len(chunks), "vectors": len(vectors)},
            "date_span": [dates[0], dates[-1]] if dates else [],
            "sources": sorted({a.source for a in articles if a.source}),
            "corpus_fingerprint": corpus_fingerprint(articles),
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        _fsync_tree(tmp)
        final = index_dir / name
        os.rename(tmp, final)
        _fsync_dir(index_dir)
        pointer = index_dir / f".{CURRENT}.{secrets.token_hex(4)}"
        with open(pointer, "w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer, index_dir / CURRENT)
        _fsync_dir(index_dir)
        bar.update()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    _collect_garbage(index_dir, keep_versions)
    log.info("wrote index version %s in %.2fs", name, time.perf_counter() - t0)
    return manifest


def _collect_garbage(index_dir: Path, keep: int) -> None:
    """Remove leftovers of killed writers and all but the newest ``keep`` versions."""
    current = _read_pointer(index_dir)
    for p in index_dir.iterdir():
        if p.name.startswith(".tmp-") or (p.name.startswith(f".{CURRENT}.")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    versions = sorted((p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v-")), key=lambda p: p.name)
    old = [p for p in versions if p.name != current][: max(0, len(versions) - keep)]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)


def _read_pointer(index_dir: Path) -> str | None:
    try:
        name = (index_dir / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return name or None


# ----------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class ChunkRow:
    row: int
    vid: int
    chunk_id: str
    article_id: str
    ordinal: int
    start: int
    end: int
    n_tokens: int
    text: str

    def as_chunk(self) -> Chunk:
        return Chunk(self.chunk_id, self.article_id, self.ordinal, self.start, self.end, self.text, self.n_tokens)


_CHUNK_COLS = "row, vid, chunk_id, article_id, ordinal, start, end, n_tokens, text"


class Index:
    """A loaded, validated, read-only index version. Safe to share between threads."""

    def __init__(
        self, index_dir: Path, version_dir: Path, manifest: dict[str, Any], faiss_index: Any, bm25: Any, con: sqlite3.Connection
    ):
        self.index_dir = index_dir
        self.version_dir = version_dir
        self.manifest = manifest
        self.faiss = faiss_index
        self.bm25 = bm25
        self._con = con
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None
        rows = con.execute("SELECT row, vid, article_id FROM chunks ORDER BY row").fetchall()
        self.row_vid = np.array([r[1] for r in rows], dtype=np.int64)
        order = np.argsort(self.row_vid)
        self._sorted_vids = self.row_vid[order]
        self._sorted_rows = order.astype(np.int64)
        self.row_article = [r[2] for r in rows]
        self._articles: dict[str, dict[str, Any]] = {}
        for r in con.execute("SELECT article_id, title, source, published_at, author, category, url, content_hash FROM articles"):
            self._articles[r[0]] = {
                "article_id": r[0], "title": r[1], "source": r[2], "published_at": r[3],
                "author": r[4], "category": r[5], "url": r[6], "content_hash": r[7],
            }  # fmt: skip

    # --- metadata
    @property
    def n_chunks(self) -> int:
        return len(self.row_vid)

    @property
    def embedder_id(self) -> str:
        return str(self.manifest["embedder"]["model_id"])

    def article_meta(self, article_id: str) -> dict[str, Any]:
        return self._articles[article_id]

    def articles_meta(self) -> list[dict[str, Any]]:
        return list(self._articles.values())

    def article_body(self, article_id: str) -> str:
        with self._lock:
            r = self._con.execute("SELECT body FROM articles WHERE article_id=?", (article_id,)).fetchone()
        if r is None:
            raise KeyError(article_id)
        return str(r[0])

    def info(self) -> dict[str, Any]:
        return {**self.manifest, "index_dir": str(self.index_dir), "version_dir": str(self.version_dir)}

    # --- search primitives
    def rows_for_vids(self, vids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self._sorted_vids, vids)
        pos = np.clip(pos, 0, len(self._sorted_vids) - 1)
        ok = self._sorted_vids[pos] == vids
        return np.where(ok, self._sorted_rows[pos], -1)

    def dense_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (rows, cosine scores) for a normalised query vector."""
        k = min(k, self.n_chunks)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, vids = self.faiss.search(query.reshape(1, -1).astype(np.float32), k)
        keep = vids[0] >= 0
        return self.rows_for_vids(vids[0][keep]), scores[0][keep]

    def dense_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine scores of the given rows (vectors reconstructed from FAISS)."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        if self._vectors is None and self.manifest["index"]["type"] == "flat" and self.n_chunks <= VECTOR_CACHE_MAX:
            self._vectors = self.all_vectors()  # small flat index: keep a row-ordered copy for fast scoring
        if self._vectors is not None:
            return self._vectors[np.asarray(rows)] @ query.astype(np.float32)
        vecs = np.vstack([self.faiss.reconstruct(int(self.row_vid[r])) for r in rows])
        return vecs @ query.astype(np.float32)

    def all_vectors(self) -> np.ndarray:
        """Every vector in row order (for updates and exact benchmarks)."""
        import faiss

        inner = faiss.downcast_index(self.faiss.index)
        storage = faiss.downcast_index(inner.storage) if hasattr(inner, "storage") else inner
        n = storage.ntotal
        vecs = storage.reconstruct_n(0, n) if n else np.zeros((0, self.manifest["embedder"]["dim"]), np.float32)
        ids = faiss.vector_to_array(self.faiss.id_map).astype(np.int64)
        rows = self.rows_for_vids(ids)
        out = np.zeros_like(vecs)
        out[rows] = vecs
        return out

    def bm25_scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk row for the query terms (zeros if none match)."""
        known = [t for t in terms if t in self.bm25.vocab_dict]
        if not known:
            return np.zeros(self.n_chunks, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)

    def has_word(self, word: str) -> bool:
        """Does any chunk (or title) contain this word? (stemmed BM25 vocabulary lookup)"""
        from rag.lexical import terms

        ts = terms(word)
        return all(t in self.bm25.vocab_dict for t in ts)  # stop words count as known

    def idf(self, terms: list[str]) -> dict[str, float]:
        """BM25's smoothed idf of each term over the chunks (document frequency from the BM25 index)."""
        indptr = self.bm25.scores["indptr"]
        vocab = self.bm25.vocab_dict
        n = self.n_chunks
        out = {}
        for t in terms:
            df = int(indptr[vocab[t] + 1] - indptr[vocab[t]]) if t in vocab else 0
            out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out

    def chunks(self, rows: Sequence[int]) -> list[ChunkRow]:
        if not len(rows):
            return []
        marks = ",".join("?" * len(rows))
        with self._lock:
            got = self._con.execute(
                f"SELECT {_CHUNK_COLS} FROM chunks WHERE row IN ({marks})",
                [int(r) for r in rows],
            ).fetchall()
        by_row = {g[0]: ChunkRow(*g) for g in got}
        return [by_row[int(r)] for r in rows]

    def chunk_by_id(self, chunk_id: str) -> ChunkRow:
        with self._lock:
            g = self._con.execute(f"SELECT {_CHUNK_COLS} FROM chunks WHERE chunk_id=?", (chunk_id,)).fetchone()
        if g is None:
            raise KeyError(chunk_id)
        return ChunkRow(*g)

    def iter_articles(self) -> Iterator[Article]:
        with self._lock:
            rows = self._con.execute(
                "SELECT article_id, title, body, source, published_at, author, category, url, origin, content_hash FROM articles"
            ).fetchall()
        for r in rows:
            yield Article(*r)

    def chunks_of(self, article_id: str) -> list[ChunkRow]:
        with self._lock:
            got = self._con.execute(
                f"SELECT {_CHUNK_COLS} FROM chunks WHERE article_id=? ORDER BY ordinal",
                (article_id,),
            ).fetchall()
        return [ChunkRow(*g) for g in got]

    def close(self) -> None:
        with self._lock:
            self._con.close()


def _corrupt(index_dir: Path, what: str) -> IndexCorrupt:
    return IndexCorrupt(f"{index_dir}: {what}; the index is damaged, {rebuild_hint(str(index_dir))}")


def open_index(index_dir: str | Path, embedder_id: str | None = None, verify: bool = True) -> Index:
    """Load and validate the current version. ``embedder_id``: refuse a different embedder."""
    index_dir = Path(index_dir)
    for attempt in range(3):
        name = _read_pointer(index_dir)
        if name is None:
            # version folders without a pointer are what a first build killed just before switching
            # CURRENT leaves behind, so this is "no index yet", not damage (the next build collects them)
            stray = " (only unreferenced version folders, e.g. from an interrupted build)" if any(index_dir.glob("v-*")) else ""
            raise IndexNotFound(
                f"no index in {index_dir}{stray}; build one with: rag index build --corpus PATH --index-dir {index_dir}"
            )
        vdir = index_dir / name
        if not vdir.is_dir():
            if attempt < 2:  # a writer may have just switched versions and collected this one
                time.sleep(0.05)
                continue
            raise _corrupt(index_dir, f"{CURRENT} points at missing version '{name}'")
        try:
            return _load_version(index_dir, vdir, embedder_id, verify)
        except FileNotFoundError as e:
            if attempt < 2 and _read_pointer(index_dir) != name:
                continue
            raise _corrupt(index_dir, f"file missing: {Path(e.filename).name if e.filename else e}") from None
    raise _corrupt(index_dir, "could not load a stable version")


def _load_version(index_dir: Path, vdir: Path, embedder_id: str | None, verify: bool) -> Index:
    import faiss

    from rag.lexical import import_bm25s

    bm25s = import_bm25s()

    mpath = vdir / MANIFEST
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _corrupt(index_dir, f"{MANIFEST} is not valid JSON") from None
    for key in ("format_version", "embedder", "counts", "files", "index", "chunker"):
        if key not in manifest:
            raise _corrupt(index_dir, f"{MANIFEST} lacks '{key}'")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexMismatch(
            f"{index_dir}: index format {manifest['format_version']} but this version of rag reads format "
            f"{FORMAT_VERSION}; {rebuild_hint(str(index_dir))}"
        )
    if embedder_id is not None:
        why = query_compatibility(manifest["embedder"]["model_id"], embedder_id)
        if why is not None:
            backend = parse_model_id(manifest["embedder"]["model_id"])[1]
            raise IndexMismatch(
                f"{index_dir}: index was built with embedder '{manifest['embedder']['model_id']}' but "
                f"'{embedder_id}' is configured ({why}); {rebuild_hint(str(index_dir))} "
                f"(or configure the index's embedder, embed_backend = '{backend}')"
            )
    for rel, expect in manifest["files"].items():
        p = vdir / rel
        if not p.is_file():
            raise _corrupt(index_dir, f"file missing: {rel}")
        if p.stat().st_size != expect["bytes"]:
            raise _corrupt(index_dir, f"{rel} has {p.stat().st_size} bytes, expected {expect['bytes']} (truncated?)")
        if verify and sha256_file(p) != expect["sha256"]:
            raise _corrupt(index_dir, f"{rel} fails its checksum (corrupted)")
    try:
        findex = faiss.read_index(str(vdir / VECTORS))
    except RuntimeError as e:
        raise _corrupt(index_dir, f"{VECTORS} cannot be read ({str(e).splitlines()[0][:80]})") from None
    if manifest["index"].get("type") == "hnsw":
        faiss.downcast_index(findex.index).hnsw.efSearch = manifest["index"].get("ef_search", HNSW_EF_SEARCH)
    try:
        con = sqlite3.connect(f"file:{vdir / STORE}?mode=ro", uri=True, check_same_thread=False)
        n_chunks = con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        n_articles = con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise _corrupt(index_dir, f"{STORE} cannot be read ({e})") from None
    counts = manifest["counts"]
    if not (findex.ntotal == n_chunks == counts["chunks"] == counts["vectors"]) or n_articles != counts["articles"]:
        con.close()
        raise _corrupt(
            index_dir,
            f"count mismatch: {findex.ntotal} vectors, {n_chunks} chunks and {n_articles} articles in the files, "
            f"manifest says {counts['vectors']}/{counts['chunks']}/{counts['articles']}",
        )
    try:
        bm25 = bm25s.BM25.load(str(vdir / BM25_DIR), load_corpus=False, mmap=False)
    except Exception as e:  # bm25s raises assorted errors on damaged files
        con.close()
        raise _corrupt(index_dir, f"{BM25_DIR} cannot be read ({type(e).__name__})") from None
    return Index(index_dir, vdir, manifest, findex, bm25, con)
