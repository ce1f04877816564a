"""The index directory: round trip, manifest, refusals of damaged/mismatched indexes, readers vs writers.

Most tests use small HashEmbedder indexes (fast); the round trip and manifest are also
checked on the real MiniLM ``small_index``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.build import BuildOptions, build_index
from rag.embed import HashEmbedder
from rag.errors import IndexCorrupt, IndexMismatch, IndexNotFound, RagError
from rag.index import (
    CURRENT,
    HNSW_EF_SEARCH,
    MANIFEST,
    STORE,
    VECTORS,
    bm25_text,
    corpus_fingerprint,
    open_index,
    vector_id,
    write_index,
    writer_lock,
)
from rag.lexical import terms, tokenize_many

FAST = BuildOptions(progress=False)


def _version_dir(d: Path) -> Path:
    return d / (d / CURRENT).read_text().strip()


def _write_json_corpus(path: Path, n: int, tag: str = "") -> Path:
    arts = [
        {
            "title": f"Story {i}{tag}",
            "source": ["Wire", "Daily", "Herald"][i % 3],
            "published_at": f"2023-10-{1 + i % 28:02d}",
            "body": " ".join(f"Sentence {j} of story {i}{tag} mentions topic{(i + j) % 7} and place{i % 5}." for j in range(12)),
        }
        for i in range(n)
    ]
    path.write_text(json.dumps(arts))
    return path


@pytest.fixture()
def hash_index(tmp_path: Path, corpus_slice: Path, seed_dir: Path) -> Path:
    d = tmp_path / "ix"
    build_index([corpus_slice, seed_dir], d, HashEmbedder(), FAST)
    return d


# ------------------------------------------------------------------------ round trip


def test_write_then_load_gives_identical_search(tmp_path: Path, corpus_slice: Path, seed_dir: Path) -> None:
    from rag.build import _chunk_all, chunker_meta
    from rag.ingest import load_corpus

    emb = HashEmbedder()
    arts = load_corpus([corpus_slice, seed_dir]).articles
    cmeta = chunker_meta(emb, FAST)
    chunks = _chunk_all(arts, emb, cmeta, FAST)
    vecs = emb.embed_documents([c.text for c in chunks])
    d = tmp_path / "ix"
    with writer_lock(d):
        manifest = write_index(d, arts, chunks, vecs, {"embedder": {"model_id": emb.model_id, "dim": emb.dim}, "chunker": cmeta})
    ix = open_index(d, embedder_id=emb.model_id)
    try:
        assert ix.manifest == manifest
        assert np.array_equal(ix.all_vectors(), vecs)  # bit-identical, row order kept
        assert [r.as_chunk() for r in ix.chunks(range(len(chunks)))] == chunks
        assert sorted(ix.iter_articles(), key=lambda a: a.article_id) == sorted(arts, key=lambda a: a.article_id)
        assert ix.article_body(arts[3].article_id) == arts[3].body

        import bm25s

        mem = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        by_id = {a.article_id: a for a in arts}
        mem.index(tokenize_many([bm25_text(by_id[c.article_id].title, c.text) for c in chunks]), show_progress=False)
        for q in ["Amazon Cyber Monday deals", "North Korea Russia weapons", "Lions Raiders score"]:
            qv = emb.embed_query(q)
            rows, scores = ix.dense_search(qv, 10)
            brute = vecs @ qv
            order = np.argsort(-brute, kind="stable")[:10]
            assert np.allclose(scores, brute[order], atol=1e-5)
            assert np.allclose(brute[rows], scores, atol=1e-5)  # rows map back to the right chunks
            t = [w for w in terms(q) if w in mem.vocab_dict]
            assert t
            assert np.allclose(ix.bm25_scores(terms(q)), mem.get_scores(t), rtol=1e-6)
            assert np.allclose(ix.dense_scores(qv, rows), scores, atol=1e-5)
    finally:
        ix.close()


def test_real_index_reload_is_identical(small_index: Path, real_embedder, tmp_path: Path) -> None:
    """Re-save the real index's contents into a new directory; both load to the same search results."""
    a = open_index(small_index, embedder_id=real_embedder.model_id)
    b = None
    try:
        arts = list(a.iter_articles())
        chunks = [r.as_chunk() for r in a.chunks(range(a.n_chunks))]
        vecs = a.all_vectors()
        assert vecs.shape == (a.n_chunks, 384)
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
        d = tmp_path / "copy"
        meta = {k: a.manifest[k] for k in ("embedder", "chunker")}
        with writer_lock(d):
            write_index(d, arts, chunks, vecs, meta)
        b = open_index(d, embedder_id=real_embedder.model_id)
        assert b.manifest["corpus_fingerprint"] == a.manifest["corpus_fingerprint"]
        for q in ["US warning to North Korea over arms deal with Russia", "Amazon FTC antitrust lawsuit sellers"]:
            qv = real_embedder.embed_query(q)
            ra, sa = a.dense_search(qv, 8)
            rb, sb = b.dense_search(qv, 8)
            assert [c.chunk_id for c in a.chunks(ra)] == [c.chunk_id for c in b.chunks(rb)]
            assert np.array_equal(sa, sb)
            assert np.array_equal(a.bm25_scores(terms(q)), b.bm25_scores(terms(q)))
            assert a.bm25_scores(terms(q)).max() > 0
        # a stored chunk is its own nearest neighbour under the real model
        probe = chunks[5]
        rows, scores = a.dense_search(real_embedder.embed_query(probe.text), 1)
        assert a.chunks(rows)[0].chunk_id == probe.chunk_id and scores[0] > 0.99
    finally:
        a.close()
        if b is not None:
            b.close()


def test_manifest_contents(small_index: Path, real_embedder) -> None:
    vdir = _version_dir(small_index)
    m = json.loads((vdir / MANIFEST).read_text())
    assert m["format_version"] == 1
    assert m["package_version"] == rag.__version__
    assert datetime.fromisoformat(m["built_at"]).tzinfo is not None
    assert m["embedder"]["model_id"] == real_embedder.model_id
    assert m["embedder"]["dim"] == 384 and m["embedder"]["normalized"] is True
    assert m["chunker"] == {"splitter": "blingfire", "max_tokens": 254, "overlap": 1, "tokenizer": "embedder"}
    assert m["index"]["type"] == "flat" and m["index"]["metric"] == "inner_product"
    ix = open_index(small_index)
    try:
        assert m["counts"] == {"articles": 21, "chunks": ix.n_chunks, "vectors": ix.n_chunks}
        arts = list(ix.iter_articles())
        assert m["corpus_fingerprint"] == corpus_fingerprint(arts)
        dates = sorted(a.published_at for a in arts)
        assert m["date_span"] == [dates[0], dates[-1]]
        assert len(m["corpus_fingerprint"]) == 64
    finally:
        ix.close()
    assert {VECTORS, STORE, "bm25/vocab.index.json", "bm25/params.index.json"} <= set(m["files"])
    on_disk = {p.relative_to(vdir).as_posix() for p in vdir.rglob("*") if p.is_file()} - {MANIFEST}
    assert set(m["files"]) == on_disk
    for rel, info in m["files"].items():
        data = (vdir / rel).read_bytes()
        assert info["sha256"] == hashlib.sha256(data).hexdigest() and info["bytes"] == len(data)
    assert "TechCrunch" in m["sources"]


def test_vector_ids_are_stable_and_63_bit() -> None:
    assert vector_id("abc-0000") == vector_id("abc-0000") != vector_id("abc-0001")
    assert 0 <= vector_id("x") < 2**63


def test_hnsw_index_round_trip(tmp_path: Path, corpus_slice: Path) -> None:
    d = tmp_path / "hnsw"
    build_index([corpus_slice], d, HashEmbedder(), BuildOptions(progress=False, index_type="hnsw"))
    ix = open_index(d)
    try:
        assert ix.manifest["index"]["type"] == "hnsw" and ix.manifest["index"]["ef_search"] == HNSW_EF_SEARCH
        vecs = ix.all_vectors()
        for r in (0, 7, ix.n_chunks - 1):
            rows, scores = ix.dense_search(vecs[r], 1)
            assert np.isclose(scores[0], 1.0, atol=1e-5)
            assert np.allclose(vecs[rows[0]], vecs[r])
    finally:
        ix.close()


# ------------------------------------------------------------------------ refusals


def _assert_refused(d: Path, cls: type[Exception], fragment: str, **kw) -> str:
    with pytest.raises(cls) as ei:
        open_index(d, **kw)
    msg = str(ei.value)
    assert type(ei.value) is cls
    assert "rag index build" in msg, msg
    assert fragment in msg, msg
    return msg


def test_no_index_at_all(tmp_path: Path) -> None:
    _assert_refused(tmp_path / "nothing", IndexNotFound, "no index")
    (tmp_path / "emptydir").mkdir()
    _assert_refused(tmp_path / "emptydir", IndexNotFound, "no index")


def test_missing_current(hash_index: Path) -> None:
    (hash_index / CURRENT).unlink()
    # version folders without a pointer are what a first build killed before the switch leaves
    _assert_refused(hash_index, IndexNotFound, "unreferenced version")


def test_current_points_at_missing_version(hash_index: Path) -> None:
    shutil.rmtree(_version_dir(hash_index))
    _assert_refused(hash_index, IndexCorrupt, "missing version")


@pytest.mark.parametrize("rel", [VECTORS, STORE, "bm25/vocab.index.json", MANIFEST])
def test_missing_file(hash_index: Path, rel: str) -> None:
    (_version_dir(hash_index) / rel).unlink()
    _assert_refused(hash_index, IndexCorrupt, "file missing")


def test_truncated_vectors(hash_index: Path) -> None:
    p = _version_dir(hash_index) / VECTORS
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    _assert_refused(hash_index, IndexCorrupt, "truncated")
    _assert_refused(hash_index, IndexCorrupt, "truncated", verify=False)  # the size check needs no hashing


def test_flipped_byte_in_store(hash_index: Path) -> None:
    p = _version_dir(hash_index) / STORE
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x40
    p.write_bytes(bytes(data))
    _assert_refused(hash_index, IndexCorrupt, "checksum")


def _rechecksum(vdir: Path, rel: str) -> None:
    m = json.loads((vdir / MANIFEST).read_text())
    p = vdir / rel
    m["files"][rel] = {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size}
    (vdir / MANIFEST).write_text(json.dumps(m))


def test_count_mismatch_store_edited_and_rechecksummed(hash_index: Path) -> None:
    vdir = _version_dir(hash_index)
    con = sqlite3.connect(vdir / STORE)
    con.execute("DELETE FROM chunks WHERE row = (SELECT MAX(row) FROM chunks)")
    con.commit()
    con.close()
    _rechecksum(vdir, STORE)
    _assert_refused(hash_index, IndexCorrupt, "count mismatch")


def test_count_mismatch_manifest_edited(hash_index: Path) -> None:
    vdir = _version_dir(hash_index)
    m = json.loads((vdir / MANIFEST).read_text())
    m["counts"]["articles"] += 1
    (vdir / MANIFEST).write_text(json.dumps(m))
    _assert_refused(hash_index, IndexCorrupt, "count mismatch")


def test_manifest_not_json(hash_index: Path) -> None:
    (_version_dir(hash_index) / MANIFEST).write_text('{"format_version": 1, ')
    _assert_refused(hash_index, IndexCorrupt, "not valid JSON")


def test_different_embedder_refused(hash_index: Path) -> None:
    msg = _assert_refused(hash_index, IndexMismatch, "all-MiniLM", embedder_id="all-MiniLM-L6-v2|dim=384|max=256|bytes=1")
    assert "hash|dim=64" in msg
    open_index(hash_index, embedder_id=HashEmbedder().model_id).close()  # the right one loads


def test_other_format_version_refused(hash_index: Path) -> None:
    vdir = _version_dir(hash_index)
    m = json.loads((vdir / MANIFEST).read_text())
    m["format_version"] = 99
    (vdir / MANIFEST).write_text(json.dumps(m))
    _assert_refused(hash_index, IndexMismatch, "format 99")


# ------------------------------------------------------------------------ readers and writers


def test_reader_keeps_working_while_new_versions_are_written(tmp_path: Path) -> None:
    d = tmp_path / "ix"
    emb = HashEmbedder()
    build_index([_write_json_corpus(tmp_path / "a.json", 6, " alpha")], d, emb, FAST)
    reader = open_index(d)
    v1 = reader.version_dir
    before_rows, before_scores = reader.dense_search(emb.embed_query("story alpha topic3"), 5)
    before = [c.chunk_id for c in reader.chunks(before_rows)]
    body = reader.article_body(reader.row_article[0])
    try:
        for n, tag in ((9, " beta"), (4, " gamma"), (7, " delta")):
            build_index([_write_json_corpus(tmp_path / f"{tag.strip()}.json", n, tag)], d, emb, FAST)
            rows, scores = reader.dense_search(emb.embed_query("story alpha topic3"), 5)
            assert [c.chunk_id for c in reader.chunks(rows)] == before and np.array_equal(scores, before_scores)
            assert reader.article_body(reader.row_article[0]) == body
            assert "alpha" in reader.chunks([0])[0].text
            assert reader.bm25_scores(terms("alpha")).max() > 0
        assert not v1.exists()  # collected after two newer versions, yet the open reader still works
        fresh = open_index(d)
        assert fresh.manifest["counts"]["articles"] == 7 and "delta" in fresh.chunks([0])[0].text
        fresh.close()
        versions = sorted(p.name for p in d.iterdir() if p.name.startswith("v-"))
        assert len(versions) == 2 and not [p for p in d.iterdir() if p.name.startswith(".tmp-")]
    finally:
        reader.close()


def test_readers_see_whole_versions_during_rewrites(tmp_path: Path) -> None:
    d = tmp_path / "ix"
    emb = HashEmbedder()
    corpora = [_write_json_corpus(tmp_path / f"c{n}.json", n, f" v{n}") for n in (3, 5, 8)]
    build_index([corpora[0]], d, emb, FAST)
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read_loop() -> None:
        while not stop.is_set():
            try:
                ix = open_index(d)
                n = ix.manifest["counts"]["articles"]
                titles = {m["title"].split(" v")[-1] for m in ix.articles_meta()}
                assert titles == {str(n)}, titles  # never a mix of two versions
                assert ix.n_chunks == ix.manifest["counts"]["chunks"]
                seen.append(n)
                ix.close()
            except BaseException as e:  # reported below
                errors.append(e)
                return

    t = threading.Thread(target=read_loop)
    t.start()
    try:
        for k in range(9):
            build_index([corpora[k % 3]], d, emb, FAST)
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    assert seen and set(seen) <= {3, 5, 8}


def test_one_writer_at_a_time(tmp_path: Path, corpus_slice: Path) -> None:
    d = tmp_path / "ix"
    with writer_lock(d):
        with pytest.raises(RagError, match="another build or update is running"):
            build_index([corpus_slice], d, HashEmbedder(), FAST)
    build_index([corpus_slice], d, HashEmbedder(), FAST)  # released afterwards
    open_index(d).close()


def test_leftovers_of_killed_writers_are_collected(hash_index: Path, corpus_slice: Path) -> None:
    (hash_index / ".tmp-v-20000101T000000000000-abcdef").mkdir()
    (hash_index / ".tmp-v-20000101T000000000000-abcdef" / VECTORS).write_bytes(b"partial")
    (hash_index / f".{CURRENT}.deadbeef").write_text("v-garbage\n")
    open_index(hash_index).close()  # leftovers do not disturb readers
    build_index([corpus_slice], hash_index, HashEmbedder(), FAST)
    assert not [p.name for p in hash_index.iterdir() if p.name.startswith((".tmp-", f".{CURRENT}."))]
