"""Answers from the real default model over the bundled sample corpus, read as a user would.

The real MiniLM index of ``rag/sample_corpus`` and the default llama.cpp models (the 1.5B writes, the 0.5B decides Yes/No) answer natural
questions of every form from ``eval/sets/natural-sample.jsonl`` (the set's own key facts and
forms). Each answer must be in the shape its question asks for and state its key facts; each
unanswerable question must be refused with a reason. Slow: about a minute on 2 vCPUs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eval.natural import answer_fact_recall, read_jsonl, yesno_correct
from rag.build import BuildOptions, build_index
from rag.forms import classify
from rag.index import open_index
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.types import Answer

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "rag" / "sample_corpus"
SET = {d["id"]: d for d in read_jsonl(REPO / "eval" / "sets" / "natural-sample.jsonl")}

# Questions of every form, answerable and not (ids of eval/sets/natural-sample.jsonl), with the
# share of their key facts the answer must state: all of them, except two explanations that state
# one of their two today (the cause, not its second detail).
ANSWERABLE = {
    "ns-001": 1.0,  # fact: who made the bad battery cells in the arro 2?
    "ns-003": 1.0,  # fact: How big was the fine the National Privacy Board gave Quillon Systems?
    "ns-008": 1.0,  # fact: Who is taking over as chief executive of the Glenmoor Housing Trust?
    "ns-017": 1.0,  # yesno: Did Quillon win its appeal against the privacy fine?
    "ns-020": 1.0,  # yesno: Is the original Arro part of the recall too?
    "ns-028": 0.5,  # explanation: Could you explain why the privacy board came down so hard on Quillon?
    "ns-030": 0.5,  # explanation: Why have donations to the Glenmoor Housing Trust dropped?
    "ns-035": 1.0,  # event: What did the judge order Delane to do besides going to prison?
    "ns-036": 1.0,  # event: What did Janet Liu tell the court at the Delane trial?
    "ns-043": 1.0,  # summary: Can you summarize the Arro 2 recall?
    "ns-045": 1.0,  # summary: summarize the delane fraud case for me
    "ns-052": 1.0,  # timeline: How did the Quillon affair unfold from the inquiry to the tribunal ruling?
    "ns-057": 1.0,  # comparison: Compare how much Delane was accused of taking with what he was ordered to repay.
    "ns-068": 1.0,  # latest: What's the most recent news about Marcus Delane?
}
UNANSWERABLE = [
    "ns-013",  # fact: How many Arro 2 bikes did Kestrel recall in 2021? (the articles are from 2023)
    "ns-041",  # event: What did Bloomberg report about the Arro 2 recall? (no such outlet)
    "ns-042",  # event: What did the Financial Times say about the Northfield transit strike? (no such outlet)
]


@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    from rag.embed import load_embedder

    s0 = Settings.load()
    emb = load_embedder(s0.embedder, s0.embed_batch_size, s0.embed_backend)
    d = tmp_path_factory.mktemp("sample") / "idx"
    build_index([SAMPLE], d, emb, BuildOptions(progress=False))
    s = Settings(index_dir=d, model_cache_dir=Path(s0.model_cache_dir))
    return Pipeline(open_index(d, emb.model_id), emb, s)


def ask(pipe: Pipeline, qid: str) -> tuple[dict, Answer]:
    item = SET[qid]
    return item, pipe.answer(item["question"], as_of=item.get("as_of") or None)


@pytest.mark.slow
@pytest.mark.parametrize("qid", sorted(ANSWERABLE))
def test_answer_states_its_key_facts_in_the_shape_asked_for(pipe: Pipeline, qid: str) -> None:
    item, ans = ask(pipe, qid)
    form = item["form"]
    assert classify(item["question"]).kind == form or (form == "comparison" and ans.form == "comparison")
    # the default models, not a test stand-in: the Yes/No model decides, the answer model writes
    assert ans.model == (Settings().yesno_model if ans.form == "yesno" else Settings().model)
    assert not ans.refused, f"{item['question']!r} refused: {ans.reason}"
    recall = answer_fact_recall(item["key_facts"], ans.answer)
    assert recall >= ANSWERABLE[qid], f"{item['question']!r}: key facts {item['key_facts']} not in {ans.answer!r}"
    # every sentence shown cites a passage and passed the check
    assert ans.sentences and all(s.cites and s.supported for s in ans.sentences), ans.sentences
    direct = " ".join(re.sub(r"\s*\[\d+\]", "", s.text) for s in ans.sentences if s.role == "answer")
    assert direct, "no direct answer leads the answer"
    if form == "yesno":
        assert direct.split(".")[0] in {"Yes", "No"} and yesno_correct(item["yesno"], ans.answer)
        assert len(ans.sentences) >= 2, "a Yes/No answer shows the passage that settles it"
    elif form in ("explanation", "event"):
        assert len(direct.split()) >= 5, f"an {form} needs a sentence, not a name: {direct!r}"
    elif form in ("summary", "timeline"):
        assert len(ans.sentences) >= 3, f"a {form} has several cited sentences: {ans.answer!r}"
        assert len({n for s in ans.sentences for n in s.cites}) >= 2
    if form == "timeline":
        dated = [s for s in ans.sentences if s.role != "answer"]
        by_n = {e.n: e.published_at for e in ans.evidence}
        dates = [max(by_n[n] for n in s.cites) for s in dated]
        assert dates == sorted(dates), "a timeline is told in date order"


@pytest.mark.slow
@pytest.mark.parametrize("qid", UNANSWERABLE)
def test_a_question_the_corpus_cannot_answer_is_refused_with_a_reason(pipe: Pipeline, qid: str) -> None:
    item, ans = ask(pipe, qid)
    assert not item["answerable"]
    assert ans.refused, f"{item['question']!r} answered: {ans.answer!r}"
    assert ans.short == "Insufficient information." and len(ans.reason.split()) >= 4


@pytest.mark.slow
def test_a_claim_of_two_parts_is_decided_over_each_parts_passage(pipe: Pipeline) -> None:
    # two outlets, one claim: each outlet's passage is asked, and each is quoted under the answer
    ans = pipe.answer("Did Harbor Daily and The Ledger both report that Quillon Systems was fined $48 million?")
    assert not ans.refused and ans.short.startswith("Yes"), ans.reason
    assert ans.raw.count("Does this passage report that Quillon Systems was fined $48 million?") == 2, ans.raw
    by_n = {e.n: e for e in ans.evidence}
    quoted = [by_n[s.cites[0]] for s in ans.sentences if s.role == "support"]
    assert {e.source for e in quoted} == {"Harbor Daily", "The Ledger"}
    assert all("48 million" in e.text for e in quoted) and all(s.supported for s in ans.sentences)
    # two events, the second not so: "No", with the passage that says so
    ans = pipe.answer("Was Quillon fined $48 million, and did it win its appeal?")
    assert not ans.refused and ans.short.startswith("No"), ans.reason
    first = next(s for s in ans.sentences if s.role == "support")
    assert "dismissed" in by_n_text(ans, first.cites[0])


def by_n_text(ans: Answer, n: int) -> str:
    return next(e.text for e in ans.evidence if e.n == n)
