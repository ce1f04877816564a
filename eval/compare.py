"""Compare two evaluation runs: metric differences overall and per type, and the
questions whose strict correctness (or, for retrieval-only runs, Hits@10) changed.

Both runs are re-scored from their ``records.jsonl`` with the current metric
definitions, so old runs compare fairly with new ones. The comparison is returned as
Markdown and written into run B as ``compare-<name of run A>.md``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from eval.report import _md_table, num, pct, score_record, secs, summarize
from eval.runner import CONFIG, RECORDS, EvalConfigError, _differences, load_records

# (label, path in the summary, formatter)
METRICS: list[tuple[str, tuple[str, ...], Any]] = [
    ("strict accuracy", ("answers", "strict"), pct),
    ("lenient accuracy (short answer)", ("answers", "lenient_short"), pct),
    ("lenient accuracy (full text)", ("answers", "lenient_full"), pct),
    ("refused: unanswerable", ("refusals", "unanswerable_refused"), pct),
    ("refused: answerable", ("refusals", "answerable_refused"), pct),
    ("citation precision", ("citations", "precision"), pct),
    ("sentences supported", ("citations", "supported_share"), pct),
    ("citations outside evidence", ("citations", "outside_evidence"), lambda x: str(x)),
    ("Hits@4", ("retrieval", "hits@4"), pct),
    ("Hits@10", ("retrieval", "hits@10"), pct),
    ("MAP@10", ("retrieval", "map@10"), num),
    ("MRR@10", ("retrieval", "mrr@10"), num),
    ("all@10", ("retrieval", "all@10"), pct),
    ("article recall@10", ("retrieval", "article_recall@10"), pct),
    ("retrieve p50", ("latency", "retrieve_s", "p50"), secs),
    ("first token p50", ("latency", "first_token_s", "p50"), secs),
    ("total p50", ("latency", "total_s", "p50"), secs),
    ("total p95", ("latency", "total_s", "p95"), secs),
]
TYPE_METRICS = [
    ("strict", ("answers", "strict")),
    ("lenient (short)", ("answers", "lenient_short")),
    ("Hits@10", ("retrieval", "hits@10")),
]


def _get(d: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _delta(a: Any, b: Any, fmt: Any) -> str:
    if _missing(a) or _missing(b):
        return "–"
    d = b - a
    if fmt is pct:
        return f"{100 * d:+.1f} pt"
    if fmt is secs:
        return f"{d:+.2f}s"
    if isinstance(a, int) and isinstance(b, int):
        return f"{d:+d}"
    return f"{d:+.3f}"


def _load(run: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rec_path = run / RECORDS
    if not rec_path.is_file():
        raise EvalConfigError(f"{run}: no {RECORDS} here; pass a directory written by 'rag eval ... --out DIR'")
    cfg_path = run / CONFIG
    cfg = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
    return cfg, load_records(rec_path)


def compare_runs(run_a: str | Path, run_b: str | Path) -> str:
    """Markdown comparison of run A (before) and run B (after); also written to run B."""
    run_a, run_b = Path(run_a), Path(run_b)
    cfg_a, rec_a = _load(run_a)
    cfg_b, rec_b = _load(run_b)
    ids_a = {r["id"] for r in rec_a}
    ids_b = {r["id"] for r in rec_b}
    common = ids_a & ids_b
    if ids_a != ids_b:  # score both on the questions they share, so the numbers are comparable
        sa = summarize([r for r in rec_a if r["id"] in common])
        sb = summarize([r for r in rec_b if r["id"] in common])
    else:
        sa, sb = summarize(rec_a), summarize(rec_b)

    out = [f"# Comparison: {run_a.name} (A) -> {run_b.name} (B)", ""]
    out.append(f"A: `{run_a}` ({len(rec_a)} questions); B: `{run_b}` ({len(rec_b)} questions); {len(common)} in common.")
    if ids_a != ids_b:
        out.append(
            "The runs cover different questions (only A: "
            f"{len(ids_a - ids_b)}, only B: {len(ids_b - ids_a)}); every number below is over the {len(common)} "
            "questions they share."
        )
    out.append("")
    diffs = _differences(cfg_a, cfg_b) if cfg_a and cfg_b else []
    if diffs:
        out += ["Configuration differences:", ""] + [f"- {d}" for d in diffs] + [""]

    rows = []
    for label, path, fmt in METRICS:
        a, b = _get(sa, path), _get(sb, path)
        if _missing(a) and _missing(b):
            continue
        rows.append([label, "–" if _missing(a) else fmt(a), "–" if _missing(b) else fmt(b), _delta(a, b, fmt)])
    out += ["## Metrics", ""] + _md_table(["metric", "A", "B", "B − A"], rows) + [""]

    types = sorted(set(sa["per_type"]) | set(sb["per_type"]))
    hdr = ["type", "n A", "n B"]
    trows = []
    present = [
        (lbl, p) for lbl, p in TYPE_METRICS if any(_get(s["per_type"].get(t, {}), p) is not None for s in (sa, sb) for t in types)
    ]
    for lbl, _ in present:
        hdr += [f"{lbl} A", f"{lbl} B", "Δ"]
    for t in types:
        ta, tb = sa["per_type"].get(t, {}), sb["per_type"].get(t, {})
        row = [t, str(ta.get("n", 0)), str(tb.get("n", 0))]
        for _, p in present:
            a, b = _get(ta, p), _get(tb, p)
            row += ["–" if _missing(a) else pct(a), "–" if _missing(b) else pct(b), _delta(a, b, pct)]
        trows.append(row)
    out += ["## By question type", ""] + _md_table(hdr, trows) + [""]

    by_a = {r["id"]: r for r in rec_a}
    both_answer = any(r.get("mode") == "answer" for r in rec_a) and any(r.get("mode") == "answer" for r in rec_b)
    key, label = ("strict", "strict correctness") if both_answer else ("hits@10", "Hits@10")
    changed = []
    for r in rec_b:  # B's order is the set's order
        if r["id"] not in common:
            continue
        a, b = score_record(by_a[r["id"]]).get(key), score_record(r).get(key)
        if a is None or b is None or bool(a) == bool(b):
            continue
        ra = by_a[r["id"]]
        changed.append(
            [
                "fixed" if b else "broken",
                r["id"],
                r.get("type", ""),
                r.get("question", ""),
                r.get("gold_answer", ""),
                (ra.get("short") or "") if both_answer else "",
                (r.get("short") or "") if both_answer else "",
            ]
        )
    out.append(f"## Questions whose {label} changed ({len(changed)})")
    out.append("")
    if changed:
        hdr = ["change", "id", "type", "question", "gold"] + (["A short answer", "B short answer"] if both_answer else [])
        out += _md_table(hdr, [c[: len(hdr)] for c in changed])
    else:
        out.append("None.")
    text = "\n".join(out).rstrip() + "\n"
    (run_b / f"compare-{run_a.name}.md").write_text(text, encoding="utf-8")
    return text
