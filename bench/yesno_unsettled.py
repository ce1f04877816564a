"""How many Yes/No questions of a set ``rag.compose.unsettled`` would refuse, without running a model.

For each question the pipeline classifies as Yes/No: retrieval, evidence and the passages that
mention its subject, as ``Pipeline.stream`` has them; then ``unsettled`` over those passages, and
the share of the claim's idf mass the passages hold together. ``--share X`` also counts the
questions below X (the per-passage-share rule that was tried first). Usage::

    python bench/yesno_unsettled.py ../shared/data/multihop-rag/MultiHopRAG-dev.json --index-dir index/mh --limit 100 --share 0.2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.sets import load_set, sample
from rag.cite import term_share
from rag.compose import _filler_terms, unsettled
from rag.forms import classify
from rag.lexical import claim_terms, subject_terms, terms
from rag.pipeline import Pipeline
from rag.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set")
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--share", type=float, default=0.0, help="also count questions whose passages hold less of the claim")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each question refused")
    a = ap.parse_args()
    settings = Settings(index_dir=a.index_dir)
    pipe = Pipeline.from_settings(settings)
    gen = pipe.generator
    n = refused = below = 0
    for it in sample(load_set(a.set), a.limit):
        q, form = it.question, classify(it.question)
        if form.kind != "yesno":
            continue
        n += 1
        res = pipe.search(q, settings.top_k, as_of=it.as_of or None)
        ev = pipe.evidence_for(q, res.hits, gen.count_tokens, res.parsed, form)
        subject = subject_terms(q, [(m.start, m.end) for m in res.parsed.outlets])
        shown = [e for e in ev if not subject or set(subject) & set(terms(f"{e.model_text} {e.title}"))]
        if not shown:
            continue
        why = unsettled(form, q, shown, pipe.index.idf)
        claim = [t for t in claim_terms(q) if t not in _filler_terms()]
        share = term_share(claim, " ".join(e.model_text for e in shown), pipe.index.idf)
        refused += bool(why)
        below += share < a.share
        if a.verbose and why:
            print(f"  gold {it.answer[:12]!r} | {q[:90]} | {why[:100]}")
    print(f"Yes/No questions: {n}; refused as unsettled: {refused}; passages holding < {a.share} of the claim: {below}")


if __name__ == "__main__":
    main()
