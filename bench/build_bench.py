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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


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
    ap.add_argument("--keep", type=Path, default=None, help="build the index here and keep it")
    args = ap.parse_args(argv)

    from rag.build import BuildOptions, build_index, update_index
    from rag.embed import load_embedder
    from rag.index import open_index

    if not args.corpus.is_file():
        print(f"error: {args.corpus} not found (pass --corpus)", file=sys.stderr)
        return 2
    data = json.loads(args.corpus.read_text(encoding="utf-8"))
    if args.limit:
        data = data[: args.limit]
    print(f"corpus: {args.corpus} ({len(data)} articles{', --limit' if args.limit else ''})")
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    work = tempfile.TemporaryDirectory(prefix="rag-build-bench-")
    tmp = Path(work.name)
    corpus_file = tmp / "corpus.json"  # a private copy: the update step edits it
    corpus_file.write_text(json.dumps(data), encoding="utf-8")
    index_dir = args.keep or tmp / "index"

    t0 = time.perf_counter()
    real = load_embedder(args.embedder, args.batch_size)
    load_s = time.perf_counter() - t0
    model = real.model  # the SentenceTransformer the pipeline uses
    warm = [f"warm-up sentence number {i} for the embedding model." for i in range(args.batch_size)]
    real.embed_documents(warm)
    model.encode(warm, batch_size=args.batch_size, show_progress_bar=False)
    emb = TimedEmbedder(real)
    print(f"embedder: {real.model_id} (loaded in {load_s:.1f}s), batch size {args.batch_size}, "
          f"torch threads {__import__('torch').get_num_threads()}")  # fmt: skip

    # ---------------------------------------------------------------- full build
    t0 = time.perf_counter()
    res = build_index([corpus_file], index_dir, emb, BuildOptions(progress=False))
    build_s = time.perf_counter() - t0
    texts = list(emb.texts)
    pipe_embed_s = emb.seconds
    assert len(texts) == res.chunks == res.embedded
    print(f"articles: {res.articles}")
    print(f"chunks: {res.chunks}")
    print(f"build seconds: {build_s:.2f} (embedding {pipe_embed_s:.2f}, ingest+chunk+write {build_s - pipe_embed_s:.2f})")
    print(f"build chunks/s: {res.chunks / build_s:.2f}")

    # ---------------------------------------------------------------- bare encode, same texts and batch size
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
    print(f"embedding throughput ratio (pipeline / bare{'' if args.no_paired else ', paired'}): {verdict_ratio:.3f}  "
          f"[goal >= {RATIO_GOAL}: {'PASS' if verdict_ratio >= RATIO_GOAL else 'FAIL'}]")  # fmt: skip

    # ---------------------------------------------------------------- update one changed article
    k = len(data) // 2
    data[k]["body"] = data[k]["body"] + " In an update to this story, officials confirmed the figures on Friday."
    corpus_file.write_text(json.dumps(data), encoding="utf-8")
    emb.texts.clear()
    emb.seconds = 0.0
    t0 = time.perf_counter()
    upd = update_index([corpus_file], index_dir, emb, BuildOptions(progress=False))
    update_s = time.perf_counter() - t0
    ix = open_index(index_dir, embedder_id=real.model_id)
    try:
        title = data[k]["title"]
        aid = next(m["article_id"] for m in ix.articles_meta() if m["title"] == title)
        article_chunks = len(ix.chunks_of(aid))
    finally:
        ix.close()
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
        "embed_seconds_pipeline": round(pipe_embed_s, 3),
        "embed_seconds_bare": round(bare_s, 3),
        "embed_throughput_ratio_in_build": round(ratio, 4),
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
    }
    print(json.dumps(summary))
    work.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
