"""How often the evidence's "He"/"She" reading names someone, and a random sample to judge by hand.

Every sentence of a corpus that opens with He or She (and has a sentence before it) is read
with ``rag.evidence.resolve_pronoun`` against its article's text before it; this prints how many
there are, how many get a name, and ``--sample`` of them with the sentence before, so a person
can count the right ones (the README's "about 5 in 6" is such a count).

    python bench/pronouns.py --corpus ../shared/data/multihop-rag/corpus.json --seed 11 --sample 25
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from rag.chunk import split_sentences
from rag.evidence import resolve_pronoun


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("../shared/data/multihop-rag/corpus.json"))
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--sample", type=int, default=25)
    a = ap.parse_args()
    articles = json.loads(a.corpus.read_text())
    total, named = 0, []
    for art in articles:
        body = art["body"]
        spans = split_sentences(body)
        for i, (x, y) in enumerate(spans):
            text = body[x:y]
            if i == 0 or not re.match(r"(?:He|She)\b", text):
                continue
            total += 1
            out = resolve_pronoun(text, body[:x])
            if out != text:
                before = body[spans[i - 1][0] : spans[i - 1][1]]
                named.append((" ".join(before.split())[-200:], out[:90]))
    print(f"{total} sentences open with He/She; {len(named)} read with a name ({len(named) / max(total, 1):.0%})")
    random.seed(a.seed)
    for before, out in random.sample(named, min(a.sample, len(named))):
        print(f"BEFORE: {before}\n    => {out}")


if __name__ == "__main__":
    main()
