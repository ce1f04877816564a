"""Which passage should decide a Yes/No question, and how: each passage decided on its own.

For each Yes/No question of the sets (gold Yes, No, or unsettled), the pipeline runs as in the
product, and the passages its decision reads (``yesno_passages``: those that mention the
question's subject) are recorded in the order ``choose_support`` shows them. The decider (the
product's 0.5B, its settle prompt) then scores each of the first ``--per`` passages alone:
log P("Yes") - log P("No"). Each passage is also marked when it is from an article the set
names for the question (its gold titles) and when it holds one of the key facts.

It prints, per split, how many decided questions each way of combining the passages gets right:

- ``first``: the first passage shown (the product's way);
- ``surest@k``: of the first k passages, the one the decider is surest of (largest |log-odds|);
- ``sum@k``: the log-odds of the first k passages added;
- ``gold``: the first passage from a gold article (a ceiling for choosing the passage);

and how often the first passage is from a gold article or holds a key fact. With ``--writer
--prior`` it also scores each model over an empty passage (the question's own lean) and reports
rules over the first passage: each model less its lean, the two models' log-odds added, and both
less their leans (stop 37: none kept, README). A decision is Yes
when the log-odds are >= 0 (no bias). ``--out`` keeps every question's passages and log-odds
(JSON lines) for another look without re-running the models. Usage::

    python bench/yesno_passages.py eval/sets/natural-yesno.jsonl eval/sets/natural-yesno2.jsonl \\
        --split tune --out runs/yn-passages-tune.jsonl

Sets over the sample corpus run on ``index/sample``, the others on ``index/mh``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag.pipeline as pipeline_mod
from eval.sets import load_set
from rag.compose import choose_support
from rag.pipeline import Pipeline
from rag.prompt import SYSTEM, build_settle_prompt
from rag.settings import Settings


def questions(paths: list[str], split: str) -> list[tuple[str, object, str]]:
    """(index dir, item, split tag) for each Yes/No question of the sets."""
    rows = []
    for p in paths:
        idx = "index/sample" if "sample" in Path(p).name else "index/mh"
        tag = "fresh-" if Path(p).name == "natural-yesno2.jsonl" else ""
        for it in load_set(p):
            if it.form == "yesno" and (split == "all" or it.split == split):
                rows.append((idx, it, tag + it.split))
    return rows


def holds_fact(text: str, key_facts: list[list[str]]) -> bool:
    low = text.lower()
    return any(any(s.lower() in low for s in alts) for alts in key_facts)


def log_odds(gen, question: str, passage: str) -> float:
    sp = build_settle_prompt(question, passage)
    with gen.hold() as g:
        y, n = g.first_token_logprobs(g.chat_prompt(SYSTEM, sp.user), ["Yes", "No"])
    return y - n


def decide(row: dict, way: str) -> float | None:
    ps = row["passages"]
    if not ps:
        return None
    if way == "first":
        return ps[0]["lo"]
    if way == "gold":
        g = next((p for p in ps if p["gold"]), None)
        return g["lo"] if g else ps[0]["lo"]
    name, k = way.split("@")
    top = ps[: int(k)]
    if name == "surest":
        return max(top, key=lambda p: abs(p["lo"]))["lo"]
    if name == "sum":
        return sum(p["lo"] for p in top)
    raise ValueError(way)


SURE = [0.0, 0.2, 0.3, 0.4, 0.5, 0.75]
WAYS = ["first", "surest@2", "surest@3", "sum@2", "sum@3", "gold"]


def report(rows: list[dict]) -> None:
    by_split: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_split[r["split"]].append(r)
    for split, rs in sorted(by_split.items()):
        decided = [r for r in rs if r["gold"] in ("Yes", "No") and r["passages"]]
        n_yes = sum(r["gold"] == "Yes" for r in decided)
        first_gold = sum(r["passages"][0]["gold"] for r in decided)
        first_fact = sum(r["passages"][0]["fact"] for r in decided)
        any_gold = sum(any(p["gold"] for p in r["passages"]) for r in decided)
        print(f"\n{split}: {len(rs)} questions, {len(decided)} with gold Yes/No and passages ({n_yes} Yes)")
        print(
            f"  first passage from a gold article {first_gold}/{len(decided)}, holds a key fact {first_fact}/{len(decided)}; "
            f"some scored passage from a gold article {any_gold}/{len(decided)}"
        )
        product = sum((r["product"] == r["gold"]) for r in decided)
        print(f"  product's own answer right {product}/{len(decided)} (refusals count wrong)")
        for w in WAYS:
            right_yes = sum(decide(r, w) >= 0 for r in decided if r["gold"] == "Yes")
            right_no = sum(decide(r, w) < 0 for r in decided if r["gold"] == "No")
            print(f"  {w:9s} {right_yes + right_no:3d}/{len(decided)}  (Yes right {right_yes}, No right {right_no})")
        for t in SURE:  # the first passage's decision, kept only when the decider is at least this sure
            kept = [r for r in decided if abs(r["passages"][0]["lo"]) >= t]
            right = sum((r["passages"][0]["lo"] >= 0) == (r["gold"] == "Yes") for r in kept)
            unsettled = [r for r in rs if r["gold"] == "Insufficient" and r["passages"]]
            held = sum(abs(r["passages"][0]["lo"]) < t for r in unsettled)
            print(
                f"  first, |log-odds| >= {t:.2f}: decided {len(kept)}/{len(decided)}, right {right}/{len(kept)}; "
                f"unsettled questions left undecided {held}/{len(unsettled)}"
            )
        if not all("lo_w" in r["passages"][0] for r in rs if r["passages"]):
            continue
        unsettled = [r for r in rs if r["gold"] == "Insufficient" and r["passages"]]
        if all("lo_w0" in r["passages"][0] for r in rs if r["passages"]):
            prior_rules(decided, unsettled)
        for t in SURE:  # the answer model alone, and both models agreeing, each at least this sure
            for name, lo in (("writer", lambda p: p["lo_w"]), ("both agree", None)):

                def verdict(p: dict, lo=lo, t=t) -> float | None:
                    if lo is not None:
                        return lo(p) if abs(lo(p)) >= t else None
                    a, b = p["lo"], p["lo_w"]
                    return a if min(abs(a), abs(b)) >= t and (a >= 0) == (b >= 0) else None

                kept = [r for r in decided if verdict(r["passages"][0]) is not None]
                right = sum((verdict(r["passages"][0]) >= 0) == (r["gold"] == "Yes") for r in kept)
                yes_right = sum(verdict(r["passages"][0]) >= 0 for r in kept if r["gold"] == "Yes")
                held = sum(verdict(r["passages"][0]) is None for r in unsettled)
                print(
                    f"  {name:10s} |log-odds| >= {t:.2f}: decided {len(kept)}/{len(decided)}, right {right}/{len(kept)} "
                    f"(Yes right {yes_right}); unsettled questions left undecided {held}/{len(unsettled)}"
                )


def _vetoed(p: dict) -> float:
    """The 0.5B's log-odds, unless the 1.5B is at least 0.4 sure of the other answer (then 0)."""
    a, b = p["lo"], p["lo_w"]
    return 0.0 if (a >= 0) != (b >= 0) and abs(b) >= 0.4 else a


RULES = {
    "writer - its prior": lambda p: p["lo_w"] - p["lo_w0"],
    "decider - its prior": lambda p: p["lo"] - p["lo0"],
    "mean of both": lambda p: (p["lo"] + p["lo_w"]) / 2,
    "mean - priors": lambda p: (p["lo"] - p["lo0"] + p["lo_w"] - p["lo_w0"]) / 2,
    "decider, 1.5B veto": _vetoed,
}


def prior_rules(decided: list[dict], unsettled: list[dict]) -> None:
    """Each of ``RULES`` over the first passage, kept when at least this sure."""
    for name, f in RULES.items():
        for t in (0.0, 0.4, 0.5, 0.75):
            kept = [r for r in decided if abs(f(r["passages"][0])) >= t]
            right = sum((f(r["passages"][0]) >= 0) == (r["gold"] == "Yes") for r in kept)
            yes_right = sum(f(r["passages"][0]) >= 0 for r in kept if r["gold"] == "Yes")
            held = sum(abs(f(r["passages"][0])) < t for r in unsettled)
            print(
                f"  {name:20s} >= {t:.2f}: decided {len(kept)}/{len(decided)}, right {right}/{len(kept)} "
                f"(Yes right {yes_right}); unsettled left undecided {held}/{len(unsettled)}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="*")
    ap.add_argument("--split", default="tune", choices=["tune", "test", "all"])
    ap.add_argument("--per", type=int, default=3, help="passages scored per question")
    ap.add_argument("--out", default=None, help="write each question's passages and log-odds here (JSON lines)")
    ap.add_argument("--load", default=None, help="report on a file written by --out instead of running")
    ap.add_argument(
        "--writer",
        action="store_true",
        help="also score the first passage with the answer model (``lo_w``), for the two models' agreement",
    )
    ap.add_argument(
        "--prior",
        action="store_true",
        help="also score each model over an empty passage (``lo0``, ``lo_w0``: the question's own lean, for calibrated rules)",
    )
    a = ap.parse_args()
    if a.load:
        report([json.loads(line) for line in Path(a.load).read_text(encoding="utf-8").splitlines() if line])
        return
    pipes: dict[str, Pipeline] = {}
    rows: list[dict] = []
    seen: list[tuple] = []
    real = pipeline_mod.unsettled

    def record(form, question, shown, idf, settling=None):  # the passages the decision reads
        seen.append((form, question, list(shown), idf))
        return real(form, question, shown, idf, settling)

    pipeline_mod.unsettled = record
    for idx, it, split in questions(a.sets, a.split):
        if idx not in pipes:
            pipes[idx] = Pipeline.from_settings(Settings(index_dir=idx))
        pipe = pipes[idx]
        seen.clear()
        ans = pipe.answer(it.question)
        product = "Insufficient" if ans.refused else ("Yes" if ans.short.startswith("Yes") else "No")
        gold = it.yesno or "Insufficient"
        passages = []
        if seen:
            form, q, shown, idf = seen[-1]
            ranked = choose_support(form, q, shown, (), [], idf)
            ranked += [e for e in shown if e not in ranked]
            for i, e in enumerate(ranked[: a.per]):
                if i == 0 and a.writer:
                    lo_w = round(log_odds(pipe.generator, it.question, e.model_text), 3)
                passages.append({
                    "n": e.n, "text": e.model_text, "title": e.title, "date": e.published_at[:10],
                    "gold": e.title in it.titles, "fact": holds_fact(e.model_text, it.key_facts),
                    "lo": round(log_odds(pipe.decider, it.question, e.model_text), 3),
                })  # fmt: skip
            if a.writer and passages:
                passages[0]["lo_w"] = lo_w
            if a.prior and passages:
                passages[0]["lo0"] = round(log_odds(pipe.decider, it.question, ""), 3)
                if a.writer:
                    passages[0]["lo_w0"] = round(log_odds(pipe.generator, it.question, ""), 3)
        row = {"id": it.id, "question": it.question, "gold": gold, "split": split, "product": product,
               "reason": ans.reason, "passages": passages}  # fmt: skip
        rows.append(row)
        print(
            it.id,
            gold,
            product,
            " ".join(f"{p['lo']:+.2f}{'g' if p['gold'] else ''}{'f' if p['fact'] else ''}" for p in passages),
            flush=True,
        )
    pipeline_mod.unsettled = real
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report(rows)


if __name__ == "__main__":
    main()
