"""Index editing from the page is limited to the corpus roots (ui/corpus_guard.py).

Paths are resolved (``~``, ``..``, symlinks, also symlinks inside a folder) and refused
outside the roots with a message naming the path and the roots; ``plan_change`` counts
what an update would remove before anything is done. The page side (read-only by
default, confirmation before removal) is in tests/test_ui_browser.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag.errors import CorpusError, SettingsError
from ui.corpus_guard import check_paths, plan_change, resolve_roots


def article(title: str, body: str = "") -> str:
    return f"title: {title}\nsource: Test Wire\ndate: 2023-11-0{len(title) % 9 + 1}\n\n{body or title + ' happened today in the city.'}\n"


@pytest.fixture()
def tree(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "root"
    (root / "news").mkdir(parents=True)
    (root / "news" / "a.md").write_text(article("Alpha opens a bridge"))
    (root / "news" / "b.md").write_text(article("Beta closes a port"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(article("Secret file outside the roots"))
    return {"root": root, "outside": outside, "tmp": tmp_path}


def refused(text: str, roots: list[Path]) -> str:
    with pytest.raises(CorpusError) as e:
        check_paths(text, roots)
    return str(e.value)


def test_paths_inside_the_roots_are_accepted(tree) -> None:
    roots = resolve_roots([tree["root"]])
    assert check_paths(str(tree["root"] / "news"), roots) == [tree["root"].resolve() / "news"]
    # one per line or ';'-separated, relative to the first root
    assert check_paths("news/a.md; news/b.md", roots) == [roots[0] / "news" / "a.md", roots[0] / "news" / "b.md"]
    assert check_paths(str(tree["root"]), roots) == [roots[0]]


def test_path_outside_the_roots_is_refused(tree) -> None:
    roots = resolve_roots([tree["root"]])
    msg = refused(str(tree["outside"]), roots)
    assert msg == f"{tree['outside']}: outside the corpus roots (this server indexes only files under: {roots[0]})"
    assert "outside the corpus roots" in refused("/etc", roots)
    assert "outside the corpus roots" in refused("~", roots)


def test_dotdot_is_resolved_and_refused(tree) -> None:
    roots = resolve_roots([tree["root"]])
    sneaky = f"{tree['root']}/news/../../outside/secret.txt"
    msg = refused(sneaky, roots)
    assert msg.startswith(f"{sneaky}: outside the corpus roots (it resolves to {tree['outside'].resolve() / 'secret.txt'})")
    assert "outside the corpus roots" in refused("../outside", roots)  # relative to the root


def test_symlink_out_of_the_roots_is_refused(tree) -> None:
    roots = resolve_roots([tree["root"]])
    link = tree["root"] / "link"
    link.symlink_to(tree["outside"], target_is_directory=True)
    msg = refused(str(link), roots)
    assert "outside the corpus roots (it resolves to" in msg and str(tree["outside"].resolve()) in msg
    # a symlinked file inside an allowed folder is caught too
    (tree["root"] / "news" / "leak.txt").symlink_to(tree["outside"] / "secret.txt")
    msg = refused(str(tree["root"] / "news"), roots)
    assert msg.startswith(str(tree["root"] / "news" / "leak.txt")) and "outside the corpus roots" in msg


def test_symlink_within_the_roots_is_fine(tree) -> None:
    roots = resolve_roots([tree["root"]])
    (tree["root"] / "alias").symlink_to(tree["root"] / "news", target_is_directory=True)
    assert check_paths(str(tree["root"] / "alias"), roots) == [roots[0] / "news"]


def test_missing_empty_and_unconfigured(tree) -> None:
    roots = resolve_roots([tree["root"]])
    assert "not found" in refused(str(tree["root"] / "nope"), roots)
    assert "no corpus path given" in refused(" \n ; ", roots)
    with pytest.raises(SettingsError, match="corpus_roots"):
        check_paths(str(tree["root"]), [])
    with pytest.raises(SettingsError, match="is not a folder"):
        resolve_roots([tree["tmp"] / "no-such-root"])


def test_control_characters_in_a_path_do_not_escape(tree) -> None:
    roots = resolve_roots([tree["root"]])
    assert check_paths(f"{tree['root']}/news\u200b/a.md\x00", roots) == [roots[0] / "news" / "a.md"]


def test_plan_counts_what_an_update_would_remove(tree, hash_embedder, tmp_path: Path) -> None:
    from rag.build import BuildOptions, build_index
    from rag.index import open_index

    extra = tree["root"] / "extra.json"
    extra.write_text(json.dumps([{"title": "Gamma wins the cup", "body": "Gamma won the cup on Sunday.", "source": "Wire",
                                  "published_at": "2023-11-05"}]))  # fmt: skip
    index_dir = tmp_path / "index"
    build_index([tree["root"] / "news", extra], index_dir, hash_embedder, BuildOptions(progress=False))
    ix = open_index(index_dir)
    try:
        before = ix.info()["counts"]["articles"]
        plan, report = plan_change("update", [tree["root"] / "news"], ix, skip_bad=False)
        assert (plan.new, plan.changed, plan.unchanged, plan.removed) == (0, 0, 2, ["Gamma wins the cup"])
        assert plan.summary().endswith("will add 0 new and re-embed 0 changed article(s) (2 unchanged) and remove 1 article(s)")
        assert plan.removal_list() == "'Gamma wins the cup'"
        (tree["root"] / "news" / "a.md").write_text(article("Alpha opens a bridge", "Alpha opened a longer bridge."))
        plan, _ = plan_change("update", [tree["root"] / "news", extra], ix, skip_bad=False)
        assert (plan.new, plan.changed, plan.unchanged, len(plan.removed)) == (0, 1, 2, 0)
        # the same files named through their parent folder get other ids: the plan shows it before anything happens
        plan, _ = plan_change("update", [tree["root"]], ix, skip_bad=False)
        assert (plan.new, len(plan.removed)) == (2, 2)
        plan, _ = plan_change("build", [tree["root"] / "news"], ix, skip_bad=False)
        assert "embed all 2 article(s) again and remove 1" in plan.summary()
        assert ix.info()["counts"]["articles"] == before  # planning changes nothing
        assert len(report.articles) == 2
    finally:
        ix.close()
    assert os.path.isdir(index_dir)
