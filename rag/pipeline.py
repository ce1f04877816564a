"""Online composer: question -> retrieve -> evidence -> prompt -> generate -> cite.

``Pipeline.from_settings(settings)`` wires the real components; tests pass fakes to
the constructor instead. The LLM is loaded lazily, so ``search`` never pays for it.
``stream`` yields, in order: one ``retrieval`` event (hits and numbered evidence),
``token`` events as the model writes, and one ``answer`` event with the checked
``Answer``; ``answer`` is ``stream`` run to the end. The CLI, the chat page and the
eval runner talk to this class (and to ``rag.build``) only.

Refusals are not left to the model alone: a question that attributes claims to an
outlet with no articles in the index, or for which nothing relevant is retrieved, is
refused before the model runs; a model answer that its own citations do not support
is refused after it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.cite import (
    REFUSAL,
    candidate_names,
    check_answer,
    clean_short,
    compose_extractive,
    contains_answer,
    ground_name,
    is_refusal,
)
from rag.embed import Embedder, load_embedder
from rag.evidence import format_evidence, select_evidence
from rag.followup import Turn, rewrite
from rag.index import Index, open_index
from rag.prompt import build_prompt
from rag.retrieve import Filters, RetrievalParams, Retriever, SearchResult
from rag.settings import Settings
from rag.types import Answer, Evidence, Hit

log = logging.getLogger(__name__)


def retrieval_params(s: Settings) -> RetrievalParams:
    return RetrievalParams(
        candidates=s.candidates,
        dense_weight=s.dense_weight,
        source_boost=s.source_boost,
        date_boost=s.date_boost,
        max_per_article=s.max_per_article,
        rerank_weight=s.rerank_weight,
    )


@dataclass(frozen=True)
class StreamEvent:
    """One step of ``Pipeline.stream``: kind is 'retrieval', 'token' or 'answer'.

    'retrieval' comes first with the hits, and again with the numbered evidence once it
    is chosen (a refusal before the model runs sends only the first)."""

    kind: str
    hits: tuple[Hit, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    text: str = ""
    answer: Answer | None = None
    query: str = ""  # the standalone question actually searched (after follow-up rewriting)
    notes: tuple[str, ...] = ()


class Pipeline:
    """One loaded index + embedder (+ lazily, one LLM) answering questions."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, generator: Any = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._generator = generator
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
        emb = embedder or load_embedder(settings.embedder, settings.embed_batch_size)
        index = open_index(index_dir, embedder_id=emb.model_id)
        return cls(index, emb, settings, generator)

    # ------------------------------------------------------------------ components
    @property
    def generator(self) -> Any:
        """The LLM, loaded (and its file verified) on first use."""
        with self._gen_lock:
            if self._generator is None:
                from rag.generate import LlamaGenerator
                from rag.models import resolve_model

                s = self.settings
                path, name = resolve_model(s.model, Path(s.model_cache_dir), s.model_sha256)
                self._generator = LlamaGenerator(
                    path, name, n_ctx=s.n_ctx, n_threads=s.n_threads, timeout=s.request_timeout, seed=s.seed
                )
            return self._generator

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
        return Pipeline(index, self.embedder, self.settings, self._generator)

    # ------------------------------------------------------------------ online path
    def search(self, query: str, k: int | None = None, filters: Filters = Filters()) -> SearchResult:
        return self.retriever.search(query, k or self.settings.top_k, filters)

    def evidence_for(self, query: str, hits: Sequence[Hit], count_tokens: Any, parsed: Any = None) -> list[Evidence]:
        segments = [(m.sources, words) for m, words in parsed.segments()] if parsed is not None else []
        return select_evidence(query, hits, count_tokens, self.settings.evidence_tokens, self.index.idf, segments)

    def stream(
        self, query: str, filters: Filters = Filters(), k: int | None = None, history: Sequence[Turn] = ()
    ) -> Iterator[StreamEvent]:
        t0 = time.perf_counter()
        standalone = rewrite(query, history)
        res = self.search(standalone, k, filters)
        timings = {"retrieve_s": time.perf_counter() - t0}
        notes = tuple(res.notes)

        def refuse(reason: str, hits: Sequence[Hit] = (), evidence: Sequence[Evidence] = ()) -> StreamEvent:
            timings["first_token_s"] = timings["total_s"] = time.perf_counter() - t0
            ans = Answer(
                query=query, answer=f"{REFUSAL}\n{reason}", refused=True, short=REFUSAL, reason=reason,
                evidence=tuple(evidence), hits=tuple(hits), timings=dict(timings), model="",
                rewritten_query=standalone,
            )  # fmt: skip
            return StreamEvent("answer", answer=ans, query=standalone, notes=notes)

        if res.parsed.unknown_outlets or res.parsed.unknown_names:
            yield StreamEvent("retrieval", hits=tuple(res.hits), query=standalone, notes=notes)
            if res.parsed.unknown_outlets:
                names = ", ".join(res.parsed.unknown_outlets)
                yield refuse(f"the question relies on {names}, which has no articles in this collection", res.hits)
            else:
                names = ", ".join(f"'{n}'" for n in res.parsed.unknown_names)
                yield refuse(f"the question is about {names}, which no article in this collection mentions", res.hits)
            return
        if not res.hits:
            yield StreamEvent("retrieval", query=standalone, notes=notes)
            yield refuse("no passage in the collection matches the question" + (f" ({'; '.join(notes)})" if notes else ""))
            return

        # sources first: the user sees them while the model loads and reads
        yield StreamEvent("retrieval", hits=tuple(res.hits), query=standalone, notes=notes)
        gen = self.generator
        evidence = self.evidence_for(standalone, res.hits, gen.count_tokens, res.parsed)
        timings["evidence_s"] = time.perf_counter() - t0 - timings["retrieve_s"]
        yield StreamEvent("retrieval", hits=tuple(res.hits), evidence=tuple(evidence), query=standalone, notes=notes)
        if not evidence:
            yield refuse("the retrieved passages contain no usable sentences", res.hits)
            return

        style = self.settings.answer_style
        prompt, text, evidence = self._fit_prompt(gen, standalone, evidence, style)
        t_gen = time.perf_counter()
        raw_parts: list[str] = []
        if style == "extractive" and prompt.form == "yesno":
            # one forward pass: the model's Yes/No, read off its first-token probabilities
            lp_yes, lp_no = gen.first_token_logprobs(text, ["Yes", "No"])
            short = "Yes" if lp_yes + self.settings.yes_bias >= lp_no else "No"
            timings["first_token_s"] = time.perf_counter() - t0
            yield StreamEvent("token", text=short)
            raw_parts.append(f"log P(first token): Yes {lp_yes:.3f}, No {lp_no:.3f}")
            raw = compose_extractive(short, evidence, [m.sources for m in res.parsed.outlets])
            yield StreamEvent("token", text=raw[len(short) :])
        else:
            limit = 24 if style == "extractive" else self.settings.max_answer_tokens
            stop = ["\n"] if style == "extractive" else None
            ban = ["Yes", "No"] if style == "extractive" else []  # a wh-question is not answered by Yes/No
            if style == "extractive" and self.settings.refusal_min_prob > 0:
                # greedy decoding refuses whenever "Insufficient" is the single likeliest first token,
                # even at p = 0.17 with the answer spread over other tokens; demand more than that
                (lp_refuse,) = gen.first_token_logprobs(text, ["Insufficient"])
                if math.exp(lp_refuse) < self.settings.refusal_min_prob:
                    ban.append("Insufficient")
            for piece in gen.stream(text, limit, prompt.grammar, stop, ban):
                if not raw_parts:
                    timings["first_token_s"] = time.perf_counter() - t0
                raw_parts.append(piece)
                yield StreamEvent("token", text=piece)
            raw = "".join(raw_parts).strip()
            if style == "extractive":
                short = self._ground_open(clean_short(raw), evidence, standalone, text, gen)
                raw = REFUSAL if not short or is_refusal(short) else compose_extractive(short, evidence)
                if raw != short:
                    yield StreamEvent("token", text=raw[len(short) :] if raw.startswith(short) else "")
        timings["generate_s"] = time.perf_counter() - t_gen
        timings.setdefault("first_token_s", time.perf_counter() - t0)
        checked = check_answer(raw, evidence, standalone)
        timings["total_s"] = time.perf_counter() - t0
        ans = Answer(
            query=query, answer=checked.text, refused=checked.refused, short=checked.short, reason=checked.reason,
            sentences=checked.sentences, citations=checked.citations, evidence=tuple(evidence), hits=tuple(res.hits),
            timings=timings, model=getattr(gen, "name", ""), rewritten_query=standalone, raw="".join(raw_parts) or raw,
        )  # fmt: skip
        yield StreamEvent("answer", answer=ans, query=standalone, notes=notes)

    def _fit_prompt(self, gen: Any, question: str, evidence: list[Evidence], style: str) -> tuple[Any, str, list[Evidence]]:
        """The prompt, shrunk until it fits the model's context with room for the answer:
        the last passages go first, then (for an absurdly long question) its tail."""
        n_ctx = getattr(gen, "n_ctx", None)
        room = self.settings.max_answer_tokens + 8
        while True:
            prompt = build_prompt(question, format_evidence(evidence), style=style)
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

    def _ground_open(self, short: str, evidence: Sequence[Evidence], question: str, prompt: str, gen: Any) -> str:
        """Tie the model's short answer to a name in the evidence: expand a surname to the full
        name the articles use; if the answer appears in no passage, let the model choose among
        the names the passages do mention (its likelihood of each, plus how many articles
        mention it)."""
        if not short or is_refusal(short):
            return short
        cands = candidate_names(evidence, question, self.retriever.sources)
        named = ground_name(short, [c for c, _ in cands], evidence)
        if named:
            return named
        if any(contains_answer(e.text, short) or contains_answer(e.title, short) for e in evidence) or not cands:
            return short
        top = cands[: self.settings.answer_candidates]
        scores = gen.continuation_logprobs(prompt, [c for c, _ in top])
        # the model's likelihood, plus a prior for names several articles mention
        best = max(zip(scores, top, strict=True), key=lambda x: x[0] + math.log(x[1][1]))
        return best[1][0]

    def _embed_many(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_documents(texts)

    def answer(self, query: str, filters: Filters = Filters(), k: int | None = None, history: Sequence[Turn] = ()) -> Answer:
        final: Answer | None = None
        for ev in self.stream(query, filters, k, history):
            if ev.kind == "answer":
                final = ev.answer
        assert final is not None  # stream always ends with an answer event
        return final

    def with_settings(self, **changes: Any) -> Pipeline:
        """A pipeline sharing this one's index, embedder and model, with other settings."""
        s = self.settings.model_copy(update=changes)
        same_model = (s.model, s.n_ctx, s.n_threads) == (self.settings.model, self.settings.n_ctx, self.settings.n_threads)
        return Pipeline(self.index, self.embedder, s, self._generator if same_model else None)

    def close(self) -> None:
        self.index.close()


__all__ = ["Pipeline", "StreamEvent", "Turn", "replace"]
