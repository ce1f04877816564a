"""Shared fixtures. Real components are session-scoped (loaded once); fakes are cheap.

The MultiHop-RAG data is read from ../shared/data at test time (never copied into the
repo); set RAG_SHARED_DATA to point elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RAG_SHARED_DATA", REPO.parent / "shared" / "data"))
CORPUS = SHARED / "multihop-rag" / "corpus.json"
DEV = SHARED / "multihop-rag" / "MultiHopRAG-dev.json"
SEED_DIR = SHARED / "seed"
SAMPLE_CORPUS = REPO / "rag" / "sample_corpus"

# the articles every integration test can rely on (title prefixes from corpus.json)
SLICE_SIZE = 20


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not CORPUS.is_file():
        pytest.fail(f"{CORPUS} is missing: the shared MultiHop-RAG data is required (set RAG_SHARED_DATA)")
    return SHARED


@pytest.fixture(scope="session")
def corpus_slice(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first SLICE_SIZE MultiHop-RAG articles as a JSON corpus file in a temp dir."""
    data = json.loads(CORPUS.read_text())[:SLICE_SIZE]
    out = tmp_path_factory.mktemp("slice") / "slice.json"
    out.write_text(json.dumps(data))
    return out


@pytest.fixture(scope="session")
def seed_dir(shared_data: Path) -> Path:
    return SEED_DIR


@pytest.fixture(scope="session")
def real_embedder():
    from rag.embed import load_embedder

    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture()
def hash_embedder():
    from rag.embed import HashEmbedder

    return HashEmbedder()


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory, real_embedder, corpus_slice: Path, seed_dir: Path) -> Path:
    """A real index (real MiniLM, FAISS, BM25) over the corpus slice plus the seed article."""
    from rag.build import BuildOptions, build_index

    d = tmp_path_factory.mktemp("index") / "small"
    build_index([corpus_slice, seed_dir], d, real_embedder, BuildOptions(progress=False))
    return d


@pytest.fixture(scope="session")
def smollm2():
    """The real SmolLM2-135M generator (fast, weak: for end-to-end plumbing tests)."""
    from rag.generate import LlamaGenerator
    from rag.models import resolve_model
    from rag.settings import Settings

    path, name = resolve_model("smollm2-135m", Path(Settings.load().model_cache_dir), progress=False)
    return LlamaGenerator(path, name, n_ctx=2048)


@pytest.fixture()
def settings_for(tmp_path: Path):
    """Settings pointing at a given index dir, isolated from any rag.toml / RAG_* of the caller."""
    from rag.settings import Settings

    def make(index_dir: Path, **kw):
        return Settings(index_dir=index_dir, model_cache_dir=Path(Settings.load().model_cache_dir), **kw)

    return make
