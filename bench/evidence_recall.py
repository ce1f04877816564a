"""Evidence recall on a natural-question set, without running the model.

For each answerable question: its form, the retrieved passages and the evidence the model
would read (the pipeline's own ``search`` + ``evidence_for`` with the real tokenizer), and
the share of its key facts found (a) in the retrieved chunks, the ceiling, and (b) in the
evidence. Prints both per form and overall, and the evidence's size in tokens, so a change
to evidence selection is measured in seconds per question rather than a full answer eval.
Usage::

    python bench/evidence_recall.py eval/sets/natural-sample.jsonl --index-dir index/sample [--split tune]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.natural import evidence_recall
from eval.sets import load_set, select_split
from rag.evidence import format_evidence
from rag.forms import classify
from rag.pipeline import EXTRA_K_LONG, Pipeline
from rag.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set")
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--split", default="all")
    ap.add_argument("--show-missing", action="store_true", help="print the questions whose evidence lacks a key fact")
    ap.add_argument("--evidence-tokens", type=int, default=0)
    ap.add_argument("--follow", default="", help="override FOLLOW: 'explanation=0.5,event=0.5'")
    ap.add_argument("--per-article", type=int, default=0, help="raise every form's sentences-per-article cap to this")
    ap.add_argument("--floor", type=float, default=None, help="override EVIDENCE_FLOOR")
    ap.add_argument("--spill", type=float, default=None, help="override EVIDENCE_SPILL")
    ap.add_argument("--stating", type=float, default=None, help="override STATING_BONUS")
    ap.add_argument("--lede", default="", help="override LEDE: 'summary=0.1,latest=0.1' or 'all=0.1'")
    a = ap.parse_args()
    from rag import pipeline

    if a.stating is not None:
        pipeline.STATING_BONUS = a.stating
    if a.floor is not None:
        pipeline.EVIDENCE_FLOOR = a.floor
    if a.spill is not None:
        pipeline.EVIDENCE_SPILL = a.spill
    if a.per_article:
        from dataclasses import replace

        from rag import evidence

        for kind, b in list(evidence.BUDGETS.items()):
            evidence.BUDGETS[kind] = replace(b, per_article=max(b.per_article, a.per_article))
    if a.lede:
        pipeline.LEDE.clear()
        for k, v in (x.split("=") for x in a.lede.split(",")):
            kinds = ["fact", "yesno", "explanation", "event", "open", "comparison", "list", "summary", "timeline", "latest"]
            for kind in kinds if k == "all" else [k]:
                pipeline.LEDE[kind] = float(v)
    if a.follow:
        pipeline.FOLLOW.clear()
        pipeline.FOLLOW.update({k: float(v) for k, v in (x.split("=") for x in a.follow.split(","))})
    ap_extra = {"evidence_tokens": a.evidence_tokens} if a.evidence_tokens else {}
    settings = Settings(index_dir=a.index_dir, **ap_extra)
    pipe = Pipeline.from_settings(settings)
    gen = pipe.generator
    items = [it for it in select_split(load_set(a.set), None if a.split == "all" else a.split) if it.natural]
    rows: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    secs: list[float] = []
    for it in items:
        f = it.natural_fields()
        if not f.get("answerable", True) or not f.get("key_facts"):
            continue
        form = classify(it.question)
        k = settings.top_k + (EXTRA_K_LONG if form.long else 0)
        res = pipe.search(it.question, k, as_of=it.as_of or None)
        t = time.perf_counter()
        ev = pipe.evidence_for(it.question, res.hits, gen.count_tokens, res.parsed, form)
        secs.append(time.perf_counter() - t)
        kf = f["key_facts"]
        ceiling = evidence_recall(kf, [{"title": h.title, "text": h.text} for h in res.hits])
        got = evidence_recall(kf, [{"title": e.title, "text": e.text} for e in ev])
        tokens = gen.count_tokens(format_evidence(ev)) if ev else 0
        rows[form.kind].append((ceiling, got, tokens))
        rows["all"].append((ceiling, got, tokens))
        if a.show_missing and got < 1:
            print(f"  {it.id} [{form.kind}] {got:.2f}/{ceiling:.2f} {it.question}", file=sys.stderr)
    print(f"{'form':12} {'n':>3} {'retrieved':>9} {'evidence':>8} {'tokens p50':>10}")
    for kind in sorted(rows, key=lambda x: (x == "all", x)):
        r = rows[kind]
        print(
            f"{kind:12} {len(r):3d} {statistics.mean(x[0] for x in r):9.2f} {statistics.mean(x[1] for x in r):8.2f} "
            f"{statistics.median(x[2] for x in r):10.0f}"
        )
    print(f"evidence selection: {statistics.median(secs) * 1000:.0f} ms p50")


if __name__ == "__main__":
    main()
