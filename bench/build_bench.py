"""Build benchmark: the MultiHop-RAG corpus into a temporary index with the real embedder.

Prints articles, chunks, build seconds and chunks/s; the ratio of the pipeline's embedding
throughput to a bare ``SentenceTransformer.encode`` over the same chunk texts with the same
batch size (goal >= 0.95); the time to update one changed article in the built index
(goal <= 3 s, with 0 unchanged chunks re-embedded); and the peak RSS. The last stdout line
is a JSON summary.

The ratio is reported twice: from the build's own embedding time against one bare encode
run afterwards, and ("paired", the verdict) from both re-timed back to back on slices of the
same texts, alternating which runs first, so a busy machine does not skew it. The paired
timing costs two more embedding passes (``--paired-texts N`` limits it to N evenly spaced
chunks; ``--no-paired`` skips it).

    python bench/build_bench.py                 # the full corpus: four embedding passes over ~6k chunks
    python bench/build_bench.py --paired-texts 1024   # the full corpus, a shorter paired re-timing
    python bench/build_bench.py --limit 30      # the first 30 articles: a quick check
    python bench/build_bench.py --limit 150 --no-paired --engine ray --ray-workers 2   # the Ray engine

``--engine ray`` builds (and updates) through ``rag.ray_build.RayStage`` on a local Ray started
here (``--ray-address`` joins a cluster instead), with ``--ray-workers`` embedding actors, one
model each. It reports the Ray start, the build (actors' model loads included) and the update;
the embedding runs inside the actors, so there is no pipeline/bare ratio and the peak RSS is
the driver's alone (the Ray worker processes' summed RSS, sampled during the build, is printed beside it).

Nothing is written to the repository: the index and the edited corpus copy live in a
temporary directory (``--keep DIR`` keeps the index instead).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "multihop-rag" / "corpus.json"
RATIO_GOAL = 0.95
UPDATE_GOAL_S = 3.0


class TimedEmbedder:
    """Wraps an embedder: times ``embed_documents`` and remembers the texts it was given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id, self.dim, self.max_tokens = inner.model_id, inner.dim, inner.max_tokens
        self.count_tokens, self.token_offsets, self.embed_query = inner.count_tokens, inner.token_offsets, inner.embed_query
        self.seconds = 0.0
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str], progress: bool = False) -> Any:
        t0 = time.perf_counter()
        out = self.inner.embed_documents(texts, progress=progress)
        self.seconds += time.perf_counter() - t0
        self.texts.extend(texts)
        return out


class StageClock:
    """``BuildOptions.on_progress`` callback. The build reports "chunking" and "embedding" after
    each piece of work and "writing" once before it writes, so the last report of each stage ends
    it: a build (of a corpus read beforehand) splits into chunking, embedding and writing. With
    Ray, each stage includes its Ray Data pass's start (and "embedding" the actors' model loads)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.last[stage] = time.perf_counter() - self.t0

    def split(self, total_s: float) -> dict[str, float]:
        out, prev = {}, 0.0
        for stage in ("chunking", "embedding"):
            if stage in self.last:
                out[stage] = round(self.last[stage] - prev, 3)
                prev = self.last[stage]
        out["writing"] = round(total_s - prev, 3)
        return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _ray_actor_rss_mb() -> float:
    """Summed resident memory of this machine's Ray worker processes (the embedding actors)."""
    total = 0
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and (p / "cmdline").read_bytes().startswith(b"ray::"):
                total += int((p / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total / 2**20


class Slice:
    """The corpus slice in a private temporary copy (the update step edits it) and the index
    directory; ``None`` from ``open`` (after an error line) when the corpus is missing."""

    def __init__(self, args: argparse.Namespace, data: list[dict[str, Any]]) -> None:
        self.data = data
        self.work = tempfile.TemporaryDirectory(prefix="rag-build-bench-")
        self.corpus = Path(self.work.name) / "corpus.json"
        self.corpus.write_text(json.dumps(data), encoding="utf-8")
        self.index_dir = args.keep or Path(self.work.name) / "index"

    @classmethod
    def open(cls, args: argparse.Namespace, engine: str) -> Slice | None:
        if not args.corpus.is_file():
            print(f"error: {args.corpus} not found (pass --corpus)", file=sys.stderr)
            return None
        data = json.loads(args.corpus.read_text(encoding="utf-8"))
        if args.limit:
            data = data[: args.limit]
        print(f"corpus: {args.corpus} ({len(data)} articles{', --limit' if args.limit else ''}); engine {engine}")
        print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return cls(args, data)

    def build(self, emb: Any, stage: Any = None) -> tuple[Any, float, dict[str, float]]:
        """Read and build (the local stage unless ``stage``): (result, seconds, seconds per stage)."""
        from rag.build import BuildOptions, build_index, local_stage, read_corpus

        t0 = time.perf_counter()
        report = read_corpus([self.corpus], progress=False)
        clock = StageClock()
        res = build_index([self.corpus], self.index_dir, emb, BuildOptions(progress=False, on_progress=clock), report,
                          stage=stage or local_stage)  # fmt: skip
        build_s = time.perf_counter() - t0
        return res, build_s, {"reading": round(clock.t0 - t0, 3), **clock.split(build_s - (clock.t0 - t0))}

    def edit_one(self) -> str:
        """Append a sentence to the middle article's body; its title."""
        k = len(self.data) // 2
        self.data[k]["body"] = self.data[k]["body"] + " In an update to this story, officials confirmed the figures on Friday."
        self.corpus.write_text(json.dumps(self.data), encoding="utf-8")
        return str(self.data[k]["title"])

    def chunks_of_title(self, model_id: str, title: str) -> int:
        from rag.index import open_index

        ix = open_index(self.index_dir, embedder_id=model_id)
        try:
            return len(ix.chunks_of(next(m["article_id"] for m in ix.articles_meta() if m["title"] == title)))
        finally:
            ix.close()


def ray_main(args: argparse.Namespace) -> int:
    """The same corpus through the Ray engine: Ray start, full build, one-article update."""
    import ray

    from rag.build import BuildOptions, update_index
    from rag.embed import load_embedder
    from rag.ray_build import RayStage, start_ray

    sl = Slice.open(args, f"ray, {args.ray_workers} worker(s)")
    if sl is None:
        return 2
    t0 = time.perf_counter()
    started = start_ray(args.ray_address)
    ray_start_s = time.perf_counter() - t0
    try:
        print(f"ray: {ray.__version__}, {'started a local Ray' if started else 'joined a running Ray'} in {ray_start_s:.1f}s, "
              f"cluster CPUs {ray.cluster_resources().get('CPU', 0):.0f}")  # fmt: skip
        t0 = time.perf_counter()
        emb = load_embedder(args.embedder, args.batch_size, args.embed_backend)  # the driver's (ids, limits, manifest)
        load_s = time.perf_counter() - t0
        stage = RayStage(workers=args.ray_workers)
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:  # the actors live only while the pipeline runs
            while not done.wait(0.5):
                peak[0] = max(peak[0], _ray_actor_rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            res, build_s, stages = sl.build(emb, stage)
        finally:
            done.set()
            sampler.join()
        actors_rss = peak[0]
        print(f"embedder: {emb.model_id} (driver load {load_s:.1f}s, not in the build time)")
        print(f"articles: {res.articles}")
        print(f"chunks: {res.chunks}")
        print(f"build seconds: {build_s:.2f} (ray chunking pass {stage.seconds['chunk']:.2f}, ray embedding pass "
              f"{stage.seconds['embed']:.2f} with the actors' model loads)")  # fmt: skip
        print(f"build chunks/s: {res.chunks / build_s:.2f}")
        print("build stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))

        title = sl.edit_one()
        upd_stage = RayStage(workers=args.ray_workers)
        t0 = time.perf_counter()
        upd = update_index([sl.corpus], sl.index_dir, emb, BuildOptions(progress=False), stage=upd_stage)
        update_s = time.perf_counter() - t0
        article_chunks = sl.chunks_of_title(emb.model_id, title)
        print(f"update of one changed article: {update_s:.2f}s (ray passes: chunking {upd_stage.seconds['chunk']:.2f}s, "
              f"embedding {upd_stage.seconds['embed']:.2f}s, a fresh actor pool), embedded {upd.embedded} "
              f"(the article has {article_chunks} chunks), {upd.unchanged} articles kept")  # fmt: skip
    finally:
        if started:
            ray.shutdown()
    rss = peak_rss_mb()
    print(f"peak RSS: driver {rss:.0f} MB; Ray worker processes during the build, summed, up to {actors_rss:.0f} MB")
    summary = {
        "engine": "ray", "ray_workers": args.ray_workers, "ray_start_seconds": round(ray_start_s, 3),
        "articles": res.articles, "chunks": res.chunks, "build_seconds": round(build_s, 3), "build_stage_seconds": stages,
        "build_chunks_per_s": round(res.chunks / build_s, 3),
        "ray_pass_seconds": {k: round(v, 3) for k, v in stage.seconds.items()},
        "update_seconds": round(update_s, 3), "update_embedded": upd.embedded, "update_article_chunks": article_chunks,
        "update_ray_pass_seconds": {k: round(v, 3) for k, v in upd_stage.seconds.items()},
        "peak_rss_mb": round(rss, 1), "ray_actors_rss_mb": round(actors_rss, 1), "limit": args.limit,
        "batch_size": args.batch_size, "embed_backend": getattr(emb, "backend", ""), "cpus": os.cpu_count(),
    }  # fmt: skip
    print(json.dumps(summary))
    sl.work.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=Path(os.environ.get("RAG_BENCH_CORPUS", DEFAULT_CORPUS)))
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles (0 = all)")
    ap.add_argument("--embedder", default="all-MiniLM-L6-v2")
    ap.add_argument("--batch-size", type=int, default=32, help="embedding batch size (pipeline and bare alike)")
    ap.add_argument(
        "--paired-texts", type=int, default=0, help="re-time the pair on this many evenly spaced chunk texts (0 = all)"
    )
    ap.add_argument(
        "--no-paired", action="store_true", help="skip the paired pipeline/bare re-timing (saves two embedding passes)"
    )
    ap.add_argument(
        "--no-bare",
        action="store_true",
        help="skip the bare SentenceTransformer.encode comparison (any backend; implies --no-paired)",
    )
    ap.add_argument("--keep", type=Path, default=None, help="build the index here and keep it")
    ap.add_argument("--embed-backend", default=None, help="torch, onnx or onnx-int8 (default: rag.embed.DEFAULT_BACKEND)")
    ap.add_argument("--engine", choices=("local", "ray"), default="local", help="local (this process) or ray (rag.ray_build)")
    ap.add_argument("--ray-workers", type=int, default=1, help="embedding actors with --engine ray")
    ap.add_argument("--ray-address", default=None, help="join this Ray cluster (default: start a local Ray)")
    args = ap.parse_args(argv)
    if args.engine == "ray":
        return ray_main(args)

    from rag.build import BuildOptions, update_index
    from rag.embed import load_embedder

    sl = Slice.open(args, "local")
    if sl is None:
        return 2

    t0 = time.perf_counter()
    real = load_embedder(args.embedder, args.batch_size, args.embed_backend)
    load_s = time.perf_counter() - t0
    if not hasattr(real, "model") and not args.no_bare:
        print(
            f"error: the pipeline/bare comparison needs the torch backend, not {real.backend} (or pass --no-bare)",
            file=sys.stderr,
        )
        return 2
    args.no_paired = args.no_paired or args.no_bare
    model = getattr(real, "model", None)  # the SentenceTransformer the torch pipeline uses
    warm = [f"warm-up sentence number {i} for the embedding model." for i in range(args.batch_size)]
    real.embed_documents(warm)
    if not args.no_bare:
        model.encode(warm, batch_size=args.batch_size, show_progress_bar=False)
    emb = TimedEmbedder(real)
    print(f"embedder: {real.model_id} (loaded in {load_s:.1f}s), batch size {args.batch_size}, "
          f"{getattr(real, 'threads', '?')} threads")  # fmt: skip

    # ---------------------------------------------------------------- full build
    res, build_s, stages = sl.build(emb)
    texts = list(emb.texts)
    pipe_embed_s = emb.seconds
    assert len(texts) == res.chunks == res.embedded
    print(f"articles: {res.articles}")
    print(f"chunks: {res.chunks}")
    print(f"build seconds: {build_s:.2f} (embedding {pipe_embed_s:.2f}, ingest+chunk+write {build_s - pipe_embed_s:.2f})")
    print(f"build chunks/s: {res.chunks / build_s:.2f}")
    print("build stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))

    # ---------------------------------------------------------------- bare encode, same texts and batch size
    bare_s = ratio = float("nan")
    if args.no_bare:
        print(f"embedding chunks/s: pipeline (in the build) {len(texts) / pipe_embed_s:.2f} (--no-bare: no bare comparison)")
    else:
        t0 = time.perf_counter()
        model.encode(texts, batch_size=args.batch_size, show_progress_bar=False, convert_to_numpy=True)
        bare_s = time.perf_counter() - t0
        ratio = bare_s / pipe_embed_s if pipe_embed_s else float("nan")
        print(f"embedding chunks/s: pipeline (in the build) {len(texts) / pipe_embed_s:.2f}, bare SentenceTransformer.encode "
              f"{len(texts) / bare_s:.2f}; ratio {ratio:.3f}")  # fmt: skip

    # The two timings above are minutes apart, and the bare run reuses what the build's run warmed
    # up, so they favour the bare run. Pair them instead: an even number of equal slices of the
    # same texts, pipeline and bare back to back on each, alternating which goes first.
    paired_ratio = float("nan")
    if not args.no_paired:
        sample = texts
        if 1 < args.paired_texts < len(texts):  # evenly spaced over the corpus
            sample = [texts[round(j * (len(texts) - 1) / (args.paired_texts - 1))] for j in range(args.paired_texts)]
        n_slices = max(2, -(-len(sample) // (args.batch_size * 4)))
        n_slices += n_slices % 2
        bounds = [round(j * len(sample) / n_slices) for j in range(n_slices + 1)]
        t_pipe = t_bare = 0.0
        for n in range(n_slices):
            part = sample[bounds[n] : bounds[n + 1]]
            for which in ("pipe", "bare") if n % 2 == 0 else ("bare", "pipe"):
                t0 = time.perf_counter()
                if which == "pipe":
                    real.embed_documents(part)
                else:
                    model.encode(part, batch_size=args.batch_size, show_progress_bar=False, convert_to_numpy=True)
                dt = time.perf_counter() - t0
                t_pipe, t_bare = (t_pipe + dt, t_bare) if which == "pipe" else (t_pipe, t_bare + dt)
        paired_ratio = t_bare / t_pipe
        print(f"paired timing over the same {len(sample)} texts: pipeline {t_pipe:.2f}s, bare {t_bare:.2f}s")
    verdict_ratio = ratio if args.no_paired else paired_ratio
    if not args.no_bare:
        print(f"embedding throughput ratio (pipeline / bare{'' if args.no_paired else ', paired'}): {verdict_ratio:.3f}  "
              f"[goal >= {RATIO_GOAL}: {'PASS' if verdict_ratio >= RATIO_GOAL else 'FAIL'}]")  # fmt: skip

    # ---------------------------------------------------------------- update one changed article
    title = sl.edit_one()
    emb.texts.clear()
    emb.seconds = 0.0
    t0 = time.perf_counter()
    upd = update_index([sl.corpus], sl.index_dir, emb, BuildOptions(progress=False))
    update_s = time.perf_counter() - t0
    article_chunks = sl.chunks_of_title(real.model_id, title)
    re_embedded_unchanged = len(emb.texts) - article_chunks
    ok = update_s <= UPDATE_GOAL_S and re_embedded_unchanged == 0 and upd.embedded == article_chunks
    print(f"update of one changed article: {update_s:.2f}s (embedding {emb.seconds:.2f}s), embedded {upd.embedded} "
          f"(the article has {article_chunks} chunks; unchanged chunks re-embedded: {re_embedded_unchanged}), "
          f"{upd.unchanged} articles kept  [goal <= {UPDATE_GOAL_S:.0f}s and 0 re-embedded: {'PASS' if ok else 'FAIL'}]")  # fmt: skip

    rss = peak_rss_mb()
    print(f"peak RSS: {rss:.0f} MB")
    summary = {
        "articles": res.articles,
        "chunks": res.chunks,
        "build_seconds": round(build_s, 3),
        "build_chunks_per_s": round(res.chunks / build_s, 3),
        "build_stage_seconds": stages,
        "embed_seconds_pipeline": round(pipe_embed_s, 3),
        "embed_seconds_bare": None if args.no_bare else round(bare_s, 3),
        "embed_throughput_ratio_in_build": None if args.no_bare else round(ratio, 4),
        "embed_throughput_ratio_paired": None if args.no_paired else round(paired_ratio, 4),
        "update_seconds": round(update_s, 3),
        "update_embed_seconds": round(emb.seconds, 3),
        "update_embedded": upd.embedded,
        "update_article_chunks": article_chunks,
        "update_unchanged_reembedded": re_embedded_unchanged,
        "peak_rss_mb": round(rss, 1),
        "limit": args.limit,
        "paired_texts": 0 if args.no_paired else len(sample),
        "batch_size": args.batch_size,
        "cpus": os.cpu_count(),
        "engine": "local",
        "embed_backend": getattr(real, "backend", ""),
    }
    print(json.dumps(summary))
    sl.work.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
