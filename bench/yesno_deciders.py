"""Ways of deciding a Yes/No question, compared over the pipeline's own settling passages.

For each Yes/No question of the sets with a gold Yes or No: the pipeline runs as in the product
(retrieval, evidence, ``unsettled``, the decider over the passage it shows as settling it), and
the passage is recorded. Then each way of deciding is scored over that same passage:

- ``s``: the product's settle prompt (``rag.prompt.build_settle_prompt``) over the one passage;
- ``s2``: the same prompt over the two passages ``choose_support`` shows first;
- ``fs``: four worked examples (two Yes, two No, made up, in no set) in the system prompt;
- ``fs2``: the worked examples, over the two passages joined;
- ``t``: the settle prompt over the passage with its article's headline before it (a headline
  often states the outcome in the question's words: "Transit workers ratify contract");
- ``fst``: the worked examples, over the headline and the passage;
- ``v2``: the passage and question, then "Does the passage show that the answer is Yes, or that it
  is No? Answer Yes or No.";
- ``v3``: "Read the passage and answer the question with Yes or No." first, then passage and question;
- ``ens_*``: the 0.5B's and the 1.5B's log-odds added.

A decision is Yes when log P("Yes") - log P("No") >= 0 (no bias: a bias is a measurement, never a
setting). Prints accuracy, and how many Yes and No answers were right, per split of the sets
(MultiHop-RAG dev questions count as their own split). Usage::

    python bench/yesno_deciders.py eval/sets/natural-yesno.jsonl eval/sets/natural-sample.jsonl \\
        eval/sets/natural-multihop.jsonl [--dev ../shared/data/multihop-rag/MultiHopRAG-dev.json --dev-yes 14]

Sets over the sample corpus run on ``index/sample``, the others on ``index/mh``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.sets import load_set
from rag.compose import choose_support
from rag.forms import classify
from rag.pipeline import Pipeline
from rag.prompt import SYSTEM, build_settle_prompt
from rag.settings import Settings

DEMOS = [
    ("The city council voted 7-2 on Tuesday to approve the new stadium, ending a two-year dispute.",
     "Did the council reject the stadium plan?", "No"),
    ("The striker was taken off at half-time with a knee injury and will miss the next month.",
     "Was the striker hurt in the match?", "Yes"),
    ("Brightline's shares closed 4% lower after the chief executive said profits would miss forecasts.",
     "Did Brightline's shares rise after the announcement?", "No"),
    ("The mayor told reporters she will not seek a second term and will leave office in May.",
     "Is the mayor standing down?", "Yes"),
]  # fmt: skip
FS_SYSTEM = SYSTEM + "\n\nDecide Yes or No from what the passage says, including what it implies. Examples:\n\n" + "\n\n".join(
    f"Passage: {p}\nQuestion: {q}\nAnswer: {a}" for p, q, a in DEMOS
)
MODELS = {"05": "qwen2.5-coder-0.5b", "15": "qwen2.5-coder-1.5b"}
# two wordings of the settle prompt (stop 34): asking which answer the passage shows, and the
# instruction first with the passage and question after it
V2_USER = "Passage: {passage}\n\nQuestion: {question}\nDoes the passage show that the answer is Yes, or that it is No? Answer Yes or No."
V3_USER = "Read the passage and answer the question with Yes or No.\n\nPassage: {passage}\n\nQuestion: {question}"


def questions(paths: list[str], dev: str | None, dev_yes: int) -> list[tuple[str, str, str, str, str]]:
    """(index dir, id, question, gold Yes/No, split)."""
    rows = []
    for p in paths:
        idx = "index/sample" if "sample" in Path(p).name else "index/mh"
        tag = "fresh-" if Path(p).name == "natural-yesno2.jsonl" else ""  # stop 34's set, reported on its own
        rows += [(idx, it.id, it.question, it.yesno, tag + it.split) for it in load_set(p) if it.form == "yesno" and it.yesno]
    if dev:  # every "No" of the dev file (there are few) and its first ``dev_yes`` "Yes"
        items = load_set(dev)
        first_yes = {it.id for it in [it for it in items if it.answer == "Yes"][:dev_yes]}
        rows += [("index/mh", it.id, it.question, it.answer, "multihop-dev") for it in items if it.answer == "No" or it.id in first_yes]
    return rows


def log_odds(gen, system: str, user: str) -> float:
    with gen.hold() as g:
        y, n = g.first_token_logprobs(g.chat_prompt(system, user), ["Yes", "No"])
    return y - n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--dev", default=None, help="MultiHopRAG-dev.json: also its Yes/No questions")
    ap.add_argument("--dev-yes", type=int, default=14)
    ap.add_argument("--out", default=None, help="write each question's log-odds here (JSON lines)")
    ap.add_argument("--ways", default="s,s2,fs,fs2,t,fst", help="which ways to score, comma-separated")
    a = ap.parse_args()
    ways = [w for w in a.ways.split(",") if w]
    pipes: dict[str, Pipeline] = {}
    results: list[dict] = []
    for idx, qid, q, gold, split in questions(a.sets, a.dev, a.dev_yes):
        if idx not in pipes:
            pipes[idx] = Pipeline.from_settings(Settings(index_dir=idx, model=MODELS["15"], yesno_model=MODELS["05"]))
        pipe = pipes[idx]
        gens = {"05": pipe.decider, "15": pipe.generator}
        seen: list[str] = []
        real = gens["05"]._first_token_logprobs

        def record(prompt: str, options: list[str], real=real, seen=seen) -> list[float]:
            seen.append(prompt)
            return real(prompt, options)

        gens["05"]._first_token_logprobs = record
        try:
            ans = pipe.answer(q)
        finally:
            gens["05"]._first_token_logprobs = real
        settle = next((m.group(1) for p in seen if (m := re.search(r"Passage: (.*?)\n\nQuestion:", p, re.S))), None)
        if settle is None:  # refused before any decision (unsettled, or "Insufficient" first)
            print(f"{qid} {gold}: not decided ({ans.reason[:70]})", flush=True)
            continue
        two = choose_support(classify(q), q, list(ans.evidence), (), [], pipe.index.idf)[:2]
        flat = " ".join(settle.split())
        title = next((e.title for e in ans.evidence if " ".join(e.model_text.split()) == flat), "")
        headed = f"{title}. {settle}" if title else settle
        block = "\n".join(f"[{i + 1}] {e.model_text}" for i, e in enumerate(two))
        joined = " ".join(e.model_text for e in two)
        prompts = {
            "s": (SYSTEM, build_settle_prompt(q, settle).user),
            "s2": (SYSTEM, f"Passages:\n{block}\n\nQuestion: {q}\nAnswer Yes or No, from the passages only."),
            "fs": (FS_SYSTEM, f"Passage: {settle}\nQuestion: {q}\nAnswer:"),
            "fs2": (FS_SYSTEM, f"Passage: {joined}\nQuestion: {q}\nAnswer:"),
            "t": (SYSTEM, build_settle_prompt(q, headed).user),
            "fst": (FS_SYSTEM, f"Passage: {headed}\nQuestion: {q}\nAnswer:"),
            "v2": (SYSTEM, V2_USER.format(passage=flat, question=q)),
            "v3": (SYSTEM, V3_USER.format(passage=flat, question=q)),
        }
        row = {"id": qid, "gold": gold, "split": split}
        for tag, gen in gens.items():
            for v in ways:
                row[f"{tag}_{v}"] = log_odds(gen, *prompts[v])
        for v in ways:
            row[f"ens_{v}"] = row[f"05_{v}"] + row[f"15_{v}"]
        results.append(row)
        print(qid, gold, " ".join(f"{k}={v:+.2f}" for k, v in row.items() if isinstance(v, float)), flush=True)
    if a.out:
        Path(a.out).write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    scored = [k for k in results[0] if k not in ("id", "gold", "split")] if results else []
    by_split: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by_split[r["split"]].append(r)
    for split, rows in sorted(by_split.items()):
        n_yes = sum(r["gold"] == "Yes" for r in rows)
        print(f"\n{split}: {len(rows)} decided ({n_yes} Yes, {len(rows) - n_yes} No)")
        for w in scored:
            right_yes = sum(r[w] >= 0 for r in rows if r["gold"] == "Yes")
            right_no = sum(r[w] < 0 for r in rows if r["gold"] == "No")
            print(f"  {w:7s} {right_yes + right_no:3d}/{len(rows)}  (Yes right {right_yes}, No right {right_no})")


if __name__ == "__main__":
    main()
