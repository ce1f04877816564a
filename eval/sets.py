"""Evaluation sets: reading them and sampling them deterministically.

Two formats are read:

* MultiHop-RAG: a JSON list of ``{query, answer, question_type, evidence_list: [{title, fact, ...}]}``.
* Our JSONL: one object per line, ``{"id", "question", "answer", "type", "evidence": [{"title", "fact"}]}``.
  ``answer`` is "Insufficient information." for questions the corpus cannot answer;
  ``evidence`` facts are sentences copied word for word from the articles.
* Natural-question JSONL (``eval/sets/natural-*.jsonl``, see ``eval/sets/README.md``): a line with a
  ``form`` field, ``{"id", "question", "form", "answerable", "answer", "yesno", "key_facts",
  "titles", "split", "as_of"}``. Its ``type`` is its form (unless given), its ``evidence`` the
  listed titles without facts, and the natural fields are kept on the item.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rag.errors import CorpusError


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    answer: str
    type: str
    evidence: tuple[dict[str, str], ...] = field(default_factory=tuple)
    # natural-question fields (empty / None for the other formats)
    form: str = ""
    answerable: bool | None = None
    yesno: str | None = None
    key_facts: tuple[tuple[str, ...], ...] = ()
    split: str = ""
    as_of: str = ""

    @property
    def natural(self) -> bool:
        """True for an item of a natural-question set (it has a ``form``)."""
        return bool(self.form)

    def natural_fields(self) -> dict[str, object]:
        """The natural-question fields as JSON-ready values (empty for other items)."""
        if not self.natural:
            return {}
        return {
            "form": self.form,
            "answerable": self.answerable,
            "yesno": self.yesno,
            "key_facts": [list(f) for f in self.key_facts],
            "split": self.split,
            "as_of": self.as_of,
        }

    @property
    def facts(self) -> list[str]:
        return [e["fact"] for e in self.evidence if e.get("fact")]

    @property
    def titles(self) -> list[str]:
        return list(dict.fromkeys(e["title"] for e in self.evidence if e.get("title")))


def _qid(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _natural_item(d: dict, where: str, q: str) -> EvalItem:
    """An item of a natural-question set; malformed fields raise ``CorpusError`` naming the line."""
    form = d.get("form")
    if not isinstance(form, str) or not form.strip():
        raise CorpusError(where, "'form' must be a non-empty string")
    answerable = d.get("answerable", True)
    if not isinstance(answerable, bool):
        raise CorpusError(where, "'answerable' must be true or false")
    yesno = d.get("yesno")
    if yesno not in (None, "Yes", "No"):
        raise CorpusError(where, '\'yesno\' must be null, "Yes" or "No"')
    kf = d.get("key_facts") or []
    if not isinstance(kf, list) or not all(
        isinstance(f, list) and f and all(isinstance(a, str) and a.strip() for a in f) for f in kf
    ):
        raise CorpusError(where, "'key_facts' must be a list of non-empty lists of strings")
    split = d.get("split") or ""
    if split not in ("", "tune", "test"):
        raise CorpusError(where, f'\'split\' must be "tune" or "test", not {split!r}')
    as_of = d.get("as_of") or ""
    if as_of:
        try:
            date.fromisoformat(str(as_of))
        except ValueError:
            raise CorpusError(where, f"'as_of' must be YYYY-MM-DD, not {as_of!r}") from None
    titles = d.get("titles") or []
    if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
        raise CorpusError(where, "'titles' must be a list of strings")
    ev = tuple({"title": t, "fact": ""} for t in titles)
    return EvalItem(
        str(d.get("id") or _qid(q)), q, str(d.get("answer", "")), str(d.get("type") or form), ev,
        form=form, answerable=answerable, yesno=yesno, key_facts=tuple(tuple(f) for f in kf), split=split, as_of=str(as_of),
    )  # fmt: skip


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
            if "form" in d:
                items.append(_natural_item(d, f"{path}:{n}", q))
                continue
            ev = tuple({"title": e.get("title", ""), "fact": e.get("fact", "")} for e in d.get("evidence") or [])
            items.append(EvalItem(str(d.get("id") or _qid(q)), q, str(d.get("answer", "")), str(d.get("type", "unknown")), ev))
    if not items:
        raise CorpusError(str(path), "eval set is empty")
    return items


def select_split(items: list[EvalItem], split: str | None) -> list[EvalItem]:
    """The items of one split ("tune" or "test"); every item for None or "all"."""
    if not split or split == "all":
        return list(items)
    if split not in ("tune", "test"):
        raise ValueError(f"split must be tune, test or all, not {split!r}")
    return [it for it in items if it.split == split]


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
