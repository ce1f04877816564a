"""Ray engine for index builds: chunking and embedding as a Ray Data pipeline.

``rag index build --engine ray [--ray-address ADDRESS] [--ray-workers N]``. The corpus is read
on the driver (``load_corpus``: the same article ids, duplicate handling and bad-file report
as the local build). Two Ray Data passes follow: ``map_batches`` runs ``chunk_articles`` as
tasks over the articles (the model's tokenizer only, on every CPU of the cluster), and the
driver puts the chunks in article order; then ``map_batches`` runs ``EmbedActor`` in an actor
pool of N actors, each holding one embedding model, over the batches the local build would
embed (``rag.build.embed_batches``: longest first), each embedded as one batch. So the vectors
are the local build's, also with onnx-int8, whose activation scales are set per batch (a Ray
actor batching its own texts would give vectors ~1e-2 cosine off the local build's).
``rag.build`` then writes the same index directory the local engine writes (same chunk ids,
manifest, atomic switch); ``update`` sends only new or changed articles through Ray.

Without an address a local Ray is started on this machine (and stopped afterwards); with one
the build joins that cluster, whose nodes must have this package, the model and the same
ONNX export (each actor reports its embedder id and a mismatch stops the build).
Ray is an optional extra: ``pip install -e .[ray]``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.build import BuildOptions, BuildResult, build_index, embed_batches, update_index
from rag.chunk import chunk_article
from rag.embed import Embedder, load_embedder, load_tokenizer
from rag.errors import RagError
from rag.ingest import IngestReport
from rag.progress import progress_bar
from rag.types import Article, Chunk

log = logging.getLogger(__name__)

ARTICLES_PER_BATCH = 8  # articles per chunking call (~100 chunks of MultiHop-RAG news)
BATCHES_PER_CALL = 4  # embedding batches per actor call


class RayError(RagError):
    exit_code = 1


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayError("the Ray engine needs Ray: pip install -e '.[ray]' (or scripts/setup.sh --ray)") from None
    return ray


@functools.lru_cache(maxsize=4)
def _tokenizer(embedder: str) -> Any:
    return load_tokenizer(embedder)  # once per Ray worker process


def chunk_articles(batch: dict[str, np.ndarray], embedder: str, max_tokens: int, overlap: int) -> dict[str, np.ndarray]:
    """Ray Data task: a batch of articles (JSON) in, one row per chunk out (article, position, chunk JSON)."""
    tok = _tokenizer(embedder)
    rows: dict[str, list[Any]] = {"i": [], "pos": [], "chunk": []}
    for i, aj in zip(batch["i"], batch["article"], strict=True):
        a = Article(**json.loads(str(aj)))
        for pos, c in enumerate(chunk_article(a, tok.count_tokens, tok.token_offsets, max_tokens, overlap)):
            rows["i"].append(int(i))
            rows["pos"].append(pos)
            rows["chunk"].append(json.dumps(dataclasses.asdict(c), ensure_ascii=False))
    return {
        "i": np.asarray(rows["i"], dtype=np.int64),
        "pos": np.asarray(rows["pos"], dtype=np.int64),
        "chunk": np.asarray(rows["chunk"], dtype=object),
    }


class EmbedActor:
    """One embedding model per actor. Each input row is one of the local build's batches
    (``rag.build.embed_batches``), embedded as one batch: the vectors are the local build's."""

    def __init__(self, embedder: str, backend: str, batch_size: int, threads: int) -> None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        self.emb = load_embedder(embedder, batch_size, backend, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        js: list[np.ndarray] = []
        vecs: list[np.ndarray] = []
        for j, texts in zip(batch["j"], batch["texts"], strict=True):
            js.append(np.asarray(json.loads(str(j)), dtype=np.int64))
            vecs.append(self.emb.embed_documents(json.loads(str(texts))))
        return {
            "j": np.concatenate(js),
            "vector": np.ascontiguousarray(np.vstack(vecs), dtype=np.float32),
            "model_id": np.asarray([self.emb.model_id] * sum(len(j) for j in js), dtype=object),
        }


def _quiet_ray_data(ray: Any) -> None:
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # ours, on stderr, are the bars
    if hasattr(ctx, "enable_operator_progress_bars"):
        ctx.enable_operator_progress_bars = False
    ctx.execution_options.verbose_progress = False
    ctx.execution_options.preserve_order = False  # the order is restored from the row keys
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclasses.dataclass
class RayStage:
    """A ``rag.build.Stage`` on Ray: the articles are chunked by Ray Data tasks (the tokenizer
    alone, on every CPU of the cluster), then the chunks are embedded by an actor pool of
    ``workers`` actors, one model each, in exactly the batches the local build would use."""

    workers: int = 1
    cpus_per_worker: float = 0  # 0: this cluster's CPUs shared among the workers
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # "chunk", "embed"

    def __call__(
        self, articles: Sequence[Article], embedder: Embedder, cmeta: dict[str, Any], opts: BuildOptions
    ) -> tuple[list[Chunk], np.ndarray]:
        ray = _import_ray()
        if not articles:
            return [], np.zeros((0, embedder.dim), np.float32)
        _quiet_ray_data(ray)
        source = getattr(embedder, "source", "all-MiniLM-L6-v2")
        t0 = time.perf_counter()
        chunks = self._chunk(ray, articles, source, cmeta, opts)
        self.seconds["chunk"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectors = self._embed(ray, [c.text for c in chunks], embedder, source, opts)
        self.seconds["embed"] = time.perf_counter() - t0
        if opts.on_progress:
            opts.on_progress("writing", 0, 1)
        return chunks, vectors

    def _chunk(
        self, ray: Any, articles: Sequence[Article], source: str, cmeta: dict[str, Any], opts: BuildOptions
    ) -> list[Chunk]:
        """Chunks in article order, then each article's chunk order: the local build's order."""
        ds = ray.data.from_items(
            [{"i": i, "article": json.dumps(dataclasses.asdict(a), ensure_ascii=False)} for i, a in enumerate(articles)],
            override_num_blocks=max(1, min(len(articles), self.workers * 8)),
        )
        out = ds.map_batches(
            chunk_articles, fn_kwargs={"embedder": source, "max_tokens": cmeta["max_tokens"], "overlap": cmeta["overlap"]},
            batch_size=ARTICLES_PER_BATCH, batch_format="numpy", num_cpus=1,
        )  # fmt: skip
        keys: list[tuple[int, int]] = []
        chunk_json: list[str] = []
        done: set[int] = set()
        with progress_bar(total=len(articles), desc="chunking (ray)", unit="article", disable=not opts.progress) as bar:
            for b in out.iter_batches(batch_format="numpy", batch_size=None):
                keys.extend(zip(b["i"].tolist(), b["pos"].tolist(), strict=True))
                chunk_json.extend(str(c) for c in b["chunk"])
                new = set(b["i"].tolist()) - done
                done |= new
                bar.update(len(new))
                if opts.on_progress:
                    opts.on_progress("chunking", len(done), len(articles))
            bar.n = len(articles)  # articles without chunks send no rows
            bar.refresh()
        order = sorted(range(len(keys)), key=keys.__getitem__)
        return [Chunk(**json.loads(chunk_json[j])) for j in order]

    def _embed(self, ray: Any, texts: list[str], embedder: Embedder, source: str, opts: BuildOptions) -> np.ndarray:
        if not texts:
            return np.zeros((0, embedder.dim), np.float32)
        cpus = self.cpus_per_worker or max(1.0, float(ray.cluster_resources().get("CPU", 1)) // self.workers)
        plan = embed_batches(texts, getattr(embedder, "batch_size", 32))
        ds = ray.data.from_items(
            [{"j": json.dumps(idx.tolist()), "texts": json.dumps([texts[j] for j in idx], ensure_ascii=False)} for idx in plan],
            override_num_blocks=max(1, min(len(plan), self.workers * 8)),
        )
        out = ds.map_batches(
            EmbedActor,
            fn_constructor_kwargs={
                "embedder": source, "backend": getattr(embedder, "backend", "torch"),
                "batch_size": getattr(embedder, "batch_size", 32), "threads": max(1, int(cpus)),
            },
            batch_size=BATCHES_PER_CALL, batch_format="numpy", num_cpus=cpus, compute=ray.data.ActorPoolStrategy(size=self.workers),
        )  # fmt: skip
        # no ``max_restarts=0`` any more (Ray 2.60 deprecates passing it through ray_remote_args): an
        # actor whose process dies is restarted (Ray's default), while a model that fails to load
        # fails the build at once (DataContext.max_consecutive_actor_init_deaths is 0) and so does
        # an exception in a batch (retried_map_errors is off)
        vectors = np.zeros((len(texts), embedder.dim), np.float32)
        seen = np.zeros(len(texts), dtype=bool)
        ids: set[str] = set()
        with progress_bar(total=len(texts), desc="embedding (ray)", unit="chunk", disable=not opts.progress) as bar:
            for b in out.iter_batches(batch_format="numpy", batch_size=None):
                j = b["j"]
                vectors[j] = np.asarray(b["vector"], dtype=np.float32).reshape(len(j), -1)
                seen[j] = True
                ids.update(str(m) for m in b["model_id"])
                bar.update(len(j))
                if opts.on_progress:
                    opts.on_progress("embedding", int(seen.sum()), len(texts))
        if ids - {embedder.model_id}:
            raise RayError(
                f"Ray workers embedded with {sorted(ids - {embedder.model_id})}, not the driver's '{embedder.model_id}' "
                "(a different model or ONNX export on a worker node); the index was not changed"
            )
        if not seen.all():
            raise RayError(f"the Ray pipeline returned {int(seen.sum())} of {len(texts)} vectors; the index was not changed")
        return vectors


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
