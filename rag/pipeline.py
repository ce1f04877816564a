"""Online composer: question -> form -> retrieve -> evidence -> draft -> model -> compose -> check.

``Pipeline.from_settings(settings)`` wires the real components; tests pass fakes to
the constructor instead. The LLM is loaded lazily, so ``search`` never pays for it.
``stream`` yields, in order: a ``retrieval`` event with the hits (before the model is
loaded), a second one with the numbered evidence, a ``draft`` event (the passages that
bear most on the question, cited: the first words on screen while the model reads),
``token`` events as the model writes its direct answer, and one ``answer`` event with
the checked ``Answer``, which replaces the draft. ``answer`` is ``stream`` run to the end.

The question's form (``rag.forms``) decides how much evidence is read, in what order,
what the model is asked to write, and which passages support it (``rag.compose``).
Every sentence of the answer is then checked against what it cites (``rag.cite``); one
that fails is dropped; an answer with no supported sentence is a refusal with the
reason. Refusals before the model runs: an outlet that the collection neither holds
nor quotes, a multi-word name no article contains, nothing retrieved, and a Yes/No
question about a subject no passage mentions. One question holds the model for all
of its calls (``Generator.hold``), so questions never interleave.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from rag.cite import ASKED, NO_REASON, SOFT_ASKS, check_answer, relevance, states, strip_markers, term_share, unexplained
from rag.claims import ClaimPart, claim_parts
from rag.compose import (
    BEARING,
    CLAIM_SHARE,
    choose_support,
    compose,
    direct_text,
    fallback_direct,
    parse_direct,
    possible_only,
    quote,
    stating_passages,
    support_text,
    unsettled,
    words_for,
)
from rag.embed import Embedder, load_embedder
from rag.evidence import budget_for, causal_bonus, format_evidence, long_date, select_evidence, up_to
from rag.followup import Turn, rewrite
from rag.forms import QuestionForm, asks_for, asks_what_happened, classify
from rag.index import Index, open_index
from rag.lexical import OFFICES, claim_terms, mentioned, subject_terms, terms
from rag.prompt import build_prompt, build_settle_prompt
from rag.query import DateRange
from rag.retrieve import Filters, RetrievalParams, Retriever, SearchResult
from rag.settings import Settings
from rag.types import Answer, AnswerSentence, Citation, Evidence, Hit
from rag.words import REFUSAL, ROLE_WORDS, is_refusal, refusal_text

log = logging.getLogger(__name__)

# most tokens the model may write for its direct answer, by form
ANSWER_TOKENS = {"fact": 40, "yesno": 48, "explanation": 72, "event": 72, "open": 72}
LONG_ANSWER_TOKENS = 80
EXTRA_K_LONG = 5  # summaries and timelines read more articles
# why / how questions: a sentence right after a well-matched one scores that one's score on top
# of its own (the reason is often told there); on the tune splits this raised explanations'
# evidence recall 0.33 -> 0.67 (sample) and 0.88 -> 1.00 (MultiHop natural). Events get half
# of it (what was agreed or announced is told after the sentence that names it: "voted to accept
# the contract" then "The two-year agreement gives ... a 7% raise"): at full weight their
# evidence recall fell (0.50 -> 0.42 on MultiHop natural, tune); at 0.5 it rose on the tune splits
# (MultiHop natural 0.60 -> 0.70, sample unchanged) and on the held-out test splits (sample
# 0.25 -> 0.42, MultiHop natural 0.33 -> 0.50). bench/evidence_recall.py --follow measures it.
# A list's items are told one after another ("The all-wheel drive variant ...", "The third
# variant, called the Cyberbeast, ..."): for a list the bonus runs on down the sentences of a
# chunk (each takes 0.7 of the one before it, already raised); list evidence recall on the
# MultiHop natural tune split 0.67 -> 0.83 (2 questions: a small sample)
FOLLOW: dict[str, float] = {"explanation": 1.0, "event": 0.5, "list": 0.7}
FOLLOW_CHAIN = {"list"}
# sentences below 0.15 of the best one's score are not read; what the per-article caps leave
# of the budget goes to sentences >= 0.35 of the best, any article (``select_evidence``). With
# the list chain, evidence recall on the tune splits: MultiHop natural 0.72 -> 0.72, sample
# 0.83 -> 0.85, at the same evidence size (bench/evidence_recall.py --floor/--spill)
EVIDENCE_FLOOR = 0.15
EVIDENCE_SPILL = 0.35
# a question that asks for a count, an amount or a time: sentences that state one score this much
# more ("How many people went on strike?" read no sentence with the 1,900 strikers and was refused;
# evidence recall on the tune splits unchanged, MultiHop natural 0.75, sample 0.75)
STATING_BONUS = 0.15
# a question that asks for one thing (a fact, a reason, a list): a sentence holding only the names
# it is about, none of what it asks, loses this share of its score. Not for stories (events,
# summaries, timelines, the latest), whose sentences tell what happened to the names in other words
# ("What happened after Apple cut off Beeper Mini?" lost its facts at 0.3: bench/evidence_recall.py,
# MultiHop natural tune 0.80 -> 0.75). Stories left out, tune splits: sample 0.83 = 0.83,
# MultiHop natural 0.80 = 0.80, the new set 0.35 -> 0.42 (one question, 0.5: 0.81 / 0.77 / 0.42).
# Not for Yes/No either: there the names are part of the claim to be checked ("Did The Guardian
# single out Scott McTominay?" lost "the curious main character energy of Scott McTominay")
NAMES_ONLY_PENALTY = 0.3
NAMES_ONLY_SKIP = frozenset({"event", "summary", "timeline", "latest", "yesno"})
# a news article opens with its main facts: its first sentences score this much more (falling to 0
# by the fourth) when the article is about what is asked (``rag.evidence.LEDE_GATE``). Measured with
# bench/evidence_recall.py --lede on the tune splits: evidence recall MultiHop natural 0.75 -> 0.78,
# sample 0.75 -> 0.79 (events 0.62 -> 0.88, summaries 0.83 -> 0.93); timelines lost on the sample
# set (0.72 -> 0.65) and Yes/No lost (0.88 -> 0.62), so they read as before. Stop 29, timelines
# again: evidence recall on the tune splits up (MultiHop natural timelines 0.50 -> 0.75), but the
# answers no better (runs/*-s29b: held out one timeline fact gained and one lost; on the sample set
# the transit timeline gained a false sentence), so not kept
LEDE: dict[str, float] = {"event": 0.1, "summary": 0.1, "latest": 0.2}
# a Yes/No decision over its settling passage stands only when the decider's log P("Yes") -
# log P("No") is at least this far from even; nearer, the passage is quoted for the reader to judge
# (``undecided``). bench/yesno_passages.py, the 0.5B over the first passage shown: on the tune
# splits (34 decided questions) 17 right of all 34, 7 of the 12 kept at 0.4, and 6 of 12 unsettled
# ones no longer decided; held out (the test splits, 48) 33 right of all 48, 16 of the 19 kept. On
# the MultiHop-RAG dev sample the margin does not track correctness (README, stop 35)
YESNO_SURE = 0.4
# a part of a two-part claim (rag.claims) is decided only over a passage holding this share of
# what the part claims (its idf mass beyond the names), as any passage "bears" on a question
PART_BEARING = CLAIM_SHARE
_YEAR = re.compile(r"(?<![\w$.,])((?:19|20)\d\d)(?![\w,.]\d)")


def _span(start: date, end: date) -> str:
    """'December 21 to 28, 2023', or one day's date."""
    if start == end:
        return long_date(start)
    if start.year == end.year:
        return f"{start.strftime('%B')} {start.day} to {long_date(end) if start.month != end.month else f'{end.day}, {end.year}'}"
    return f"{long_date(start)} to {long_date(end)}"


def stating_bonus(query: str, form: QuestionForm) -> Any:
    """For a fact question that asks for a count, an amount or a time (``asks_for``): the
    evidence bonus of a sentence that states one of the kind asked for (``rag.cite.states``)."""
    asks = asks_for(query) if form.kind in ("fact", "open") else ""
    if not asks or asks in ("person", "name") or STATING_BONUS <= 0:
        return None

    def bonus(text: str) -> float:
        return STATING_BONUS if states(asks, text, query) else 0.0

    return bonus


def retrieval_params(s: Settings) -> RetrievalParams:
    return RetrievalParams(
        candidates=s.candidates,
        dense_weight=s.dense_weight,
        source_boost=s.source_boost,
        date_boost=s.date_boost,
        max_per_article=s.max_per_article,
        rerank_weight=s.rerank_weight,
        relative_boost=s.relative_boost,
        recency_boost=s.recency_boost,
    )


@dataclass(frozen=True)
class StreamEvent:
    """One step of ``Pipeline.stream``: kind is 'retrieval', 'draft', 'token' or 'answer'.

    'retrieval' comes first with the hits, and again with the numbered evidence once it
    is chosen (a refusal before the model runs sends only the first); 'draft' carries
    the cited passages shown until the checked answer replaces them."""

    kind: str
    hits: tuple[Hit, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    text: str = ""
    answer: Answer | None = None
    query: str = ""  # the standalone question actually searched (after follow-up rewriting)
    notes: tuple[str, ...] = ()
    form: str = ""


class Pipeline:
    """One loaded index + embedder (+ lazily, one LLM) answering questions."""

    def __init__(
        self, index: Index, embedder: Embedder, settings: Settings, generator: Any = None, decider: Any = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self._generator = generator
        self._decider = decider if decider is not None else generator  # one given model does everything
        self._gen_lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self._set_index(index)

    def _set_index(self, index: Index) -> None:
        self.index = index
        self.retriever = Retriever(index, self.embedder, retrieval_params(self.settings), as_of=self.settings.as_of)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None, generator: Any = None) -> Pipeline:
        index_dir = Path(settings.index_dir)
        # read the manifest first so a missing index fails before the slow model load
        open_index(index_dir, verify=False).close()
        emb = embedder or load_embedder(settings.embedder, settings.embed_batch_size, getattr(settings, "embed_backend", None))
        index = open_index(index_dir, embedder_id=emb.model_id)
        return cls(index, emb, settings, generator)

    # ------------------------------------------------------------------ components
    def _load(self, model: str) -> Any:
        from rag.generate import LlamaGenerator
        from rag.models import resolve_model

        s = self.settings
        path, name = resolve_model(model, Path(s.model_cache_dir), s.model_sha256 if model == s.model else "")
        return LlamaGenerator(
            path, name, n_ctx=s.n_ctx, n_threads=s.n_threads, timeout=s.request_timeout, seed=s.seed, use_mmap=s.model_mmap
        )

    @property
    def generator(self) -> Any:
        """The LLM that writes answers, loaded (and its file verified) on first use."""
        with self._gen_lock:
            if self._generator is None:
                self._generator = self._load(self.settings.model)
            return self._generator

    @property
    def decider(self) -> Any:
        """The LLM that decides Yes/No questions (``yesno_model``; the answer model when it is ''
        or the same), loaded on first use. A model given to the constructor alone decides too."""
        ym = self.settings.yesno_model
        if self._decider is None and (not ym or ym == self.settings.model):
            return self.generator
        with self._gen_lock:
            if self._decider is None:
                self._decider = self._load(ym)
            return self._decider

    def reload_index(self) -> dict[str, Any]:
        """Switch to the index directory's current version (after an update); old one closed."""
        new = open_index(self.settings.index_dir, embedder_id=self.embedder.model_id)
        with self._swap_lock:
            self._set_index(new)
        # the old Index is not closed here: questions still running on it (or pipelines
        # sharing it) finish normally; its SQLite connection closes when it is collected
        return new.info()

    def with_index(self, index: Index) -> Pipeline:
        """A pipeline over another loaded index, sharing this one's embedder, settings and model."""
        return Pipeline(index, self.embedder, self.settings, self._generator, self._decider)

    # ------------------------------------------------------------------ online path
    def search(
        self, query: str, k: int | None = None, filters: Filters = Filters(), as_of: str | date | None = None
    ) -> SearchResult:
        return self.retriever.search(query, k or self.settings.top_k, filters, _as_date(as_of))

    def evidence_for(
        self, query: str, hits: Sequence[Hit], count_tokens: Any, parsed: Any = None, form: QuestionForm | None = None
    ) -> list[Evidence]:
        form = form or classify(query)
        segments = [(m.sources, words) for m, words in parsed.segments()] if parsed is not None else []
        if form.kind == "yesno" and parsed is not None:
            # each part of a two-part claim is checked over its own passage, so each part's words
            # are scored on their own too ("..., and did Will call their marriage 'brutiful'?")
            anywhere = tuple({h.source for h in hits})
            segments += [(p.sources or anywhere, p.words) for p in claim_parts(parsed)]
        b = budget_for(form.kind, self.settings.evidence_tokens)
        if b.newest_first and parsed is not None:
            hits = up_to(hits, parsed.dates)
        return select_evidence(
            query, hits, count_tokens, b.tokens, self.index.idf, segments, max_articles=b.max_articles,
            per_article=b.per_article, by_date=b.by_date,
            bonus=causal_bonus if form.kind == "explanation" else stating_bonus(query, form),
            follow=FOLLOW.get(form.kind, 0.0), floor=EVIDENCE_FLOOR, spill=EVIDENCE_SPILL,
            chain=form.kind in FOLLOW_CHAIN, lede=LEDE.get(form.kind, 0.0), newest_first=b.newest_first,
            names_only=0.0 if form.kind in NAMES_ONLY_SKIP else NAMES_ONLY_PENALTY,
        )  # fmt: skip

    def stream(
        self,
        query: str,
        filters: Filters = Filters(),
        k: int | None = None,
        history: Sequence[Turn] = (),
        as_of: str | date | None = None,
    ) -> Iterator[StreamEvent]:
        t0 = time.perf_counter()
        standalone = rewrite(query, history)
        form = classify(standalone)
        k = k or (self.settings.top_k + (EXTRA_K_LONG if form.long else 0))
        res = self.search(standalone, k, filters, as_of)
        timings = {"retrieve_s": time.perf_counter() - t0}
        notes = list(res.notes)
        hits = list(res.hits)
        outlets = {m.sources for m in res.parsed.outlets}
        if len(outlets) >= 2 and form.kind in ("explanation", "event", "open", "summary"):
            form = replace(form, kind="comparison")  # "How did A and B describe ...": two outlets compared

        def done(ans: Answer) -> StreamEvent:
            return StreamEvent("answer", answer=ans, query=standalone, notes=tuple(notes), form=form.kind)

        def refuse(reason: str, evidence: Sequence[Evidence] = (), sentences: Sequence[AnswerSentence] = (), raw: str = "") -> StreamEvent:
            timings.setdefault("first_words_s", time.perf_counter() - t0)
            timings.setdefault("first_token_s", time.perf_counter() - t0)
            timings["total_s"] = time.perf_counter() - t0
            return done(
                Answer(
                    query=query, answer=refusal_text(reason), refused=True, short=REFUSAL, reason=reason,
                    sentences=tuple(sentences), evidence=tuple(evidence), hits=tuple(hits), timings=dict(timings),
                    model=model_name, rewritten_query=standalone, raw=raw, form=form.kind, as_of=res.as_of,
                    notes=tuple(notes),
                )  # fmt: skip
            )

        model_name = getattr(self._generator, "name", "") if self._generator is not None else ""
        parsed = res.parsed
        # an outlet the question relies on that the collection does not hold: refuse, unless
        # articles quote it, then answer from the passages that do
        for name in parsed.unknown_outlets:
            rows = self.retriever.mentions(name)
            if not len(rows):
                yield StreamEvent("retrieval", hits=tuple(hits), query=standalone, notes=tuple(notes), form=form.kind)
                yield refuse(f"the question relies on {name}: no article in this collection is from {name} or mentions it")
                return
            quoted = self.retriever.search(standalone, k, filters, _as_date(as_of) or None, within=rows)
            hits = list(quoted.hits)
            as_source = re.compile(
                rf"(?:according to|reported by|told|published by|(?:a|an) report (?:by|in|from))\s+(?:the\s+)?{re.escape(name)}\b|"
                rf"\b{re.escape(name)}\s+(?:reported|reports|wrote|published|revealed)\b"
            )
            if any(as_source.search(h.text) for h in hits):
                notes.append(f"No article from {name} is in this collection; the answer uses passages that quote {name}.")
        if parsed.unknown_names:
            yield StreamEvent("retrieval", hits=tuple(hits), query=standalone, notes=tuple(notes), form=form.kind)
            names = ", ".join(f"'{n}'" for n in parsed.unknown_names)
            yield refuse(f"the question is about {names}, which no article in this collection mentions")
            return
        # a year the question names that no retrieved article is from or mentions: the passages
        # found are about other years ("How many bikes were recalled in 2021?" over 2023 news)
        for year in dict.fromkeys(_YEAR.findall(standalone)):
            if hits and not any(h.published_at.startswith(year) or year in h.text or year in h.title for h in hits):
                yield StreamEvent("retrieval", hits=tuple(hits), query=standalone, notes=tuple(notes), form=form.kind)
                yield refuse(f"the question is about {year}, but no article found is from {year} or mentions it")
                return
        # "this week", "last month", "yesterday": read against the collection's date (``as_of``); when
        # no article found is from then, an answer from older articles would pass off old news as new
        for rng in parsed.dates:
            if rng.kind == "relative" and hits and not any(rng.contains(h.published_at) for h in hits):
                newest = max((h.published_at for h in hits), default="")
                yield StreamEvent("retrieval", hits=tuple(hits), query=standalone, notes=tuple(notes), form=form.kind)
                yield refuse(
                    f"the question asks about {rng.text.lower()} ({_span(rng.start, rng.end)}), but no article found is "
                    f"from then" + (f"; the newest is from {long_date(date.fromisoformat(newest[:10]))}" if newest else "")
                )  # fmt: skip
                return
            if rng.kind == "day" and hits and (later := after_every_article(standalone, form, rng, hits)):
                yield StreamEvent("retrieval", hits=tuple(hits), query=standalone, notes=tuple(notes), form=form.kind)
                yield refuse(later)
                return
        # a reason or an event asked about several named things at once ("What did Tim Cook say when he
        # testified at the Epic v. Google trial?"): when no article found names them all, the passages
        # tell of each apart, and an answer would join them into an event no article reports. Not for
        # questions that gather facts from several articles (facts, lists, summaries, comparisons)
        if form.kind in PREMISE_FORMS and hits:
            if gap := unnamed_together(standalone, hits, [(m.start, m.end) for m in parsed.outlets]):
                yield StreamEvent("retrieval", hits=tuple(hits), query=standalone, notes=tuple(notes), form=form.kind)
                yield refuse(gap)
                return
        if not hits:
            yield StreamEvent("retrieval", query=standalone, notes=tuple(notes), form=form.kind)
            yield refuse("no passage in the collection matches the question" + (f" ({'; '.join(notes)})" if notes else ""))
            return

        # sources first: the user sees them while the model loads and reads
        yield StreamEvent("retrieval", hits=tuple(hits), query=standalone, notes=tuple(notes), form=form.kind)
        gen = self.decider if form.kind == "yesno" else self.generator  # a Yes/No decision writes nothing
        model_name = getattr(gen, "name", "")
        hold = gen.hold() if hasattr(gen, "hold") else contextlib.nullcontext(gen)
        with hold as g:
            evidence = self.evidence_for(standalone, hits, g.count_tokens, parsed, form)
            timings["evidence_s"] = time.perf_counter() - t0 - timings["retrieve_s"]
            yield StreamEvent("retrieval", hits=tuple(hits), evidence=tuple(evidence), query=standalone, notes=tuple(notes), form=form.kind)
            if not evidence:
                yield refuse("the retrieved passages contain no usable sentences")
                return
            focus = [m.sources for m in parsed.outlets]
            idf = self.index.idf
            shown = evidence
            if form.kind == "yesno":
                subject, shown = yesno_passages(standalone, evidence, parsed)
                if not shown:
                    yield refuse(f"no passage mentions {' '.join(words_for(standalone, subject)) or ' '.join(subject)}", evidence)
                    return
            # the passages quoted under the answer: the draft now, and for Yes/No the settling one first
            support = choose_support(form, standalone, shown, (), focus, idf)
            if form.kind == "yesno":
                why = unsettled(form, standalone, shown, idf, support[0] if support else None)
                if why:  # the model is not asked: what it would pick between Yes and No is a guess
                    yield refuse(why, evidence)
                    return
            draft = [support_text(e, form.kind) for e in support]
            timings["first_words_s"] = time.perf_counter() - t0
            yield StreamEvent("draft", text="\n".join(draft), evidence=tuple(evidence), form=form.kind)

            unfitted = shown
            prompt, text, shown = self._fit_prompt(g, standalone, shown, form.kind)
            t_gen = time.perf_counter()
            raw_parts: list[str] = []
            decision = ""
            # the passages a claim decided part by part was decided over, each with its part's words
            settled: dict[int, str] = {}
            asks = "" if form.kind == "yesno" else asks_for(standalone)  # what the answer must state
            if form.kind == "yesno":
                lp_yes, lp_no, lp_unsure = g.first_token_logprobs(text, ["Yes", "No", "Insufficient"])
                timings["first_token_s"] = time.perf_counter() - t0
                raw_parts.append(f"log P(first token): Yes {lp_yes:.3f}, No {lp_no:.3f}, Insufficient {lp_unsure:.3f}\n")
                if lp_unsure > max(lp_yes, lp_no):
                    timings["generate_s"] = time.perf_counter() - t_gen
                    yield refuse(
                        "the passages that mention the question's subject do not say whether it is so", evidence,
                        raw="".join(raw_parts),
                    )  # fmt: skip
                    return
                parts = claim_parts(parsed)
                if parts:  # "Did A and B both say X?", "Does A say X, while B says Y?": each outlet's part
                    out = decide_parts(g, form, parts, unfitted, idf, raw_parts)
                    timings["generate_s"] = time.perf_counter() - t_gen
                    if out.reason:
                        yield refuse(out.reason, evidence, out.quoted, raw="".join(raw_parts))
                        return
                    lead = out.lead
                    assert lead is not None
                    if not out.decision:
                        yield undecided(form, standalone, lead.passage, lead.log_odds, refuse, evidence, "".join(raw_parts), lead.part)
                        return
                    # the passages decided over are the ones quoted, the part that decides a "No" first
                    decision = out.decision
                    for v in [lead, *out.verdicts]:
                        settled.setdefault(v.passage.n, v.part.words)
                    shown = unfitted
                else:
                    # over the passages that fit the prompt (the same list, unless some had to go)
                    settling = support[:1] if shown is unfitted else choose_support(form, standalone, shown, (), focus, idf)[:1]
                    odds = lp_yes - lp_no
                    if settling:  # decided over the passage shown as settling it, not over all of them
                        odds = settle_odds(g, standalone, settling[0], raw_parts)
                    if abs(odds) < YESNO_SURE:
                        # a coin toss is no answer: the passage that bears on it most is quoted for the
                        # reader to judge ("Joseph Parker stunned former champ Deontay Wilder ...")
                        timings["generate_s"] = time.perf_counter() - t_gen
                        yield undecided(form, standalone, settling[0] if settling else None, odds, refuse, evidence, "".join(raw_parts))
                        return
                    decision = "Yes" if odds >= 0 else "No"
                yield StreamEvent("token", text=f"{decision}.")
            else:
                limit = ANSWER_TOKENS.get(form.kind, LONG_ANSWER_TOKENS)
                ban = ["Yes", "No"]  # a wh-question or a request is not answered by Yes/No
                if asks == "person":  # "Who replaced him?" is not answered by "She replaces ..."
                    ban += ["He", "She", "They"]
                if self.settings.refusal_min_prob > 0:
                    # the model's own refusal is decided by its probability, not by greedy decoding: at
                    # p >= refusal_min_prob it refuses (nothing is written), below it it must answer and
                    # the citation check judges the answer. Greedy decoding refused at p = 0.17 when the
                    # answer was spread over other tokens; 0.25 refused answerable questions held out
                    # (README, stop 32; bench/refusal_threshold.py)
                    (lp_refuse,) = g.first_token_logprobs(text, ["Insufficient"])
                    if math.exp(lp_refuse) >= self.settings.refusal_min_prob:
                        timings["generate_s"] = time.perf_counter() - t_gen
                        yield refuse(
                            "the passages do not answer the question (the model found no answer in them)", evidence,
                            raw=f"log P(first token): Insufficient {lp_refuse:.3f}\n",
                        )  # fmt: skip
                        return
                    ban.append("Insufficient")
            pieces = iter(()) if decision else g.stream(text, min(limit, self.settings.max_answer_tokens), None, ["\n"], ban)
            try:
                for piece in pieces:
                    if "first_token_s" not in timings:
                        timings["first_token_s"] = time.perf_counter() - t0
                    raw_parts.append(piece)
                    yield StreamEvent("token", text=piece)
                    if _sentences_done("".join(raw_parts)) >= prompt.sentences:
                        break  # the direct answer is complete: do not pay for what would be cut
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()
            timings["generate_s"] = time.perf_counter() - t_gen
        raw = "".join(raw_parts)
        timings.setdefault("first_token_s", time.perf_counter() - t0)
        if not decision and is_refusal(raw):
            yield refuse("the passages do not answer the question (the model found no answer in them)", evidence, raw=raw)
            return
        # a Yes/No decision is shown with the passages that settle it; other answers are the model's sentences
        direct = [] if decision else parse_direct(raw, prompt.sentences)
        sentences = compose(form, standalone, shown if decision else evidence, direct, focus, idf, list(settled))
        checked = check_answer(sentences, evidence, standalone, idf, asks=asks)
        if settled:  # each part's quote must bear on its own part, not on the whole question
            checked = replace(checked, sentences=[
                check_answer([s], evidence, settled[s.cites[0]], idf).sentences[0] if s.cites and s.cites[0] in settled else s
                for s in checked.sentences
            ])  # fmt: skip
        if asks and not any(s.supported and s.role == "answer" for s in checked.sentences):
            # the model did not state the figure or time asked for: the passages that do may stand in
            quoted = [n for s in checked.sentences if s.role == "support" for n in s.cites]
            extra = stating_passages(form, standalone, evidence, asks, idf, quoted, focus_sources=focus)
            lead = [s for s in checked.sentences if s.role == "answer"][:1]  # what a supporting quote is judged against
            more = check_answer([*lead, *extra], evidence, standalone, idf, asks=asks).sentences[len(lead) :]
            checked = replace(checked, sentences=checked.sentences + more)
        by_n = {e.n: e for e in evidence}
        if form.kind == "explanation":
            # the model gave a reason where the passage it drew on says none is known: that is the answer
            for s in checked.sentences:
                if s.role == "answer" and s.reason == NO_REASON:
                    said = unexplained(strip_markers(s.text), [by_n[n] for n in s.cites if n in by_n], standalone, idf)
                    if said is not None:
                        quoted = support_text(said, form.kind, standalone)
                        yield refuse(
                            f"the articles found do not say why: {quoted}", evidence,
                            [AnswerSentence(quoted, (said.n,), True, role="bearing")], raw,
                        )  # fmt: skip
                        return
        final = self._accept(checked.sentences, decision, asks, standalone, idf, form.kind)
        if not final and asks in SOFT_ASKS:
            # no passage names anyone either: "who was hurt?" -> "a worker suffered a minor burn" stands
            checked = check_answer(sentences, evidence, standalone, idf)
            asks, final = "", self._accept(checked.sentences, decision)
        timings["total_s"] = time.perf_counter() - t0
        # what the collection gives only as a possibility ("faces up to 15 years") is said in a refusal
        hedged = possible_only(asks, standalone, evidence, idf) if not final else None
        maybe = f"; {hedged.source or 'an article'} gives it only as a possibility: “{quote(hedged, standalone)}”" if hedged else ""
        if not final and asks and any(s.supported for s in checked.sentences):
            # passages on the subject were found, but none states what was asked ("how long was
            # he sentenced?" over "his sentencing is set for February")
            yield refuse(f"the passages found do not state {ASKED[asks]}{maybe}", evidence, checked.sentences, raw)
            return
        if not final and form.kind in BEARING and any(s.supported and s.role == "support" for s in checked.sentences):
            # the passages quoted speak of the question's names only ("Why did Ferrand leave Port Elling?")
            said = words_for(standalone, claim_terms(standalone))[:3]
            yield refuse(
                f"the passages found do not speak to {' or '.join(f'“{w.lower()}”' for w in said) or 'the question'}",
                evidence, checked.sentences, raw,
            )  # fmt: skip
            return
        if not final:
            why = next((s.reason for s in checked.sentences if s.reason), "")
            yield refuse(
                "no sentence of the answer is supported by the passages it cites" + (f" ({why})" if why else "") + maybe,
                evidence, checked.sentences, raw,
            )  # fmt: skip
            return
        cited: dict[int, bool] = {}
        for s in final:
            for n in s.cites:
                cited[n] = cited.get(n, False) or s.supported
        citations = tuple(
            Citation(
                n=n, chunk_id=by_n[n].chunk_id, article_id=by_n[n].article_id, title=by_n[n].title,
                source=by_n[n].source, published_at=by_n[n].published_at, quote=by_n[n].text,
                start=by_n[n].start, end=by_n[n].end, supported=ok,
            )  # fmt: skip
            for n, ok in sorted(cited.items())
        )
        if checked.dropped_markers:
            log.info("dropped %d citation markers outside the evidence", checked.dropped_markers)
        short = direct_text(final)
        ans = Answer(
            query=query, answer="\n".join(s.text for s in final), refused=False, short=short, reason="",
            sentences=tuple(final), citations=citations, evidence=tuple(evidence), hits=tuple(hits), timings=timings,
            model=model_name, rewritten_query=standalone, raw=raw, form=form.kind, as_of=res.as_of, notes=tuple(notes),
        )  # fmt: skip
        yield done(ans)

    @staticmethod
    def _accept(
        sentences: Sequence[AnswerSentence], decision: str, asks: str = "", question: str = "", idf: Any = None, kind: str = ""
    ) -> list[AnswerSentence]:
        """The answer's sentences after the check, failing ones dropped. A Yes/No decision
        stands only over passages that bear on the question (it then cites them); another
        answer whose direct answer failed is led by the best supported passage instead."""
        ok = [s for s in sentences if s.supported]
        if decision:
            settling = [s for s in ok if s.role == "support"]
            if not settling:
                return []
            cites = tuple(n for s in settling for n in s.cites)
            return [AnswerSentence(f"{decision}." + "".join(f" [{n}]" for n in cites), cites, True, "", role="answer"), *ok]
        if not ok:
            return []
        if any(s.role == "answer" for s in ok):
            return ok
        return fallback_direct(ok, asks, question, idf, kind)

    def _fit_prompt(self, gen: Any, question: str, evidence: list[Evidence], form: str) -> tuple[Any, str, list[Evidence]]:
        """The prompt, shrunk until it fits the model's context with room for the answer:
        the last passages go first, then (for an absurdly long question) its tail."""
        n_ctx = getattr(gen, "n_ctx", None)
        room = self.settings.max_answer_tokens + 16
        while True:
            prompt = build_prompt(question, format_evidence(evidence), form)
            text = gen.chat_prompt(prompt.system, prompt.user)
            if n_ctx is None or gen.count_tokens(text) + room <= n_ctx:
                return prompt, text, evidence
            if len(evidence) > 1:
                evidence = evidence[:-1]
                continue
            words = question.split()
            if len(words) <= 8:
                return prompt, text, evidence  # nothing left to cut; the generator reports the overflow
            question = " ".join(words[: len(words) // 2]) + " …"

    def answer(
        self,
        query: str,
        filters: Filters = Filters(),
        k: int | None = None,
        history: Sequence[Turn] = (),
        as_of: str | date | None = None,
    ) -> Answer:
        final: Answer | None = None
        for ev in self.stream(query, filters, k, history, as_of):
            if ev.kind == "answer":
                final = ev.answer
        assert final is not None  # stream always ends with an answer event
        return final

    def with_settings(self, **changes: Any) -> Pipeline:
        """A pipeline sharing this one's index, embedder and model, with other settings."""
        s = self.settings.model_copy(update=changes)
        load = ("n_ctx", "n_threads", "model_mmap")
        same_load = all(getattr(s, f) == getattr(self.settings, f) for f in load)
        same_model = same_load and s.model == self.settings.model
        same_decider = same_load and s.yesno_model == self.settings.yesno_model
        return Pipeline(
            self.index, self.embedder, s, self._generator if same_model else None, self._decider if same_decider else None
        )

    def close(self) -> None:
        self.index.close()


_SENTENCE_END = re.compile(r"(?<!\b[A-Z])(?<!\bMr|\bMs|\bDr|\bSt)(?<!\bMrs)[.!?](?:\s*\[\d{1,3}\])*(?=\s+[A-Z\"“]|\s+$)")


def after_every_article(question: str, form: QuestionForm, day: DateRange, hits: Sequence[Hit]) -> str:
    """Why the articles found cannot tell what happened on ``day``, when the question asks what
    happened then ("Did the 49ers beat the Ravens on Christmas night?") and every article found
    that names what it is about is older (an article of that day about something else, "Are NBA
    Christmas Day games a better tradition?", does not report the Ravens' game); else ''. A day
    that dates an article ("the article published on December 21") is no event's day."""
    if not asks_what_happened(form) or _DATES_AN_ARTICLE.search(question, 0, max(0, question.find(day.text))):
        return ""
    names = set(subject_terms(question.replace(day.text, " ")))
    about = [h for h in hits if not names or mentioned(names, f"{h.title} {h.text}")]
    if not about or any(h.published_at[:10] >= day.start.isoformat() for h in about):
        return ""
    when = long_date(day.start)
    newest = long_date(date.fromisoformat(max(h.published_at for h in about)[:10]))
    return (
        f"the question asks what happened on {day.text}" + (f" ({when})" if when not in day.text else "")
        + f", but every article found that names what it is about is older; the newest is from {newest}"
    )  # fmt: skip


def settle_odds(g: Any, question: str, passage: Evidence, raw: list[str]) -> float:
    """log P("Yes") - log P("No") of the decider ``g`` asked ``question`` over one passage alone
    (the settle prompt), noted in ``raw``."""
    sp = build_settle_prompt(question, passage.model_text)
    lp_yes, lp_no = g.first_token_logprobs(g.chat_prompt(sp.system, sp.user), ["Yes", "No"])
    raw.append(f"over passage [{passage.n}]: Yes {lp_yes:.3f}, No {lp_no:.3f}\n")
    return lp_yes - lp_no


@dataclass(frozen=True)
class PartVerdict:
    """One part of a claim, the passage it was decided over and the decider's log P(Yes) - log P(No)."""

    part: ClaimPart
    passage: Evidence
    log_odds: float


@dataclass
class PartsOutcome:
    """What deciding a claim part by part came to: ``decision`` "Yes" or "No" (``lead``: the part
    that decides a "No"), or "" with ``reason`` (parts the passages found do not settle, the
    passages nearest to them in ``quoted``) or, failing that, ``lead`` the part the model was least
    sure of."""

    decision: str = ""
    lead: PartVerdict | None = None
    verdicts: list[PartVerdict] = field(default_factory=list)
    reason: str = ""
    quoted: list[AnswerSentence] = field(default_factory=list)


def decide_parts(
    g: Any, form: QuestionForm, parts: Sequence[ClaimPart], passages: Sequence[Evidence], idf: Any, raw: list[str]
) -> PartsOutcome:
    """A claim of several parts (``rag.claims``), each decided over the passage that holds most of
    what it claims (of its outlet, when it names one). "No" when some part is surely not so (that
    part leads); else no answer when a part is not settled by the passages found (none of them
    speaks to it, the nearest holds too little of it for its silence to be a "No", or it is
    pending); "Yes" when every part surely is; else no answer, with the part the model was least
    sure of to be quoted."""
    out = PartsOutcome()
    open_: list[str] = []  # why a part cannot be settled by the passages found
    for part in parts:
        # the passage that holds most of what this part claims, then most of its words:
        # "Diamondbacks 9-1 Rangers, FINAL", not the whole question's best passage
        claim = claim_terms(part.words)
        mine = [e for e in passages if not part.sources or e.source in part.sources]
        best = sorted(mine, key=lambda e: (-term_share(claim, e.model_text, idf), -relevance(part.words, e.model_text, idf), e.n))[:1]
        # the part as the reader would ask it: "Does The Guardian say Reece James was charged ...?"
        asked = "“" + (part.question.replace("Does this passage", f"Does {part.outlet}", 1) if part.outlet else part.question) + "”"
        found = f"no passage found from {part.outlet}" if part.outlet else "no passage found"
        share = term_share(claim, best[0].model_text, idf) if best else 0.0
        if not best or share == 0:
            raw.append(f"“{part.question}”: no passage holds any of its claim\n")
            open_.append(f"{found} speaks to {asked}")
            continue
        e = best[0]
        pending = unsettled(classify(part.question), part.question, [e], idf, e)
        if pending:  # "whether Judge Mehta has ruled" over "If Judge Amit Mehta rules against Google, ..."
            raw.append(f"“{part.question}”: {pending}\n")
            open_.append(f"on {asked}, {pending}")
            continue
        raw.append(f"“{part.question}” ({share:.2f} of its claim) ")
        odds = settle_odds(g, part.question, e, raw)
        if share < PART_BEARING and odds < YESNO_SURE:
            # a passage that holds little of the claim may still say it in other words (a sure Yes),
            # but its silence is no "No" ("Did Will call their marriage 'brutiful'?" over the
            # separation): it is quoted for the reader ("fares would not rise" for "did fares go up?")
            if share < PART_BEARING / 2:  # "TV deals" is not near "did its TV ratings go up?"
                open_.append(f"{found} speaks to {asked}")
                continue
            said = support_text(e, form.kind, part.words)
            open_.append(f"{found} clearly answers {asked}; the nearest says: {said}")
            out.quoted.append(AnswerSentence(said, (e.n,), True, role="bearing"))
            continue
        out.verdicts.append(PartVerdict(part, e, odds))
    no = [v for v in out.verdicts if v.log_odds <= -YESNO_SURE]
    unsure = [v for v in out.verdicts if v.log_odds < YESNO_SURE]
    if no:
        out.decision, out.lead = "No", min(no, key=lambda v: v.log_odds)
    elif open_:
        out.reason = "; ".join(open_)
    elif unsure:
        out.lead = min(unsure, key=lambda v: abs(v.log_odds))
    else:
        out.decision, out.lead = "Yes", out.verdicts[0]
    return out


def undecided(
    form: QuestionForm, question: str, settling: Evidence | None, log_odds: float, refuse: Any, evidence: Sequence[Evidence], raw: str,
    part: ClaimPart | None = None,
) -> StreamEvent:  # fmt: skip
    """The refusal of a Yes/No question the decider could not settle (log-odds within
    ``YESNO_SURE`` of even): it quotes the passage the decision was made over, as a supporting
    sentence is quoted (outlet, date, quote, marker), so the reader can judge. That quote is the
    refusal's one sentence, in the role "bearing" (the page shows it in the reason, with a working
    marker, not as a rejected answer)."""
    if part is None:
        what, whose = "either way", "the passage"
    elif part.outlet:  # "... whether The Guardian says so ... from The Guardian's passage ..."
        what, whose = f"whether {part.outlet} says so", f"{part.outlet}'s passage"
    else:
        what, whose = f"on “{part.question}”", "the passage"
    why = f"the model could not decide {what} (log-odds {log_odds:+.2f}) from {whose} that bears on it most"
    if settling is None:
        return refuse(why, evidence, (), raw)
    said = support_text(settling, form.kind, question)
    return refuse(f"{why}, quoted so you can judge: {said}", evidence, [AnswerSentence(said, (settling.n,), True, role="bearing")], raw)


PREMISE_FORMS = frozenset({"event", "explanation"})
_DATES_AN_ARTICLE = re.compile(
    r"\b(?:published|posted|dated|written|wrote|reported|ran|appeared|article|report|piece|story|column|coverage)"
    r"(?:\s+\w+){0,2}\s+(?:on|from|of|dated)\s+(?:the\s+)?$",
    re.I,
)


_NAME_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:v\.\s+)?[A-Z][\w'’.-]*)*")
_NOT_NAMES = frozenset(terms(" ".join(sorted(ROLE_WORDS | OFFICES))))


def unnamed_together(question: str, hits: Sequence[Hit], skip: Sequence[tuple[int, int]] = ()) -> str:
    """Why no article found can tell of what the question asks, when none of them names every
    name of the question (two or more, posts and offices such as "CEO" or "Senate" left out; a
    place by its demonym too) in its retrieved passages; else ''."""
    names = set(subject_terms(question, skip)) - _NOT_NAMES
    if len(names) < 2:
        return ""
    held: dict[str, set[str]] = {}
    for h in hits:
        held.setdefault(h.article_id, set()).update(mentioned(names, f"{h.title} {h.text}"))
    best = max(held.values(), key=len, default=set())
    if best >= names:
        return ""
    # the question's own names, whole: "Epic" is missing, "Tim Cook" and "Google" are there
    runs = [m.group(0).removesuffix("'s").removesuffix("’s") for m in _NAME_RUN.finditer(question) if m.start() > 0]
    missing = [r for r in runs if set(terms(r)) & (names - best)]
    present = [r for r in runs if set(terms(r)) & best and r not in missing]
    if not missing:
        return ""
    said = " and ".join(f"“{r}”" for r in missing)
    if not present:
        return f"no article found mentions {said}"
    return f"no article found mentions {said} together with {' and '.join(f'“{r}”' for r in present)}"


def yesno_passages(question: str, evidence: Sequence[Evidence], parsed: Any) -> tuple[list[str], list[Evidence]]:
    """A Yes/No question's subject terms and the passages that mention them (a place by its
    demonym too), which are all its decision reads."""
    subject = subject_terms(question, [(m.start, m.end) for m in parsed.outlets])
    shown = [e for e in evidence if not subject or mentioned(subject, f"{e.model_text} {e.title}")]
    return subject, shown


def _sentences_done(text: str) -> int:
    """Complete sentences in streamed text: a full stop (and its markers) counts once a space
    or the next sentence follows it, so "$6." is not an end while "9 billion" may follow (the
    answer "... a 6." was cut there)."""
    return len(_SENTENCE_END.findall(text))


def _as_date(v: str | date | None) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


__all__ = ["Pipeline", "StreamEvent", "Turn", "replace"]
