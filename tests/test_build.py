"""Build and incremental update: crash safety under kill -9, and real-MiniLM incremental updates.

The crash trials run ``rag index build/update --embedder hash`` as subprocesses and kill
them at random moments (half of the kills are aimed at the write phase); the incremental
tests run the real MiniLM on a copy of the session ``small_index``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.build import BuildOptions, build_index, update_index
from rag.chunk import chunk_article
from rag.embed import HashEmbedder
from rag.errors import CorpusError, IndexMismatch, IndexNotFound
from rag.index import CURRENT, corpus_fingerprint, open_index
from rag.ingest import load_corpus

FAST = BuildOptions(progress=False)
REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _extra_articles(path: Path, n: int) -> Path:
    arts = [
        {
            "title": f"Extra story {i}",
            "source": "Crash Gazette",
            "published_at": "2023-12-0" + str(1 + i % 9),
            "body": " ".join(f"Extra sentence {j} about subject{(i * j) % 11} in story {i}." for j in range(40)),
        }
        for i in range(n)
    ]
    path.write_text(json.dumps(arts))
    return path


def _state(d: Path) -> tuple[str | None, list[str]]:
    cur = (d / CURRENT).read_text().strip() if (d / CURRENT).exists() else None
    return cur, sorted(p.name for p in d.iterdir() if p.name != ".lock") if d.exists() else []


# ------------------------------------------------------------------------ crash safety


def test_kill_9_at_random_moments_never_breaks_the_index(tmp_path: Path, corpus_slice: Path, seed_dir: Path) -> None:
    rng = random.Random(1234)
    emb = HashEmbedder()
    old_corpus = [corpus_slice]
    new_corpus = [corpus_slice, seed_dir, _extra_articles(tmp_path / "extra.json", 30)]
    fp_old = corpus_fingerprint(load_corpus(old_corpus).articles)
    fp_new = corpus_fingerprint(load_corpus(new_corpus).articles)
    assert fp_old != fp_new

    def cli(mode: str, d: Path) -> subprocess.Popen:
        args = [sys.executable, "-m", "rag.cli", "index", mode, "--index-dir", str(d), "--embedder", "hash", "--json"]
        for c in new_corpus:
            args += ["--corpus", str(c)]
        return subprocess.Popen(args, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    # calibrate: how long a whole run takes, and how long its write phase (a .tmp- folder exists) lasts
    d0 = tmp_path / "calib"
    t0 = time.monotonic()
    p = cli("build", d0)
    t_write = None
    while p.poll() is None:
        if t_write is None and d0.exists() and any(x.name.startswith(".tmp-") for x in d0.iterdir()):
            t_write = time.monotonic()
        time.sleep(0.002)
    t_total = time.monotonic() - t0
    assert p.returncode == 0, p.stderr.read().decode()
    write_span = max(0.02, time.monotonic() - (t_write or t0))

    outcomes: dict[str, int] = {"old": 0, "new": 0, "none": 0}
    killed = killed_in_write = 0
    trials = 12
    for trial in range(trials):
        d = tmp_path / f"t{trial}"
        fresh = trial % 4 == 3  # every fourth trial: no index existed before
        if not fresh:
            build_index(old_corpus, d, emb, FAST)
        before = _state(d)
        mode = "update" if trial % 2 else "build"
        p = cli(mode, d)
        if trial % 2 == 0:  # a random moment of the whole run
            deadline = time.monotonic() + rng.uniform(0.05, 0.85 * t_total)
            while p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
        else:  # a random moment of the write phase
            while p.poll() is None and not (d.exists() and any(x.name.startswith(".tmp-") for x in d.iterdir())):
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.8 * write_span))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait(timeout=60)
        after = _state(d)
        if p.returncode == -signal.SIGKILL and after[1] != before[1]:
            killed_in_write += 1

        try:
            ix = open_index(d)
        except IndexNotFound:
            assert fresh, f"trial {trial}: the previous index was lost"
            outcomes["none"] += 1
        else:
            try:
                fp = ix.manifest["corpus_fingerprint"]
                assert fp in (fp_old, fp_new), f"trial {trial}: loaded a version of neither corpus"
                assert not (fresh and fp == fp_old)
                assert corpus_fingerprint(list(ix.iter_articles())) == fp  # store agrees with manifest
                assert ix.n_chunks == ix.manifest["counts"]["chunks"] == len(ix.all_vectors())
                rows, _ = ix.dense_search(emb.embed_query("Cyber Monday deals"), 3)
                assert len(rows) == 3 and (rows >= 0).all()
                outcomes["new" if fp == fp_new else "old"] += 1
            finally:
                ix.close()

        # whatever happened, the next build (or update) succeeds and is loadable
        fn = build_index if trial % 3 else update_index
        res = fn(new_corpus, d, emb, FAST)
        assert res.articles == 51
        ix = open_index(d)
        assert ix.manifest["corpus_fingerprint"] == fp_new
        ix.close()
        assert not [x for x in d.iterdir() if x.name.startswith(".tmp-")]

    assert killed >= trials // 2, f"only {killed} of {trials} runs were killed: {outcomes}"
    assert killed_in_write >= 1, f"no kill landed in the write phase: {outcomes}"


def test_first_build_killed_between_rename_and_switch(tmp_path: Path, corpus_slice: Path) -> None:
    """The one window where a version folder exists without CURRENT: it is 'no index yet'."""
    d = tmp_path / "ix"
    build_index([corpus_slice], d, HashEmbedder(), FAST)
    (d / CURRENT).unlink()  # exactly the state a kill right after os.rename leaves on a first build
    with pytest.raises(IndexNotFound, match="rag index build"):
        open_index(d)
    res = update_index([corpus_slice], d, HashEmbedder(), FAST)  # update falls back to a full build
    assert res.embedded == res.chunks > 0
    open_index(d).close()
    assert len([p for p in d.iterdir() if p.name.startswith("v-")]) <= 2


# ------------------------------------------------------------------------ build / update with the fake


def test_build_result_and_failed_build_keeps_previous(tmp_path: Path, corpus_slice: Path) -> None:
    d = tmp_path / "ix"
    emb = HashEmbedder()
    res = build_index([corpus_slice], d, emb, FAST)
    assert (res.articles, res.removed, res.skipped) == (20, 0, [])
    assert res.embedded == res.chunks == emb.calls > 20
    assert set(res.summary()) == {"articles", "chunks", "embedded", "removed", "skipped", "seconds"}
    cur = _state(d)[0]

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.json").write_text("[{")
    with pytest.raises(CorpusError, match=r"broken\.json"):
        build_index([corpus_slice, bad], d, emb, FAST)
    with pytest.raises(CorpusError, match=r"broken\.json"):
        update_index([corpus_slice, bad], d, emb, FAST)
    assert _state(d)[0] == cur
    ix = open_index(d)
    assert ix.manifest["counts"]["articles"] == 20
    ix.close()

    res = build_index([corpus_slice, bad], d, emb, BuildOptions(progress=False, skip_bad=True))
    assert res.articles == 20 and res.skipped == [{"path": str(bad / "broken.json"), "reason": res.skipped[0]["reason"]}]
    assert "malformed JSON" in res.skipped[0]["reason"]


def test_update_with_fake_adds_and_changes(tmp_path: Path, corpus_slice: Path) -> None:
    d = tmp_path / "ix"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(corpus_slice, corpus / "slice.json")
    res = update_index([corpus], d, HashEmbedder(), FAST)  # no index yet: a full build
    assert res.embedded == res.chunks

    (corpus / "new.txt").write_text("title: Fresh news\n\nA brand new article arrived today. It has two sentences.\n")
    emb = HashEmbedder()
    res = update_index([corpus], d, emb, FAST)
    assert (res.embedded, res.removed, res.unchanged, res.articles) == (1, 0, 20, 21)
    assert emb.calls == 1

    (corpus / "new.txt").write_text("title: Fresh news\n\nThe article was corrected. " + "More words here. " * 40)
    emb = HashEmbedder()
    res = update_index([corpus], d, emb, FAST)
    ix = open_index(d)
    aid = next(m["article_id"] for m in ix.articles_meta() if m["title"] == "Fresh news")
    n = len(ix.chunks_of(aid))
    ix.close()
    assert n > 1 and res.embedded == emb.calls == n and res.removed == 0


# ------------------------------------------------------------------------ incremental update, real MiniLM


@pytest.fixture()
def real_copy(tmp_path: Path, small_index: Path, corpus_slice: Path, seed_dir: Path) -> tuple[Path, Path]:
    """A private copy of the session index and a corpus folder holding the same articles."""
    d = tmp_path / "ix"
    shutil.copytree(small_index, d)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(corpus_slice, corpus / "slice.json")
    for f in seed_dir.iterdir():
        shutil.copy(f, corpus / f.name)  # same relative name, so the same article id as in small_index
    return d, corpus


def _vectors_by_chunk(d: Path) -> dict[str, np.ndarray]:
    ix = open_index(d)
    try:
        vecs = ix.all_vectors()
        return {c.chunk_id: vecs[c.row] for c in ix.chunks(range(ix.n_chunks))}
    finally:
        ix.close()


def test_incremental_update_real_minilm(real_copy, real_embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    d, corpus = real_copy
    embedded_texts: list[str] = []
    original = real_embedder.embed_documents

    def counting(texts, progress=False):
        embedded_texts.extend(texts)
        return original(texts, progress=progress)

    monkeypatch.setattr(real_embedder, "embed_documents", counting)
    before = _vectors_by_chunk(d)

    # 1. nothing changed: nothing embedded, no new version
    cur = _state(d)[0]
    res = update_index([corpus], d, real_embedder, FAST)
    assert (res.embedded, res.removed, res.unchanged) == (0, 0, 21)
    assert embedded_texts == [] and _state(d)[0] == cur

    # 2. one article's body edited: only its chunks are embedded
    data = json.loads((corpus / "slice.json").read_text())
    k = 4
    marker = "In a late twist, the quarterback donated his entire bonus to a lighthouse museum in Maine."
    data[k]["body"] = data[k]["body"] + " " + marker
    (corpus / "slice.json").write_text(json.dumps(data))
    edited = next(a for a in load_corpus([corpus]).articles if a.title == data[k]["title"])
    expect_chunks = chunk_article(edited, real_embedder.count_tokens, real_embedder.token_offsets, real_embedder.max_tokens, 1)

    res = update_index([corpus], d, real_embedder, FAST)
    assert res.embedded == len(expect_chunks) == len(embedded_texts)
    # the build embeds longest first (as one encode call orders them) and puts vectors back in chunk order
    assert sorted(embedded_texts) == sorted(c.text for c in expect_chunks)
    assert (res.removed, res.unchanged, res.articles) == (0, 20, 21)
    after = _vectors_by_chunk(d)
    assert res.chunks == len(after)
    unchanged = [cid for cid in after if not cid.startswith(edited.article_id)]
    assert len(unchanged) == len(after) - len(expect_chunks)
    for cid in unchanged:
        assert np.array_equal(after[cid], before[cid]), cid  # bit-identical, not recomputed
    fresh = real_embedder.embed_documents([c.text for c in expect_chunks])
    got = np.vstack([after[c.chunk_id] for c in expect_chunks])
    assert np.allclose(got, fresh, atol=1e-5)
    ix = open_index(d, embedder_id=real_embedder.model_id)
    rows, _ = ix.dense_search(real_embedder.embed_query("quarterback donated bonus to a lighthouse museum"), 1)
    top = ix.chunks(rows)[0]
    assert top.article_id == edited.article_id and marker in top.text
    assert ix.article_body(edited.article_id).endswith(marker)
    ix.close()

    # 3. a file removed: its article goes, nothing is embedded
    embedded_texts.clear()
    seed_file = next(corpus.glob("*.txt"))
    seed_id = next(a.article_id for a in load_corpus([seed_file.parent]).articles if a.origin == str(seed_file))
    n_seed = sum(1 for cid in after if cid.startswith(seed_id))
    seed_file.unlink()
    res = update_index([corpus], d, real_embedder, FAST)
    assert (res.embedded, res.removed, res.articles) == (0, 1, 20)
    assert embedded_texts == []
    final = _vectors_by_chunk(d)
    assert len(final) == len(after) - n_seed > 0
    assert not [cid for cid in final if cid.startswith(seed_id)]
    for cid, v in final.items():
        assert np.array_equal(v, after[cid])


def test_update_refuses_other_embedder_or_chunker(real_copy, real_embedder) -> None:
    d, corpus = real_copy
    cur = _state(d)
    with pytest.raises(IndexMismatch) as ei:
        update_index([corpus], d, HashEmbedder(), FAST)
    msg = str(ei.value)
    assert "rag index build" in msg and real_embedder.model_id in msg and "hash|dim=64" in msg
    with pytest.raises(IndexMismatch, match="rag index build"):
        update_index([corpus], d, real_embedder, BuildOptions(progress=False, chunk_tokens=128))
    assert _state(d) == cur  # nothing written
    open_index(d, embedder_id=real_embedder.model_id).close()
