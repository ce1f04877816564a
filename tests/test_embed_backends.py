"""Embedding backends: ONNX fp32 / int8 against PyTorch on real text, the index guard that
keeps an index's vectors and its queries from different backends apart, updates that keep the
index's own backend, and one embedder shared by several threads."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from rag.build import BuildOptions, build_index, update_index
from rag.embed import ONNX_FILES, load_embedder, parse_model_id, query_compatibility
from rag.errors import IndexMismatch
from rag.index import open_index


@pytest.fixture(scope="module")
def backends(real_embedder):
    out = {"torch": load_embedder("all-MiniLM-L6-v2", backend="torch"), "onnx": load_embedder("all-MiniLM-L6-v2", backend="onnx")}
    out["onnx-int8"] = real_embedder if getattr(real_embedder, "backend", "") == "onnx-int8" else load_embedder("all-MiniLM-L6-v2", backend="onnx-int8")
    return out


@pytest.fixture(scope="module")
def real_texts(corpus_slice: Path, real_embedder) -> list[str]:
    """Chunks of real articles (the build's chunker) plus short questions."""
    from rag.build import _chunk_all, chunker_meta
    from rag.ingest import load_corpus

    arts = load_corpus([corpus_slice]).articles[:8]
    opts = BuildOptions(progress=False)
    chunks = _chunk_all(arts, real_embedder, chunker_meta(real_embedder, opts), opts)
    questions = [a.title for a in arts] + ["Who is accused of fraud in the FTX trial?", "What did TechCrunch report in October?"]
    return [c.text for c in chunks] + questions


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_onnx_backends_match_torch_on_real_text(backends, real_texts) -> None:
    ref = backends["torch"].embed_documents(real_texts)
    fp32 = _cos(backends["onnx"].embed_documents(real_texts), ref)
    int8 = _cos(backends["onnx-int8"].embed_documents(real_texts), ref)
    assert len(real_texts) > 60
    assert fp32.min() >= 0.9999, fp32.min()
    assert int8.min() >= 0.99, (int8.min(), real_texts[int(int8.argmin())][:80])
    for e in backends.values():  # unit vectors, the same dimension and token limits everywhere
        v = e.embed_documents(real_texts[:3])
        assert v.dtype == np.float32 and v.shape == (3, 384)
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
        assert (e.dim, e.max_tokens) == (384, 254)
    # one tokenizer: the chunker sees the same token counts and offsets through every backend
    t = real_texts[0]
    assert {tuple(e.count_tokens([t])) for e in backends.values()} == {tuple(backends["torch"].count_tokens([t]))}
    assert {tuple(e.token_offsets(t)) for e in backends.values()} == {tuple(backends["torch"].token_offsets(t))}


def test_model_ids_name_backend_and_file(backends) -> None:
    torch_id = backends["torch"].model_id
    assert torch_id == "all-MiniLM-L6-v2|dim=384|max=256|bytes=90868376"  # what indexes built before recorded
    for b in ("onnx", "onnx-int8"):
        e = backends[b]
        base, backend, sha = parse_model_id(e.model_id)
        assert base == torch_id and backend == b and len(sha) == 16
        assert e.manifest_meta()["backend_sha256"].startswith(sha)
        assert e.manifest_meta()["backend_file"] == Path(ONNX_FILES[b]).name
    assert parse_model_id(torch_id) == (torch_id, "torch", "")


def test_query_compatibility_rules() -> None:
    t = "m|dim=384|max=256|bytes=1"
    o = t + "|backend=onnx|sha256=aaaa"
    i8 = t + "|backend=onnx-int8|sha256=bbbb"
    assert query_compatibility(t, t) is None
    assert query_compatibility(t, o) is None and query_compatibility(o, t) is None  # fp32 twins (cosine >= 0.9999)
    assert query_compatibility(i8, i8) is None
    # int8 and fp32 mixed: measured within 0.01 on Hits@10 and all@10 (bench/embed_bench.py)
    assert query_compatibility(i8, t) is None and query_compatibility(t, i8) is None
    assert query_compatibility(i8, o) is None and query_compatibility(o, i8) is None
    assert query_compatibility(i8, t + "|backend=onnx-int8|sha256=cccc") is None
    assert "different embedding model" in (query_compatibility(t, "other|dim=384|max=256|bytes=1") or "")
    assert "not measured compatible" in (query_compatibility(t, t + "|backend=openvino|sha256=dddd") or "")


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory, corpus_slice: Path) -> Path:
    d = tmp_path_factory.mktemp("tiny")
    (d / "c.json").write_text(json.dumps(json.loads(corpus_slice.read_text())[:3]))
    return d / "c.json"


def test_index_refuses_queries_from_another_backend(tmp_path: Path, tiny_corpus: Path, backends) -> None:
    d = tmp_path / "ix"
    build_index([tiny_corpus], d, backends["onnx-int8"], BuildOptions(progress=False))
    m = open_index(d).manifest["embedder"]
    assert m["backend"] == "onnx-int8" and len(m["backend_sha256"]) == 64 and m["model_id"] == backends["onnx-int8"].model_id
    open_index(d, embedder_id=backends["onnx-int8"].model_id).close()
    # fp32 queries over an int8 index: measured compatible (bench/embed_bench.py), so accepted
    open_index(d, embedder_id=backends["torch"].model_id).close()
    open_index(d, embedder_id=backends["onnx"].model_id).close()
    base = backends["torch"].model_id
    with pytest.raises(IndexMismatch, match=r"onnx-int8 backend, not openvino.*embed_backend = 'onnx-int8'"):
        open_index(d, embedder_id=base + "|backend=openvino|sha256=dddd")
    with pytest.raises(IndexMismatch, match="different embedding model"):
        open_index(d, embedder_id=base.replace("all-MiniLM-L6-v2", "other-model"))


def test_update_keeps_the_index_backend(tmp_path: Path, tiny_corpus: Path, backends) -> None:
    """An index built with torch, updated by an int8 embedder: new vectors still come from torch."""
    d = tmp_path / "ix"
    corpus = tmp_path / "c.json"
    data = json.loads(tiny_corpus.read_text())
    corpus.write_text(json.dumps(data))
    build_index([corpus], d, backends["torch"], BuildOptions(progress=False))
    data[1]["body"] += " In an update to this story, officials confirmed the figures on Friday."
    corpus.write_text(json.dumps(data))
    res = update_index([corpus], d, backends["onnx-int8"], BuildOptions(progress=False))
    ix = open_index(d, embedder_id=backends["torch"].model_id)
    try:
        assert ix.manifest["embedder"]["backend"] == "torch"
        changed = next(a for a in ix.articles_meta() if a["title"] == data[1]["title"])
        rows = [c.row for c in ix.chunks_of(changed["article_id"])]
        assert res.embedded == len(rows) > 0
        texts = [c.text for c in ix.chunks(rows)]
        assert np.allclose(ix.all_vectors()[rows], backends["torch"].embed_documents(texts), atol=1e-5)
    finally:
        ix.close()


@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_one_embedder_shared_by_threads(backends, real_texts, backend: str) -> None:
    """Chat workers and a background rebuild share one embedder: no 'Already borrowed', same vectors."""
    e = backends[backend]
    texts = real_texts[:40]
    want = e.embed_documents(texts)
    want_tokens = e.count_tokens(texts)
    # the same calls made from one thread first: int8 dynamic quantization scales by batch, so a
    # query embedded alone is compared with the same query embedded alone, not with a batch row
    want_q = {k: np.vstack([e.embed_query(t) for t in texts[k : k + 5]]) for k in range(1, 6, 3)}
    errors: list[BaseException] = []
    got: dict[int, np.ndarray] = {}
    start = threading.Barrier(6)

    def work(k: int) -> None:
        try:
            start.wait()
            for _ in range(2):
                if k % 3 == 0:
                    assert e.count_tokens(texts) == want_tokens
                    e.token_offsets(texts[k])
                elif k % 3 == 1:
                    got[k] = np.vstack([e.embed_query(t) for t in texts[k : k + 5]])
                else:
                    got[k] = e.embed_documents(texts)
        except BaseException as ex:
            errors.append(ex)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    for k, v in got.items():
        ref = want_q[k] if k % 3 == 1 else want
        assert np.allclose(v, ref, atol=1e-5), k
