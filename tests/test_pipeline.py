"""The online composer: streaming order, refusals, answer styles, the model gate.

Fast tests use the hash embedder and a scripted generator over our sample corpus;
integration tests use the real MiniLM index, SmolLM2 and (slow) the default model.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from rag.build import BuildOptions, build_index
from rag.cite import states
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


FINED = "The National Privacy Board fined Quillon Systems $48 million."


def test_stream_order_sources_draft_tokens_then_checked_answer(hash_index: Path) -> None:
    pipe, gen = make(hash_index, FINED)
    events = list(pipe.stream("Which company did the National Privacy Board fine?"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "retrieval" and events[0].hits and not events[0].evidence
    assert kinds[1] == "retrieval" and events[1].evidence
    assert kinds[2] == "draft" and "[" in events[2].text  # cited passages on screen before the model runs
    assert kinds[-1] == "answer" and set(kinds[3:-1]) == {"token"}
    ans = events[-1].answer
    assert ans is not None and not ans.refused
    assert ans.form == "fact" and "Quillon Systems" in ans.short
    assert ans.sentences[0].role == "answer" and ans.sentences[0].cites
    assert ans.citations and all(c.supported for c in ans.citations)
    ev = {e.n: e for e in ans.evidence}
    for c in ans.citations:  # every citation is one of the passages shown, with its exact span
        assert c.n in ev and c.quote == ev[c.n].text and (c.start, c.end) == (ev[c.n].start, ev[c.n].end)
    assert set(ans.timings) >= {"retrieve_s", "first_words_s", "first_token_s", "total_s"}
    assert ans.timings["first_words_s"] <= ans.timings["first_token_s"] <= ans.timings["total_s"]
    # the prompt carries the evidence before the question, and the fixed system text first
    assert gen.prompts[0].index("Passages:") < gen.prompts[0].index("Question:")
    assert ans.to_json()["form"] == "fact" and ans.to_json()["as_of"]


def test_yes_no_decision_has_no_bias_and_shows_the_settling_passage(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "No")
    ans = pipe.answer("Did The Ledger report that Quillon Systems was fined?")
    assert ans.short.startswith("No") and not ans.refused
    assert ans.citations, "a Yes/No answer quotes the evidence that settles it"
    assert any(s.role == "support" and "The Ledger" in s.text for s in ans.sentences)
    pipe_yes, _ = make(hash_index, "Yes")
    assert pipe_yes.answer("Did The Ledger report that Quillon Systems was fined?").short.startswith("Yes")


def test_yes_no_is_decided_over_the_settling_passage_it_shows(hash_index: Path) -> None:
    # the scripted model answers "No" over many passages and "Yes" over one: the decision is the
    # one made over the single passage, and that passage is the one the answer shows first
    def reply(prompt: str) -> str:
        return "Yes" if "Passage: " in prompt else "No"

    pipe, gen = make(hash_index, reply)
    ans = pipe.answer("Did The Ledger report that Quillon Systems was fined?")
    assert ans.short.startswith("Yes"), ans.raw
    settle = [p for p in gen.prompts if "Passage: " in p]
    assert len(settle) == 1
    first_support = next(s for s in ans.sentences if s.role == "support")
    quoted = next(c for c in ans.citations if c.n == first_support.cites[0])
    assert " ".join(quoted.quote.split())[:60] in " ".join(settle[0].split())


class CoinToss(ScriptedGenerator):
    """Sure it is Yes or No (never "Insufficient") over all the passages, then ``margin`` nats
    apart between Yes and No over the one settling passage."""

    def __init__(self, margin: float) -> None:
        super().__init__("Yes")
        self.margin = margin

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        self.prompts.append(prompt)
        if "Passage: " not in prompt:
            return [-10.0 if o == "Insufficient" else -1.0 for o in options]
        return [-1.0 + self.margin if o == "Yes" else -1.0 for o in options]


@pytest.mark.parametrize(("margin", "decided"), [(0.1, False), (-0.3, False), (0.6, True), (-0.6, True)])
def test_a_yes_no_decision_the_model_is_unsure_of_quotes_the_passage_instead(hash_index: Path, margin: float, decided: bool) -> None:
    from rag.embed import HashEmbedder
    from rag.pipeline import YESNO_SURE

    emb = HashEmbedder()
    pipe = Pipeline(open_index(hash_index, emb.model_id), emb, Settings(index_dir=hash_index), generator=CoinToss(margin))
    ans = pipe.answer("Did the transit union ratify the contract?")
    assert (abs(margin) >= YESNO_SURE) is decided
    if decided:
        assert not ans.refused and ans.short.startswith("Yes" if margin > 0 else "No")
        return
    # not a guessed Yes or No: the passage that bears on it, quoted and cited, for the reader to judge
    assert ans.refused and "could not decide either way" in ans.reason, ans.reason
    assert "voted to accept the contract" in ans.reason and re.search(r"\[\d+\]$", ans.reason)
    bearing = [s for s in ans.sentences if s.role == "bearing"]
    assert bearing and all(s.supported and s.cites for s in bearing)
    by_n = {e.n: e for e in ans.evidence}
    n = int(re.search(r"\[(\d+)\]$", ans.reason).group(1))
    assert n == bearing[0].cites[0] and "voted to accept the contract" in by_n[n].text


def test_yes_no_question_the_passages_do_not_settle_is_refused(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "Insufficient")
    ans = pipe.answer("Did Quillon Systems pay the fine in cash?")
    assert ans.refused and "do not say" in ans.reason


def test_unknown_outlet_is_refused_before_the_model_runs(hash_index: Path) -> None:
    pipe, gen = make(hash_index, FINED)
    for q in ("What did a Bloomberg article say about the Quillon fine?", "What did Bloomberg report about Kestrel?"):
        ans = pipe.answer(q)
        assert ans.refused and "Bloomberg" in ans.reason, q
    assert gen.prompts == []


def test_capitalised_prose_is_not_an_outlet(hash_index: Path) -> None:
    pipe, gen = make(hash_index, "Kestrel recalled the Arro 2 over batteries that can overheat.")
    ans = pipe.answer("Summarize the Kestrel coverage")
    assert not ans.refused, ans.reason
    assert gen.prompts


def test_an_answer_no_passage_supports_is_never_replaced_by_a_name(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "Globex Corporation fined the company.")
    ans = pipe.answer("Which company did the National Privacy Board fine?")
    assert "Globex" not in ans.answer
    if not ans.refused:  # the fallback: the best passage for the question, quoted and cited
        assert ans.sentences[0].role == "answer" and "“" in ans.sentences[0].text and ans.citations


def test_model_refusal_passes_through(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "Insufficient information.", refusal_min_prob=0.0)
    ans = pipe.answer("Which company did the National Privacy Board fine?")
    assert ans.refused and ans.answer.startswith("Insufficient information.")


def test_the_models_markers_outside_the_evidence_are_dropped(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "The National Privacy Board fined Quillon Systems $48 million [1][9].")
    ans = pipe.answer("Which company did the National Privacy Board fine, and how much?")
    assert "[9]" not in ans.answer
    assert all(c.n <= len(ans.evidence) for c in ans.citations)


def test_a_summary_has_several_cited_sentences_in_date_order(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "Quillon Systems leaked customer data, was fined $48 million and appealed.")
    ans = pipe.answer("Can you summarize the Quillon data leak story?")
    assert ans.form == "summary" and not ans.refused
    support = [s for s in ans.sentences if s.role == "support"]
    assert len(support) >= 3 and all(s.cites and s.supported for s in support)
    dates = [ans.evidence[s.cites[0] - 1].published_at for s in support]
    assert dates == sorted(dates)


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
        return FINED

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
    assert "Quillon Systems" in pipe.answer("Which company did the National Privacy Board fine?").short


def test_follow_up_is_rewritten_before_retrieval(hash_index: Path) -> None:
    from rag.followup import Turn

    pipe, _ = make(hash_index, "Yes")
    events = list(pipe.stream("Did it appeal?", history=[Turn("Which company was fined?", "Quillon Systems")]))
    assert events[0].query == "Did Quillon Systems appeal?"
    assert events[-1].answer.rewritten_query == "Did Quillon Systems appeal?"


def test_real_smollm2_end_to_end(small_index: Path, real_embedder, smollm2) -> None:
    s = Settings(index_dir=small_index)
    pipe = Pipeline(open_index(small_index, real_embedder.model_id), real_embedder, s, generator=smollm2)
    events = list(pipe.stream("Did US officials warn North Korea against an arms deal with Russia?"))
    assert events[0].kind == "retrieval" and events[-1].kind == "answer"
    ans = events[-1].answer
    assert ans.refused or ans.short.split(".")[0] in {"Yes", "No"}
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
    assert all(s.supported and s.cites for s in ans.sentences)


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
        super().__init__(FINED)
        self.p_refuse = p_refuse
        self.bans: list[tuple[str, ...]] = []

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        import math

        return [math.log(self.p_refuse) if o == "Insufficient" else -10.0 for o in options]

    def _stream(self, prompt, max_tokens, grammar=None, stop=None, ban=()):  # type: ignore[no-untyped-def]
        self.bans.append(tuple(ban))
        yield FINED if "Insufficient" in ban else "Insufficient information."


@pytest.mark.parametrize(
    ("p_refuse", "min_prob", "refused"),
    [(0.17, 0.5, False), (0.9, 0.5, True), (0.17, 0.25, False), (0.3, 0.25, True), (0.17, 0.0, True)],
)
def test_model_refusal_is_decided_by_its_probability(hash_index: Path, p_refuse: float, min_prob: float, refused: bool) -> None:
    from rag.embed import HashEmbedder

    emb = HashEmbedder()
    gen = UnsureRefuser(p_refuse)
    s = Settings(index_dir=hash_index, refusal_min_prob=min_prob)
    pipe = Pipeline(open_index(hash_index, emb.model_id), emb, s, generator=gen)
    ans = pipe.answer("Which company did the National Privacy Board fine $48 million?")
    assert ans.refused is refused, (ans.answer, ans.reason)
    if min_prob > 0:
        # at p >= min_prob the model refuses without writing (though "Insufficient" is not the likeliest
        # token: the scripted model puts -10 on every other option); below it, it may not refuse
        assert bool(gen.bans) is (not refused)
        if gen.bans:
            assert "Insufficient" in gen.bans[-1]
    if refused:
        assert "no answer" in ans.reason and ans.evidence  # the passages read are still shown
    else:
        assert "Quillon Systems" in ans.short and ans.citations


def test_a_year_no_article_found_is_from_or_mentions_is_refused_before_the_model(hash_index: Path) -> None:
    pipe, gen = make(hash_index, "Kestrel recalled 18,000 Arro 2 e-bikes.")
    ans = pipe.answer("How many Arro 2 bikes did Kestrel recall in 2021?")
    assert ans.refused and "2021" in ans.reason and ans.hits  # the sources found are still shown
    assert gen.prompts == []
    # a year the articles are from is no obstacle
    assert not pipe.answer("How many Arro 2 bikes did Kestrel recall in 2023?").refused


def test_this_week_with_no_article_from_this_week_is_refused_not_answered_from_old_news(hash_index: Path) -> None:
    # the sample corpus ends on December 27, 2023; its newest Kestrel article is from December 11
    pipe, gen = make(hash_index, "Kestrel has taken 12,000 preorders for the Arro 2.", as_of="2023-12-28")
    ans = pipe.answer("What did Kestrel say this week about Arro 2 orders?")
    assert ans.refused and "this week (December 21 to 28, 2023)" in ans.reason and "December 11, 2023" in ans.reason
    assert ans.hits and gen.prompts == []  # the sources found are still shown; the model never ran
    # a week the articles are from is answered
    pipe, _ = make(hash_index, "Kestrel has taken 12,000 preorders for the Arro 2.", as_of="2023-12-12")
    assert not pipe.answer("What did Kestrel say this week about Arro 2 orders?").refused



def test_a_yes_no_question_whose_outcome_is_still_pending_is_not_decided(hash_index: Path) -> None:
    # the sample corpus says Kestrel "is seeking compensation" from Tessaro; no article reports an outcome
    pipe, gen = make(hash_index, "Yes.")
    ans = pipe.answer("Did Tessaro Cells agree to pay Kestrel compensation for the recall?")
    assert ans.refused and "still pending" in ans.reason and "seeking compensation" in ans.reason
    assert ans.evidence and gen.prompts == []  # the passages are shown; no model guessed Yes or No
    # a question the passages do settle still goes to the decider
    ans = pipe.answer("Did the transit union members vote to accept the new contract?")
    assert not ans.refused and gen.prompts


def test_a_decimal_point_does_not_end_the_direct_answer() -> None:
    from rag.pipeline import _sentences_done

    assert _sentences_done("The cheapest version has a 6.") == 0  # "9-second ..." may follow
    assert _sentences_done("The cheapest version has a 6.9") == 0
    assert _sentences_done("It costs $60,990. ") == 1
    assert _sentences_done("It costs $60,990. [2] The") == 1
    assert _sentences_done("It costs $60,990 [2]. It ships in 2024. [3] ") == 2


def test_streaming_stops_after_the_sentence_not_at_a_decimal_point(hash_index: Path) -> None:
    # the scripted model streams 4 characters at a time: one piece ends exactly at "$48."
    reply = "The board fined Quillon Systems $48.5 million over the leak. It also ordered an audit."
    assert reply[32:36] == "$48."
    pipe, _ = make(hash_index, reply)
    ans = pipe.answer("How much was Quillon Systems fined?")
    assert "$48.5 million over the leak." in ans.raw
    assert "audit" not in ans.raw  # a fact gets one sentence: streaming stopped after it


def test_a_banned_opening_word_is_banned_only_as_the_first_token(smollm2) -> None:
    """``ban`` keeps "Yes"/"No"/"Insufficient" from opening a wh-answer; the same words stay
    allowed later ("there were no injuries"): a logit bias held at every step forbade them."""
    prompt = smollm2.chat_prompt("You are a helpful assistant.", "Describe the sky on a clear day in one sentence.")
    free = "".join(smollm2.stream(prompt, 24))
    words = free.split()
    assert len(words) >= 4, free
    later = next(w.strip(".,").lower() for w in words[2:] if w.strip(".,").isalpha())
    assert "".join(smollm2.stream(prompt, 24, ban=[later])) == free  # a later word is not affected
    opening = words[0].strip(".,")
    assert not "".join(smollm2.stream(prompt, 24, ban=[opening])).startswith(opening)


def test_a_question_for_a_figure_the_passages_do_not_state_is_refused_with_what_they_do_say(hash_index: Path) -> None:
    # the passages are about the fine, not a salary: the model's sentence names no figure
    pipe, _ = make(hash_index, "Quillon Systems was fined by the National Privacy Board.")
    ans = pipe.answer("How much did Quillon Systems pay its chief executive?")
    assert ans.refused and "figure" in ans.reason
    assert any(s.supported for s in ans.sentences)  # what the passages do say stays folded under it
    # the same sentence is an answer where no figure is asked for
    assert not pipe.answer("Which board fined Quillon Systems?").refused
    # a figure stated by the model and found in its passage answers it
    pipe, _ = make(hash_index, FINED)
    ans = pipe.answer("How much was Quillon Systems fined?")
    assert not ans.refused and "48" in ans.short


def test_a_when_question_the_model_answers_without_a_time_is_answered_by_the_passage_that_states_it(hash_index: Path) -> None:
    pipe, _ = make(hash_index, "The transit strike in Northfield is now in its second week.")
    ans = pipe.answer("When did the Northfield transit strike start?")
    assert not ans.refused, ans.reason
    lead = ans.sentences[0]
    assert lead.role == "answer" and "October 2, 2023" in lead.text  # "on Monday" read against its article's date
    assert "second week" not in lead.text


def test_a_who_question_answered_without_a_name_is_led_by_the_passage_that_names_them(hash_index: Path) -> None:
    q = "Who replaced Marcus Delane at the Glenmoor Housing Trust?"
    pipe, gen = make(hash_index, "She replaces an interim leadership team at the Glenmoor Housing Trust.")
    ans = pipe.answer(q)
    assert {"He", "She", "They"} <= set(gen.bans[-1])  # the model may not open with a pronoun
    assert not ans.refused, ans.reason
    lead = ans.sentences[0]
    assert lead.role == "answer" and "She replaces" not in lead.text
    assert states("person", lead.text, q) and "“" in lead.text  # a passage that names someone stands in
    pipe, gen = make(hash_index, FINED)
    pipe.answer("Which board fined Quillon Systems?")
    assert "She" not in gen.bans[-1]  # only a question about who


def test_a_who_question_with_no_name_in_its_passages_keeps_its_answer(hash_index: Path) -> None:
    # a name is preferred, not required: nobody is named as hurt, and the answer says who was
    pipe, _ = make(hash_index, "An owner suffered a minor burn while charging an Arro 2 battery.")
    ans = pipe.answer("Who was hurt by the overheating Arro 2 batteries?")
    assert not ans.refused, ans.reason
    assert ans.sentences[0].role == "answer" and "minor burn" in ans.sentences[0].text


def test_yes_no_questions_are_decided_by_the_yes_no_model_and_others_written_by_the_answer_model(hash_index: Path) -> None:
    from rag.embed import HashEmbedder

    emb = HashEmbedder()
    writer, decider = ScriptedGenerator(FINED), ScriptedGenerator("No")
    pipe = Pipeline(open_index(hash_index, emb.model_id), emb, Settings(index_dir=hash_index), generator=writer, decider=decider)
    for p in (pipe, pipe.with_index(pipe.index)):
        writer.prompts.clear()
        decider.prompts.clear()
        ans = p.answer("Did The Ledger report that Quillon Systems was fined?")
        assert ans.short.startswith("No") and decider.prompts and not writer.prompts
        ans = p.answer("Which company did the National Privacy Board fine?")
        assert "Quillon Systems" in ans.short and writer.prompts and len(decider.prompts) == 2  # none more
    # no separate Yes/No model: the one given model does everything
    one, gen = make(hash_index, "No")
    assert one.answer("Did The Ledger report that Quillon Systems was fined?").short.startswith("No") and gen.prompts
    assert Settings().yesno_model and Settings().yesno_model != Settings().model  # the measured default pair


def test_a_yes_no_subject_no_passage_mentions_is_named_as_the_question_writes_it(hash_index: Path) -> None:
    pipe, gen = make(hash_index, "Yes.")
    ans = pipe.answer("Did Everton win their appeal?")
    assert ans.refused and ans.reason == "no passage mentions Everton" and gen.prompts == []


def test_a_reason_the_passages_do_not_give_is_refused_not_stood_in_for_by_a_quote_about_its_names(hash_index: Path) -> None:
    # the model's reason is in no passage; the passages on Ferrand say he signed from Port Elling, not why he left
    pipe, _ = make(hash_index, "Ferrand left Port Elling because of a pay dispute [1].")
    ans = pipe.answer("Why did Mateo Ferrand leave Port Elling?")
    assert ans.refused and "“leave”" in ans.reason, ans.answer
    assert any(s.supported for s in ans.sentences)  # what the passages do say stays folded under it
    # a quote that speaks to what is asked still stands in for a reason the model got wrong
    pipe, _ = make(hash_index, "Kestrel recalled the bikes because of a pay dispute [1].")
    ans = pipe.answer("Why did Kestrel recall the Arro 2?")
    assert not ans.refused and "“" in ans.sentences[0].text and "recall" in ans.sentences[0].text.lower(), ans.answer


def test_a_yes_no_subject_is_mentioned_by_its_demonym(tmp_path: Path) -> None:
    # "Did Russia comment on the talks?" was refused as no passage saying anything about "comment":
    # the one that does says "the Russian embassy", and only passages naming Russia were read
    from rag.embed import HashEmbedder

    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "warning.md").write_text(
        "title: US warns Pyongyang over arms talks\nsource: Wire\ndate: 2023-11-14\n\n"
        "US officials have warned North Korea against an arms deal with Russia. Arms negotiations between Russia "
        "and North Korea are progressing. Despite requests for comment, the Russian embassy in Washington "
        "declined to provide any additional information.\n",
        encoding="utf-8",
    )
    idx = tmp_path / "idx"
    build_index([corpus], idx, HashEmbedder(), BuildOptions(progress=False))
    emb = HashEmbedder()
    gen = ScriptedGenerator("No")
    pipe = Pipeline(open_index(idx, emb.model_id), emb, Settings(index_dir=idx), generator=gen)
    ans = pipe.answer("Did Russia comment on the talks?")
    assert not ans.refused, ans.reason
    assert ans.short.startswith("No") and any("Russian embassy" in c.quote for c in ans.citations)


def _news_pipe(tmp_path: Path, articles: dict[str, str], reply: object = "Yes") -> tuple[Pipeline, ScriptedGenerator]:
    from rag.embed import HashEmbedder

    corpus = tmp_path / "news"
    corpus.mkdir()
    for name, text in articles.items():
        (corpus / name).write_text(text, encoding="utf-8")
    idx = tmp_path / "idx"
    build_index([corpus], idx, HashEmbedder(), BuildOptions(progress=False))
    emb = HashEmbedder()
    gen = ScriptedGenerator(reply)
    return Pipeline(open_index(idx, emb.model_id), emb, Settings(index_dir=idx), generator=gen), gen


PREVIEW = (
    "title: Christmas Day preview: Harbor Hawks host the Valley Rams\nsource: Wire\ndate: 2023-12-24\n\n"
    "The Harbor Hawks host the Valley Rams on Christmas night in the most hyped game of the week. "
    "The Rams defense has allowed the fewest points in the league this season.\n"
)
HOLIDAY_PIECE = (
    "title: Are Christmas Day games a better tradition than Thanksgiving ones?\nsource: Blog\ndate: 2023-12-25\n\n"
    "Christmas Day games have become a tradition for basketball fans, who argue about them every year.\n"
)


def test_what_happened_on_a_day_later_than_every_article_about_it_is_refused(tmp_path: Path) -> None:
    # the preview of December 24 cannot say who won on Christmas night; an article of December 25
    # about something else (holiday games in general) does not report it either
    pipe, gen = _news_pipe(tmp_path, {"preview.md": PREVIEW, "holiday.md": HOLIDAY_PIECE}, "No")
    ans = pipe.answer("Did the Hawks beat the Rams on Christmas night?")
    assert ans.refused and "Christmas night (December 25, 2023)" in ans.reason and "December 24, 2023" in ans.reason
    assert ans.hits and gen.prompts == []  # the sources are shown; no model guessed
    # what a preview does tell (when and where the game is) is still answered from it
    assert not pipe.answer("Where do the Hawks play the Rams on Christmas night?").refused
    # a day that dates an article is not the day of an event
    ans = pipe.answer("Did the article published on Christmas Day say the Hawks host the Rams?")
    assert "every article found" not in ans.reason


def test_a_contest_still_to_be_played_is_not_decided_yes_or_no(tmp_path: Path) -> None:
    article = (
        "title: Harbor Hawks through to the playoff\nsource: Wire\ndate: 2023-11-21\n\n"
        "The Harbor Hawks will now have to defeat the Valley Rams in a one-off playoff in March to reach the Coastal "
        "Cup final. The Hawks won the first leg of the quarter-final 2-1.\n"
    )
    pipe, gen = _news_pipe(tmp_path, {"playoff.md": article}, "Yes")
    ans = pipe.answer("Will the Hawks beat the Rams in the playoff?")
    assert ans.refused and "still to come" in ans.reason and "one-off playoff" in ans.reason
    assert gen.prompts == []


def test_an_event_no_article_names_with_all_its_names_is_refused_not_joined_from_apart(tmp_path: Path) -> None:
    # one article has Tim Cook on an earnings call, another the Epic v. Google trial: neither has
    # him at the trial, so "What did he say when he testified there?" is refused, naming what is missing
    call = (
        "title: Apple bets on generative AI\nsource: Wire\ndate: 2023-11-03\n\n"
        "Apple CEO Tim Cook pushed back on the earnings call against the notion that Apple was behind in AI.\n"
    )
    trial = (
        "title: Epic v. Google goes to the jury\nsource: Wire\ndate: 2023-12-11\n\n"
        "The Epic v. Google trial heard closing arguments on Monday, and Google's lawyers testified about fees.\n"
    )
    pipe, gen = _news_pipe(tmp_path, {"call.md": call, "trial.md": trial}, "Tim Cook testified at the Epic v. Google trial.")
    ans = pipe.answer("What did Tim Cook say when he testified at the Epic v. Google trial?")
    assert ans.refused and "“Tim Cook”" in ans.reason and "“Epic v. Google”" in ans.reason and "together" in ans.reason
    assert ans.hits and gen.prompts == []
    # what one article does tell of all its names is answered; a post ("CEO") is no name to look for
    gen.reply = "Tim Cook said Apple was not behind in AI. [1]"
    ans = pipe.answer("What did Apple CEO Tim Cook say on the earnings call?")
    assert "together" not in ans.reason and gen.prompts


def test_a_person_asked_about_like_an_outlet_is_noted_as_no_outlet_not_as_missing(tmp_path: Path) -> None:
    # "What did Tim Cook say ..." is read like "What did Reuters say ...": the note says the
    # collection has no outlet of that name, not that he is missing from it
    call = (
        "title: Apple bets on generative AI\nsource: Wire\ndate: 2023-11-03\n\n"
        "Apple CEO Tim Cook said on the earnings call that Apple was not behind in AI.\n"
    )
    pipe, _ = _news_pipe(tmp_path, {"call.md": call}, "Tim Cook said Apple was not behind in AI. [1]")
    ans = pipe.answer("What did Tim Cook say about AI?")
    assert "no outlet in this collection is named Tim Cook" in ans.notes
    assert not any(n.startswith("not in the index") for n in ans.notes), ans.notes


class PartJudge(ScriptedGenerator):
    """Sure over all the passages; over one passage, ``margins[i]`` nats for Yes on its i-th
    settle prompt (one per part of a two-part claim)."""

    def __init__(self, margins: list[float]) -> None:
        super().__init__("Yes")
        self.margins = margins
        self.settles: list[str] = []

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        self.prompts.append(prompt)
        if "Passage: " not in prompt:
            return [-10.0 if o == "Insufficient" else -1.0 for o in options]
        self.settles.append(prompt)
        m = self.margins[min(len(self.settles), len(self.margins)) - 1]
        return [-1.0 + m if o == "Yes" else -1.0 for o in options]


def _judged(hash_index: Path, margins: list[float]) -> tuple[Pipeline, PartJudge]:
    from rag.embed import HashEmbedder

    emb = HashEmbedder()
    judge = PartJudge(margins)
    return Pipeline(open_index(hash_index, emb.model_id), emb, Settings(index_dir=hash_index), generator=judge), judge


BOTH = "Did Harbor Daily and The Ledger both report that Quillon Systems was fined $48 million?"


def test_a_claim_of_two_outlets_is_decided_over_each_outlets_passage(hash_index: Path) -> None:
    pipe, judge = _judged(hash_index, [1.0, 1.0])
    ans = pipe.answer(BOTH)
    assert not ans.refused and ans.short.startswith("Yes"), ans.reason
    # one settle prompt per outlet, each asking the part of the passage, not the whole question
    assert len(judge.settles) == 2
    assert all("Does this passage report that Quillon Systems was fined $48 million?" in p for p in judge.settles)
    by_n = {e.n: e for e in ans.evidence}
    quoted = [by_n[s.cites[0]] for s in ans.sentences if s.role == "support"]
    assert {e.source for e in quoted} == {"Harbor Daily", "The Ledger"}
    # each settle prompt read the passage of its outlet that the answer quotes
    for p, e in zip(judge.settles, quoted, strict=True):
        assert " ".join(e.text.split())[:50] in " ".join(p.split())


def test_one_part_surely_not_so_makes_the_claim_no_and_is_quoted_first(hash_index: Path) -> None:
    pipe, judge = _judged(hash_index, [1.0, -1.0])
    ans = pipe.answer(BOTH)
    assert not ans.refused and ans.short.startswith("No")
    by_n = {e.n: e for e in ans.evidence}
    first = next(s for s in ans.sentences if s.role == "support")
    assert by_n[first.cites[0]].text.split()[:8] == [w for w in judge.settles[1].split("Passage: ")[1].split()[:8]]


def test_one_unsure_part_is_quoted_for_the_reader_to_judge(hash_index: Path) -> None:
    pipe, _ = _judged(hash_index, [1.0, 0.1])
    ans = pipe.answer(BOTH)
    assert ans.refused and "could not decide whether The Ledger says so" in ans.reason, ans.reason
    assert [s.role for s in ans.sentences] == ["bearing"]


def test_a_part_no_passage_speaks_to_is_not_answered_no(hash_index: Path) -> None:
    # the decider would say "No" to the second part, but no passage holds what it claims: that is
    # no evidence against it, so the question is refused with the part no passage answers
    pipe, judge = _judged(hash_index, [1.0, -2.0])
    ans = pipe.answer("Did the National Privacy Board fine Quillon Systems, and was its chief executive knighted by the lottery board?")
    assert ans.refused and "no passage found clearly answers" in ans.reason and "knighted" in ans.reason, ans.reason
    # the passage nearest to that part is quoted with a working marker, for the reader to judge
    bearing = [s for s in ans.sentences if s.role == "bearing"]
    assert len(bearing) == 1 and ans.reason.endswith(f"[{bearing[0].cites[0]}]")
    assert len(judge.settles) == 2


def test_a_part_no_passage_holds_a_word_of_is_not_put_to_the_model(hash_index: Path) -> None:
    pipe, judge = _judged(hash_index, [1.0, -2.0])
    ans = pipe.answer("Did the National Privacy Board fine Quillon Systems, and did a helicopter land on the lottery?")
    assert ans.refused and "no passage found speaks to" in ans.reason and "helicopter" in ans.reason, ans.reason
    assert len(judge.settles) == 1  # only the part a passage speaks to was put to the decider


def test_a_why_question_whose_article_says_no_reason_is_known_is_answered_so(tmp_path: Path) -> None:
    # the model gives the event itself as its reason; the passage it rests on says it was inexplicable
    article = (
        "title: The small EVs we lost in 2023\nsource: TechCrunch\ndate: 2023-12-19\n\n"
        "ElectraMeccanica soon entered into a plan to merge with electric truck maker Tevva. In October, "
        "ElectraMeccanica inexplicably pulled the plug on that merger. The company later agreed to be bought by Xos.\n"
    )
    reply = "ElectraMeccanica called off its merger with Tevva because it inexplicably pulled the plug on it in October [2]."
    pipe, _ = _news_pipe(tmp_path, {"evs.md": article}, reply)
    ans = pipe.answer("Why did ElectraMeccanica call off its merger with Tevva?")
    assert ans.refused and ans.reason.startswith("the articles found do not say why"), ans.answer
    assert "inexplicably pulled the plug" in ans.reason and any(s.role == "bearing" for s in ans.sentences)
    # a reason the passage does give still stands
    given = article.replace("inexplicably pulled the plug on that merger", "pulled the plug on that merger because Tevva ran out of cash")
    (tmp_path / "again").mkdir()
    pipe, _ = _news_pipe(tmp_path / "again", {"evs.md": given}, "ElectraMeccanica called off the merger because Tevva ran out of cash [2].")
    ans = pipe.answer("Why did ElectraMeccanica call off its merger with Tevva?")
    assert not ans.refused and "ran out of cash" in ans.answer, ans.reason
