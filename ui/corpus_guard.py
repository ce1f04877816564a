"""Index editing from the chat page, limited to configured corpus roots.

The page can update or rebuild the index only when the server was started with
``allow_index_editing`` (``rag serve --allow-index-editing --corpus-root DIR``). Every
path typed on the page is then resolved (``~``, ``..``, symlinks) and must lie inside one
of ``Settings.corpus_roots``; so must every file under a folder, because a symlink inside
a root may point anywhere. A relative path is taken relative to the first root.

``plan_change`` reads the corpus and compares it with the served index, so the page can
say how many articles an update would add, re-embed and remove *before* doing it; the
page asks for confirmation whenever anything would be removed, and the background job
refuses to remove more than was confirmed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import CorpusError, SettingsError


def resolve_roots(roots: Sequence[str | Path]) -> list[Path]:
    """The configured roots as real absolute folders; SettingsError when one is unusable."""
    out = []
    for r in roots:
        p = Path(os.path.realpath(Path(r).expanduser()))
        if not p.is_dir():
            raise SettingsError(f"corpus root {r} is not a folder on this server; fix corpus_roots")
        out.append(p)
    return out


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def _outside_message(shown: str, real: Path, roots: Sequence[Path]) -> CorpusError:
    via = f" (it resolves to {real})" if str(real) != shown else ""
    allowed = ", ".join(str(r) for r in roots)
    return CorpusError(shown, f"outside the corpus roots{via}", f"this server indexes only files under: {allowed}")


def check_paths(text: str, roots: Sequence[Path]) -> list[Path]:
    """The typed corpus paths (one per line, or ';'-separated), resolved and checked.

    Raises CorpusError naming the first path that is missing or outside the roots
    (directly, through ``..``, or through a symlink, also one inside a folder)."""
    from rag.ingest import iter_files
    from ui.render import clean_text

    if not roots:
        raise SettingsError("index editing needs corpus_roots (folders the page may index from)")
    parts = [p.strip() for p in re.split(r"[\n;]", clean_text(text or "")) if p.strip()]
    if not parts:
        raise CorpusError("(no path)", "no corpus path given", "type a corpus file or folder path under the corpus roots")
    out: list[Path] = []
    for shown in parts:
        p = Path(shown).expanduser()
        if not p.is_absolute():
            p = roots[0] / p
        real = Path(os.path.realpath(p))
        if not _inside(real, roots):
            raise _outside_message(shown, real, roots)
        if not real.exists():
            raise CorpusError(shown, "not found", "give an existing corpus file or folder under the corpus roots")
        for f, _key in iter_files(real):
            rf = Path(os.path.realpath(f))
            if not _inside(rf, roots):
                raise _outside_message(str(f), rf, roots)
        out.append(real)
    return out


@dataclass
class ChangePlan:
    """What an update (or rebuild) of the served index from ``paths`` would do."""

    mode: str
    paths: list[Path]
    articles: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # titles of indexed articles not in the corpus
    version: str = ""

    def summary(self) -> str:
        verb = "Update" if self.mode == "update" else "Rebuild"
        embed = (
            f"add {self.new} new and re-embed {self.changed} changed article(s) ({self.unchanged} unchanged)"
            if self.mode == "update"
            else f"embed all {self.articles} article(s) again"
        )
        return f"{verb} from {', '.join(str(p) for p in self.paths)} will {embed} and remove {len(self.removed)} article(s)"

    def removal_list(self, limit: int = 8) -> str:
        shown = [f"'{t}'" for t in self.removed[:limit]]
        more = f" and {len(self.removed) - limit} more" if len(self.removed) > limit else ""
        return ", ".join(shown) + more


def plan_change(mode: str, paths: list[Path], index: Any, skip_bad: bool) -> tuple[ChangePlan, Any]:
    """Read the corpus and compare it with ``index``; returns the plan and the ingest report."""
    from rag.ingest import load_corpus

    report = load_corpus(paths, skip_bad=skip_bad)
    old = {m["article_id"]: m for m in index.articles_meta()}
    new_ids = {a.article_id for a in report.articles}
    plan = ChangePlan(mode=mode, paths=list(paths), articles=len(report.articles), version=str(index.info().get("version", "")))
    for a in report.articles:
        m = old.get(a.article_id)
        if m is None:
            plan.new += 1
        elif m.get("content_hash") != a.content_hash:
            plan.changed += 1
        else:
            plan.unchanged += 1
    plan.removed = sorted(str(m.get("title") or aid) for aid, m in old.items() if aid not in new_ids)
    return plan, report
