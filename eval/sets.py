"""Evaluation sets: reading them and sampling them deterministically.

Two formats are read:

* MultiHop-RAG: a JSON list of ``{query, answer, question_type, evidence_list: [{title, fact, ...}]}``.
* Our JSONL: one object per line, ``{"id", "question", "answer", "type", "evidence": [{"title", "fact"}]}``.
  ``answer`` is "Insufficient information." for questions the corpus cannot answer;
  ``evidence`` facts are sentences copied word for word from the articles.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import CorpusError


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    answer: str
    type: str
    evidence: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @property
    def facts(self) -> list[str]:
        return [e["fact"] for e in self.evidence if e.get("fact")]

    @property
    def titles(self) -> list[str]:
        return list(dict.fromkeys(e["title"] for e in self.evidence if e.get("title")))


def _qid(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def load_set(path: str | Path) -> list[EvalItem]:
    """Read an eval set in either format; errors name the file and the item."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(str(path), f"cannot read eval set ({e})") from None
    items: list[EvalItem] = []
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CorpusError(str(path), f"malformed JSON at line {e.lineno}: {e.msg}") from None
        for i, d in enumerate(data):
            if not isinstance(d, dict) or not isinstance(d.get("query"), str):
                raise CorpusError(f"{path}[{i}]", "expected an object with a 'query' string")
            ev = tuple({"title": e.get("title", ""), "fact": e.get("fact", "")} for e in d.get("evidence_list") or [])
            items.append(
                EvalItem(_qid(d["query"]), d["query"], str(d.get("answer", "")), str(d.get("question_type", "unknown")), ev)
            )
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise CorpusError(f"{path}:{n}", f"malformed JSON line: {e.msg}") from None
            q = d.get("question") or d.get("query")
            if not isinstance(q, str) or not q.strip():
                raise CorpusError(f"{path}:{n}", "missing 'question'")
            ev = tuple({"title": e.get("title", ""), "fact": e.get("fact", "")} for e in d.get("evidence") or [])
            items.append(EvalItem(str(d.get("id") or _qid(q)), q, str(d.get("answer", "")), str(d.get("type", "unknown")), ev))
    if not items:
        raise CorpusError(str(path), "eval set is empty")
    return items


def sample(items: list[EvalItem], limit: int | None, types: list[str] | None = None) -> list[EvalItem]:
    """Deterministic stratified sample: ``limit`` items spread over types in proportion
    to their counts (largest remainders), each type's items taken in a fixed
    hash order. The result keeps the set's original order."""
    pool = [it for it in items if not types or it.type in types]
    if limit is None or limit >= len(pool):
        return pool
    by_type: dict[str, list[EvalItem]] = defaultdict(list)
    for it in pool:
        by_type[it.type].append(it)
    quotas = {t: limit * len(v) / len(pool) for t, v in by_type.items()}
    take = {t: int(q) for t, q in quotas.items()}
    rest = limit - sum(take.values())
    for t in sorted(quotas, key=lambda t: (-(quotas[t] - take[t]), t))[:rest]:
        take[t] += 1
    chosen: set[str] = set()
    for t, v in by_type.items():
        ranked = sorted(v, key=lambda it: hashlib.sha1(f"{it.id}|{it.question}".encode()).hexdigest())
        chosen.update(it.id + it.question for it in ranked[: take[t]])
    return [it for it in pool if it.id + it.question in chosen]
