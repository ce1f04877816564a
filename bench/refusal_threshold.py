"""The model's own refusal, by threshold: how many answerable and unanswerable questions it would refuse.

For each natural question that is not Yes/No, the pipeline runs as in the product up to the model
(retrieval, the refusal rules that come before it, evidence, the prompt), and the answer model's
first-token probability of "Insufficient" over that prompt is recorded; nothing is generated. A
question the rules refuse before the model is counted as such. Then, per threshold t, the questions
the model would refuse at ``refusal_min_prob = t`` (p >= t), answerable and unanswerable apart, per
split. Sets over the sample corpus run on ``index/sample``, the others on ``index/mh``. Usage::

    python bench/refusal_threshold.py eval/sets/natural-sample.jsonl eval/sets/natural-multihop.jsonl \\
        eval/sets/natural-multihop-dev2.jsonl --split tune [--out p.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.sets import load_set, select_split
from rag.forms import classify
from rag.pipeline import Pipeline
from rag.settings import Settings

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


class _Read(Exception):
    """Raised once the refusal probability is read: the answer is not needed."""


def refusal_probability(pipe: Pipeline, question: str, as_of: str | None) -> tuple[float | None, str]:
    """P("Insufficient") as the answer model's first token, or (None, reason) when the pipeline
    refuses before asking the model."""
    gen = pipe.generator
    real = gen._first_token_logprobs
    got: list[float] = []

    def read(prompt: str, options: list[str]) -> list[float]:
        out = real(prompt, options)
        if options == ["Insufficient"]:
            got.append(out[0])
            raise _Read
        return out

    gen._first_token_logprobs = read
    try:
        ans = pipe.answer(question, as_of=as_of)
        return None, ans.reason if ans.refused else "answered without the refusal probe"
    except _Read:
        return math.exp(got[0]), ""
    finally:
        gen._first_token_logprobs = real


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--split", default="all")
    ap.add_argument("--out", default=None, help="write each question's probability here (JSON lines)")
    a = ap.parse_args()
    rows: list[dict] = []
    for path in a.sets:
        idx = "index/sample" if "sample" in Path(path).name else "index/mh"
        pipe = Pipeline.from_settings(Settings(index_dir=idx, refusal_min_prob=0.5))
        items = [it for it in select_split(load_set(path), None if a.split == "all" else a.split) if it.natural]
        for it in items:
            if classify(it.question).kind == "yesno":
                continue
            p, before = refusal_probability(pipe, it.question, it.as_of or None)
            answerable = bool(it.natural_fields().get("answerable", True))
            rows.append({"id": it.id, "split": it.split, "answerable": answerable, "p": p, "before": before})
            shown = "refused before the model" if p is None else f"p = {p:.3f}"
            print(f"{it.id} {'answerable' if answerable else 'unanswerable'}: {shown} {before[:70]}", flush=True)
        pipe.close()
    if a.out:
        Path(a.out).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    by_split: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_split[r["split"] or "all"].append(r)
    for split, rs in sorted(by_split.items()):
        asked = [r for r in rs if r["p"] is not None]
        n_ans = sum(r["answerable"] for r in asked)
        n_un = len(asked) - n_ans
        print(f"\n{split}: {len(rs)} questions, {len(rs) - len(asked)} refused before the model; of the rest {n_ans} answerable, {n_un} not")
        print(f"  {'t':>5} {'unanswerable refused':>21} {'answerable refused':>19}")
        for t in THRESHOLDS:
            un = sum(r["p"] >= t for r in asked if not r["answerable"])
            an = sum(r["p"] >= t for r in asked if r["answerable"])
            print(f"  {t:5.2f} {un:>14d} of {n_un:<4d} {an:>12d} of {n_ans:<4d}")


if __name__ == "__main__":
    main()
