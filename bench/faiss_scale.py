"""FAISS at scale on this machine: memory, build time, query latency and recall@10 per index type.

The vectors are SYNTHETIC: seeded 384-d unit vectors from ``bench/retrieval_speed.py``'s
``Synth`` (Gaussian clusters around a shared mean direction with a power-law noise spectrum,
calibrated so nearest-neighbour cosines resemble all-MiniLM-L6-v2's on the MultiHop-RAG
corpus; the median neighbour cosines are printed so you can check), float32, L2-normalised.
Queries are drawn near data points. Recall@10 is measured against exact search (IndexFlatIP)
over the same vectors.

Index types (inner product on unit vectors, so scores are cosines):

- ``flat``: IndexFlatIP, exact; 4 * d bytes per vector.
- ``hnsw``: IndexHNSWFlat, M=32 and efConstruction=80 (the product's ``rag.index`` constants),
  an efSearch sweep; the float vectors plus the graph.
- ``ivfpq``: IndexIVFPQ, ``--nlist`` lists (4096 at 1M), ``--pq`` codes of m bytes per vector
  (48 and 64 by default, 8 bits per sub-quantizer), trained on a ``--train`` sample (the
  coarse quantizer once, shared by the PQ variants), an nprobe sweep. Also reported: the same
  index re-ranking its top ``--rerank`` candidates exactly from the float vectors (these
  would live on disk, memory-mapped; the memory column does not count them).

Per row: build seconds (training included), bytes per vector (the serialized index / n),
process RSS growth while building it, p50/p95 single-query latency over ``--queries`` queries
(one at a time, k=10, after a warm-up) and recall@10.

    python bench/faiss_scale.py                       # 1,000,000 vectors (~30 min on 2 vCPUs; HNSW is most of it)
    python bench/faiss_scale.py --n 100000            # smaller
    python bench/faiss_scale.py --n 20000 --quick     # seconds: a smoke run
    python bench/faiss_scale.py --types hnsw --out /tmp/hnsw.json   # one index type (exact search always runs)
    python bench/faiss_scale.py --real-index index/mh # also: the same index types on a built index's real MiniLM vectors

``--real-index DIR`` takes the real chunk vectors of a built index, holds out ``--queries`` of
them as queries (removed from the base) and runs the same index types over the rest, next to
synthetic vectors of the same size, to check the synthetic recall is realistic.

Prints a markdown table; the last stdout line is a JSON summary. Nothing is written to the
repository (``--out FILE`` also writes the JSON there).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from retrieval_speed import Synth, file_bytes, ints, neighbour_stats, recall, rss_bytes, single_query_latency  # noqa: E402

from rag import index as rindex  # noqa: E402

DIM = 384
K = 10


def auto_nlist(n: int) -> int:
    """About 4 * sqrt(n) lists, a power of two: 4096 at 1M, 1024 at 100k, 256 at 5k."""
    return int(min(65536, max(16, 2 ** round(math.log2(4 * math.sqrt(n))))))


class Reranked:
    """Search ``kprime`` candidates in ``index``, keep the exact top k by the float vectors."""

    def __init__(self, index: Any, X: np.ndarray, kprime: int) -> None:
        self.index, self.X, self.kprime = index, X, kprime

    def search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        _, cand = self.index.search(q, self.kprime)
        ids = np.full((len(q), k), -1, dtype=np.int64)
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        for i in range(len(q)):
            c = cand[i][cand[i] >= 0]
            s = self.X[c] @ q[i]
            top = np.argsort(-s)[:k]
            ids[i, : len(top)], scores[i, : len(top)] = c[top], s[top]
        return scores, ids


def run(X: np.ndarray, Q: np.ndarray, args: argparse.Namespace, label: str, results: list[dict[str, Any]], save: Any) -> None:
    """The chosen index types over base X and queries Q; rows of measurements appended to
    ``results`` (``save()`` is called after each row, so a run cut short keeps what it measured)."""
    import faiss

    n = len(X)
    rows: list[dict[str, Any]] = []
    out: dict[str, Any] = {"data": label, "n": n, "queries": len(Q), "rows": rows}
    results.append(out)

    def row(
        kind: str, params: str, build_s: float, nbytes: int, rss: int, lat: dict[str, float], rec: float, note: str = ""
    ) -> None:
        r = {"data": label, "n": n, "index": kind, "params": params, "build_s": round(build_s, 2),
             "bytes_per_vector": round(nbytes / n, 1), "index_mib": round(nbytes / 2**20, 1),
             "rss_delta_mib": round(rss / 2**20, 1), "p50_ms": round(lat["p50"], 3), "p95_ms": round(lat["p95"], 3),
             "recall_at_10": round(rec, 4), "note": note}  # fmt: skip
        rows.append(r)
        save()
        print(f"  [{label} n={n:,}] {kind} {params}: build {build_s:.1f}s, {nbytes / n:.1f} B/vector, RSS +{rss / 2**20:.0f} MiB, "
              f"p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, recall@10 {rec:.3f} {note}", flush=True)  # fmt: skip

    # ------------------------------------------------------------ exact
    gc.collect()
    r0, t0 = rss_bytes(), time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    flat.add(X)
    build_s, rss = time.perf_counter() - t0, rss_bytes() - r0
    t = time.perf_counter()
    _, gt = flat.search(Q, K)
    out["exact_batch_search_s"] = round(time.perf_counter() - t, 3)
    if "flat" in args.types:
        lat = single_query_latency(flat, Q, K, args.warmup)
        row("IndexFlatIP", "exact", build_s, file_bytes(flat), rss, lat, recall(gt, gt))
    del flat
    gc.collect()

    # ------------------------------------------------------------ HNSW
    if "hnsw" in args.types:
        r0, t0 = rss_bytes(), time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(DIM, args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = args.ef_construction
        hnsw.add(X)
        build_s, rss = time.perf_counter() - t0, rss_bytes() - r0
        nbytes = file_bytes(hnsw)
        for ef in args.ef_search:
            hnsw.hnsw.efSearch = ef
            _, ids = hnsw.search(Q, K)
            lat = single_query_latency(hnsw, Q, K, args.warmup)
            row(
                "IndexHNSWFlat",
                f"M={args.hnsw_m} efC={args.ef_construction} efSearch={ef}",
                build_s,
                nbytes,
                rss,
                lat,
                recall(ids, gt),
            )
        del hnsw
        gc.collect()

    # ------------------------------------------------------------ IVF-PQ
    if "ivfpq" in args.types:
        nlist = args.nlist or auto_nlist(n)
        ntrain = min(n, args.train or max(nlist * 40, 160_000))
        rng = np.random.default_rng(1)
        sample = X[np.sort(rng.choice(n, ntrain, replace=False))]
        r0, t0 = rss_bytes(), time.perf_counter()
        cq = faiss.IndexFlatIP(DIM)
        clus = faiss.Clustering(DIM, nlist)
        clus.niter, clus.seed = args.kmeans_iter, 1
        clus.verbose = False
        clus.train(sample, cq)
        coarse_s = time.perf_counter() - t0
        coarse_rss = rss_bytes() - r0
        out["ivf"] = {"nlist": nlist, "train": ntrain, "coarse_train_s": round(coarse_s, 1), "kmeans_iter": args.kmeans_iter}
        print(f"  [{label} n={n:,}] coarse quantizer: {nlist} lists trained on {ntrain:,} vectors in {coarse_s:.1f}s", flush=True)
        for m in args.pq:
            r0, t0 = rss_bytes(), time.perf_counter()
            q = faiss.clone_index(cq)
            ivf = faiss.IndexIVFPQ(q, DIM, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
            ivf.train(sample)  # the quantizer is trained already: this trains the PQ only
            ivf.add(X)
            build_s = coarse_s + time.perf_counter() - t0
            rss = coarse_rss + rss_bytes() - r0
            nbytes = file_bytes(ivf)
            for nprobe in args.nprobe:
                ivf.nprobe = nprobe
                _, ids = ivf.search(Q, K)
                lat = single_query_latency(ivf, Q, K, args.warmup)
                row("IndexIVFPQ", f"IVF{nlist},PQ{m} nprobe={nprobe}", build_s, nbytes, rss, lat, recall(ids, gt))
                for kprime in [r for r in args.rerank if r > 0]:
                    rr = Reranked(ivf, X, kprime)
                    lat = single_query_latency(rr, Q, K, args.warmup)
                    row("IndexIVFPQ+rerank", f"IVF{nlist},PQ{m} nprobe={nprobe} rerank {kprime}", build_s, nbytes, rss, lat,
                        recall(rr.search(Q, K)[1], gt), note="(+ float vectors on disk, 1,536 B/vector, not counted)")  # fmt: skip
            del ivf
            gc.collect()
        del sample, cq


def print_table(results: list[dict[str, Any]]) -> None:
    print("\n| data | n | index | parameters | build s | bytes/vector | index MiB | RSS +MiB | p50 ms | p95 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for res in results:
        for r in res["rows"]:
            print(f"| {r['data']} | {r['n']:,} | {r['index']} | {r['params']} | {r['build_s']:.1f} | {r['bytes_per_vector']:.0f} "
                  f"| {r['index_mib']:.0f} | {r['rss_delta_mib']:.0f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['recall_at_10']:.3f} |")  # fmt: skip
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--n", type=int, default=1_000_000, help="synthetic vectors (default 1,000,000; 0: only the --real-index comparison)"
    )
    ap.add_argument("--queries", type=int, default=200, help="queries, each timed alone (k=10)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--hnsw-m", type=int, default=rindex.HNSW_M)
    ap.add_argument("--ef-construction", type=int, default=rindex.HNSW_EF_CONSTRUCTION)
    ap.add_argument("--ef-search", type=ints, default=[64, 256, rindex.HNSW_EF_SEARCH])
    ap.add_argument("--nlist", type=int, default=0, help="IVF lists (0: ~4*sqrt(n) as a power of two; 4096 at 1M)")
    ap.add_argument("--pq", type=ints, default=[48, 64], help="PQ code bytes per vector, e.g. 48,64")
    ap.add_argument("--nprobe", type=ints, default=[16, 32, 128])
    ap.add_argument("--train", type=int, default=0, help="IVF-PQ training sample (0: max(40*nlist, 160,000), at most n)")
    ap.add_argument("--kmeans-iter", type=int, default=20, help="k-means iterations of the coarse quantizer")
    ap.add_argument("--rerank", type=ints, default=[100, 1000], help="IVF-PQ + exact re-rank of this many candidates (0: off)")
    ap.add_argument("--types", default="flat,hnsw,ivfpq", help="index types to measure (exact search always runs, for recall)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: one efSearch, PQ48, one nprobe, 50 queries")
    ap.add_argument("--real-index", type=Path, default=None, help="also run on this built index's real MiniLM vectors")
    ap.add_argument("--threads", type=int, default=0, help="FAISS OpenMP threads (0: FAISS default, all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON summary here")
    args = ap.parse_args(argv)
    args.types = {t.strip() for t in args.types.split(",") if t.strip()}
    if args.types - {"flat", "hnsw", "ivfpq"}:
        ap.error(f"unknown --types {sorted(args.types - {'flat', 'hnsw', 'ivfpq'})}: use flat, hnsw, ivfpq")
    if args.quick:
        args.ef_search, args.pq, args.nprobe, args.rerank = [64], [48], [16], [100]
        args.queries, args.kmeans_iter = min(args.queries, 50), 10

    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start; "
          f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads", flush=True)  # fmt: skip
    t_all = time.perf_counter()
    results: list[dict[str, Any]] = []
    cosines: dict[str, dict[str, float]] = {}

    def summary() -> dict[str, Any]:
        return {
            "synthetic": True, "n": args.n, "dim": DIM, "queries": args.queries, "k": K, "cpus": os.cpu_count(),
            "faiss": faiss.__version__, "threads": faiss.omp_get_max_threads(), "types": sorted(args.types),
            "seconds": round(time.perf_counter() - t_all, 1), "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "median_cosines": cosines, "results": results,
        }  # fmt: skip

    def save() -> None:
        if args.out:
            args.out.write_text(json.dumps(summary(), indent=1))

    if args.real_index:
        ix = rindex.open_index(args.real_index, verify=False)
        R = np.ascontiguousarray(ix.all_vectors(), dtype=np.float32)
        ix.close()
        rng = np.random.default_rng(args.seed)
        perm = rng.permutation(len(R))
        nq = min(args.queries, len(R) // 10)
        Qr, Xr = np.ascontiguousarray(R[perm[:nq]]), np.ascontiguousarray(R[perm[nq:]])
        cosines["real"] = neighbour_stats(Xr, Qr)
        print(f"\n[real] {args.real_index}: {len(Xr):,} real chunk vectors, {nq} held-out chunks as queries; median cosines "
              + ", ".join(f"{k} {v:.2f}" for k, v in cosines["real"].items()), flush=True)  # fmt: skip
        run(Xr, Qr, args, "real MiniLM", results, save)
        synth = Synth(args.seed)
        Xs, _ = synth.data(len(Xr))
        Qs = synth.queries(Xs, nq)
        cosines[f"synthetic@{len(Xs)}"] = neighbour_stats(Xs, Qs)
        print(f"\n[synthetic, same size] {len(Xs):,} vectors; median cosines "
              + ", ".join(f"{k} {v:.2f}" for k, v in cosines[f"synthetic@{len(Xs)}"].items()), flush=True)  # fmt: skip
        run(Xs, Qs, args, "synthetic", results, save)
        del R, Xr, Qr, Xs, Qs
        gc.collect()

    if args.n:
        t0 = time.perf_counter()
        r0 = rss_bytes()
        synth = Synth(args.seed)
        X, _ = synth.data(args.n)
        Q = synth.queries(X, args.queries)
        gen_s = time.perf_counter() - t0
        cosines[f"synthetic@{args.n}"] = neighbour_stats(X, Q)
        print(f"\n[synthetic] {args.n:,} SYNTHETIC 384-d unit vectors generated in {gen_s:.1f}s "
              f"(the array: {X.nbytes / 2**20:.0f} MiB, RSS +{(rss_bytes() - r0) / 2**20:.0f} MiB); median cosines "
              + ", ".join(f"{k} {v:.2f}" for k, v in cosines[f"synthetic@{args.n}"].items()), flush=True)  # fmt: skip
        run(X, Q, args, "synthetic", results, save)

    print_table(results)
    save()
    print(json.dumps(summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
