"""The online composer: streaming order, refusals, answer styles, the model gate.

Fast tests use the hash embedder and a scripted generator over our sample corpus;
integration tests use the real MiniLM index, SmolLM2 and (slow) the default model.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from rag.build import BuildOptions, build_index
from rag.errors import BusyError
from rag.generate import ScriptedGenerator
from rag.index import open_index
from rag.pipeline import Pipeline
from rag.retrieve import Filters
from rag.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "rag" / "sample_corpus"


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rag.embed import HashEmbedder

    d = tmp_path_factory.mktemp("hashidx") / "idx"
    build_index([SAMPLE], d, HashEmbedder(), BuildOptions(progress=False))
    return d


def make(hash_index: Path, reply: object, **kw: object) -> tuple[Pipeline, ScriptedGenerator]:
    from rag.embed import HashEmbedder

    emb = HashEmbedder()
    gen = ScriptedGenerator(reply)
    s = Settings(index_dir=hash_index, **kw)
    return Pipeline(open_index(hash_index, emb.model_id), emb, s, generator=gen), gen


def test_stream_order_sources_then_tokens_then_checked_answer(hash_index: Path) -> None:
    pipe, gen = make(hash_index, "Quillon Systems")
    events = list(pipe.stream("Which company did the National Privacy Board fine?"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "retrieval" and events[0].hits and not events[0].evidence
    assert kinds[1] == "retrieval" and events[1].evidence
    assert kinds[-1] == "answer" and set(kinds[2:-1]) == {"token"}
    ans = events[-1].answer
    assert ans is not None and not ans.refused
    assert ans.short == "Quillon Systems"
    assert ans.citations and all(c.supported for c in ans.citations)
    ev = {e.n: e for e in ans.evidence}
    for c in ans.citations:  # every citation is one of the passages shown, with its exact span
        assert c.n in ev and c.quote == ev[c.n].text and (c.start, c.end) == (ev[c.n].start, ev[c.n].end)
    assert set(ans.timings) >= {"retrieve_s", "first_token_s", "total_s"}
    # the prompt carries the evidence before the question, and the fixed system text first
    assert gen.prompts[0].index("Passages:") < gen.prompts[0].index("Question:")


def test_yes_no_decision_comes_from_first_token_probabilities(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "No")
    ans = pipe.answer("Did The Ledger report that Quillon Systems was fined?")
    assert ans.short == "No" and not ans.refused
    assert ans.citations, "a Yes/No answer quotes the evidence it rests on"
    pipe_yes, _ = make(hash_index, "No", yes_bias=20.0)
    assert pipe_yes.answer("Did The Ledger report that Quillon Systems was fined?").short == "Yes"


def test_unknown_outlet_is_refused_before_the_model_runs(hash_index: Path) -> None:
    pipe, gen = make(hash_index, "Quillon Systems")
    ans = pipe.answer("What did a Bloomberg article say about the Quillon fine?")
    assert ans.refused and "Bloomberg" in ans.reason
    assert gen.prompts == []


def test_answer_found_in_no_passage_is_replaced_by_a_name_the_passages_contain(hash_index: Path) -> None:
    def reply(prompt: str) -> str:  # free answer: a name in no passage; among the candidates: Quillon
        return "Globex Corporation" if "Quillon Systems" not in prompt[-40:] else "Quillon Systems"

    pipe, _ = make(hash_index, reply)
    ans = pipe.answer("Which company did the National Privacy Board fine?")
    assert "Globex" not in ans.answer
    assert not ans.refused and ans.citations
    assert all(ans.short.lower() in c.quote.lower() or ans.short.lower() in c.title.lower() for c in ans.citations)


def test_model_refusal_passes_through(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "Insufficient information.")
    ans = pipe.answer("Which company did the National Privacy Board fine?")
    assert ans.refused and ans.answer.startswith("Insufficient information.")


def test_generative_style_checks_the_models_citations(hash_index: Path) -> None:
    def reply(prompt: str) -> str:
        return "Quillon Systems\nThe National Privacy Board fined Quillon Systems $48 million [1][9]."

    pipe, gen = make(hash_index, reply, answer_style="generative")
    ans = pipe.answer("Which company did the National Privacy Board fine, and how much?")
    # [1] must be the passage holding the fine for the check to pass; [9] is out of range or dropped
    assert "[9]" not in ans.answer
    assert all(c.n <= len(ans.evidence) for c in ans.citations)
    assert "ending with the numbers of the passages" in gen.prompts[0]


def test_filters_that_exclude_everything_refuse_with_a_note(hash_index: Path) -> None:
    pipe, gen = make(hash_index, "Quillon Systems")
    ans = pipe.answer("Which company was fined?", Filters(since="2030-01-01"))
    assert ans.refused and "filters" in ans.reason
    assert gen.prompts == []


def test_source_filter_keeps_only_that_outlet(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "Quillon Systems")
    res = pipe.search("Quillon fine appeal", 10, Filters(sources=("Harbor Daily",)))
    assert res.hits and {h.source for h in res.hits} == {"Harbor Daily"}


def test_one_request_at_a_time_and_busy_after_timeout(hash_index: Path) -> None:
    release = threading.Event()

    def slow(prompt: str) -> str:
        release.wait(5)
        return "Quillon Systems"

    pipe, gen = make(hash_index, slow)
    gen._gate.timeout = 0.3
    t = threading.Thread(target=lambda: pipe.answer("Which company did the National Privacy Board fine?"))
    t.start()
    time.sleep(0.2)
    with pytest.raises(BusyError):
        pipe.answer("Which company did the National Privacy Board fine?")
    release.set()
    t.join()
    # a caller that stops reading mid-stream frees the model
    stream = pipe.stream("Which company did the National Privacy Board fine?")
    for ev in stream:
        if ev.kind == "token":
            break
    stream.close()
    assert pipe.answer("Which company did the National Privacy Board fine?").short == "Quillon Systems"


def test_follow_up_is_rewritten_before_retrieval(hash_index: Path) -> None:
    from rag.followup import Turn

    pipe, _ = make(hash_index, "Quillon Systems")
    events = list(pipe.stream("Did it appeal?", history=[Turn("Which company was fined?", "Quillon Systems")]))
    assert events[0].query == "Did Quillon Systems appeal?"
    assert events[-1].answer.rewritten_query == "Did Quillon Systems appeal?"


def test_real_smollm2_end_to_end(small_index: Path, real_embedder, smollm2) -> None:
    s = Settings(index_dir=small_index)
    pipe = Pipeline(open_index(small_index, real_embedder.model_id), real_embedder, s, generator=smollm2)
    events = list(pipe.stream("Did US officials warn North Korea against an arms deal with Russia?"))
    assert events[0].kind == "retrieval" and events[-1].kind == "answer"
    ans = events[-1].answer
    assert ans.short in {"Yes", "No"}
    assert any("North Korea" in e.text for e in ans.evidence)
    assert ans.model == "smollm2-135m"
    assert ans.timings["first_token_s"] <= ans.timings["total_s"]


@pytest.mark.slow
def test_default_model_answers_a_seed_question(small_index: Path, real_embedder) -> None:
    s = Settings(index_dir=small_index)
    pipe = Pipeline(open_index(small_index, real_embedder.model_id), real_embedder, s)
    ans = pipe.answer("Which country did US officials warn against striking an arms deal with Russia?")
    assert ans.model == s.model
    assert not ans.refused, ans.reason
    assert "north korea" in ans.short.lower()
    assert ans.citations and all(c.supported for c in ans.citations)


def test_context_overflow_shrinks_the_prompt_instead_of_crashing(hash_index: Path) -> None:
    pipe, gen = make(hash_index, "Quillon Systems", evidence_tokens=2000, max_answer_tokens=64)
    gen.n_ctx = 300  # a tiny context window: ~4 characters per token in the scripted tokenizer
    long_q = "Which company did the National Privacy Board fine? " + "Please explain in detail. " * 200
    ans = pipe.answer(long_q)
    assert gen.count_tokens(gen.prompts[-1]) + 64 <= 300
    assert ans.evidence  # at least one passage survived


class UnsureRefuser(ScriptedGenerator):
    """Refuses when it may (greedy), though "Insufficient" is only a p = `p_refuse` first token;
    banned from refusing, it names the company the sample corpus fined."""

    def __init__(self, p_refuse: float) -> None:
        super().__init__("Quillon Systems")
        self.p_refuse = p_refuse
        self.bans: list[tuple[str, ...]] = []

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        import math

        return [math.log(self.p_refuse) if o == "Insufficient" else -10.0 for o in options]

    def stream(self, prompt, max_tokens, grammar=None, stop=None, ban=()):  # type: ignore[no-untyped-def]
        self.bans.append(tuple(ban))
        yield "Quillon Systems" if "Insufficient" in ban else "Insufficient information."


@pytest.mark.parametrize(("p_refuse", "min_prob", "refused"), [(0.17, 0.5, False), (0.9, 0.5, True), (0.17, 0.0, True)])
def test_model_refusal_needs_refusal_min_prob(hash_index: Path, p_refuse: float, min_prob: float, refused: bool) -> None:
    from rag.embed import HashEmbedder

    emb = HashEmbedder()
    gen = UnsureRefuser(p_refuse)
    s = Settings(index_dir=hash_index, refusal_min_prob=min_prob)
    pipe = Pipeline(open_index(hash_index, emb.model_id), emb, s, generator=gen)
    ans = pipe.answer("Which company did the National Privacy Board fine $48 million?")
    assert ans.refused is refused, (ans.answer, ans.reason)
    assert ("Insufficient" in gen.bans[-1]) is (not refused)
    if not refused:
        assert ans.short == "Quillon Systems" and ans.citations
