"""Ray engine for index builds: chunking and embedding as a Ray Data pipeline.

``rag index build --engine ray [--ray-address ADDRESS] [--ray-workers N]``. The corpus is read
on the driver (``load_corpus``: the same article ids, duplicate handling and bad-file report
as the local build), the articles go into a Ray Dataset, and ``map_batches`` runs
``ChunkEmbedActor`` in an actor pool of N actors, each holding one embedding model, which chunk
their articles and embed the chunks. The driver collects the rows, puts them back in article
order, and ``rag.build`` writes the same index directory the local engine writes (same chunk
ids, manifest, atomic switch); ``update`` sends only new or changed articles through Ray.

Without an address a local Ray is started on this machine (and stopped afterwards); with one
the build joins that cluster, whose nodes must have this package, the model and the same
ONNX export (each actor reports its embedder id and a mismatch stops the build).
Ray is an optional extra: ``pip install -e .[ray]``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.build import BuildOptions, BuildResult, build_index, update_index
from rag.chunk import chunk_article
from rag.embed import Embedder, load_embedder
from rag.errors import RagError
from rag.ingest import IngestReport
from rag.progress import progress_bar
from rag.types import Article, Chunk

log = logging.getLogger(__name__)

ARTICLES_PER_BATCH = 8  # articles per map_batches call (~100 chunks of MultiHop-RAG news)


class RayError(RagError):
    exit_code = 1


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayError("the Ray engine needs Ray: pip install -e '.[ray]' (or scripts/setup.sh --ray)") from None
    return ray


class ChunkEmbedActor:
    """One embedding model per actor: a batch of articles in, their chunks and vectors out."""

    def __init__(self, embedder: str, backend: str, batch_size: int, max_tokens: int, overlap: int, threads: int) -> None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        self.emb = load_embedder(embedder, batch_size, backend, threads=threads)
        self.max_tokens, self.overlap = max_tokens, overlap

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        cols: dict[str, list[Any]] = {k: [] for k in ("i", "pos", "chunk", "model_id")}
        for i, aj in zip(batch["i"], batch["article"], strict=True):
            a = Article(**json.loads(str(aj)))
            for pos, c in enumerate(chunk_article(a, self.emb.count_tokens, self.emb.token_offsets, self.max_tokens, self.overlap)):
                cols["i"].append(int(i))
                cols["pos"].append(pos)
                cols["chunk"].append(json.dumps(dataclasses.asdict(c), ensure_ascii=False))
        texts = [json.loads(c)["text"] for c in cols["chunk"]]
        vecs = self.emb.embed_documents(texts) if texts else np.zeros((0, self.emb.dim), np.float32)
        cols["model_id"] = [self.emb.model_id] * len(texts)
        return {
            "i": np.asarray(cols["i"], dtype=np.int64),
            "pos": np.asarray(cols["pos"], dtype=np.int64),
            "chunk": np.asarray(cols["chunk"], dtype=object),
            "model_id": np.asarray(cols["model_id"], dtype=object),
            "vector": np.ascontiguousarray(vecs, dtype=np.float32),
        }


@dataclasses.dataclass
class RayStage:
    """A ``rag.build.Stage`` that runs the chunk + embed pipeline on Ray."""

    workers: int = 1
    cpus_per_worker: float = 0  # 0: this machine's CPUs shared among the workers (local Ray)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    def __call__(
        self, articles: Sequence[Article], embedder: Embedder, cmeta: dict[str, Any], opts: BuildOptions
    ) -> tuple[list[Chunk], np.ndarray]:
        ray = _import_ray()
        if not articles:
            return [], np.zeros((0, embedder.dim), np.float32)
        t0 = time.perf_counter()
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # ours, on stderr, is the one bar
        if hasattr(ctx, "enable_operator_progress_bars"):
            ctx.enable_operator_progress_bars = False
        ctx.execution_options.verbose_progress = False
        ctx.execution_options.preserve_order = False  # order is restored from (i, pos) below
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.WARNING)
        total_cpus = float(ray.cluster_resources().get("CPU", 1))
        cpus = self.cpus_per_worker or max(1.0, total_cpus // self.workers)
        threads = max(1, int(cpus))
        ds = ray.data.from_items(
            [{"i": i, "article": json.dumps(dataclasses.asdict(a), ensure_ascii=False)} for i, a in enumerate(articles)],
            override_num_blocks=max(1, min(len(articles), self.workers * 8)),
        )
        out = ds.map_batches(
            ChunkEmbedActor,
            fn_constructor_kwargs={
                "embedder": getattr(embedder, "source", "all-MiniLM-L6-v2"), "backend": getattr(embedder, "backend", "torch"),
                "batch_size": getattr(embedder, "batch_size", 32), "max_tokens": cmeta["max_tokens"],
                "overlap": cmeta["overlap"], "threads": threads,
            },
            batch_size=ARTICLES_PER_BATCH, batch_format="numpy", num_cpus=cpus,
            compute=ray.data.ActorPoolStrategy(size=self.workers), max_restarts=0,
        )  # fmt: skip
        rows_i: list[np.ndarray] = []
        rows_pos: list[np.ndarray] = []
        chunk_json: list[str] = []
        vecs: list[np.ndarray] = []
        ids: set[str] = set()
        done_articles: set[int] = set()
        with progress_bar(total=len(articles), desc="chunk+embed (ray)", unit="article", disable=not opts.progress) as bar:
            for b in out.iter_batches(batch_format="numpy", batch_size=None):
                rows_i.append(b["i"])
                rows_pos.append(b["pos"])
                chunk_json.extend(str(c) for c in b["chunk"])
                vecs.append(np.asarray(b["vector"], dtype=np.float32).reshape(len(b["i"]), -1))
                ids.update(str(m) for m in b["model_id"])
                new = set(b["i"].tolist()) - done_articles
                done_articles |= new
                bar.update(len(new))
                if opts.on_progress:
                    opts.on_progress("embedding", len(done_articles), len(articles))
            bar.n = len(articles)  # articles without chunks send no rows
            bar.refresh()
        if ids - {embedder.model_id}:
            raise RayError(
                f"Ray workers embedded with {sorted(ids - {embedder.model_id})}, not the driver's '{embedder.model_id}' "
                "(a different model or ONNX export on a worker node); the index was not changed"
            )
        if not chunk_json:
            return [], np.zeros((0, embedder.dim), np.float32)
        i_all, pos_all = np.concatenate(rows_i), np.concatenate(rows_pos)
        order = np.lexsort((pos_all, i_all))  # article order, then each article's chunk order: the local build's order
        chunks = [Chunk(**json.loads(chunk_json[j])) for j in order]
        vectors = np.vstack(vecs)[order]
        self.seconds["chunk_embed"] = time.perf_counter() - t0
        if opts.on_progress:
            opts.on_progress("writing", 0, 1)
        return chunks, np.ascontiguousarray(vectors, dtype=np.float32)


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to ``address`` or start a local Ray; True when this call started it (so stop it)."""
    ray = _import_ray()
    if ray.is_initialized():
        return False
    kw: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING, "configure_logging": True}
    for name in ("ray", "ray.data", "ray._private"):  # Ray Data logs each execution at INFO on stderr
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(
                num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                object_store_memory=256 * 1024 * 1024, **kw,
            )  # fmt: skip
    except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise RayError(f"could not start or join {where}: {type(e).__name__}: {' '.join(str(e).split())[:300]}") from None
    return True


def ray_build_index(
    corpus: Sequence[str | Path],
    index_dir: str | Path,
    embedder: str,
    backend: str,
    batch_size: int = 32,
    opts: BuildOptions = BuildOptions(),
    report: IngestReport | None = None,
    address: str | None = None,
    workers: int = 1,
    mode: str = "build",
) -> BuildResult:
    """``build_index`` / ``update_index`` with the Ray stage. The driver loads the embedder too
    (its id, limits and manifest description; the actors' ids are checked against it)."""
    ray = _import_ray()
    started = start_ray(address)
    try:
        emb = load_embedder(embedder, batch_size, backend)
        fn = build_index if mode == "build" else update_index
        return fn(corpus, index_dir, emb, opts, report, RayStage(workers=workers))
    finally:
        if started:
            ray.shutdown()
