"""The index and search commands, run as subprocesses (``python -m rag.cli``).

Builds use ``--embedder hash`` (fast); one search runs the real MiniLM against the
session ``small_index``; the ``--batch`` forms search a hash-built index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.build import BuildOptions, build_index
from rag.embed import HashEmbedder
from rag.index import CURRENT, open_index

REPO = Path(__file__).resolve().parents[1]
SUMMARY_KEYS = {"articles", "chunks", "embedded", "removed", "skipped", "seconds"}
HIT_KEYS = {"rank", "score", "chunk_id", "article_id", "title", "source", "published_at", "text"}


def rag_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout
    )


def last_json(stdout: str) -> dict:
    lines = stdout.rstrip("\n").split("\n")
    return json.loads(lines[-1])


def _current(d: Path) -> str:
    return (d / CURRENT).read_text().strip()


# ------------------------------------------------------------------------ index build / update / info


def test_build_update_info_json(tmp_path: Path, corpus_slice: Path, seed_dir: Path) -> None:
    d = tmp_path / "ix"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "slice.json").write_text(corpus_slice.read_text())
    common = ["--index-dir", str(d), "--embedder", "hash", "--corpus", str(corpus), "--corpus", str(seed_dir)]

    r = rag_cli("index", "build", *common, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = last_json(r.stdout)
    assert set(s) == SUMMARY_KEYS
    assert s["articles"] == 21 and s["chunks"] == s["embedded"] > 21 and s["removed"] == 0 and s["skipped"] == []
    assert isinstance(s["seconds"], float) and s["seconds"] >= 0
    assert r.stdout.rstrip("\n").split("\n")[-1] == json.dumps(s, ensure_ascii=False)  # the line is exactly the JSON
    chunks = s["chunks"]

    r = rag_cli("index", "update", *common, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = last_json(r.stdout)
    assert set(s) == SUMMARY_KEYS and (s["embedded"], s["removed"], s["chunks"]) == (0, 0, chunks)

    (corpus / "new.md").write_text("# Added later\n\nA new article about a brand new harbour ferry service.\n")
    r = rag_cli("index", "update", *common, "--json", cwd=tmp_path)
    s = last_json(r.stdout)
    assert (s["articles"], s["embedded"], s["removed"], s["chunks"]) == (22, 1, 0, chunks + 1)

    (corpus / "new.md").unlink()
    r = rag_cli("index", "update", *common, "--json", cwd=tmp_path)
    s = last_json(r.stdout)
    assert (s["articles"], s["embedded"], s["removed"], s["chunks"]) == (21, 0, 1, chunks)

    r = rag_cli("index", "info", "--index-dir", str(d), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    info = last_json(r.stdout)
    assert info["format_version"] == 1
    assert info["counts"] == {"articles": 21, "chunks": chunks, "vectors": chunks}
    assert info["embedder"]["model_id"] == HashEmbedder().model_id
    assert info["build"]["mode"] == "update"
    assert Path(info["version_dir"]).name == _current(d)

    r = rag_cli("index", "info", "--index-dir", str(d), cwd=tmp_path)
    assert r.returncode == 0 and "21 articles" in r.stdout and f"{chunks} chunks" in r.stdout


def test_info_and_search_without_index(tmp_path: Path) -> None:
    for args in (("index", "info"), ("search", "anything")):
        r = rag_cli(*args, "--index-dir", str(tmp_path / "none"), cwd=tmp_path)
        assert r.returncode == 4, (args, r.stderr)
        assert "rag index build" in r.stderr and r.stderr.startswith("error: ")


def test_build_without_corpus_is_a_usage_error(tmp_path: Path) -> None:
    r = rag_cli("index", "build", "--index-dir", str(tmp_path / "ix"), "--embedder", "hash", cwd=tmp_path)
    assert r.returncode == 2 and "--corpus" in r.stderr


# ------------------------------------------------------------------------ hostile corpus files

# file name -> (bytes, the path the error must name, relative to the corpus folder)
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"", "empty.txt"),
    "photo.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "photo.txt"),
    "latin.txt": ("Café société à Zürich.".encode("latin-1"), "latin.txt"),
    "broken.json": (b'[{"title": "x", "body": "y"', "broken.json"),
    "nobody.json": (json.dumps([{"title": "No body"}]).encode(), "nobody.json[0]"),
    "feed.jsonl": (b'{"title": "ok", "body": "fine"}\n{oops\n', "feed.jsonl:2"),
    "wall.txt": (b"x" * 250_000, "wall.txt"),
}


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory: pytest.TempPathFactory, corpus_slice: Path) -> Path:
    d = tmp_path_factory.mktemp("cli") / "ix"
    build_index([corpus_slice], d, HashEmbedder(), BuildOptions(progress=False))
    return d


# every hostile file through `build`; `update` runs the same ingestion, so two cases suffice there
CASES = [("build", n) for n in sorted(BAD_FILES)] + [("update", "photo.txt"), ("update", "feed.jsonl")]


@pytest.mark.parametrize(("mode", "name"), CASES)
def test_bad_file_fails_and_keeps_previous_index(tmp_path: Path, prebuilt: Path, mode: str, name: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("title: Good\n\nA readable article.\n")
    data, named = BAD_FILES[name]
    (corpus / name).write_bytes(data)
    before = _current(prebuilt)
    r = rag_cli(
        "index", mode, "--corpus", str(corpus), "--index-dir", str(prebuilt), "--embedder", "hash", "--json", cwd=tmp_path
    )
    assert r.returncode == 3, r.stderr
    assert r.stdout == ""
    err = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(err) == 1 and f"{corpus / named}:" in err[0], r.stderr
    assert _current(prebuilt) == before
    ix = open_index(prebuilt)
    assert ix.manifest["counts"]["articles"] == 20
    ix.close()


def test_skip_bad_builds_and_lists_skipped(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("title: Good\n\nA readable article.\n")
    for name, (data, _) in BAD_FILES.items():
        (corpus / name).write_bytes(data)
    d = tmp_path / "ix"
    args = ["index", "build", "--corpus", str(corpus), "--index-dir", str(d), "--embedder", "hash"]
    r = rag_cli(*args, "--json", "--skip-bad", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = last_json(r.stdout)
    assert s["articles"] == 1
    want = {str(corpus / named) for _, named in BAD_FILES.values()}
    assert {k["path"] for k in s["skipped"]} == want
    assert all(k["reason"] for k in s["skipped"])
    for path in want:
        assert any(line.startswith(f"skipped {path}: ") for line in r.stderr.splitlines()), path
    r = rag_cli(*args, "--skip-bad", cwd=tmp_path)  # human output mentions the count
    assert r.returncode == 0 and f"{len(BAD_FILES)} skipped" in r.stdout


# ------------------------------------------------------------------------ search


def _check_hits(hits: list[dict], k: int) -> None:
    assert 0 < len(hits) <= k
    for i, h in enumerate(hits, 1):
        assert set(h) == HIT_KEYS
        assert h["rank"] == i
        assert isinstance(h["score"], float)
        assert h["chunk_id"].startswith(h["article_id"] + "-")
        assert h["text"] and h["title"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_json_real_minilm(tmp_path: Path, small_index: Path) -> None:
    r = rag_cli("search", "What did US officials warn North Korea about an arms deal with Russia?", "--index-dir",
                str(small_index), "-k", "4", "--json", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().split("\n")
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out["query"].startswith("What did US officials warn")
    _check_hits(out["hits"], 4)
    top = out["hits"][0]
    assert top["published_at"] == "2023-11-14" and "North Korea" in top["text"]  # the seed article


@pytest.mark.parametrize("form", ["lines", "strings", "objects"])
def test_search_batch_forms(tmp_path: Path, prebuilt: Path, corpus_slice: Path, form: str) -> None:
    titles = [a["title"] for a in json.loads(corpus_slice.read_text())[:3]]
    f = tmp_path / "questions.txt"
    if form == "lines":
        f.write_text("\n".join(titles[:1] + [""] + titles[1:]) + "\n\n")
    elif form == "strings":
        f.write_text(json.dumps(titles))
    else:
        f.write_text(json.dumps([{"query": t, "question_type": "x"} for t in titles]))
    r = rag_cli("search", "--batch", str(f), "--index-dir", str(prebuilt), "-k", "3", cwd=tmp_path,
                env={"RAG_EMBEDDER": "hash"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().split("\n")
    assert len(lines) == 3
    for line, t in zip(lines, titles, strict=True):
        out = json.loads(line)
        assert out["query"] == t
        _check_hits(out["hits"], 3)
        assert t in [h["title"] for h in out["hits"]]  # searching a title finds its article


def test_search_batch_bad_file(tmp_path: Path, prebuilt: Path) -> None:
    f = tmp_path / "q.json"
    f.write_text('[{"query": "ok"}, {"nope": 1}]')
    r = rag_cli("search", "--batch", str(f), "--index-dir", str(prebuilt), cwd=tmp_path, env={"RAG_EMBEDDER": "hash"})
    assert r.returncode != 0 and f"{f}[1]" in r.stderr and r.stdout == ""
