"""Offline evaluation runner: a question set -> records.jsonl, summary.json, report.md, report.html.

``run_eval`` samples the set (``eval.sets.sample``: deterministic, stratified by
type), runs every question through the pipeline (``Pipeline.answer``, or
``Pipeline.search`` with k=10 in retrieval-only mode) behind a tqdm progress bar,
and appends one JSON line per question to ``records.jsonl`` as soon as it is done.
Re-running with the same ``out_dir`` resumes: questions already recorded are
skipped (a half-written last line is dropped). The run's configuration is stored
in ``config.json`` with a fingerprint; resuming with a different configuration is
refused, so one directory never mixes two setups.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from eval.report import summarize, write_reports, write_summary
from eval.sets import EvalItem, load_set, sample, select_split
from rag.errors import CorpusError, RagError

RETRIEVAL_K = 10
EVAL_FORMAT = 1
RECORDS = "records.jsonl"
CONFIG = "config.json"
# settings that change what a question's record contains (retrieval, evidence, generation)
RESULT_SETTINGS = (
    "top_k", "candidates", "max_per_article", "dense_weight", "source_boost", "date_boost", "as_of",
    "evidence_tokens", "max_answer_tokens", "n_ctx", "seed", "model_sha256", "yesno_model",
)  # fmt: skip
ANSWER_ONLY_SETTINGS = {"evidence_tokens", "max_answer_tokens", "n_ctx", "seed", "model_sha256", "yesno_model"}


class EvalConfigError(RagError):
    """The run directory holds results of a different configuration (or cannot be used)."""

    exit_code = 2


# ------------------------------------------------------------------------ config


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def index_fingerprint(manifest: dict[str, Any]) -> str:
    """A hash of what determines retrieval results: corpus, embedder, chunker, index and BM25
    parameters, counts. Build times and version names are left out, so rebuilding the
    same corpus with the same settings gives the same fingerprint."""
    keys = ("format_version", "corpus_fingerprint", "embedder", "chunker", "index", "bm25", "counts")
    core = {k: manifest.get(k) for k in keys}
    return hashlib.sha256(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()


def _model_id(pipeline: Any, settings: Any) -> str:
    gen = getattr(pipeline, "_generator", None)
    name = getattr(gen, "name", "") if gen is not None else ""
    return str(name or getattr(settings, "model", ""))


def make_config(
    set_path: Path, limit: int | None, types: list[str] | None, retrieval_only: bool, settings: Any,
    manifest: dict[str, Any], model: str, split: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The run configuration stored in config.json; ``fingerprint`` hashes everything else."""
    relevant = [k for k in RESULT_SETTINGS if not (retrieval_only and k in ANSWER_ONLY_SETTINGS)]
    if retrieval_only:
        relevant = [k for k in relevant if k != "top_k"]  # retrieval-only always uses k=10
    cfg: dict[str, Any] = {
        "eval_format": EVAL_FORMAT,
        "set_path": str(Path(set_path).resolve()),
        "set_sha256": _sha256_file(Path(set_path)),
        "limit": limit,
        "types": sorted(types) if types else None,
        "retrieval_only": bool(retrieval_only),
        "model": None if retrieval_only else model,
        "index_fingerprint": index_fingerprint(manifest),
        "settings": {k: _jsonable(getattr(settings, k, None)) for k in relevant},
    }
    if split and split != "all":  # only when chosen, so earlier run directories keep their fingerprint
        cfg["split"] = split
    cfg["fingerprint"] = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]
    return cfg


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool, type(None))) else str(v)


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        if k == "fingerprint":
            continue
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{k}.{d}" for d in _differences(a, b)]
        elif a != b:
            short = k in {"index_fingerprint", "set_sha256"}
            fa = str(a)[:12] if short else json.dumps(a)
            fb = str(b)[:12] if short else json.dumps(b)
            out.append(f"{k}: {fa} -> {fb}")
    return out


def check_config(out_dir: Path, cfg: dict[str, Any], have_records: bool) -> None:
    """Write config.json, or refuse if the directory holds records of another configuration."""
    path = out_dir / CONFIG
    if path.is_file() and have_records:
        try:
            old = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise EvalConfigError(f"{path}: unreadable ({e}); use a new --out directory") from None
        if old.get("fingerprint") != cfg["fingerprint"]:
            diffs = "; ".join(_differences(old, cfg)) or "fingerprint"
            raise EvalConfigError(
                f"{out_dir} holds results of a different configuration ({diffs}); "
                "resume with the same settings, or pass a new --out directory (or delete this one) to start over"
            )
        return
    if not path.is_file() and have_records:
        raise EvalConfigError(f"{out_dir} has {RECORDS} but no {CONFIG}; pass a new --out directory")
    path.write_text(json.dumps(cfg, indent=2))


# ------------------------------------------------------------------------ records


def load_records(path: Path) -> list[dict[str, Any]]:
    """Complete records of ``records.jsonl``. A last line that was cut short (no newline,
    or not valid JSON) is dropped and the file truncated to the complete lines, so
    appending continues cleanly."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    out: list[dict[str, Any]] = []
    good = 0
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            break  # partial last line
        line = data[pos:nl]
        try:
            rec = json.loads(line) if line.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            if data.find(b"\n", nl + 1) >= 0 or data[nl + 1 :].strip():
                lineno = data[:pos].count(b"\n") + 1
                raise EvalConfigError(f"{path}: line {lineno} is not valid JSON; use a new --out directory") from None
            break
        if rec is not None:
            out.append(rec)
        pos = nl + 1
        good = pos
    if good < len(data):
        with open(path, "r+b") as f:
            f.truncate(good)
    return out


def _append(f: Any, rec: dict[str, Any]) -> None:
    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    f.flush()
    os.fsync(f.fileno())


def _hit_json(h: Any) -> dict[str, Any]:
    return {
        "rank": h.rank, "chunk_id": h.chunk_id, "article_id": h.article_id, "title": h.title, "source": h.source,
        "published_at": h.published_at, "score": round(float(h.score), 6), "text": h.text,
    }  # fmt: skip


def _base(it: EvalItem, mode: str) -> dict[str, Any]:
    return {
        "id": it.id,
        "question": it.question,
        "type": it.type,
        "gold_answer": it.answer,
        "gold_evidence": [dict(e) for e in it.evidence],
        "mode": mode,
        **it.natural_fields(),  # form, answerable, yesno, key_facts, split, as_of (natural sets only)
    }


def _accepts(fn: Any, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def run_one(pipeline: Any, it: EvalItem, retrieval_only: bool) -> dict[str, Any]:
    """Run one question; a ``RagError`` becomes a record with ``error`` set (scored as wrong)."""
    if retrieval_only:
        rec = _base(it, "retrieval")
        skw: dict[str, Any] = {}
        if it.as_of:
            rec["as_of_applied"] = _accepts(pipeline.search, "as_of")
            if rec["as_of_applied"]:
                skw["as_of"] = it.as_of
        t0 = time.perf_counter()
        try:
            res = pipeline.search(it.question, RETRIEVAL_K, **skw)
        except RagError as e:
            return {**rec, "retrieved": [], "timings": {}, "error": str(e)}
        rec.update(
            {
                "retrieved": [_hit_json(h) for h in res.hits],
                "notes": list(res.notes),
                "timings": {"retrieve_s": round(time.perf_counter() - t0, 4)},
            }
        )
        return rec
    rec = _base(it, "answer")
    kwargs: dict[str, Any] = {}
    if it.as_of:  # a relative-time question's reference date, where the pipeline takes one per question
        applied = _accepts(pipeline.answer, "as_of")
        rec["as_of_applied"] = applied
        if applied:
            kwargs["as_of"] = it.as_of
    try:
        ans = pipeline.answer(it.question, **kwargs)
    except RagError as e:
        return {
            **rec, "answer": "", "short": "", "refused": False, "reason": "", "sentences": [], "citations": [],
            "evidence": [], "retrieved": [], "timings": {}, "model": "", "raw": "", "gen_tokens": None, "error": str(e),
        }  # fmt: skip
    gen = getattr(pipeline, "_generator", None)
    tokens = int(ans.timings["gen_tokens"]) if ans.timings.get("gen_tokens") else None  # if the pipeline counts them
    if tokens is None and ans.raw and gen is not None and hasattr(gen, "count_tokens"):
        try:
            tokens = int(gen.count_tokens(ans.raw))
        except Exception:  # token counting is informative only
            tokens = None
    rec.update(
        {
            "answer": ans.answer,
            "short": ans.short,
            "refused": ans.refused,
            "reason": ans.reason,
            "sentences": [{"text": s.text, "cites": list(s.cites), "supported": s.supported} for s in ans.sentences],
            "citations": [
                {
                    "n": c.n,
                    "chunk_id": c.chunk_id,
                    "title": c.title,
                    "source": c.source,
                    "published_at": c.published_at,
                    "quote": c.quote,
                    "supported": c.supported,
                }
                for c in ans.citations
            ],  # fmt: skip
            "evidence": [e.to_json() for e in ans.evidence],
            "retrieved": [_hit_json(h) for h in ans.hits],
            "timings": {k: round(float(v), 4) for k, v in ans.timings.items()},
            "model": ans.model,
            "raw": ans.raw,
            "gen_tokens": tokens,
        }
    )
    if getattr(ans, "as_of", ""):  # the date the pipeline read relative dates against, where it reports one
        rec["as_of_used"] = str(ans.as_of)
    if getattr(ans, "form", ""):  # the pipeline's own reading of the question's form, where it reports one
        rec["pipeline_form"] = str(ans.form)
    return rec


# ------------------------------------------------------------------------ the run


def peak_rss_mib() -> float:
    """Peak resident set size of this process (``ru_maxrss``; KiB on Linux, bytes on macOS)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


def _question_seconds(rec: dict[str, Any]) -> float:
    t = rec.get("timings") or {}
    return float(t.get("total_s", t.get("retrieve_s", 0.0)))


def run_eval(
    set_path: str | Path,
    settings: Any,
    out_dir: str | Path,
    limit: int | None = None,
    types: list[str] | None = None,
    retrieval_only: bool = False,
    pipeline: Any = None,
    progress: bool = True,
    split: str | None = None,
) -> Path:
    """Evaluate ``set_path`` into ``out_dir`` (resuming what is there) and return report.md's path.

    ``split`` ("tune" or "test"; None or "all" for every question) keeps only the natural-set
    questions of that split, before ``limit`` / ``types`` sampling."""
    from tqdm import tqdm

    set_path = Path(set_path)
    out_dir = Path(out_dir)
    t_start = time.perf_counter()
    all_items = load_set(set_path)
    if limit is not None and limit < 1:
        raise EvalConfigError(f"--limit must be at least 1 (got {limit})")
    if split and split != "all":
        if split not in ("tune", "test"):
            raise EvalConfigError(f"--split must be tune, test or all (got {split!r})")
        if not any(it.split for it in all_items):
            raise EvalConfigError(f"{set_path}: --split {split} needs a set with a 'split' field (a natural-question set)")
    pool = select_split(all_items, split)
    items = sample(pool, limit, list(types) if types else None)
    if not items:
        present = sorted({it.type for it in all_items})
        raise EvalConfigError(f"{set_path}: no questions of type {', '.join(types or [])}; the set has: {', '.join(present)}")
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            raise CorpusError(str(set_path), f"question id '{it.id}' appears twice; ids must be unique")
        seen.add(it.id)

    if pipeline is None:
        from rag.index import open_index

        ix = open_index(Path(settings.index_dir), verify=False)  # cheap: fail on config before loading models
        manifest = dict(ix.manifest)
        ix.close()
    else:
        manifest = dict(pipeline.index.manifest)
    model = _model_id(pipeline, settings)
    cfg = make_config(set_path, limit, types, retrieval_only, settings, manifest, model, split)

    out_dir.mkdir(parents=True, exist_ok=True)
    rec_path = out_dir / RECORDS
    done = {r["id"]: r for r in load_records(rec_path)}
    check_config(out_dir, cfg, bool(done))
    todo = [it for it in items if it.id not in done]

    processed = 0
    if todo:
        if pipeline is None:
            from rag.pipeline import Pipeline

            pipeline = Pipeline.from_settings(settings)
        have = len(items) - len(todo)
        bar = tqdm(
            total=len(items), initial=have, desc="eval", unit="q", disable=not progress, dynamic_ncols=True, file=sys.stderr
        )
        if have:
            bar.write(f"resuming {out_dir}: {have} of {len(items)} questions already done", file=sys.stderr)
        n_strict = n_ans = 0
        try:
            with open(rec_path, "a", encoding="utf-8") as f:
                for it in todo:
                    rec = run_one(pipeline, it, retrieval_only)
                    _append(f, rec)
                    done[it.id] = rec
                    processed += 1
                    if not retrieval_only:
                        from eval.report import score_record

                        n_ans += 1
                        n_strict += int(score_record(rec).get("strict", 0))
                        bar.set_postfix_str(f"strict {n_strict}/{n_ans}", refresh=False)
                    bar.update(1)
        except KeyboardInterrupt:
            bar.close()
            print(
                f"\ninterrupted after {len(items) - len(todo) + processed} of {len(items)} questions; "
                f"run the same command again to resume ({rec_path})",
                file=sys.stderr,
            )
            raise
        bar.close()

    records = [done[it.id] for it in items]
    peak = peak_rss_mib()
    try:  # a resumed run keeps the peak of the earlier invocation that wrote the summary
        prev = json.loads((out_dir / "summary.json").read_text()).get("run", {})
        if prev.get("config_fingerprint") == cfg["fingerprint"]:
            peak = max(peak, float(prev.get("peak_rss_mib") or 0))
    except (OSError, ValueError, AttributeError):
        pass
    run_info = {
        "name": out_dir.name,
        "out_dir": str(out_dir.resolve()),
        "set_path": cfg["set_path"],
        "set_size": len(all_items),
        "limit": limit,
        "types": cfg["types"],
        "split": cfg.get("split"),
        "retrieval_only": bool(retrieval_only),
        "model": cfg["model"] or (records[0].get("model") if records else None),
        "index_dir": str(getattr(settings, "index_dir", "")),
        "index_fingerprint": cfg["index_fingerprint"],
        "index_chunks": (manifest.get("counts") or {}).get("chunks"),
        "config_fingerprint": cfg["fingerprint"],
        "settings": cfg["settings"],
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "processed": processed,
        "wall_s": round(time.perf_counter() - t_start, 2),
        "peak_rss_mib": round(peak, 1),
        "question_seconds": round(sum(_question_seconds(r) for r in records), 2),
    }
    summary = summarize(records, run_info)
    write_summary(out_dir, summary)
    md, _ = write_reports(out_dir, summary, records)
    return md
