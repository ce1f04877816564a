"""Retrieval ablation on a MultiHop-RAG-format set, with the benchmark's own scorer.

Prints one row per configuration (dense only, BM25 only, hybrid, + query
understanding, + second stage) overall and per question type, plus the retrieval
time per query. Usage::

    python bench/retrieval_ablation.py --index-dir index/mh \
        --set ../shared/data/multihop-rag/MultiHopRAG-dev.json [--limit N] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.metrics import all_at_k, hits_at_k, map_at_10, mrr_at_10
from eval.sets import load_set, sample
from rag.embed import load_embedder
from rag.index import open_index
from rag.retrieve import RetrievalParams, Retriever
from rag.settings import Settings

CONFIGS = {
    "dense only": dict(use_bm25=False, understand=False, max_per_article=100, rerank_weight=0.0),
    "bm25 only": dict(use_dense=False, understand=False, max_per_article=100, rerank_weight=0.0),
    "hybrid": dict(understand=False, max_per_article=100, rerank_weight=0.0),
    "hybrid + diversity": dict(understand=False, rerank_weight=0.0),
    "+ query understanding": dict(rerank_weight=0.0),
    "+ second stage": dict(),
}


class CachedQueries:
    """Wraps an embedder so each configuration does not re-embed the same questions."""

    def __init__(self, emb):
        self.emb = emb
        self.cache = {}
        for attr in ("model_id", "dim", "max_tokens"):
            setattr(self, attr, getattr(emb, attr))

    def embed_query(self, text):
        if text not in self.cache:
            self.cache[text] = self.emb.embed_query(text)
        return self.cache[text]

    def embed_documents(self, texts, progress=False):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.emb.embed_documents(missing, progress), strict=True))
        return np.vstack([self.cache[t] for t in texts]) if texts else self.emb.embed_documents([])


def run(retriever: Retriever, items, k: int = 10):
    rows = []
    times = []
    for it in items:
        t0 = time.perf_counter()
        res = retriever.search(it.question, k)
        times.append(time.perf_counter() - t0)
        texts = [h.text for h in res.hits]
        rows.append((it.type, texts, it.facts))
    return rows, times


def score(rows):
    out = defaultdict(lambda: defaultdict(list))
    for typ, texts, facts in rows:
        if not facts:
            continue
        for key in (typ, "all"):
            out[key]["Hits@10"].append(hits_at_k(texts, facts, 10))
            out[key]["Hits@4"].append(hits_at_k(texts, facts, 4))
            out[key]["MAP@10"].append(map_at_10(texts, facts))
            out[key]["MRR@10"].append(mrr_at_10(texts, facts))
            out[key]["all@10"].append(all_at_k(texts, facts, 10))
    return {t: {m: sum(v) / len(v) for m, v in ms.items()} | {"n": len(ms["Hits@10"])} for t, ms in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--set", default="../shared/data/multihop-rag/MultiHopRAG-dev.json")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--only", nargs="*", help="config names to run")
    ap.add_argument("--param", action="append", default=[], help="override RetrievalParams field=value")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    s = Settings.load()
    emb = CachedQueries(load_embedder(s.embedder))
    ix = open_index(args.index_dir, emb.model_id)
    items = sample(load_set(args.set), args.limit)
    base = dataclasses.asdict(RetrievalParams())
    for kv in args.param:
        k, v = kv.split("=")
        base[k] = type(base[k])(v) if not isinstance(base[k], bool) else v.lower() in ("1", "true")
    lines = ["| configuration | Hits@10 | Hits@4 | MAP@10 | MRR@10 | all@10 | p50 ms |", "|---|---|---|---|---|---|---|"]
    per_type = {}
    for name, over in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        params = RetrievalParams(**{**base, **over})
        r = Retriever(ix, emb, params)
        rows, times = run(r, items)
        sc = score(rows)
        per_type[name] = sc
        a = sc["all"]
        p50 = statistics.median(times) * 1000
        line = f"| {name} | {a['Hits@10']:.3f} | {a['Hits@4']:.3f} | {a['MAP@10']:.3f} | {a['MRR@10']:.3f} | {a['all@10']:.3f} | {p50:.1f} |"
        lines.append(line)
        print(line, flush=True)
        for t in sorted(sc):
            if t != "all":
                m = sc[t]
                print(
                    f"    {t:18s} n={m['n']:4d} H@10 {m['Hits@10']:.3f} H@4 {m['Hits@4']:.3f} MRR {m['MRR@10']:.3f} all@10 {m['all@10']:.3f}",
                    flush=True,
                )
    if args.markdown:
        Path(args.markdown).write_text(render_markdown(lines, per_type, " ".join(sys.argv[1:])))


DESCRIPTIONS = {
    "dense only": "FAISS inner product over all-MiniLM-L6-v2 chunk embeddings",
    "bm25 only": "bm25s (Lucene BM25, Snowball stems) over title + chunk text",
    "hybrid": "0.4 x cosine + 0.6 x BM25 / max BM25 (weights tuned on the dev set)",
    "hybrid + diversity": "at most 4 chunks per article in the top k",
    "+ query understanding": "outlets and dates named in the question: per-outlet sub-searches with a reserved slot, +0.3 boosts",
    "+ second stage": "the top k re-ordered by the best single sentence's share of the question's idf mass (weight 0.6)",
}


def render_markdown(lines: list[str], per_type: dict, argv: str) -> str:
    """The ablation as a document: what each row adds, the overall table, one table per metric by type."""
    out = [
        "# Retrieval ablation (MultiHop-RAG dev set, full corpus)",
        "",
        "Produced by `python bench/retrieval_ablation.py " + argv + "` with the benchmark's own definitions",
        "(null queries skipped; a hit is a gold fact that is a substring of a retrieved chunk after removing",
        "spaces and newlines; MAP@10 as in its `retrieval_evaluate.py`). all@10: share of questions whose gold",
        "facts are all in the top 10. p50 ms: retrieval per query with the query embedding cached (the same",
        "question is embedded once for all rows), so it shows each stage's own cost; see `bench/retrieval_speed.py`",
        "for end-to-end latency. Each row adds one thing to the row above it (dense/BM25-only rows drop the other signal):",
        "",
    ]
    out += [f"- **{name}**: {DESCRIPTIONS.get(name, '')}" for name in per_type]
    out += ["", *lines, ""]
    types = sorted({t for sc in per_type.values() for t in sc if t != "all"})
    for metric in ("Hits@10", "Hits@4", "MRR@10", "all@10"):
        out += [f"### {metric} by question type", ""]
        out.append("| configuration | " + " | ".join(f"{t} (n={next(iter(per_type.values()))[t]['n']})" for t in types) + " |")
        out.append("|---|" + "---|" * len(types))
        for name, sc in per_type.items():
            out.append(f"| {name} | " + " | ".join(f"{sc[t][metric]:.3f}" for t in types) + " |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
