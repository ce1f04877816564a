"""Progress bars: every long build stage shows one on stderr (count, rate, ETA), also with
``--json``, whose stdout stays exactly one JSON line; no third-party bar gets through."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = ("reading", "chunking", "embedding", "writing")
BAR = re.compile(r"^(?P<desc>[\w+ ()-]+): +\d+%\|.*\| (?P<n>\d+)/(?P<total>\d+) \[[\d:]+<[\d:?]+, +[\d.?]+ ?\w+/s\]")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _bars(stderr: str) -> dict[str, list[re.Match[str]]]:
    """Final states of every tqdm bar on stderr, by description; fails on a bar that is not ours."""
    out: dict[str, list[re.Match[str]]] = {}
    for seg in re.split(r"[\r\n]", stderr):
        seg = seg.strip()
        if "%|" not in seg and not re.search(r"\d+/\d+ \[", seg):
            continue
        m = BAR.match(seg)
        assert m, f"a progress bar that is not one of ours: {seg!r}"
        out.setdefault(m["desc"], []).append(m)
    return out


@pytest.mark.parametrize("embedder", ["hash", "all-MiniLM-L6-v2"])
def test_json_build_shows_bars_on_stderr_only(tmp_path: Path, corpus_slice: Path, embedder: str) -> None:
    corpus = tmp_path / "c.json"
    corpus.write_text(json.dumps(json.loads(corpus_slice.read_text())[: 20 if embedder == "hash" else 4]))
    r = _run("index", "build", "--corpus", str(corpus), "--index-dir", str(tmp_path / "ix"), "--embedder", embedder, "--json",
             cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert len(lines) == 2 and lines[1] == "", r.stdout  # exactly one line on stdout, and it is the JSON
    summary = json.loads(lines[0])
    bars = _bars(r.stderr)
    assert set(OURS) <= set(bars), (sorted(bars), r.stderr[-2000:])
    final = {d: ms[-1] for d, ms in bars.items()}
    assert final["embedding"]["n"] == final["embedding"]["total"] == str(summary["chunks"])
    assert final["chunking"]["n"] == final["chunking"]["total"] == str(summary["articles"])
    assert final["writing"]["n"] == final["writing"]["total"]
    assert "chunk/s" in r.stderr and "article/s" in r.stderr  # rates in the stage's own unit


def test_no_progress_flag_and_update(tmp_path: Path, corpus_slice: Path) -> None:
    common = ["--corpus", str(corpus_slice), "--index-dir", str(tmp_path / "ix"), "--embedder", "hash", "--json"]
    assert _run("index", "build", *common, "--no-progress", cwd=tmp_path).stderr.strip() == ""
    r = _run("index", "update", *common, cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["embedded"] == 0
    assert "reading" in _bars(r.stderr)
