"""Import direction keeps the data flow one-way (see the module docstrings).

Offline stages (ingest -> chunk -> embed -> index -> build) never import online ones;
online stages never import the offline composer or the CLI; ui/ and eval/ never touch
faiss, llama_cpp, sentence_transformers or torch directly, only the composers.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OFFLINE = {"ingest", "chunk", "embed", "index", "build"}
ONLINE = {"query", "retrieve", "evidence", "prompt", "generate", "cite", "followup", "pipeline"}
HEAVY = {"faiss", "llama_cpp", "sentence_transformers", "torch"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def rag_deps(path: Path) -> set[str]:
    return {m.split(".")[1] for m in imports(path) if m.startswith("rag.") and m.count(".") >= 1}


def test_offline_stages_do_not_import_online_ones() -> None:
    for name in OFFLINE:
        bad = rag_deps(REPO / "rag" / f"{name}.py") & (ONLINE | {"cli"})
        assert not bad, f"rag/{name}.py imports {bad}"


def test_online_stages_do_not_import_build_or_cli() -> None:
    for name in ONLINE:
        bad = rag_deps(REPO / "rag" / f"{name}.py") & {"build", "cli", "ingest"}
        assert not bad, f"rag/{name}.py imports {bad}"


def test_only_the_cli_imports_ui_or_eval() -> None:
    for path in (REPO / "rag").glob("*.py"):
        if path.name == "cli.py":
            continue
        mods = imports(path)
        assert not any(m.split(".")[0] in {"ui", "eval"} for m in mods), path


def test_ui_and_eval_use_the_composers_not_the_models() -> None:
    files = [*(REPO / "ui").glob("*.py"), *(REPO / "eval").glob("*.py")]
    assert files
    for path in files:
        heavy = {m.split(".")[0] for m in imports(path)} & HEAVY
        assert not heavy, f"{path.relative_to(REPO)} imports {heavy}"
