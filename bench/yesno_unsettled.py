"""How many Yes/No questions of a set ``rag.compose.unsettled`` would refuse, without running a model.

For each question the pipeline classifies as Yes/No: retrieval, evidence and the passages that
mention its subject, as ``Pipeline.stream`` has them; then ``unsettled`` over those passages, and
the share of the claim's idf mass the passages hold together. ``--share X`` also counts the
questions below X (the per-passage-share rule that was tried first). Usage::

    python bench/yesno_unsettled.py ../shared/data/multihop-rag/MultiHopRAG-dev.json --index-dir index/mh --limit 100 --share 0.2
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.sets import load_set, sample, select_split
from rag.cite import term_share
from rag.compose import _filler_terms, choose_support, unsettled
from rag.forms import classify
from rag.lexical import claim_terms
from rag.pipeline import Pipeline, yesno_passages
from rag.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", nargs="+")
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--share", type=float, default=0.0, help="also count questions whose passages hold less of the claim")
    ap.add_argument("--split", default="all", help="tune, test or all (our sets; MultiHop-RAG has none)")
    ap.add_argument("--no-settling", action="store_true", help="leave out the settling passage's checks (as before stop 34)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each question refused")
    a = ap.parse_args()
    settings = Settings(index_dir=a.index_dir)
    pipe = Pipeline.from_settings(settings)
    gen = pipe.generator
    n = refused = below = 0
    by_gold: dict[str, list[int]] = {}
    for path in a.set:
        for it in sample(select_split(load_set(path), None if a.split == "all" else a.split), a.limit):
            q, form = it.question, classify(it.question)
            if form.kind != "yesno":
                continue
            n += 1
            res = pipe.search(q, settings.top_k, as_of=it.as_of or None)
            ev = pipe.evidence_for(q, res.hits, gen.count_tokens, res.parsed, form)
            _, shown = yesno_passages(q, ev, res.parsed)
            if not shown:
                continue
            settles = choose_support(form, q, shown, (), [m.sources for m in res.parsed.outlets], pipe.index.idf)[:1]
            why = unsettled(form, q, shown, pipe.index.idf, settles[0] if settles and not a.no_settling else None)
            claim = [t for t in claim_terms(q) if t not in _filler_terms()]
            share = term_share(claim, " ".join(e.model_text for e in shown), pipe.index.idf)
            refused += bool(why)
            below += share < a.share
            gold = "Insufficient" if it.natural and not it.natural_fields().get("answerable", True) else (it.answer or "")[:12]
            gold = "Insufficient" if gold.startswith("Insufficient") else re.split(r"\W", gold + " ")[0]
            by_gold.setdefault(gold if gold in ("Yes", "No", "Insufficient") else "other", [0, 0])[bool(why)] += 1
            if a.verbose and why:
                print(f"  {it.id} gold {gold!r} | {q[:90]} | {why[:140]}")
    print(f"Yes/No questions: {n}; refused as unsettled: {refused}; passages holding < {a.share} of the claim: {below}")
    for gold, (kept, ref) in sorted(by_gold.items()):
        print(f"  gold {gold:12}: {ref} of {kept + ref} refused as unsettled")


if __name__ == "__main__":
    main()
