"""Natural-question scoring: key facts, Yes/No, refusals, supported citations, latency, by form.

A natural-question set (``eval/sets/natural-*.jsonl``, described in ``eval/sets/README.md``)
gives each question a ``form`` (fact, yesno, explanation, ...), whether the corpus can answer it,
and 1-4 ``key_facts``: each fact a list of acceptable surface strings, any one of which counts.
Matching everywhere in this module is :func:`contains`: case-insensitive substring after
whitespace normalisation (curly quotes and dashes folded to ASCII as well).

Everything here is a pure function over plain dicts (``records.jsonl`` lines, set items and
articles), except :func:`load_sample_corpus` / :func:`load_multihop_corpus`, which read the two
corpora for :func:`check_set`. No model calls.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.metrics import percentile, strip_citations

FORMS = ("fact", "yesno", "explanation", "event", "summary", "timeline", "comparison", "list", "latest")
SPLITS = ("tune", "test")
ANSWER_WORDS = 120  # key facts count only within the first 120 words of the answer
REFUSAL_PREFIX = "insufficient information"

_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00a0": " "})
_MARKER = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")


# ------------------------------------------------------------------------ matching


def normalize(text: str) -> str:
    """Lower-case, curly quotes and en/em dashes folded to ASCII, runs of whitespace collapsed to one space."""
    return " ".join(str(text).translate(_FOLD).lower().split())


def contains(text: str, alternatives: Sequence[str]) -> bool:
    """True if any acceptable string of one key fact occurs in ``text`` (both :func:`normalize`\\ d)."""
    t = normalize(text)
    return any(normalize(a) in t for a in alternatives if normalize(a))


def facts_found(key_facts: Sequence[Sequence[str]], text: str) -> list[bool]:
    """For each key fact, whether one of its acceptable strings occurs in ``text``."""
    return [contains(text, alts) for alts in key_facts]


def remove_markers(text: str) -> str:
    """Answer text without citation markers such as ``[3]``, ``[1][2]`` or ``[1, 2]``."""
    return strip_citations(_MARKER.sub("", text or ""))


def first_words(text: str, n: int = ANSWER_WORDS) -> str:
    """The first ``n`` whitespace-separated words of ``text``."""
    return " ".join(str(text).split()[:n])


# ------------------------------------------------------------------------ per-question metrics


def evidence_text(evidence: Sequence[Mapping[str, Any]]) -> str:
    """Everything the model was shown: each evidence passage's ``text`` and its article ``title``."""
    return "\n".join(f"{e.get('title', '')}\n{e.get('text', '')}" for e in evidence or [])


def evidence_recall(key_facts: Sequence[Sequence[str]], evidence: Sequence[Mapping[str, Any]]) -> float:
    """Share of the key facts with an acceptable string in the evidence shown to the model
    (the evidence passages' ``text`` joined, plus their titles). NaN when there are no key facts
    (an unanswerable question)."""
    if not key_facts:
        return math.nan
    found = facts_found(key_facts, evidence_text(evidence))
    return sum(found) / len(found)


def answer_fact_recall(key_facts: Sequence[Sequence[str]], answer: str, n_words: int = ANSWER_WORDS) -> float:
    """Share of the key facts with an acceptable string within the first ``n_words`` (120) words of
    the answer text, citation markers removed. NaN when there are no key facts."""
    if not key_facts:
        return math.nan
    found = facts_found(key_facts, first_words(remove_markers(answer), n_words))
    return sum(found) / len(found)


def all_facts(key_facts: Sequence[Sequence[str]], answer: str, n_words: int = ANSWER_WORDS) -> bool:
    """True if *every* key fact occurs within the first ``n_words`` words of the answer (markers
    removed); False for an item without key facts."""
    return bool(key_facts) and answer_fact_recall(key_facts, answer, n_words) == 1.0


def answer_first_word(answer: str) -> str:
    """The answer's first word, citation markers and leading punctuation removed, lower-cased."""
    m = re.match(r"\W*(\w+)", remove_markers(answer))
    return m.group(1).lower() if m else ""


def yesno_correct(gold: str, answer: str) -> bool:
    """For an item whose ``yesno`` is "Yes" or "No": the answer's first word (see
    :func:`answer_first_word`) equals it, case-insensitively."""
    return answer_first_word(answer) == gold.strip().lower()


def is_refused(record: Mapping[str, Any]) -> bool:
    """True if the pipeline refused: ``refused`` is true or the answer starts with
    "Insufficient information" (case-insensitive, after citation markers are removed)."""
    return bool(record.get("refused")) or remove_markers(record.get("answer") or "").lower().startswith(REFUSAL_PREFIX)


def cited_supported(sentences: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Per answer sentence: it cites at least one passage (``cites`` non-empty) *and* the citation
    check passed (``supported`` true)."""
    return [bool(s.get("cites")) and bool(s.get("supported")) for s in sentences or []]


def cited_supported_share(sentences: Sequence[Mapping[str, Any]]) -> float:
    """Share of answer sentences that cite a passage and pass the check; NaN with no sentences."""
    flags = cited_supported(sentences)
    return sum(flags) / len(flags) if flags else math.nan


def score_natural(rec: Mapping[str, Any]) -> dict[str, Any]:
    """Per-question natural scores of one answer-mode record (a ``records.jsonl`` line that carries
    the natural fields ``form``, ``answerable``, ``yesno``, ``key_facts``, ``split``).

    Keys: ``evidence_recall``, ``fact_recall``, ``all_facts`` (NaN/None for unanswerable items),
    ``yesno_correct`` (None unless ``yesno`` is set and the item is answerable), ``refused``,
    ``sent_flags`` (cited-and-supported flag per sentence of an answer that was not refused)."""
    kf = [list(f) for f in rec.get("key_facts") or []]
    answerable = bool(rec.get("answerable", True))
    refused = is_refused(rec)
    answer = rec.get("answer") or ""
    out: dict[str, Any] = {
        "id": rec.get("id"),
        "form": rec.get("form") or "unknown",
        "split": rec.get("split") or "",
        "answerable": answerable,
        "refused": refused,
        "error": bool(rec.get("error")),
        "evidence_recall": math.nan,
        "fact_recall": math.nan,
        "all_facts": None,
        "yesno_correct": None,
        "sent_flags": [] if refused else cited_supported(rec.get("sentences") or []),
    }
    if answerable and kf:
        out["evidence_recall"] = evidence_recall(kf, rec.get("evidence") or [])
        out["fact_recall"] = 0.0 if refused else answer_fact_recall(kf, answer)
        out["all_facts"] = False if refused else all_facts(kf, answer)
    yn = rec.get("yesno")
    if answerable and yn in ("Yes", "No"):
        out["yesno_correct"] = (not refused) and yesno_correct(yn, answer)
    return out


# ------------------------------------------------------------------------ aggregation


def _mean(xs: Iterable[float]) -> float:
    v = [x for x in xs if not (isinstance(x, float) and math.isnan(x))]
    return sum(v) / len(v) if v else math.nan


def _share(flags: Iterable[Any]) -> float:
    v = [bool(x) for x in flags if x is not None]
    return sum(v) / len(v) if v else math.nan


def latency(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """p50/p95 (and n) of ``timings.first_words_s`` (the first words on screen: the cited draft),
    ``timings.first_token_s`` (the model's first token) and ``timings.total_s`` (the checked
    answer) over the records that have them."""
    out = {}
    for key in ("first_words_s", "first_token_s", "total_s"):
        xs = [float(t[key]) for t in ((r.get("timings") or {}) for r in records) if key in t]
        out[key] = {"n": len(xs), "p50": percentile(xs, 50), "p95": percentile(xs, 95)}
    return out


def aggregate(scores: Sequence[Mapping[str, Any]], records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate :func:`score_natural` results (and their records, for latency):

    * ``evidence_recall``, ``fact_recall``: means over answerable items with key facts;
    * ``all_facts``: share of those whose answer states every key fact;
    * ``yesno_accuracy``: share of answerable Yes/No items answered with the right first word;
    * ``unanswerable_refused``: share of unanswerable items refused; ``answerable_refused``: share
      of answerable items refused (false refusals);
    * ``cited_supported``: share of sentences (of answers not refused) that cite and pass the check;
    * ``latency``: see :func:`latency`."""
    ans = [s for s in scores if s["answerable"]]
    una = [s for s in scores if not s["answerable"]]
    kf = [s for s in ans if s["all_facts"] is not None]
    yn = [s for s in scores if s["yesno_correct"] is not None]
    sents = [f for s in scores for f in s["sent_flags"]]
    return {
        "n": len(scores),
        "answerable_n": len(ans),
        "unanswerable_n": len(una),
        "key_fact_n": len(kf),
        "evidence_recall": _mean(s["evidence_recall"] for s in kf),
        "fact_recall": _mean(s["fact_recall"] for s in kf),
        "all_facts": _share(s["all_facts"] for s in kf),
        "yesno_n": len(yn),
        "yesno_accuracy": _share(s["yesno_correct"] for s in yn),
        "unanswerable_refused": _share(s["refused"] for s in una),
        "answerable_refused": _share(s["refused"] for s in ans),
        "sentences_n": len(sents),
        "cited_supported": _share(sents),
        "latency": latency(records),
        "errors": sum(1 for s in scores if s["error"]),
    }


def is_natural_record(rec: Mapping[str, Any]) -> bool:
    """A record made from a natural-set item (it carries a ``form``)."""
    return bool(rec.get("form"))


def summarize_natural(records: Sequence[Mapping[str, Any]], split: str | None = None) -> dict[str, Any]:
    """Natural-question summary of answer-mode records: ``overall`` and ``per_form`` (in
    :data:`FORMS` order, then any other form) aggregates, restricted to ``split`` ("tune" or
    "test"; None or "all" for every record), plus ``by_split`` overall aggregates for each split present."""
    recs = [r for r in records if is_natural_record(r) and r.get("mode", "answer") == "answer"]
    if split and split != "all":
        recs = [r for r in recs if r.get("split") == split]
    scores = [score_natural(r) for r in recs]
    by_form: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(scores):
        by_form[s["form"]].append(i)
    order = [f for f in FORMS if f in by_form] + sorted(f for f in by_form if f not in FORMS)
    per_form = {f: aggregate([scores[i] for i in by_form[f]], [recs[i] for i in by_form[f]]) for f in order}
    by_split = {}
    for sp in sorted({s["split"] for s in scores if s["split"]}):
        idx = [i for i, s in enumerate(scores) if s["split"] == sp]
        by_split[sp] = aggregate([scores[i] for i in idx], [recs[i] for i in idx])
    return {
        "split": split or "all",
        "overall": aggregate(scores, recs),
        "per_form": per_form,
        "by_split": by_split,
    }


# ------------------------------------------------------------------------ splits


def assign_splits(items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The split rule of the shipped sets: within each ``form``, items in ``id`` order; the 2nd
    and 4th of every 5 (0-based positions with ``k % 5`` in {1, 3}) are "tune", the rest "test"
    (40% / 60%, balanced per form). Returns ``{id: split}``."""
    by_form: dict[str, list[str]] = defaultdict(list)
    for it in items:
        by_form[str(it.get("form"))].append(str(it["id"]))
    out = {}
    for ids in by_form.values():
        for k, i in enumerate(sorted(ids)):
            out[i] = "tune" if k % 5 in (1, 3) else "test"
    return out


# ------------------------------------------------------------------------ set checker


def _title_key(t: str) -> str:
    return normalize(t)


def check_set(items: Sequence[Mapping[str, Any]], articles: Sequence[Mapping[str, Any]]) -> list[str]:
    """Problems found in a natural set against its corpus (an empty list means it passes).

    ``articles`` are ``{title, body}`` dicts. For every item: the fields are well formed
    (known ``form``, ``split``, ``yesno`` in Yes/No/None, unanswerable items without key facts,
    answerable items with 1-4 key facts and at least one title, unique ids); every listed title
    names an article of the corpus (normalised comparison; a title ending in "…" matches by prefix);
    and each key fact has an acceptable string (case-insensitive, whitespace-normalised) in the
    title or body of at least one listed article."""
    by_title: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for a in articles:
        by_title[_title_key(a.get("title", ""))].append(a)
    problems: list[str] = []
    seen: set[str] = set()

    def find(title: str) -> list[Mapping[str, Any]]:
        k = _title_key(title)
        if k in by_title:
            return by_title[k]
        if k.endswith("…") or k.endswith("..."):
            stem = k.rstrip("….").rstrip()
            return [a for t, arts in by_title.items() if t.startswith(stem) for a in arts]
        return []

    for it in items:
        iid = str(it.get("id", "?"))
        where = f"{iid} ({str(it.get('question', ''))[:50]!r})"
        if iid in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(iid)
        if it.get("form") not in FORMS:
            problems.append(f"{where}: unknown form {it.get('form')!r}")
        if it.get("split") not in SPLITS:
            problems.append(f"{where}: split must be tune or test, not {it.get('split')!r}")
        if it.get("yesno") not in (None, "Yes", "No"):
            problems.append(f"{where}: yesno must be null, 'Yes' or 'No'")
        kf = it.get("key_facts") or []
        titles = it.get("titles") or []
        if not it.get("answerable", True):
            if kf:
                problems.append(f"{where}: unanswerable item with key facts")
            if not str(it.get("answer", "")).startswith("Insufficient information."):
                problems.append(f"{where}: unanswerable answer must start with 'Insufficient information.'")
            if it.get("yesno"):
                problems.append(f"{where}: unanswerable item with a yesno answer")
            continue
        if not 1 <= len(kf) <= 4:
            problems.append(f"{where}: needs 1-4 key facts, has {len(kf)}")
        if not titles:
            problems.append(f"{where}: answerable item without titles")
        arts = []
        for t in titles:
            found = find(t)
            if not found:
                problems.append(f"{where}: title not in corpus: {t!r}")
            arts += found
        text = "\n".join(f"{a.get('title', '')}\n{a.get('body', '')}" for a in arts)
        for alts in kf:
            if not alts or not all(isinstance(a, str) and a.strip() for a in alts):
                problems.append(f"{where}: malformed key fact {alts!r}")
            elif arts and not contains(text, alts):
                problems.append(f"{where}: key fact {alts!r} not found in its articles")
    return problems


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The objects of a JSONL file (blank lines skipped)."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def load_multihop_corpus(path: str | Path) -> list[dict[str, Any]]:
    """The MultiHop-RAG corpus (a JSON list of articles) as ``{title, body, source, published_at}`` dicts."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [{k: a.get(k, "") for k in ("title", "body", "source", "published_at")} for a in data]


def load_sample_corpus(path: str | Path) -> list[dict[str, Any]]:
    """A corpus folder read the way ``rag index build`` reads it (``rag.ingest.load_corpus``)."""
    from rag.ingest import load_corpus

    return [
        {"title": a.title, "body": a.body, "source": a.source, "published_at": a.published_at}
        for a in load_corpus([Path(path)]).articles
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m eval.natural SET CORPUS [SET CORPUS ...]``: check each set against its corpus
    (a folder, read with ``rag.ingest``, or a MultiHop-style ``.json`` list); exit 1 on any problem."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or len(args) % 2:
        print("usage: python -m eval.natural SET CORPUS [SET CORPUS ...]", file=sys.stderr)
        return 2
    bad = 0
    for set_path, corpus in zip(args[::2], args[1::2], strict=True):
        items = read_jsonl(set_path)
        arts = load_multihop_corpus(corpus) if str(corpus).endswith(".json") else load_sample_corpus(corpus)
        problems = check_set(items, arts)
        rule = assign_splits(items)
        problems += [
            f"{it['id']}: split {it.get('split')!r} breaks the split rule ({rule[it['id']]})"
            for it in items
            if rule[str(it["id"])] != it.get("split")
        ]
        for p in problems:
            print(f"{set_path}: {p}")
        print(f"{set_path}: {len(items)} questions, {len(problems)} problems")
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
