"""The Ray engine against the local build, on a real local Ray cluster (no fakes, no skip).

A local Ray is started here with the CLI's own ``start_ray`` (a Ray that cannot start fails the
test), then ``rag index build --engine ray --ray-workers 2 --json`` (the CLI, run in this process
so it finds that Ray running and uses it, as it would join a cluster: Ray starts once, not per
command) builds the bundled sample corpus; the local engine builds the same corpus. They must
agree: the same articles, chunk ids and texts in the same row order, vectors within 1e-4
cosine, the same manifest description, the same dense and hybrid search results. Then one
article is edited and ``rag index update --engine ray`` must embed only that article's chunks,
keep every other vector bit for bit, and end equal to a local update of the local index. Ray is
required here (``scripts/setup.sh --test`` installs the ``[ray]`` extra): a Ray that cannot be
imported or started fails the test. About 35 s on 2 vCPUs, most of it Ray's start and the actor
pools' (each pool loads its own model).

Both engines run the default backend (onnx-int8), which quantizes activations with a scale per
batch, so a chunk's vector depends on the texts it is batched with (by up to ~1e-2 cosine): the
Ray engine embeds exactly the local build's batches (``rag.build.embed_batches``), which is what
lets the vectors agree to 1e-4. ``test_embed_batches_are_the_local_builds`` checks that plan
against the local build's own calls, without Ray.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from rag.build import BuildOptions, _embed_all, build_index, embed_batches, update_index
from rag.chunk import chunk_article
from rag.embed import DEFAULT_BACKEND, load_embedder
from rag.index import open_index
from rag.ingest import load_corpus
from rag.lexical import terms
from rag.retrieve import Retriever
from rag.types import Chunk

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CORPUS = REPO / "rag" / "sample_corpus"
BACKEND = DEFAULT_BACKEND
FAST = BuildOptions(progress=False)
EDITED = "arro-2-overheating.md"
MARKER = "Kestrel later said a firmware change would cap charging current on every Arro 2 sold in Norway."
QUERIES = [
    "Which supplier made the faulty battery cells in the Arro 2 e-bike?",
    "What sentence was handed down in the Delane case?",
    "When did Ferrand return from injury?",
    "How much will the Arro 2 recall cost Kestrel Mobility?",
    "firmware charging current Norway",
]


def ray_cli(mode: str, corpus: Path, index_dir: Path, workers: int) -> dict:
    """``rag index MODE --engine ray ... --json`` in this process; its one stdout line, parsed."""
    from typer.testing import CliRunner

    from rag.cli import app

    r = CliRunner().invoke(app, ["index", mode, "--corpus", str(corpus), "--index-dir", str(index_dir), "--engine", "ray",
                                 "--ray-workers", str(workers), "--embed-backend", BACKEND, "--json", "--no-progress"])  # fmt: skip
    assert r.exit_code == 0, f"rag index {mode} --engine ray failed (exit {r.exit_code}): {r.exception!r}\n{r.output[-4000:]}"
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1, r.stdout  # --json: one line on stdout, whatever Ray prints
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def emb(real_embedder):
    if getattr(real_embedder, "backend", "") == BACKEND:
        return real_embedder
    return load_embedder("all-MiniLM-L6-v2", backend=BACKEND)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import ray  # noqa: F401  (an ImportError here is a failure: CI installs the extra)

    root = tmp_path_factory.mktemp("raybuild")
    shutil.copytree(SAMPLE_CORPUS, root / "corpus")
    return root


def _rows(d: Path) -> tuple[dict, list[tuple], np.ndarray, list[dict]]:
    ix = open_index(d)
    try:
        rows = [(c.chunk_id, c.article_id, c.ordinal, c.start, c.end, c.n_tokens, c.text) for c in ix.chunks(range(ix.n_chunks))]
        arts = sorted(ix.articles_meta(), key=lambda m: m["article_id"])
        return ix.manifest, rows, ix.all_vectors(), arts
    finally:
        ix.close()


def _assert_same_index(local: Path, ray_dir: Path) -> np.ndarray:
    lm, lrows, lvec, larts = _rows(local)
    rm, rrows, rvec, rarts = _rows(ray_dir)
    assert len(lrows) > 30
    assert [r[0] for r in rrows] == [r[0] for r in lrows]  # chunk ids, in the same row order
    assert rrows == lrows  # ... and article, ordinal, offsets, token counts and text
    assert rarts == larts  # articles and their content hashes
    for key in ("format_version", "embedder", "chunker", "index", "bm25", "counts", "date_span", "sources", "corpus_fingerprint"):
        assert rm[key] == lm[key], key
    # the same files; BM25's bytes differ between processes (its vocabulary order follows the hash seed)
    assert sorted(rm["files"]) == sorted(lm["files"])
    assert rvec.shape == lvec.shape
    cos = np.sum(rvec * lvec, axis=1) / (np.linalg.norm(rvec, axis=1) * np.linalg.norm(lvec, axis=1))
    assert cos.min() >= 1 - 1e-4, (float(cos.min()), lrows[int(cos.argmin())][0])
    return cos


def _assert_same_search(local: Path, ray_dir: Path, emb) -> None:
    a, b = open_index(local, embedder_id=emb.model_id), open_index(ray_dir, embedder_id=emb.model_id)
    try:
        ra, rb = Retriever(a, emb), Retriever(b, emb)
        for q in QUERIES:
            assert set(a.bm25.vocab_dict) == set(b.bm25.vocab_dict)
            assert np.allclose(a.bm25_scores(terms(q)), b.bm25_scores(terms(q)), atol=1e-5), q  # the same BM25 side index
            qv = emb.embed_query(q)
            (rows_a, sa), (rows_b, sb) = a.dense_search(qv, 10), b.dense_search(qv, 10)
            assert [c.chunk_id for c in a.chunks(rows_a)] == [c.chunk_id for c in b.chunks(rows_b)], q
            assert np.allclose(sa, sb, atol=1e-4), q
            ha, hb = ra.search(q, 5).hits, rb.search(q, 5).hits
            assert len(ha) == 5
            assert [h.chunk_id for h in ha] == [h.chunk_id for h in hb], q
            assert np.allclose([h.score for h in ha], [h.score for h in hb], atol=1e-4), q
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("batch_size", [32, 48])  # 48 does not divide the build's 512-text slices
def test_embed_batches_are_the_local_builds(emb, batch_size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan the Ray engine embeds by is the batches the local build gives the model."""
    if not hasattr(emb, "_encode"):
        pytest.fail(f"the default backend {BACKEND} is not an ONNX one: record torch's batches instead")
    rng = np.random.default_rng(0)
    texts = [f"text {i} " + "word " * int(rng.choice([1, 2, 6, 12])) for i in range(600)]  # > 512, many equal lengths
    seen: list[list[str]] = []
    real = emb._encode
    monkeypatch.setattr(emb, "batch_size", batch_size)
    monkeypatch.setattr(emb, "_encode", lambda batch: (seen.append(list(batch)), real(batch))[1])
    chunks = [
        Chunk(chunk_id=f"c{i}", article_id="a", ordinal=i, start=0, end=len(t), n_tokens=1, text=t) for i, t in enumerate(texts)
    ]
    local = _embed_all(chunks, emb, FAST)
    plan = embed_batches(texts, batch_size)
    assert seen == [[texts[j] for j in idx] for idx in plan]
    assert sorted(np.concatenate(plan).tolist()) == list(range(len(texts)))
    again = np.zeros_like(local)
    for idx in plan:  # each batch embedded alone, as a Ray actor does
        again[idx] = emb.embed_documents([texts[j] for j in idx])
    assert np.array_equal(again, local)


@pytest.mark.ray
def test_ray_build_matches_local_build_and_updates_incrementally(work: Path, emb, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    from rag.ray_build import start_ray

    corpus, local, ray_dir = work / "corpus", work / "local", work / "ray"
    monkeypatch.chdir(work)  # no rag.toml of the caller's
    for k in [k for k in os.environ if k.startswith("RAG_") or k == "RAY_ADDRESS"]:
        monkeypatch.delenv(k)
    t0 = time.perf_counter()
    res = build_index([corpus], local, emb, FAST)
    local_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert start_ray() is True  # a fresh local Ray (RayError, a failure, if it cannot start)
    try:
        _ray_part(corpus, local, ray_dir, emb, res)
    finally:
        ray.shutdown()
    print(
        f"\nlocal build {local_s:.1f}s; Ray start, build (2 actors), update (1 actor) and checks {time.perf_counter() - t0:.1f}s"
    )


def _ray_part(corpus: Path, local: Path, ray_dir: Path, emb, res) -> None:
    # ---------------------------------------------------------------- full build, two actors
    summary = ray_cli("build", corpus, ray_dir, workers=2)
    assert (summary["articles"], summary["chunks"], summary["embedded"]) == (res.articles, res.chunks, res.chunks)
    assert res.articles == len(load_corpus([SAMPLE_CORPUS]).articles) > 20
    _assert_same_index(local, ray_dir)
    _assert_same_search(local, ray_dir, emb)
    _, before_rows, before_vec, _ = _rows(ray_dir)
    before = {r[0]: before_vec[i] for i, r in enumerate(before_rows)}

    # ---------------------------------------------------------------- edit one article, update through Ray
    f = corpus / EDITED
    f.write_text(f.read_text(encoding="utf-8").rstrip("\n") + " " + MARKER + "\n", encoding="utf-8")
    edited = next(a for a in load_corpus([corpus]).articles if a.origin.endswith(EDITED))
    expect = chunk_article(edited, emb.count_tokens, emb.token_offsets, emb.max_tokens, FAST.overlap)
    summary = ray_cli("update", corpus, ray_dir, workers=1)
    assert (summary["embedded"], summary["removed"], summary["articles"]) == (len(expect), 0, res.articles)
    lres = update_index([corpus], local, emb, FAST)
    assert (lres.embedded, lres.unchanged) == (len(expect), res.articles - 1)

    _, after_rows, after_vec, _ = _rows(ray_dir)
    after = {r[0]: after_vec[i] for i, r in enumerate(after_rows)}
    assert {c.chunk_id for c in expect} <= set(after)
    assert [r[6] for r in after_rows if r[1] == edited.article_id] == [c.text for c in expect]
    assert MARKER in expect[-1].text
    kept = [r[0] for r in after_rows if r[1] != edited.article_id]
    assert len(kept) == len(after) - len(expect) > 30
    for cid in kept:
        assert np.array_equal(after[cid], before[cid]), cid  # stored vector kept, not recomputed
    # the Ray-updated index equals the locally updated one, search included
    _assert_same_index(local, ray_dir)
    _assert_same_search(local, ray_dir, emb)
    ix = open_index(ray_dir, embedder_id=emb.model_id)
    try:
        rows, _ = ix.dense_search(emb.embed_query("firmware change caps charging current in Norway"), 1)
        assert ix.chunks(rows)[0].article_id == edited.article_id
    finally:
        ix.close()
