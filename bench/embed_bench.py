"""Embedding backends side by side: throughput, vector agreement and retrieval quality.

The same MultiHop-RAG chunks (the build's chunker) go through the three backends of
all-MiniLM-L6-v2 in one process: ``torch`` (sentence-transformers on PyTorch fp32, the old
path), ``onnx`` (ONNX Runtime fp32) and ``onnx-int8`` (ONNX Runtime, dynamic int8).

1. Throughput, paired: ``--paired-texts`` evenly spaced chunks cut into slices; on every slice
   each backend runs once, in an order that rotates from slice to slice, so a busy machine
   slows all three alike. Goal: int8 >= 2.5x torch.
2. Agreement: per-chunk cosine of each ONNX backend's vector with torch's (min, p1, mean) on
   the same sample, and on the questions.
1b. Throughput, isolated (``--isolated-rounds N``): the same sample embedded by each backend in a
   process of its own (as a build runs: one backend per process), N rounds, the order rotating
   from round to round; the median per backend. In one process the three backends' thread pools
   (PyTorch's and two ONNX Runtime sessions') share the two cores, which a build never does.
3. Quality (``--no-quality`` skips): every chunk of the corpus embedded by each backend (timed:
   a second, unpaired throughput figure), one index per backend, and the shipped retrieval over
   the MultiHop-RAG dev set scored with the benchmark's scorer, for each backend with its own
   queries, and mixed (queries from one backend over another's index) to decide which backends
   an index may accept queries from. Goal: int8 within 0.01 of torch on Hits@10 and all@10.

    python bench/embed_bench.py                        # everything (~20 min on 2 vCPUs)
    python bench/embed_bench.py --no-quality --limit 60 # a quick throughput check
    python bench/embed_bench.py --no-quality --paired-texts 1024 --isolated-rounds 3   # both throughput figures

The last stdout line is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "multihop-rag" / "corpus.json"
DEFAULT_SET = REPO.parent / "shared" / "data" / "multihop-rag" / "MultiHopRAG-dev.json"
BACKENDS = ("torch", "onnx", "onnx-int8")
SPEED_GOAL = 2.5
QUALITY_TOL = 0.01


def cos_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def cos_stats(c: np.ndarray) -> dict[str, float]:
    return {"min": float(c.min()), "p1": float(np.percentile(c, 1)), "mean": float(c.mean())}


def _worker(backend: str, texts_file: Path, batch_size: int) -> int:
    """One backend alone in this process: load, warm up on one batch, time the whole sample."""
    from rag.embed import load_embedder

    texts = json.loads(texts_file.read_text())
    emb = load_embedder("all-MiniLM-L6-v2", batch_size, backend)
    emb.embed_documents(texts[:batch_size])
    t0 = time.perf_counter()
    emb.embed_documents(texts)
    print(json.dumps({"backend": backend, "seconds": time.perf_counter() - t0, "texts": len(texts)}))
    return 0


def _isolated(sample: list[str], batch_size: int, rounds: int) -> dict[str, Any]:
    """Each backend timed in a fresh process of its own over ``sample``, ``rounds`` times in a
    rotating order; medians, and the int8 speed-up over torch."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="rag-embed-iso-") as d:
        path = Path(d) / "texts.json"
        path.write_text(json.dumps(sample))
        secs: dict[str, list[float]] = {b: [] for b in BACKENDS}
        for r in range(rounds):
            for k in range(len(BACKENDS)):
                b = BACKENDS[(r + k) % len(BACKENDS)]
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", b, "--texts", str(path),
                       "--batch-size", str(batch_size)]  # fmt: skip
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
                secs[b].append(float(json.loads(out)["seconds"]))
                print(f"  round {r + 1} {b:10s} {secs[b][-1]:7.2f}s", flush=True)
    med = {b: statistics.median(v) for b, v in secs.items()}
    rate = {b: len(sample) / med[b] for b in BACKENDS}
    speedup = {b: rate[b] / rate["torch"] for b in BACKENDS}
    print(f"\nisolated throughput over the same {len(sample)} chunks (one process per backend and run, {rounds} rounds, medians):")
    for b in BACKENDS:
        print(f"  {b:10s} {med[b]:7.2f}s  {rate[b]:7.1f} chunks/s  {speedup[b]:.2f}x torch")
    verdict = "PASS" if speedup["onnx-int8"] >= SPEED_GOAL else "FAIL"
    print(f"int8 speed-up (isolated): {speedup['onnx-int8']:.2f}x  [goal >= {SPEED_GOAL}: {verdict}]", flush=True)
    return {"seconds": secs, "median_seconds": med, "chunks_per_s": rate, "speedup_vs_torch": speedup, "rounds": rounds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles (0 = all)")
    ap.add_argument("--paired-texts", type=int, default=1024, help="chunks in the paired throughput sample")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-quality", action="store_true", help="skip the full-corpus embeddings and the retrieval scoring")
    ap.add_argument("--questions", type=int, default=0, help="score only this many dev questions (0 = all)")
    ap.add_argument("--quality-backends", default="torch,onnx-int8", help="backends embedded over the full corpus for scoring")
    ap.add_argument("--isolated-rounds", type=int, default=0, help="also time each backend alone in its own process, N rounds")
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)  # internal: time one backend over --texts
    ap.add_argument("--texts", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.texts, args.batch_size)

    from rag.build import BuildOptions, _chunk_all, chunker_meta
    from rag.embed import load_embedder
    from rag.ingest import load_corpus

    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    embs: dict[str, Any] = {}
    load_s: dict[str, float] = {}
    for b in BACKENDS:
        t0 = time.perf_counter()
        embs[b] = load_embedder("all-MiniLM-L6-v2", args.batch_size, b)
        load_s[b] = time.perf_counter() - t0
        print(f"loaded {b}: {embs[b].model_id} in {load_s[b]:.1f}s", flush=True)
    torch_emb = embs["torch"]

    corpus = args.corpus
    tmp = tempfile.TemporaryDirectory(prefix="rag-embed-bench-")
    if args.limit:
        data = json.loads(corpus.read_text())[: args.limit]
        corpus = Path(tmp.name) / "corpus.json"
        corpus.write_text(json.dumps(data))
    report = load_corpus([corpus])
    opts = BuildOptions(progress=False)
    cmeta = chunker_meta(torch_emb, opts)
    for b in BACKENDS[1:]:  # the chunks depend only on the tokenizer, which the backends share
        assert chunker_meta(embs[b], opts) == cmeta and embs[b].count_tokens(["a test"]) == torch_emb.count_tokens(["a test"])
    chunks = _chunk_all(report.articles, torch_emb, cmeta, opts)
    texts = [c.text for c in chunks]
    print(f"corpus: {len(report.articles)} articles, {len(texts)} chunks", flush=True)

    # ------------------------------------------------------------------ 1. paired throughput
    n = min(args.paired_texts, len(texts))
    sample = [texts[round(j * (len(texts) - 1) / max(1, n - 1))] for j in range(n)]
    warm = sample[: args.batch_size]
    for b in BACKENDS:
        embs[b].embed_documents(warm)
    n_slices = max(len(BACKENDS), -(-len(sample) // (args.batch_size * 4)))
    n_slices += (-n_slices) % len(BACKENDS)  # every backend goes first equally often
    bounds = [round(j * len(sample) / n_slices) for j in range(n_slices + 1)]
    secs = dict.fromkeys(BACKENDS, 0.0)
    vecs: dict[str, list[np.ndarray]] = {b: [] for b in BACKENDS}
    for s in range(n_slices):
        part = sample[bounds[s] : bounds[s + 1]]
        for k in range(len(BACKENDS)):
            b = BACKENDS[(s + k) % len(BACKENDS)]
            t0 = time.perf_counter()
            v = embs[b].embed_documents(part)
            secs[b] += time.perf_counter() - t0
            vecs[b].append(v)
    rate = {b: len(sample) / secs[b] for b in BACKENDS}
    speedup = {b: rate[b] / rate["torch"] for b in BACKENDS}
    print(f"\npaired throughput over the same {len(sample)} chunks ({n_slices} slices, rotating order):", flush=True)
    for b in BACKENDS:
        print(f"  {b:10s} {secs[b]:7.2f}s  {rate[b]:7.1f} chunks/s  {speedup[b]:.2f}x torch")
    print(f"int8 speed-up: {speedup['onnx-int8']:.2f}x  [goal >= {SPEED_GOAL}: {'PASS' if speedup['onnx-int8'] >= SPEED_GOAL else 'FAIL'}]")

    # ------------------------------------------------------------------ 2. agreement
    V = {b: np.vstack(vecs[b]) for b in BACKENDS}
    items = []
    if args.set.is_file():
        from eval.sets import load_set

        items = load_set(args.set)
    questions = [it.question for it in items][:1000] or sample[:100]
    agree: dict[str, Any] = {}
    for b in BACKENDS[1:]:
        qt = torch_emb.embed_documents(questions)
        qb = embs[b].embed_documents(questions)
        agree[b] = {"chunks": cos_stats(cos_rows(V[b], V["torch"])), "questions": cos_stats(cos_rows(qb, qt))}
        c, q = agree[b]["chunks"], agree[b]["questions"]
        print(f"cosine {b} vs torch: chunks min {c['min']:.5f} p1 {c['p1']:.5f} mean {c['mean']:.5f}; "
              f"questions min {q['min']:.5f} mean {q['mean']:.5f}")  # fmt: skip

    summary: dict[str, Any] = {
        "chunks": len(texts), "paired_texts": len(sample), "paired_seconds": secs, "chunks_per_s": rate,
        "speedup_vs_torch": speedup, "cosine_vs_torch": agree, "load_seconds": load_s, "batch_size": args.batch_size,
    }  # fmt: skip

    if args.isolated_rounds:
        summary["isolated"] = _isolated(sample, args.batch_size, args.isolated_rounds)

    # ------------------------------------------------------------------ 3. quality
    if not args.no_quality and items:
        from retrieval_ablation import CachedQueries, run, score

        from rag.index import choose_index_type, open_index, write_index, writer_lock
        from rag.retrieve import RetrievalParams, Retriever

        full: dict[str, float] = {}
        dirs: dict[str, Path] = {}
        qbs = [b for b in BACKENDS if b in args.quality_backends.split(",")]
        for b in qbs:
            t0 = time.perf_counter()
            vb = embs[b].embed_documents(texts)
            full[b] = time.perf_counter() - t0
            print(f"full corpus with {b}: {full[b]:.1f}s ({len(texts) / full[b]:.1f} chunks/s)", flush=True)
            d = Path(tmp.name) / f"ix-{b}"
            meta = {
                "embedder": {"model_id": embs[b].model_id, "dim": embs[b].dim, "normalized": True,
                             "max_tokens": embs[b].max_tokens, **embs[b].manifest_meta()},
                "chunker": cmeta,
            }  # fmt: skip
            with writer_lock(d):
                write_index(d, report.articles, chunks, vb, meta, index_type=choose_index_type("auto", len(chunks), 200_000))
            dirs[b] = d
        summary["full_corpus_seconds"] = full
        qs = [it for it in items if it.facts]
        if args.questions:
            qs = qs[: args.questions]
        cached = {b: CachedQueries(embs[b]) for b in BACKENDS}
        pairs = [("torch", "torch"), ("onnx", "onnx"), ("onnx-int8", "onnx-int8"), ("torch", "onnx-int8"),
                 ("onnx-int8", "torch"), ("torch", "onnx")]  # fmt: skip
        pairs = [(i, q) for i, q in pairs if i in dirs]  # query backends are all loaded; indexes only for qbs
        quality: dict[str, Any] = {}
        print(f"\nretrieval on {len(qs)} answerable dev questions (index backend <- query backend):")
        print("| index | queries | config | Hits@10 | Hits@4 | MRR@10 | all@10 | p50 ms |")
        print("|---|---|---|---|---|---|---|---|")
        for cfg, over in (("shipped", {}), ("dense only", {"use_bm25": False, "understand": False, "max_per_article": 100, "rerank_weight": 0.0})):
            for ib, qb in pairs if cfg == "shipped" else [p for p in pairs if p[0] == p[1]]:
                ix = open_index(dirs[ib], embedder_id=None)
                try:
                    rows, times = run(Retriever(ix, cached[qb], RetrievalParams(**over)), qs)
                finally:
                    ix.close()
                a = score(rows)["all"]
                key = f"{cfg}|{ib}|{qb}"
                quality[key] = {m: round(a[m], 4) for m in ("Hits@10", "Hits@4", "MRR@10", "all@10", "MAP@10")}
                print(f"| {ib} | {qb} | {cfg} | {a['Hits@10']:.3f} | {a['Hits@4']:.3f} | {a['MRR@10']:.3f} | {a['all@10']:.3f} "
                      f"| {statistics.median(times) * 1000:.1f} |", flush=True)  # fmt: skip
        ref = quality["shipped|torch|torch"]
        for key, q in quality.items():
            if key.startswith("shipped|") and key != "shipped|torch|torch":
                d10, dall = q["Hits@10"] - ref["Hits@10"], q["all@10"] - ref["all@10"]
                ok = abs(d10) <= QUALITY_TOL and abs(dall) <= QUALITY_TOL
                print(f"{key[8:]:22s} vs torch|torch: Hits@10 {d10:+.4f}, all@10 {dall:+.4f}  "
                      f"[within {QUALITY_TOL}: {'PASS' if ok else 'FAIL'}]")  # fmt: skip
        summary["quality"] = quality
        summary["questions"] = len(qs)
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(summary))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
