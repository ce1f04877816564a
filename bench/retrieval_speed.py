"""Retrieval speed benchmark: the real index end to end, and FAISS scaling on synthetic vectors.

Part A (real): per-query latency of ``Retriever.search`` over the first N dev questions on a
built index (the 609-article MultiHop-RAG index), with the real embedder, after a warm-up.
Process start, model load and index load are excluded. Reported: p50/p95 end to end (query
embedding included), the same without the query embedding, and a per-stage breakdown
(parse, embed, BM25, dense, fusion, selection, chunk fetch, second stage) from a second,
instrumented pass. Goal: p50 <= 50 ms.

Part B (scaling): seeded synthetic unit vectors at 384-d (a mixture of Gaussian clusters
with an anisotropic, power-law noise spectrum and a shared mean direction, calibrated so
nearest-neighbour cosines resemble MiniLM's on the real corpus; the script prints both),
queries drawn near data points. For each size it builds the product's FAISS indexes
(``rag.index.make_faiss_index``'s construction: IndexIDMap2 over IndexFlatIP, or over
IndexHNSWFlat with ``HNSW_M``/``HNSW_EF_CONSTRUCTION`` unless overridden) and reports build
seconds, memory (serialized index bytes and RSS growth), single-query latency (one query at
a time, like the product; k=10 and k=100, the retriever's candidate count) and HNSW
recall@10 (and recall@100) against exact search, over an ``--ef-search`` sweep. It also says
which type ``choose_index_type("auto", n, threshold)`` picks with the default threshold.
Goal: at 1M chunks p50 <= 50 ms with recall@10 >= 0.95.

    python bench/retrieval_speed.py --quick                        # real index + 10k, 50k (minutes)
    python bench/retrieval_speed.py --index-dir /tmp/work/mh --sizes 100000 --out /tmp/speed-100k.json
    python bench/retrieval_speed.py --skip-real --sizes 1000000 --out /tmp/speed-1m.json   # the full 1M run

An HNSW build's duration is estimated before it starts (from a build measured earlier in the
run, or a 20k calibration build); ``--max-build-minutes`` skips builds estimated to take
longer, and ``--hnsw-m`` / ``--ef-construction`` try cheaper graphs than the product's.
Nothing is written to the repository (``--out`` names the results JSON).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rag import index as rindex  # noqa: E402
from rag.settings import Settings  # noqa: E402

DEFAULT_DEV = REPO.parent / "shared" / "data" / "multihop-rag" / "MultiHopRAG-dev.json"
P50_GOAL_MS = 50.0
RECALL_GOAL = 0.95
DIM = 384


def ms(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs, dtype=np.float64) * 1000
    if not len(a):
        return {"p50": float("nan"), "p95": float("nan"), "mean": float("nan")}
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "mean": float(a.mean())}


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# ======================================================================== part A: real index


class TimedEmbedder:
    """Passes through to the real embedder; adds the seconds spent in ``embed_documents``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id, self.dim, self.max_tokens = inner.model_id, inner.dim, inner.max_tokens
        self.count_tokens, self.token_offsets = inner.count_tokens, inner.token_offsets
        self.seconds = 0.0
        self.texts = 0

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.inner.embed_documents(texts, progress=progress)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


STAGES = {  # Retriever method -> stage name (instance attributes shadow the methods; rag/ is untouched)
    "parse": "parse",
    "_filter_mask": "filters",
    "_subqueries": "parse",
    "_sub_bm25": "bm25",
    "_dense_in": "dense",
    "_combine": "fusion",
    "_boosts": "fusion",
    "_select": "select",
    "_hits": "fetch",
    "_rerank": "rerank",
}


def instrument(retriever: Any, acc: dict[str, float]) -> None:
    def wrap(fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def timed(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                acc[stage] += time.perf_counter() - t0

        return timed

    for meth, stage in STAGES.items():
        setattr(retriever, meth, wrap(getattr(retriever, meth), stage))


def bench_real(args: argparse.Namespace) -> dict[str, Any] | None:
    from eval.sets import load_set
    from rag.embed import load_embedder
    from rag.index import open_index
    from rag.pipeline import retrieval_params
    from rag.retrieve import Retriever

    index_dir = Path(args.index_dir)
    if not (index_dir / rindex.CURRENT).is_file():
        print(f"[real] no index in {index_dir}: skipping part A (pass --index-dir)", flush=True)
        return None
    s = Settings.load()
    t0 = time.perf_counter()
    emb = TimedEmbedder(load_embedder(s.embedder, s.embed_batch_size))
    ix = open_index(index_dir, embedder_id=emb.model_id, verify=False)
    r = Retriever(ix, emb, retrieval_params(s), as_of=s.as_of)
    load_s = time.perf_counter() - t0
    items = load_set(args.dev)
    qs = [it.question for it in items[: args.queries]]
    warm = [it.question for it in items[args.queries : args.queries + args.warmup]] or qs[: args.warmup]
    m = ix.manifest
    print(
        f"[real] {index_dir}: {m['counts']['articles']} articles, {ix.n_chunks} chunks, index type "
        f"{m['index']['type']}; model+index load {load_s:.1f}s (excluded); {len(warm)} warm-up, {len(qs)} timed questions",
        flush=True,
    )
    for q in warm:
        r.search(q, args.k)

    # pass 1: plain end to end; the embedder wrapper costs ~1 us
    total, embed, n_texts, n_hits = [], [], [], []
    for q in qs:
        e0, c0 = emb.seconds, emb.texts
        t = time.perf_counter()
        res = r.search(q, args.k)
        total.append(time.perf_counter() - t)
        embed.append(emb.seconds - e0)
        n_texts.append(emb.texts - c0)
        n_hits.append(len(res.hits))
    no_embed = [a - b for a, b in zip(total, embed, strict=True)]

    # pass 2: per-stage breakdown
    acc: dict[str, float] = defaultdict(float)
    instrument(r, acc)
    stages: dict[str, list[float]] = defaultdict(list)
    totals2 = []
    for q in qs:
        acc.clear()
        e0 = emb.seconds
        t = time.perf_counter()
        r.search(q, args.k)
        dt = time.perf_counter() - t
        totals2.append(dt)
        stages["embed"].append(emb.seconds - e0)
        for name in dict.fromkeys(STAGES.values()):
            stages[name].append(acc.get(name, 0.0))
        stages["other"].append(dt - sum(acc.values()) - (emb.seconds - e0))
    out = {
        "index_dir": str(index_dir),
        "articles": m["counts"]["articles"],
        "chunks": ix.n_chunks,
        "index_type": m["index"]["type"],
        "queries": len(qs),
        "warmup": len(warm),
        "k": args.k,
        "texts_embedded_per_query_mean": statistics.mean(n_texts),
        "hits_per_query_mean": statistics.mean(n_hits),
        "end_to_end_ms": ms(total),
        "excluding_embedding_ms": ms(no_embed),
        "embedding_ms": ms(embed),
        "instrumented_end_to_end_ms": ms(totals2),
        "stages_ms": {k: ms(v) for k, v in stages.items()},
    }
    out["goal_p50_ms"] = P50_GOAL_MS
    out["goal_met"] = out["end_to_end_ms"]["p50"] <= P50_GOAL_MS
    ix.close()
    return out


def print_real(res: dict[str, Any]) -> None:
    print(f"\n### Retrieval latency, real index ({res['articles']} articles, {res['chunks']} chunks, {res['index_type']})\n")
    print(f"{res['queries']} dev questions, k={res['k']}, after {res['warmup']} warm-up questions; "
          f"{res['texts_embedded_per_query_mean']:.2f} texts embedded per question on average\n")  # fmt: skip
    print("| measure | p50 ms | p95 ms | mean ms |\n|---|---|---|---|")
    for label, key in (("end to end (Retriever.search)", "end_to_end_ms"), ("excluding query embedding", "excluding_embedding_ms"),
                       ("query embedding only", "embedding_ms")):  # fmt: skip
        v = res[key]
        print(f"| {label} | {v['p50']:.1f} | {v['p95']:.1f} | {v['mean']:.1f} |")
    print("\nStage breakdown (second, instrumented pass; "
          f"end to end p50 {res['instrumented_end_to_end_ms']['p50']:.1f} ms):\n")  # fmt: skip
    print("| stage | p50 ms | p95 ms | mean ms | share of mean |\n|---|---|---|---|---|")
    tot = sum(v["mean"] for v in res["stages_ms"].values()) or 1.0
    for k, v in sorted(res["stages_ms"].items(), key=lambda kv: -kv[1]["mean"]):
        print(f"| {k} | {v['p50']:.2f} | {v['p95']:.2f} | {v['mean']:.2f} | {100 * v['mean'] / tot:.0f}% |")
    print(f"\nGoal p50 <= {P50_GOAL_MS:.0f} ms at {res['articles']} articles: "
          f"{res['end_to_end_ms']['p50']:.1f} ms -> {verdict(res['goal_met'])}", flush=True)  # fmt: skip


# ======================================================================== part B: synthetic scaling


class Synth:
    """Seeded synthetic 'sentence embeddings': cluster centres around a shared mean direction,
    anisotropic noise (variance ~ i^-alpha in a random rotated basis), unit norm."""

    def __init__(self, seed: int, alpha: float = 0.9, mean_norm: float = 0.3, centre_scale: float = 1.0,
                 spread: float = 0.9, query_noise: float = 0.8, per_cluster: int = 50) -> None:  # fmt: skip
        self.seed, self.spread, self.query_noise, self.per_cluster = seed, spread, query_noise, per_cluster
        self.centre_scale = centre_scale
        rng = np.random.default_rng(seed)
        self.R = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0].astype(np.float32)
        std = np.arange(1, DIM + 1, dtype=np.float64) ** (-alpha / 2)
        self.std = (std / np.sqrt((std**2).sum())).astype(np.float32)  # noise vectors have expected norm 1
        m = rng.standard_normal(DIM).astype(np.float32)
        self.mean = m * (mean_norm / np.linalg.norm(m))

    def _noise(self, rng: np.random.Generator, k: int) -> np.ndarray:
        return (rng.standard_normal((k, DIM), dtype=np.float32) * self.std) @ self.R

    def data(self, n: int, block: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, n])
        nc = max(1, n // self.per_cluster)
        centres = self.mean + self.centre_scale * self._noise(rng, nc)
        X = np.empty((n, DIM), dtype=np.float32)
        for s in range(0, n, block):
            e = min(n, s + block)
            x = centres[rng.integers(0, nc, e - s)] + self.spread * self._noise(rng, e - s)
            X[s:e] = x / np.linalg.norm(x, axis=1, keepdims=True)
        ids = rng.integers(0, 2**62, size=n, dtype=np.int64)  # like the product's hashed 63-bit ids
        if len(np.unique(ids)) != n:
            ids = np.arange(n, dtype=np.int64)
        return X, ids

    def queries(self, X: np.ndarray, nq: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, len(X), 7])
        q = X[rng.integers(0, len(X), nq)] + self.query_noise * self._noise(rng, nq)
        return np.ascontiguousarray(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=np.float32)


def neighbour_stats(X: np.ndarray, Q: np.ndarray | None = None, sample: int = 300, block: int = 50) -> dict[str, float]:
    """Median cosine of the 1st/10th/100th nearest neighbour of a sample of data points
    (itself excluded), of the queries' 1st/10th, and of random pairs (blocks keep memory small)."""

    def top(A: np.ndarray, exclude_self: bool) -> np.ndarray:
        out = []
        for s in range(0, len(A), block):
            S = A[s : s + block] @ X.T
            if exclude_self:
                S[np.arange(len(S)), np.arange(s, s + len(S))] = -2
            kk = min(100, X.shape[0] - 1)
            t = -np.partition(-S, kk, axis=1)[:, : kk + 1]
            out.append(-np.sort(-t, axis=1))
        return np.vstack(out)

    n = min(sample, len(X))
    T = top(X[:n], True)
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, len(X), 5000), rng.integers(0, len(X), 5000)
    out = {
        "nn1": float(np.median(T[:, 0])), "nn10": float(np.median(T[:, 9])), "nn100": float(np.median(T[:, min(99, T.shape[1] - 1)])),
        "random_pair": float(np.median(np.einsum("ij,ij->i", X[a], X[b]))),
    }  # fmt: skip
    if Q is not None:
        TQ = top(Q[:n], False)
        out |= {"query_nn1": float(np.median(TQ[:, 0])), "query_nn10": float(np.median(TQ[:, 9]))}
    return out


def build_faiss(X: np.ndarray, ids: np.ndarray, kind: str, m: int, efc: int) -> tuple[Any, float, int]:
    """The construction of ``rag.index.make_faiss_index`` (IndexIDMap2 over Flat/HNSW), with
    M and efConstruction as given. Returns (index, build seconds, RSS growth bytes)."""
    import faiss

    gc.collect()
    r0 = rss_bytes()
    t0 = time.perf_counter()
    if kind == "hnsw" and (m, efc) == (rindex.HNSW_M, rindex.HNSW_EF_CONSTRUCTION):
        index = rindex.make_faiss_index(X, ids, "hnsw")  # exactly the product's code path
    elif kind == "flat":
        index = rindex.make_faiss_index(X, ids, "flat")
    else:
        inner = faiss.IndexHNSWFlat(DIM, m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = efc
        inner.hnsw.efSearch = rindex.HNSW_EF_SEARCH
        index = faiss.IndexIDMap2(inner)
        index.add_with_ids(X, ids)
    return index, time.perf_counter() - t0, rss_bytes() - r0


def file_bytes(index: Any) -> int:
    import faiss

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.faiss")
        faiss.write_index(index, p)
        return os.path.getsize(p)


def single_query_latency(index: Any, Q: np.ndarray, k: int, warmup: int) -> dict[str, float]:
    for q in Q[:warmup]:
        index.search(q.reshape(1, -1), k)
    times = []
    for q in Q:
        q1 = q.reshape(1, -1)
        t = time.perf_counter()
        index.search(q1, k)
        times.append(time.perf_counter() - t)
    return ms(times)


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    k = exact.shape[1]
    return float(np.mean([len(set(a[:k]) & set(e)) / k for a, e in zip(approx, exact, strict=True)]))


def estimate_build_s(n: int, measured: list[tuple[int, float]]) -> float:
    """Extrapolate HNSW build seconds as c * n^p from the builds measured so far (p fitted on
    the two largest when they differ enough, else 1.1: insertion cost grows ~log n plus cache misses)."""
    pts = sorted(measured)
    n1, t1 = pts[-1]
    p = 1.1
    if len(pts) >= 2 and pts[-1][0] >= 1.8 * pts[-2][0]:
        n0, t0 = pts[-2]
        p = min(1.4, max(1.0, math.log(t1 / t0) / math.log(n1 / n0)))
    return t1 * (n / n1) ** p


def bench_scaling(args: argparse.Namespace, real_stats: dict[str, float] | None) -> dict[str, Any]:
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    threshold = int(Settings.model_fields["hnsw_threshold"].default)
    m, efc = args.hnsw_m, args.ef_construction
    product_params = (m, efc) == (rindex.HNSW_M, rindex.HNSW_EF_CONSTRUCTION)
    print(f"\n[scaling] sizes {args.sizes}; HNSW M={m} efConstruction={efc}"
          f"{'' if product_params else f' (NOT the product constants M={rindex.HNSW_M}, efConstruction={rindex.HNSW_EF_CONSTRUCTION})'}; "
          f"efSearch sweep {args.ef_search} (product default {rindex.HNSW_EF_SEARCH}); faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} OpenMP threads; auto threshold {threshold}", flush=True)  # fmt: skip
    synth = Synth(args.seed)
    measured: list[tuple[int, float]] = []
    out: dict[str, Any] = {"threshold": threshold, "hnsw_m": m, "ef_construction": efc, "sizes": {}}
    for n in args.sizes:
        t0 = time.perf_counter()
        X, ids = synth.data(n)
        Qall = synth.queries(X, max(args.recall_queries, args.latency_queries))
        Qrec, Qlat = Qall[: args.recall_queries], Qall[: args.latency_queries]
        gen_s = time.perf_counter() - t0
        auto = rindex.choose_index_type("auto", n, threshold)
        res: dict[str, Any] = {"n": n, "auto_picks": auto, "generate_s": gen_s, "rows": []}
        stats = neighbour_stats(X, Qall)
        res["neighbour_cosines"] = stats
        print(f"\n[scaling] n={n:,}: data generated in {gen_s:.1f}s; auto picks '{auto}'; median cosines "
              + ", ".join(f"{k} {v:.2f}" for k, v in stats.items())
              + (("  (real MiniLM index: " + ", ".join(f"{k} {v:.2f}" for k, v in real_stats.items()) + ")") if real_stats else ""),
              flush=True)  # fmt: skip

        # exact
        flat, build_s, rss = build_faiss(X, ids, "flat", m, efc)
        fb = file_bytes(flat)
        lat10 = single_query_latency(flat, Qlat, 10, args.warmup)
        lat100 = single_query_latency(flat, Qlat, 100, args.warmup)
        t = time.perf_counter()
        _, gt100 = flat.search(Qrec, 100)
        gt_s = time.perf_counter() - t
        gt10 = gt100[:, :10]
        row = {"type": "flat", "ef_search": None, "build_s": build_s, "file_bytes": fb, "rss_delta_bytes": rss,
               "p50_k10_ms": lat10["p50"], "p95_k10_ms": lat10["p95"], "p50_k100_ms": lat100["p50"],
               "p95_k100_ms": lat100["p95"], "recall_at_10": 1.0, "recall_at_100": 1.0}  # fmt: skip
        res["rows"].append(row)
        res["exact_batch_search_s"] = gt_s
        print(f"  flat: build {build_s:.1f}s, {fb / 2**20:.0f} MiB, p50 k=10 {lat10['p50']:.2f} ms, "
              f"k=100 {lat100['p50']:.2f} ms", flush=True)  # fmt: skip
        del flat
        gc.collect()

        # approximate
        if args.no_hnsw:
            pass
        else:
            if not measured:
                cal = min(n, 20_000)
                Xc, idc = synth.data(cal)
                _, cs, _ = build_faiss(Xc, idc, "hnsw", m, efc)
                measured.append((cal, cs))
                del Xc, idc
                gc.collect()
            est = estimate_build_s(n, measured)
            res["hnsw_build_estimate_s"] = est
            print(f"  hnsw: estimated build {est / 60:.1f} min (from {measured[-1][0]:,} in {measured[-1][1]:.1f}s)", flush=True)
            if args.max_build_minutes and est > 60 * args.max_build_minutes:
                print(f"  hnsw: SKIPPED (estimate over --max-build-minutes {args.max_build_minutes}); "
                      f"try --hnsw-m 16 --ef-construction 40", flush=True)  # fmt: skip
                res["hnsw_skipped"] = True
            else:
                hnsw, build_s, rss = build_faiss(X, ids, "hnsw", m, efc)
                measured.append((n, build_s))
                fb = file_bytes(hnsw)
                print(f"  hnsw: build {build_s:.1f}s ({build_s / 60:.1f} min), {fb / 2**20:.0f} MiB", flush=True)
                inner = faiss.downcast_index(hnsw.index)
                for ef in args.ef_search:
                    inner.hnsw.efSearch = ef
                    _, I10 = hnsw.search(Qrec, 10)
                    _, I100 = hnsw.search(Qrec, 100)
                    lat10 = single_query_latency(hnsw, Qlat, 10, args.warmup)
                    lat100 = single_query_latency(hnsw, Qlat, 100, args.warmup)
                    row = {"type": "hnsw", "ef_search": ef, "build_s": build_s, "file_bytes": fb, "rss_delta_bytes": rss,
                           "p50_k10_ms": lat10["p50"], "p95_k10_ms": lat10["p95"], "p50_k100_ms": lat100["p50"],
                           "p95_k100_ms": lat100["p95"], "recall_at_10": recall(I10, gt10), "recall_at_100": recall(I100, gt100)}  # fmt: skip
                    res["rows"].append(row)
                    print(f"  hnsw efSearch={ef}: p50 k=10 {lat10['p50']:.2f} ms, k=100 {lat100['p50']:.2f} ms, "
                          f"recall@10 {row['recall_at_10']:.3f}, recall@100 {row['recall_at_100']:.3f}", flush=True)  # fmt: skip
                del hnsw, inner
        del X, ids, Qall
        gc.collect()
        out["sizes"][str(n)] = res
    if measured and 1_000_000 not in args.sizes:
        out["hnsw_1m_build_estimate_s"] = estimate_build_s(1_000_000, measured)
    return out


def print_scaling(res: dict[str, Any]) -> None:
    print(f"\n### FAISS scaling on synthetic 384-d unit vectors (HNSW M={res['hnsw_m']}, "
          f"efConstruction={res['ef_construction']}; single queries)\n")  # fmt: skip
    print("| n | index | auto picks | efSearch | build s | file MiB | RSS +MiB | p50 ms k=10 | p95 ms k=10 "
          "| p50 ms k=100 | recall@10 | recall@100 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, r in res["sizes"].items():
        for row in r["rows"]:
            print(f"| {int(n):,} | {row['type']} | {r['auto_picks']} | {row['ef_search'] or '-'} | {row['build_s']:.1f} "
                  f"| {row['file_bytes'] / 2**20:.0f} | {row['rss_delta_bytes'] / 2**20:.0f} | {row['p50_k10_ms']:.2f} "
                  f"| {row['p95_k10_ms']:.2f} | {row['p50_k100_ms']:.2f} | {row['recall_at_10']:.3f} | {row['recall_at_100']:.3f} |")  # fmt: skip
        if r.get("hnsw_skipped"):
            print(f"| {int(n):,} | hnsw | {r['auto_picks']} | - | est. {r['hnsw_build_estimate_s']:.0f} (skipped) | | | | | | | |")
    print()
    for n, r in res["sizes"].items():
        pick = [x for x in r["rows"] if x["type"] == r["auto_picks"]]
        if r["auto_picks"] == "hnsw":
            pick = [x for x in pick if x["ef_search"] == rindex.HNSW_EF_SEARCH] or pick
        if not pick:
            print(f"n={int(n):,}: auto picks {r['auto_picks']}, not measured")
            continue
        x = pick[0]
        ok = x["p50_k10_ms"] <= P50_GOAL_MS and x["recall_at_10"] >= RECALL_GOAL
        ef = f" efSearch={x['ef_search']}" if x["ef_search"] else ""
        print(f"n={int(n):,}: auto picks {r['auto_picks']}{ef}: p50 {x['p50_k10_ms']:.2f} ms (k=10), "
              f"{x['p50_k100_ms']:.2f} ms (k=100), recall@10 {x['recall_at_10']:.3f} "
              f"-> goal p50 <= {P50_GOAL_MS:.0f} ms & recall@10 >= {RECALL_GOAL}: {verdict(ok)}")  # fmt: skip
    if "1000000" not in res["sizes"]:
        est = res.get("hnsw_1m_build_estimate_s")
        print("n=1,000,000: not measured in this run"
              + (f"; estimated HNSW build {est / 60:.0f} min at M={res['hnsw_m']}, efConstruction={res['ef_construction']}"
                 + (" (over 25 min: consider --hnsw-m 16 --ef-construction 40)" if est > 25 * 60 else "") if est else ""))  # fmt: skip
    print(flush=True)


# ======================================================================== main


def ints(s: str) -> list[int]:
    return [int(float(x)) for x in s.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", default=None, help="built index for part A (default: the settings' index_dir)")
    ap.add_argument("--dev", default=str(DEFAULT_DEV), help="MultiHop-RAG-format question set")
    ap.add_argument("--queries", type=int, default=200, help="first N dev questions timed in part A")
    ap.add_argument("--warmup", type=int, default=10, help="untimed warm-up queries (both parts)")
    ap.add_argument("-k", type=int, default=10, help="hits per search in part A")
    ap.add_argument("--sizes", type=ints, default=[100_000, 1_000_000], help="synthetic sizes, e.g. 100000,1000000")
    ap.add_argument("--quick", action="store_true", help="synthetic sizes 10k,50k only")
    ap.add_argument("--hnsw-m", type=int, default=rindex.HNSW_M)
    ap.add_argument("--ef-construction", type=int, default=rindex.HNSW_EF_CONSTRUCTION)
    ap.add_argument("--ef-search", type=ints, default=sorted({32, 64, rindex.HNSW_EF_SEARCH, 256}), help="efSearch sweep")
    ap.add_argument("--no-hnsw", action="store_true", help="flat only")
    ap.add_argument("--max-build-minutes", type=float, default=0, help="skip HNSW builds estimated longer (0: no limit)")
    ap.add_argument("--recall-queries", type=int, default=1000)
    ap.add_argument("--latency-queries", type=int, default=200)
    ap.add_argument("--threads", type=int, default=0, help="FAISS OpenMP threads (0: FAISS default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--out", help="write the results JSON here")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes = [10_000, 50_000]
    if args.index_dir is None:
        args.index_dir = str(Settings.load().index_dir)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_start": os.getloadavg(), "argv": sys.argv[1:]}
    real_stats = None
    if not args.skip_real:
        results["real"] = bench_real(args)
        if results["real"]:
            print_real(results["real"])
            ix = rindex.open_index(args.index_dir, verify=False)
            X = ix.all_vectors()
            ix.close()
            real_stats = neighbour_stats(X)
            results["real_neighbour_cosines"] = real_stats
    if not args.skip_synthetic:
        results["scaling"] = bench_scaling(args, real_stats)
        print_scaling(results["scaling"])
    results["load_average_end"] = os.getloadavg()
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
        print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
