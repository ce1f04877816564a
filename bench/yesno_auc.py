"""How well a model's first-token probabilities separate Yes from No, from `rag eval` runs.

A Yes/No question is decided by comparing log P("Yes"), log P("No") and log P("Insufficient")
as the model's first token (no bias); each record's ``raw`` keeps the values. This prints, per
run, the ROC AUC of ``log P(Yes) - log P(No)`` against the gold Yes/No answers (0.5: no better
than chance) and what accuracy a bias would give, so models can be compared without re-running
them (a bias is a measurement here, never a setting: the product has none).

    python bench/yesno_auc.py runs/dev100 runs/dev100-1.5b
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_LP = re.compile(r"log P\(first token\): Yes (-?[\d.]+), No (-?[\d.]+)")


def margins(run: Path) -> list[tuple[float, bool]]:
    """(log P(Yes) - log P(No), gold is Yes) for every Yes/No question the model decided."""
    out = []
    for line in (run / "records.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        m = _LP.search(rec.get("raw") or "")
        gold = rec.get("gold_answer", "").strip().rstrip(".").lower()
        if m and gold in ("yes", "no"):
            out.append((float(m.group(1)) - float(m.group(2)), gold == "yes"))
    return out


def auc(pairs: list[tuple[float, bool]]) -> float:
    """Probability that a random Yes question has a higher margin than a random No one (ties count half)."""
    pos = [s for s, y in pairs if y]
    neg = [s for s, y in pairs if not y]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for arg in argv:
        pairs = margins(Path(arg))
        n_yes = sum(y for _, y in pairs)
        accs = "  ".join(
            f"bias {b:+.1f}: {sum((s + b >= 0) == y for s, y in pairs) / len(pairs):.2f}" for b in (0.0, 0.5, 1.0, 1.5)
        ) if pairs else ""  # fmt: skip
        print(f"{arg}: {len(pairs)} Yes/No questions ({n_yes} Yes), AUC {auc(pairs):.3f}; accuracy {accs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
