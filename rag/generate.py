"""Generation stage: a prompt in, streamed text out.

``Generator`` is the protocol (``stream`` is the one required method; ``complete`` is
derived); ``LlamaGenerator`` runs a verified GGUF with llama-cpp-python on the CPU;
``ScriptedGenerator`` is a fake for fast unit tests. One model object serves one
request at a time: ``stream`` takes a lock (waiting at most ``timeout`` seconds, then
``BusyError``) and releases it when the caller stops iterating, so a client that goes
away frees the model. Prompts are built in ``rag.prompt``; this module does not know
about evidence or citations.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rag.errors import BusyError, ModelError

log = logging.getLogger(__name__)


@runtime_checkable
class Generator(Protocol):
    name: str

    def count_tokens(self, text: str) -> int: ...

    def chat_prompt(self, system: str, user: str, assistant_prefix: str = "") -> str: ...

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]: ...

    def stream(
        self, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None, ban: Sequence[str] = ()
    ) -> Iterator[str]: ...


def complete(gen: Generator, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None) -> str:
    """Whole completion (derived from ``stream``)."""
    return "".join(gen.stream(prompt, max_tokens, grammar, stop))


class _OneAtATime:
    """A lock with a wait limit, shared by everything that uses one model. ``waiting`` is
    the number of callers queued behind the holder (the chat page shows it)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self.waiting = 0

    def acquire(self) -> None:
        with self._count:
            self.waiting += 1
        try:
            if not self._lock.acquire(timeout=self.timeout):
                raise BusyError(f"the model is busy with another question; waited {self.timeout:.0f}s, try again shortly")
        finally:
            with self._count:
                self.waiting -= 1

    def release(self) -> None:
        self._lock.release()


class Held:
    """The model held for one question (``Generator.hold()``): the same calls without taking
    the lock again, so a question's two or three calls are never interleaved with another
    question's (which would also throw away llama.cpp's prompt cache). Any thread may
    release it (a streamed answer can be resumed on another worker thread)."""

    def __init__(self, gen: Any) -> None:
        self._gen = gen
        self.name = gen.name
        self.n_ctx = getattr(gen, "n_ctx", None)

    def count_tokens(self, text: str) -> int:
        return int(self._gen.count_tokens(text))

    def chat_prompt(self, system: str, user: str, assistant_prefix: str = "") -> str:
        return str(self._gen.chat_prompt(system, user, assistant_prefix))

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        return list(self._gen._first_token_logprobs(prompt, options))

    def stream(
        self, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None, ban: Sequence[str] = ()
    ) -> Iterator[str]:
        return self._gen._stream(prompt, max_tokens, grammar, stop, ban)


class _Hold:
    def __init__(self, gen: Any) -> None:
        self.gen = gen

    def __enter__(self) -> Held:
        self.gen._gate.acquire()
        return Held(self.gen)

    def __exit__(self, *exc: object) -> None:
        self.gen._gate.release()


def cpu_features() -> str:
    """The CPU features this llama.cpp build uses (llama.cpp's own system-info line)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    flags = (f.split(":")[-1].split("=")[0].strip() for f in info.split("|") if f.strip().endswith("= 1"))
    return " ".join(flags)


class LlamaGenerator:
    """llama-cpp-python on the CPU. Greedy decoding, so answers are deterministic."""

    def __init__(
        self,
        path: str | Path,
        name: str = "",
        n_ctx: int = 2048,
        n_threads: int = 0,
        timeout: float = 120.0,
        seed: int = 0,
        use_mmap: bool = False,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as e:  # pragma: no cover - install problem
            raise ModelError(f"llama-cpp-python is not installed ({e}); run scripts/setup.sh") from None
        threads = n_threads or os.cpu_count() or 2
        t0 = time.perf_counter()
        try:
            self.llm = Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                n_batch=512, seed=seed, use_mmap=use_mmap, verbose=False,
            )  # fmt: skip
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{path}: llama.cpp could not load the model ({e})") from None
        self.load_seconds = time.perf_counter() - t0
        self.name = name or Path(path).stem
        self.path = Path(path)
        self.n_ctx = n_ctx
        self._gate = _OneAtATime(timeout)
        self._template = self._chat_template()
        self._grammars: dict[str, Any] = {}
        # tokens that end in a colon (":", "):", ":\n", ...): found once here, with the load, not on a question's path
        self._colons = [
            i for i in range(self.llm.n_vocab()) if self.llm.detokenize([i]).decode("utf-8", "replace").rstrip().endswith(":")
        ]  # fmt: skip
        self.last_prompt_tokens = 0
        self.last_cached_tokens = 0

    def _chat_template(self) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        meta = self.llm.metadata
        tmpl = meta.get("tokenizer.chat_template")
        if not tmpl:
            return None
        vocab = self.llm
        eos = vocab.detokenize([vocab.token_eos()]).decode("utf-8", "ignore") if vocab.token_eos() >= 0 else ""
        bos = vocab.detokenize([vocab.token_bos()]).decode("utf-8", "ignore") if vocab.token_bos() >= 0 else ""
        return Jinja2ChatFormatter(template=tmpl, eos_token=eos, bos_token=bos)

    def chat_prompt(self, system: str, user: str, assistant_prefix: str = "") -> str:
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        if self._template is None:
            return f"{system}\n\n{user}\n\nAnswer: {assistant_prefix}"
        out = self._template(messages=msgs)
        return str(out.prompt) + assistant_prefix

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _grammar(self, gbnf: str) -> Any:
        from llama_cpp import LlamaGrammar

        if gbnf not in self._grammars:
            self._grammars[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
        return self._grammars[gbnf]

    def _word_ids(self, words: Sequence[str]) -> set[int]:
        ids: set[int] = set()
        for w in words:
            for v in (w, " " + w, w.lower(), " " + w.lower()):
                ids.add(self.llm.tokenize(v.encode("utf-8"), add_bos=False)[0])
        return ids

    def _ends_in_digit(self, token: int) -> bool:
        return self.llm.detokenize([token]).decode("utf-8", "replace").rstrip()[-1:].isdigit()

    def _processors(self, ban: Sequence[str], one_line: bool = False) -> Any:
        """Logits processors: the ``ban`` words may not open the completion (only the first token:
        a ``logit_bias`` holds at every step, so with "No" banned as an opening the model could
        not write " no" anywhere, "no one was hurt"); and a completion that ends at the end of
        its line may not end a phrase with a colon, since what the colon announces would come on
        the next line, which is cut (the 0.5B model opened timelines and comparisons with "... as
        follows:" and nothing else)."""
        if not ban and not one_line:
            return None
        from llama_cpp import LogitsProcessorList

        first = sorted(self._word_ids(ban))
        always = self._colons if one_line else []
        done = [False]

        def mask(input_ids: Any, scores: Any) -> Any:
            if not done[0]:
                done[0] = True
                scores[first] = -float("inf")
            if always and not (len(input_ids) and self._ends_in_digit(int(input_ids[-1]))):
                scores[always] = -float("inf")  # after a digit a colon is a time or a ratio ("10:30", "3:1")
            return scores

        return LogitsProcessorList([mask])

    def hold(self) -> _Hold:
        """``with gen.hold() as g:`` the model for one question's calls (see ``Held``)."""
        return _Hold(self)

    @property
    def waiting(self) -> int:
        return self._gate.waiting

    def stream(
        self, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None, ban: Sequence[str] = ()
    ) -> Iterator[str]:
        """Greedy completion, streamed. ``ban``: words whose first token may not be generated."""
        self._gate.acquire()
        try:
            yield from self._stream(prompt, max_tokens, grammar, stop, ban)
        finally:
            self._gate.release()

    def _stream(
        self, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None, ban: Sequence[str] = ()
    ) -> Iterator[str]:
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        room = self.n_ctx - len(tokens)
        if room < 8:
            raise ModelError(
                f"prompt of {len(tokens)} tokens does not fit the {self.n_ctx}-token context; "
                "lower evidence_tokens or raise n_ctx"
            )
        self.last_prompt_tokens, self.last_cached_tokens = len(tokens), self._shared_prefix(tokens)
        it = self.llm.create_completion(
            tokens, max_tokens=min(max_tokens, room), temperature=0.0, top_k=1, top_p=1.0, min_p=0.0,
            repeat_penalty=1.0, stream=True, stop=stop or [], grammar=self._grammar(grammar) if grammar else None,
            logits_processor=self._processors(ban, one_line="\n" in (stop or [])),
        )  # fmt: skip
        try:
            for part in it:
                text = part["choices"][0]["text"]
                if text:
                    yield text
        finally:
            close = getattr(it, "close", None)
            if close:
                close()

    def _shared_prefix(self, tokens: list[int]) -> int:
        prev = list(self.llm._input_ids) if self.llm.n_tokens else []
        same = 0
        for a, b in zip(prev, tokens, strict=False):
            if a != b:
                break
            same += 1
        return same

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        """Log-probability that the answer starts with each option (its first token), from one
        forward pass over the prompt. The KV cache keeps the shared prefix for the next call."""
        self._gate.acquire()
        try:
            return self._first_token_logprobs(prompt, options)
        finally:
            self._gate.release()

    def _first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        import numpy as np

        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) >= self.n_ctx:
            raise ModelError(f"prompt of {len(tokens)} tokens does not fit the {self.n_ctx}-token context; lower evidence_tokens")
        same = min(self._shared_prefix(tokens), len(tokens) - 1)
        self.last_prompt_tokens, self.last_cached_tokens = len(tokens), same
        self.llm.n_tokens = same
        self.llm.eval(tokens[same:])
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.llm._n_vocab,)).astype(np.float64)
        m = logits.max()
        logp = logits - (m + np.log(np.exp(logits - m).sum()))
        out = []
        for opt in options:
            ids = {self.llm.tokenize(v.encode("utf-8"), add_bos=False)[0] for v in (opt, " " + opt) if v.strip()}
            out.append(float(max(logp[i] for i in ids)))
        return out


class ScriptedGenerator:
    """A fake generator for unit tests: replies from a function of the prompt."""

    def __init__(
        self, reply: Any = "Insufficient information.\nNo passage answers the question.", name: str = "scripted"
    ) -> None:
        self.reply = reply
        self.name = name
        self.prompts: list[str] = []
        self.bans: list[list[str]] = []  # the words each streamed answer was not allowed to open with
        self._gate = _OneAtATime(5.0)

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def chat_prompt(self, system: str, user: str, assistant_prefix: str = "") -> str:
        return f"<system>{system}</system><user>{user}</user><assistant>{assistant_prefix}"

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        """0 for the option the scripted reply starts with, -10 for the others."""
        self.prompts.append(prompt)
        text = (self.reply(prompt) if callable(self.reply) else str(self.reply)).strip().lower()
        return [0.0 if text.startswith(o.lower()) else -10.0 for o in options]

    def hold(self) -> _Hold:
        return _Hold(self)

    @property
    def waiting(self) -> int:
        return self._gate.waiting

    def _first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        return self.first_token_logprobs(prompt, options)

    def stream(
        self, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None, ban: Sequence[str] = ()
    ) -> Iterator[str]:
        self._gate.acquire()
        try:
            yield from self._stream(prompt, max_tokens, grammar, stop, ban)
        finally:
            self._gate.release()

    def _stream(
        self, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None, ban: Sequence[str] = ()
    ) -> Iterator[str]:
        self.prompts.append(prompt)
        self.bans.append(list(ban))
        text = self.reply(prompt) if callable(self.reply) else str(self.reply)
        for s in stop or []:
            if s in text:
                text = text[: text.index(s)]
        for i in range(0, len(text), 4):
            yield text[i : i + 4]
