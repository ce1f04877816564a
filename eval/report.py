"""Scoring of run records, the summary, and the readable reports (Markdown and HTML).

``score_record`` turns one line of ``records.jsonl`` into per-question scores,
``summarize`` aggregates them (plus the constant baselines) into ``summary.json``,
and ``write_reports`` renders ``report.md`` and a self-contained ``report.html``
(plots are PNGs embedded as base64 data URIs, drawn with matplotlib's Agg canvas).
Everything is recomputed from the records, so a resumed or compared run is scored
with the current metric definitions.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.baselines import score_baselines
from eval.metrics import (
    all_at_k,
    article_recall_at_k,
    hits_curve,
    is_refusal,
    lenient_correct,
    map_at_10,
    mean,
    mrr_at_10,
    outside_evidence,
    percentile,
    quote_supports_gold,
    share,
    strict_correct,
    strip_citations,
    supported_share,
)
from eval.natural import FORMS, is_natural_record, summarize_natural

NULL_TYPE = "null_query"
K = 10
MD_QUESTION_ROWS = 100

# ------------------------------------------------------------------------ scoring


def gold_facts(rec: dict[str, Any]) -> list[str]:
    return [e["fact"] for e in rec.get("gold_evidence") or [] if e.get("fact")]


def gold_titles(rec: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(e["title"] for e in rec.get("gold_evidence") or [] if e.get("title")))


def score_record(rec: dict[str, Any]) -> dict[str, Any]:
    """Per-question scores of one record (see eval/README.md for every definition)."""
    facts = gold_facts(rec)
    gold = rec.get("gold_answer", "")
    retrieved = rec.get("retrieved") or []
    texts = [h.get("text", "") for h in retrieved]
    s: dict[str, Any] = {
        "id": rec["id"],
        "type": rec.get("type", "unknown"),
        "answerable": not is_refusal(gold),
        "has_evidence": rec.get("type") != NULL_TYPE and bool(facts),
        "error": bool(rec.get("error")),
    }
    if s["has_evidence"]:
        curve = hits_curve(texts, facts, K)
        s.update(
            {
                "curve": curve,
                "hits@4": curve[3],
                "hits@10": curve[9],
                "map@10": map_at_10(texts, facts),
                "mrr@10": mrr_at_10(texts, facts),
                "all@10": all_at_k(texts, facts, K),
            }
        )
        titles = gold_titles(rec)
        if titles:
            s["article_recall@10"] = article_recall_at_k([h.get("title", "") for h in retrieved], titles, K)
    if rec.get("mode") == "answer":
        answer = rec.get("answer") or ""
        short = rec.get("short") or ""
        cits = rec.get("citations") or []
        sents = rec.get("sentences") or []
        refused = bool(rec.get("refused"))
        s.update(
            {
                "lenient_short": float(lenient_correct(short, gold)),
                "lenient_full": float(lenient_correct(answer, gold)),
                # strict is scored on the direct answer (the answer's first line: a fact, Yes/No, a reason),
                # not on the supporting quotes under it; a refusal's text is the refusal
                "strict": float(strict_correct(strip_citations(answer if refused else (short or answer.split("\n", 1)[0])), gold)),
                "refused": refused,
                "cit_n": len(cits),
                "cit_good": sum(quote_supports_gold(c.get("quote", ""), facts, gold) for c in cits),
                "outside": outside_evidence([c["n"] for c in cits], [e["n"] for e in rec.get("evidence") or []]),
                "sent_shown": [] if refused else [bool(x.get("supported")) for x in sents],
                "sent_all": [bool(x.get("supported")) for x in sents],
            }
        )
    return s


def _stats(values: Sequence[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95), "mean": mean(values)}


def _retrieval(scores: list[dict[str, Any]]) -> dict[str, Any]:
    sc = [s for s in scores if s["has_evidence"]]
    ar = [s["article_recall@10"] for s in sc if "article_recall@10" in s]
    return {
        "n": len(sc),
        "hits@4": mean([s["hits@4"] for s in sc]),
        "hits@10": mean([s["hits@10"] for s in sc]),
        "map@10": mean([s["map@10"] for s in sc]),
        "mrr@10": mean([s["mrr@10"] for s in sc]),
        "all@10": mean([s["all@10"] for s in sc]),
        "article_recall@10": mean(ar),
        "hits_curve": [mean([s["curve"][k] for s in sc]) for k in range(K)],
    }


def _answers(scores: list[dict[str, Any]]) -> dict[str, Any]:
    sc = [s for s in scores if "strict" in s]
    return {
        "n": len(sc),
        "lenient_short": mean([s["lenient_short"] for s in sc]),
        "lenient_full": mean([s["lenient_full"] for s in sc]),
        "strict": mean([s["strict"] for s in sc]),
        "refused": share([s["refused"] for s in sc]),
    }


def summarize(records: list[dict[str, Any]], run: dict[str, Any] | None = None) -> dict[str, Any]:
    """Aggregate records into the summary written as summary.json (NaN where undefined)."""
    scores = [score_record(r) for r in records]
    answer_mode = any("strict" in s for s in scores)
    out: dict[str, Any] = {"run": dict(run or {}), "n": len(records), "errors": sum(s["error"] for s in scores)}
    out["retrieval"] = _retrieval(scores)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in scores:
        by_type[s["type"]].append(s)
    per_type = {}
    for t, sc in sorted(by_type.items()):
        r = _retrieval(sc)
        r.pop("hits_curve")
        per_type[t] = {"n": len(sc), "retrieval": r}
        if answer_mode:
            per_type[t]["answers"] = _answers(sc)
    out["per_type"] = per_type

    tim = [r.get("timings") or {} for r in records]
    latency: dict[str, Any] = {"retrieve_s": _stats([t["retrieve_s"] for t in tim if "retrieve_s" in t])}
    if answer_mode:
        out["answers"] = _answers(scores)
        null = [s["refused"] for s in scores if "strict" in s and not s["answerable"]]
        ans = [s["refused"] for s in scores if "strict" in s and s["answerable"]]
        out["refusals"] = {
            "unanswerable_n": len(null),
            "unanswerable_refused": share(null),
            "answerable_n": len(ans),
            "answerable_refused": share(ans),
        }
        cit_n = sum(s["cit_n"] for s in scores if "cit_n" in s)
        shown = [f for s in scores for f in s.get("sent_shown", [])]
        every = [f for s in scores for f in s.get("sent_all", [])]
        out["citations"] = {
            "n_citations": cit_n,
            "precision": (sum(s.get("cit_good", 0) for s in scores) / cit_n) if cit_n else math.nan,
            "answers_with_citations": sum(1 for s in scores if s.get("cit_n")),
            "n_sentences": len(shown),
            "supported_share": supported_share(shown),
            "n_sentences_all": len(every),
            "supported_share_all": supported_share(every),
            "outside_evidence": sum(s.get("outside", 0) for s in scores),
        }
        model_ran = [t for t in tim if "generate_s" in t]
        latency["first_token_s"] = _stats([t["first_token_s"] for t in model_ran if "first_token_s" in t])
        latency["total_s"] = _stats([t["total_s"] for t in tim if "total_s" in t])
        latency["model_calls"] = len(model_ran)
        toks: list[tuple[int, dict[str, float]]] = [
            (int(r["gen_tokens"]), r["timings"])
            for r in records
            if r.get("gen_tokens") and "generate_s" in (r.get("timings") or {})
        ]
        gen_s = sum(t["generate_s"] for _, t in toks)
        decode_s = sum(
            max(t["generate_s"] - max(t.get("first_token_s", 0) - t.get("retrieve_s", 0) - t.get("evidence_s", 0), 0), 0)
            for _, t in toks
        )
        latency["gen_tokens"] = sum(n for n, _ in toks)
        latency["gen_tokens_per_s"] = latency["gen_tokens"] / gen_s if gen_s > 0 else math.nan
        latency["decode_tokens_per_s"] = sum(n - 1 for n, _ in toks) / decode_s if decode_s > 0 else math.nan
        out["baselines"] = score_baselines([(r.get("type", "unknown"), r.get("gold_answer", "")) for r in records])
        if any(is_natural_record(r) for r in records):
            out["natural"] = summarize_natural(records)
    out["latency"] = latency
    return out


def question_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per question for the reports' question tables."""
    rows = []
    for r in records:
        s = score_record(r)
        rows.append({**s, "question": r.get("question", ""), "gold": r.get("gold_answer", ""), "short": r.get("short") or ""})
    return rows


def to_json_safe(obj: Any) -> Any:
    """NaN -> None, recursively, so summary.json is strict JSON."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json_safe(v) for v in obj]
    return obj


# ------------------------------------------------------------------------ formatting


def pct(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def num(x: Any, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def secs(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}s"


Block = tuple  # ("h1"|"h2"|"p", text) | ("table", headers, rows) | ("img", alt, png bytes)


def _blocks(summary: dict[str, Any], records: list[dict[str, Any]], plots: dict[str, bytes]) -> list[Block]:
    run = summary.get("run", {})
    answer_mode = "answers" in summary
    b: list[Block] = [("h1", f"Evaluation report: {run.get('name', '')}")]
    sel = []
    if run.get("limit") is not None:
        sel.append(f"limit {run['limit']}")
    if run.get("types"):
        sel.append("types " + ", ".join(run["types"]))
    if run.get("split"):
        sel.append(f"split {run['split']}")
    b.append(
        (
            "p",
            f"Set `{run.get('set_path', '')}`: {summary['n']} questions"
            + (f" of {run['set_size']}" if run.get("set_size") else "")
            + (f" ({'; '.join(sel)}, deterministic stratified sample)" if sel else "")
            + f". Mode: {'retrieval only (k=10, no LLM)' if not answer_mode else 'answer (retrieve + generate + cite)'}."
            + (f" Model: `{run.get('model')}`." if answer_mode else "")
            + f" Index: `{run.get('index_dir', '')}` ({run.get('index_chunks', '?')} chunks, fingerprint {str(run.get('index_fingerprint', ''))[:12]})."
            + (f" Errors: {summary['errors']}." if summary.get("errors") else ""),
        )
    )
    ret = summary["retrieval"]
    head = []
    if answer_mode:
        a = summary["answers"]
        rf = summary["refusals"]
        c = summary["citations"]
        head += [
            ("Strict accuracy", pct(a["strict"])),
            ("Lenient accuracy (short answer)", pct(a["lenient_short"])),
            ("Lenient accuracy (full answer text, the benchmark's scorer)", pct(a["lenient_full"])),
            ("Unanswerable questions refused", f"{pct(rf['unanswerable_refused'])} of {rf['unanswerable_n']}"),
            ("Answerable questions refused", f"{pct(rf['answerable_refused'])} of {rf['answerable_n']}"),
            ("Citation precision", f"{pct(c['precision'])} of {c['n_citations']}"),
            ("Answer sentences supported by a citation", f"{pct(c['supported_share'])} of {c['n_sentences']}"),
            ("Citations outside the evidence shown (must be 0)", str(c["outside_evidence"])),
        ]
    head += [
        (f"Hits@4 / Hits@10 (n={ret['n']})", f"{pct(ret['hits@4'])} / {pct(ret['hits@10'])}"),
        ("MAP@10 / MRR@10", f"{num(ret['map@10'])} / {num(ret['mrr@10'])}"),
        ("All gold facts in top 10 (all@10)", pct(ret["all@10"])),
        ("Article recall@10", pct(ret["article_recall@10"])),
    ]
    b += [("h2", "Headline"), ("table", ["metric", "value"], head)]
    if "natural" in summary:
        b += natural_blocks(summary["natural"])

    b.append(("h2", "By question type"))
    hdr = ["type", "n"]
    if answer_mode:
        hdr += ["strict", "lenient (short)", "lenient (full)", "refused"]
    hdr += ["Hits@4", "Hits@10", "MAP@10", "MRR@10", "article recall@10"]
    rows = []
    for t, v in summary["per_type"].items():
        row = [t, str(v["n"])]
        if answer_mode:
            a = v["answers"]
            row += [pct(a["strict"]), pct(a["lenient_short"]), pct(a["lenient_full"]), pct(a["refused"])]
        r = v["retrieval"]
        if r["n"]:
            row += [pct(r["hits@4"]), pct(r["hits@10"]), num(r["map@10"]), num(r["mrr@10"]), pct(r["article_recall@10"])]
        else:
            row += ["–"] * 5
        rows.append(row)
    b.append(("table", hdr, rows))
    if "accuracy" in plots:
        b.append(("img", "Accuracy per question type", plots["accuracy"]))

    if answer_mode:
        b.append(("h2", "Baselines (same answer scoring)"))
        types = list(summary["per_type"])
        a = summary["answers"]
        rows = [
            ["this run"]
            + [pct(a["lenient_short"]), pct(a["strict"])]
            + [pct(summary["per_type"][t]["answers"]["strict"]) for t in types]
        ]
        for name, v in summary["baselines"].items():
            rows.append(
                [f'constant "{name}"', pct(v["lenient"]), pct(v["strict"])] + [pct(v["per_type"][t]["strict"]) for t in types]
            )
        b.append(("table", ["answerer", "lenient", "strict"] + [f"strict: {t}" for t in types], rows))
        b.append(("p", "The run's lenient column is on the short answer; constants are their own short answer."))

    b.append(("h2", f"Retrieval (top {K}; questions without gold evidence skipped)"))
    b.append(("table", ["k"] + [str(k) for k in range(1, K + 1)], [["Hits@k"] + [pct(x) for x in ret["hits_curve"]]]))
    if "hits" in plots:
        b.append(("img", "Hits@k for k = 1..10", plots["hits"]))

    if answer_mode:
        c = summary["citations"]
        b.append(("h2", "Citations"))
        b.append(
            (
                "table",
                ["measure", "value"],
                [
                    ["citations (in answers not refused)", str(c["n_citations"])],
                    ["answers with at least one citation", str(c["answers_with_citations"])],
                    ["precision: quote contains a gold fact or the gold answer", pct(c["precision"])],
                    ["shown answer sentences supported by a citation", f"{pct(c['supported_share'])} of {c['n_sentences']}"],
                    [
                        "all generated sentences supported (incl. answers then refused)",
                        f"{pct(c['supported_share_all'])} of {c['n_sentences_all']}",
                    ],
                    ["citations pointing outside the evidence shown", str(c["outside_evidence"])],
                ],
            )
        )

    lat = summary["latency"]
    b.append(("h2", "Latency and resources"))
    rows = []
    for key, label in (
        ("retrieve_s", "retrieve"),
        ("first_token_s", "first token (questions the model answered)"),
        ("total_s", "total"),
    ):
        if key in lat:
            v = lat[key]
            rows.append([label, str(v["n"]), secs(v["p50"]), secs(v["p95"]), secs(v["mean"])])
    b.append(("table", ["stage", "n", "p50", "p95", "mean"], rows))
    extra = []
    if answer_mode:
        extra.append(
            f"Model calls: {lat['model_calls']}; generated tokens: {lat['gen_tokens']}; "
            f"{num(lat['gen_tokens_per_s'], 1)} tokens/s over the whole generation call (prompt prefill included), "
            f"about {num(lat['decode_tokens_per_s'], 1)} tokens/s decoding after the first token (approximate)."
        )
    if run.get("peak_rss_mib"):
        extra.append(
            f"Peak RSS of the eval process: {run['peak_rss_mib']:.0f} MiB "
            "(ru_maxrss; the largest of the invocations that finished this run)."
        )
    if run.get("question_seconds") is not None:
        extra.append(f"Time spent on the questions (sum of per-question totals): {run['question_seconds']:.1f}s.")
    if run.get("wall_s") is not None:
        extra.append(f"Last invocation: {run.get('processed', 0)} new questions in {run['wall_s']:.1f}s wall time.")
    if extra:
        b.append(("p", " ".join(extra)))
    if "latency" in plots:
        b.append(("img", "Latency histogram", plots["latency"]))

    b.append(("h2", "Questions"))
    qrows = []
    for q in question_rows(records):
        row = [q["id"], q["type"], q["question"], q["gold"]]
        if answer_mode:
            row += [q["short"], _mark(q.get("strict")), _mark(q.get("lenient_short")), "yes" if q.get("refused") else ""]
        row += [_mark(q.get("hits@10")) if q["has_evidence"] else "–"]
        qrows.append(row)
    qhdr = (
        ["id", "type", "question", "gold"]
        + (["short answer", "strict", "lenient", "refused"] if answer_mode else [])
        + ["Hits@10"]
    )
    b.append(("qtable", qhdr, qrows))
    return b


NATURAL_COLUMNS = [
    "n", "evidence recall", "key facts in answer (≤120 words)", "all facts", "Yes/No right", "unanswerable refused",
    "answerable refused", "sentences cited + supported", "first words p50 / p95", "model's first token p50 / p95",
    "checked answer p50 / p95",
]  # fmt: skip


def _natural_row(label: str, a: dict[str, Any]) -> list[str]:
    lat = a["latency"]
    return [
        label,
        str(a["n"]),
        pct(a["evidence_recall"]),
        pct(a["fact_recall"]),
        pct(a["all_facts"]),
        f"{pct(a['yesno_accuracy'])} of {a['yesno_n']}" if a["yesno_n"] else "–",
        f"{pct(a['unanswerable_refused'])} of {a['unanswerable_n']}" if a["unanswerable_n"] else "–",
        f"{pct(a['answerable_refused'])} of {a['answerable_n']}" if a["answerable_n"] else "–",
        f"{pct(a['cited_supported'])} of {a['sentences_n']}" if a["sentences_n"] else "–",
        f"{secs(lat['first_words_s']['p50'])} / {secs(lat['first_words_s']['p95'])}",
        f"{secs(lat['first_token_s']['p50'])} / {secs(lat['first_token_s']['p95'])}",
        f"{secs(lat['total_s']['p50'])} / {secs(lat['total_s']['p95'])}",
    ]


def natural_blocks(nat: dict[str, Any]) -> list[Block]:
    """The report's "Natural questions" section: overall, per split and per form (eval/natural.py)."""
    b: list[Block] = [("h2", "Natural questions")]
    b.append(
        (
            "p",
            "Key facts are matched case-insensitively as substrings (any acceptable string of a fact counts): in the "
            "evidence shown to the model (evidence recall) and in the first 120 words of the answer, citation markers "
            "removed. A refused answerable question counts as stating no fact. Yes/No: the answer's first word. "
            "Cited + supported: answer sentences (of answers not refused) that cite a passage and pass the check. "
            "Definitions: eval/natural.py.",
        )
    )
    rows = [_natural_row(f"all ({nat.get('split', 'all')})", nat["overall"])]
    rows += [_natural_row(f"split: {sp}", a) for sp, a in nat.get("by_split", {}).items()]
    b.append(("table", ["questions"] + NATURAL_COLUMNS, rows))
    order = [f for f in FORMS if f in nat["per_form"]] + [f for f in nat["per_form"] if f not in FORMS]
    b.append(("table", ["form"] + NATURAL_COLUMNS, [_natural_row(f, nat["per_form"][f]) for f in order]))
    return b


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _mark(x: Any) -> str:
    return "–" if x is None else ("✓" if x else "✗")


def _md_cell(s: str) -> str:
    return " ".join(str(s).split()).replace("|", "\\|")


def _md_table(hdr: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in hdr) + " |", "|" + "---|" * len(hdr)]
    out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return out


def render_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for blk in blocks:
        kind = blk[0]
        if kind == "h1":
            out += [f"# {blk[1]}", ""]
        elif kind == "h2":
            out += [f"## {blk[1]}", ""]
        elif kind == "p":
            out += [blk[1], ""]
        elif kind == "table":
            out += _md_table(blk[1], blk[2]) + [""]
        elif kind == "qtable":
            rows = blk[2]
            out += _md_table(blk[1], rows[:MD_QUESTION_ROWS]) + [""]
            if len(rows) > MD_QUESTION_ROWS:
                out += [f"({len(rows) - MD_QUESTION_ROWS} more in report.html and records.jsonl.)", ""]
        elif kind == "img":
            out += [f"*Plot: {blk[1]} (see report.html).*", ""]
    return "\n".join(out).rstrip() + "\n"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
code{background:#f3f3f3;padding:0 .2rem}
.q td:nth-child(3){max-width:420px}
"""


def _inline(text: str) -> str:
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _html_table(hdr: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in hdr)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(blocks: list[Block]) -> str:
    title = next((blk[1] for blk in blocks if blk[0] == "h1"), "Evaluation report")
    out = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{CSS}</style></head><body>'
    ]
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2"):
            out.append(f"<{kind}>{html.escape(blk[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_inline(blk[1])}</p>")
        elif kind in ("table", "qtable"):
            out.append(_html_table(blk[1], blk[2], "q" if kind == "qtable" else ""))
        elif kind == "img":
            data = base64.b64encode(blk[2]).decode("ascii")
            out.append(
                f'<figure><img alt="{html.escape(blk[1])}" src="data:image/png;base64,{data}"><figcaption>{html.escape(blk[1])}</figcaption></figure>'
            )
    out.append("</body></html>")
    return "\n".join(out)


# ------------------------------------------------------------------------ plots


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def make_plots(summary: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, bytes]:
    """PNG bytes of the three plots (matplotlib Figure + Agg canvas; pyplot is not used)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def new(w: float = 7, h: float = 3.6) -> tuple[Any, Any]:
        fig = Figure(figsize=(w, h))
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot(1, 1, 1)

    plots: dict[str, bytes] = {}
    answer_mode = "answers" in summary
    types = list(summary["per_type"])
    labels = [*types, "all"]
    fig, ax = new()
    width = 0.38
    if answer_mode:
        series = [
            (
                "lenient (short)",
                [summary["per_type"][t]["answers"]["lenient_short"] for t in types] + [summary["answers"]["lenient_short"]],
            ),
            ("strict", [summary["per_type"][t]["answers"]["strict"] for t in types] + [summary["answers"]["strict"]]),
        ]
        ax.set_title("Answer accuracy by question type")
    else:
        series = [
            ("Hits@4", [summary["per_type"][t]["retrieval"]["hits@4"] for t in types] + [summary["retrieval"]["hits@4"]]),
            ("Hits@10", [summary["per_type"][t]["retrieval"]["hits@10"] for t in types] + [summary["retrieval"]["hits@10"]]),
        ]
        ax.set_title("Retrieval by question type (retrieval-only run)")
    keep = [i for i in range(len(labels)) if any(not _missing(vals[i]) for _, vals in series)]
    labels = [labels[i] for i in keep]
    series = [(name, [vals[i] for i in keep]) for name, vals in series]
    xs = list(range(len(labels)))
    for i, (name, vals) in enumerate(series):
        v = [0.0 if _missing(x) else 100 * x for x in vals]
        bars = ax.bar([x + (i - 0.5) * width for x in xs], v, width, label=name)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(xs, [t.replace("_query", "") for t in labels])
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8)
    plots["accuracy"] = _png(fig)

    fig, ax = new(6, 3.4)
    curve = summary["retrieval"]["hits_curve"]
    ks = list(range(1, K + 1))
    ax.plot(ks, [0.0 if math.isnan(x) else 100 * x for x in curve], marker="o")
    ax.set_xticks(ks)
    ax.set_xlabel("k")
    ax.set_ylabel("Hits@k (%)")
    ax.set_ylim(0, 105)
    ax.set_title(f"Hits@k (n={summary['retrieval']['n']})")
    ax.grid(alpha=0.3)
    plots["hits"] = _png(fig)

    fig, ax = new(6, 3.4)
    tim = [r.get("timings") or {} for r in records]
    if answer_mode:
        data = [
            ("total_s", [t["total_s"] for t in tim if "total_s" in t]),
            ("first_token_s", [t["first_token_s"] for t in tim if "first_token_s" in t and "generate_s" in t]),
        ]
    else:
        data = [("retrieve_s", [t["retrieve_s"] for t in tim if "retrieve_s" in t])]
    allv = [x for _, v in data for x in v]
    if allv:
        hi = max(allv) or 1.0
        bins = [hi * i / 20 for i in range(21)]
        for name, v in data:
            if v:
                ax.hist(v, bins=bins, alpha=0.6, label=name)
        ax.legend(fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("seconds")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
    plots["latency"] = _png(fig)
    return plots


def write_reports(out_dir: Path, summary: dict[str, Any], records: list[dict[str, Any]]) -> tuple[Path, Path]:
    """Write report.md and the self-contained report.html into ``out_dir``."""
    plots = make_plots(summary, records)
    blocks = _blocks(summary, records, plots)
    md = out_dir / "report.md"
    md.write_text(render_markdown(blocks), encoding="utf-8")
    hp = out_dir / "report.html"
    hp.write_text(render_html(blocks), encoding="utf-8")
    return md, hp


def write_summary(out_dir: Path, summary: dict[str, Any]) -> Path:
    p = out_dir / "summary.json"
    p.write_text(json.dumps(to_json_safe(summary), indent=2, ensure_ascii=False), encoding="utf-8")
    return p
