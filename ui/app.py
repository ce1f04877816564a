"""The Gradio chat page over one index, plus its HTTP API.

``serve(settings)`` loads the pipeline (``rag.pipeline.Pipeline.from_settings``) and
starts the page on ``settings.host:settings.port`` (127.0.0.1 by default: this machine
only; never a public share link), with a login when ``settings.auth`` is
``user:password``. ``build_app(pipeline, settings)`` builds the page without starting it
and ``launch_app`` starts a built page; tests use these two.

Layout: the conversation scrolls inside its own area, the question box sits under it (in
the page flow, never on top of it), "Filters and model" and "Export" are collapsed
under the question box; the article panel and the index panel sit beside the
conversation on a wide screen and below it on a phone. A new question is scrolled to the
top of the conversation area as it starts and its answer is kept in view while it
streams (``CLICK_JS``), unless the reader scrolls away.

What happens on a question: the page shows the question at once, then the retrieved
passages (the pipeline's first ``retrieval`` event) before the model is touched; the
question then waits for the model in a first-come-first-served queue (``ui.serving``),
showing its position, and holds the model for all of its calls; the model's text
streams in, and the checked answer replaces it, with [n] markers as buttons. A click on
a marker or a source sends ``{kind, turn, n}`` to the server through the HTML
component's own ``trigger``; the server renders the article with the passage
highlighted in the side panel. All HTML comes from ``ui.render`` (escaped and
sanitised there). Every failure becomes a readable message in the conversation.

The same server answers ``POST /gradio_api/call/ask`` (``gr.api``; also callable with
``gradio_client``), returning the JSON that ``rag ask --json`` prints (see README,
"HTTP API").

Index editing (update/rebuild from the page) is off unless ``allow_index_editing`` is
set, and then limited to ``corpus_roots`` (``ui.corpus_guard``); read-only, the index
panel still shows what is indexed and when.

Nothing heavy happens at import time: no model, index or embedder is loaded until
``serve``/``build_app`` is called, and this module never imports faiss, llama_cpp or
sentence_transformers itself.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import BusyError, RagError, SettingsError
from rag.followup import Turn
from rag.retrieve import Filters
from rag.settings import Settings
from ui import render
from ui.corpus_guard import check_paths, plan_change, resolve_roots
from ui.render import Highlight, TurnView
from ui.serving import Pipelines

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
STYLE = Path(__file__).with_name("style.css")

# Event delegation on the conversation component: any button carrying data-kind
# (citation marker, source item, retrieved hit) sends its coordinates to the server.
# Scrolling: the conversation component (#conversation) is its own scroll area; a new
# question is scrolled to its top, and while its answer grows the area follows the
# answer (never past the question), until the reader scrolls by hand.
CLICK_JS = """
element.addEventListener('click', function (ev) {
  const b = ev.target && ev.target.closest ? ev.target.closest('button[data-kind]') : null;
  if (!b || !element.contains(b)) return;
  ev.preventDefault();
  element.querySelectorAll('button.active').forEach(function (x) { x.classList.remove('active'); });
  b.classList.add('active');
  trigger('click', {kind: String(b.dataset.kind || ''), turn: parseInt(b.dataset.turn, 10), n: parseInt(b.dataset.n, 10)});
});
let seen = 0, manual = false;
const area = function () { return document.getElementById('conversation') || element; };
['wheel', 'touchmove', 'keydown'].forEach(function (k) {
  area().addEventListener(k, function () { manual = true; }, {passive: true});
});
const follow = function () {
  const box = area();
  const turns = element.querySelectorAll('section.turn');
  if (!turns.length) { seen = 0; box.scrollTop = 0; return; }
  const last = turns[turns.length - 1];
  const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop - 6;
  if (turns.length !== seen) { seen = turns.length; manual = false; }
  if (manual) return;
  // the question at the top of the area; further only if its answer would not fit below it:
  // then the growing end of a streaming answer, or the start of a finished one
  const a = last.querySelector('.answer, .status, .error-message') || last;
  const boxTop = box.getBoundingClientRect().top - box.scrollTop;
  const aTop = a.getBoundingClientRect().top - boxTop - 6, aBottom = a.getBoundingClientRect().bottom - boxTop + 8;
  if (aBottom - top <= box.clientHeight) box.scrollTop = top;
  else if (a.classList.contains('streaming')) box.scrollTop = aBottom - box.clientHeight;
  else box.scrollTop = Math.max(top, Math.min(aTop, aBottom - box.clientHeight));
};
watch('value', function () { requestAnimationFrame(follow); });
"""

# Side panel: bring the highlighted quote into view whenever new content arrives.
PANEL_JS = """
watch('value', function () {
  const m = element.querySelector('mark.quote');
  if (m && m.scrollIntoView) m.scrollIntoView({block: 'center'});
});
"""


# ----------------------------------------------------------------------------------
# shared server state


class SwapLock:
    """Readers (questions, article look-ups) vs. one writer (switching to a rebuilt index).

    Writer preference: once a switch is waiting, new readers wait for it, and the switch
    waits for running readers to finish, at most ``writer_timeout`` seconds (after that
    it goes ahead; a reader still using the old index then gets an error message).
    """

    def __init__(self, writer_timeout: float) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self.writer_timeout = writer_timeout

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer, timeout=self.writer_timeout)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer)
            self._writer = True
            if not self._cond.wait_for(lambda: self._readers == 0, timeout=self.writer_timeout):
                log.warning("switching the index while %d question(s) still use the old one", self._readers)
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass
class IndexJob:
    """One index update/rebuild running in a background thread (at most one at a time)."""

    running: bool = False
    mode: str = ""
    stage: str = ""
    started: float = 0.0
    finished: float = 0.0
    message: str = ""
    error: str = ""
    corpus: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status_html(self) -> str:
        if self.running:
            el = time.time() - self.started
            return render.message_html(
                f"{'Updating' if self.mode == 'update' else 'Rebuilding'} the index from {', '.join(self.corpus)}: "
                f"{self.stage} ({el:.0f} s). The current index keeps answering until the new one is ready.",
                "info",
            )
        if self.error:
            what = "update" if self.mode == "update" else "rebuild"
            return render.message_html(f"Index {what} failed: {self.error}. The previous index is still in use.", "error")
        if self.message:
            return render.message_html(self.message, "info")
        return ""


def _run_index_job(
    job: IndexJob, pipes: Pipelines, swap: SwapLock, settings: Settings, paths: list[Path], mode: str, max_remove: int
) -> None:
    try:
        from rag.build import BuildOptions, build_index, update_index

        job.stage = "reading the corpus"
        with swap.read():
            plan, report = plan_change(mode, paths, pipes.index, settings.skip_bad)
        if len(plan.removed) > max_remove:
            raise RagError(
                f"the corpus changed since the confirmation: this {mode} would now remove {len(plan.removed)} "
                f"article(s), not {max_remove}; nothing was changed, press the button again to review"
            )
        job.stage = f"{len(report.articles)} articles read; embedding " + (
            "new and changed articles" if mode == "update" else "every article"
        )

        def progress(stage: str, done: int, total: int) -> None:
            job.stage = f"{stage} {done}/{total}" if stage != "writing" else "writing the new index version"

        opts = BuildOptions(
            chunk_tokens=settings.chunk_tokens, overlap=settings.chunk_overlap, index_type=settings.index_type,
            hnsw_threshold=settings.hnsw_threshold, skip_bad=settings.skip_bad, progress=False, on_progress=progress,
        )  # fmt: skip
        fn = update_index if mode == "update" else build_index
        result = fn(paths, settings.index_dir, pipes.base.embedder, opts, report)
        job.stage = "switching to the new index"
        pipes.reload(swap)
        skipped = f", {len(result.skipped)} file(s) skipped" if result.skipped else ""
        removed = len(plan.removed) if mode == "build" else result.removed
        job.message = (
            f"Index {mode} done in {result.seconds:.1f} s: {result.articles} articles, {result.chunks} chunks, "
            f"{result.embedded} embedded, {removed} removed{skipped}. Now serving the new index."
        )
    except RagError as e:
        job.error = str(e)
    except Exception as e:  # keep serving whatever happens in the build
        log.exception("index %s failed", mode)
        job.error = f"unexpected error ({type(e).__name__}: {e})"
    finally:
        job.finished = time.time()
        job.running = False


# ----------------------------------------------------------------------------------
# helpers


def parse_auth(auth: str) -> tuple[str, str] | None:
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise SettingsError("auth must look like 'user:password' (both non-empty)")
    return user, password


def make_filters(since: str, until: str, outlets: Sequence[str] | None, known: Sequence[str]) -> Filters:
    """Validate the page's filter controls; raises SettingsError with a readable message."""
    since, until = (since or "").strip(), (until or "").strip()
    for name, v in (("From", since), ("To", until)):
        if v:
            try:
                if len(v) != 10 or v[4] != "-" or v[7] != "-":
                    raise ValueError
                date.fromisoformat(v)
            except ValueError:
                shown = render.clean_text(v)[:40]
                raise SettingsError(f"{name} date '{shown}' is not a date; use YYYY-MM-DD (e.g. 2023-11-14)") from None
    if since and until and since > until:
        raise SettingsError(f"the From date {since} is after the To date {until}")
    chosen = tuple(o for o in (outlets or []) if o)
    unknown = [o for o in chosen if o not in known]
    if unknown:
        raise SettingsError(f"unknown outlet(s): {', '.join(unknown)}; the index has no articles from them")
    return Filters(sources=chosen, since=since, until=until)


def check_question(raw: Any) -> tuple[str, str]:
    """(question, problem): the question as one line of plain text, or why it cannot be asked."""
    text = raw if isinstance(raw, str) else "" if raw is None else str(raw)
    q = " ".join(render.clean_text(text).split())
    if not q:
        if text.strip():
            return "", "The question is empty once invisible and control characters are removed; type it as plain text."
        return "", ""
    if len(q) > MAX_QUESTION_CHARS:
        return q, (
            f"The question is {len(q):,} characters long; questions are limited to {MAX_QUESTION_CHARS:,} characters. "
            "Please shorten it."
        )
    return q, ""


def readable_error(e: BaseException) -> str:
    """A message for an unexpected library error (the details go to the server log)."""
    detail = " ".join(str(e).split())[:200]
    if isinstance(e, OverflowError) or (isinstance(e, ValueError) and "year" in detail):
        why = "a date in the question is outside the range this tool understands (years 1 to 9999)"
    else:
        why = f"{type(e).__name__}: {detail}" if detail else type(e).__name__
    return f"Error: this question could not be answered ({why}). Please rephrase it; the details are in the server log."


def _history(turns: Sequence[TurnView]) -> list[Turn]:
    return [Turn(question=t.standalone or t.question, answer=t.answer.short) for t in turns if t.answer is not None]


def _index_info(pipes: Pipelines, model: str = "") -> str:
    try:
        return render.index_info_html(pipes.index.info(), model or pipes.configured_model)
    except Exception as e:  # an info panel must never break the page
        return render.message_html(f"index information unavailable: {e}")


# ----------------------------------------------------------------------------------
# the page


def build_app(pipeline: Any, settings: Settings) -> gr.Blocks:
    """The chat page over ``pipeline`` (not started; see ``launch_app``)."""
    pipes = Pipelines(pipeline, settings.max_loaded_models, list(settings.ui_models))
    swap = SwapLock(writer_timeout=float(settings.request_timeout) + 30.0)
    job = IndexJob()
    admission = threading.BoundedSemaphore(settings.max_concurrency)
    export_dir = Path(tempfile.mkdtemp(prefix="rag-chat-export-"))
    top_k_max = max(30, settings.top_k)
    editing = bool(settings.allow_index_editing)
    roots = resolve_roots(settings.corpus_roots) if editing else []
    if editing and not roots:
        raise SettingsError(
            "allow_index_editing is on but corpus_roots is empty: name the folders the page may index from "
            "(rag serve --allow-index-editing --corpus-root DIR, or corpus_roots in rag.toml)"
        )

    # ---------------------------------------------------------------- answering
    def answer_steps(turn: TurnView, q: str, filters: Filters, k: int, history: list[Turn], model_name: str) -> Iterator[None]:
        """Answer ``q`` into ``turn`` (in place); yields whenever the page should show progress."""
        if not admission.acquire(blocking=False):
            turn.error = (
                f"Busy: {settings.max_concurrency} question(s) are already being answered or waiting on this server. "
                "Please ask again in a moment."
            )
            return
        queue = pipes.queue
        ticket: object | None = None
        stream = None
        try:
            with swap.read():
                pipe = pipes.get(model_name)
                stream = pipe.stream(q, filters, k, history)
                last = 0.0
                for ev in stream:
                    if ev.kind == "retrieval":
                        turn.standalone = ev.query or q
                        if ev.evidence or not turn.evidence:
                            turn.evidence, turn.hits, turn.notes = tuple(ev.evidence), tuple(ev.hits), tuple(ev.notes)
                        yield
                        if ticket is None:  # sources are on the page; now wait for the model
                            ticket = queue.enter()
                            t0 = time.monotonic()
                            while not queue.wait_turn(ticket, 0.5):
                                waited = time.monotonic() - t0
                                if waited > settings.request_timeout:
                                    raise BusyError(
                                        f"the model has been answering other questions for {waited:.0f} s; "
                                        "please ask again in a moment"
                                    )
                                ahead = queue.position(ticket)
                                turn.status = (
                                    f"Waiting for the model: {ahead} question{'s' if ahead != 1 else ''} ahead of yours "
                                    f"({waited:.0f} s)…"
                                )
                                yield
                            pipes.make_room(model_name)
                            turn.status = "writing the answer…"
                            yield
                    elif ev.kind == "draft":
                        turn.draft = ev.text
                        if getattr(ev, "evidence", None) and not turn.evidence:
                            turn.evidence = tuple(ev.evidence)
                        yield
                    elif ev.kind == "token":
                        turn.partial += ev.text
                        now = time.monotonic()
                        if now - last >= 0.05:
                            last = now
                            yield
                    elif ev.kind == "answer" and ev.answer is not None:
                        turn.answer = ev.answer
                        turn.standalone = ev.answer.rewritten_query or turn.standalone or q
                        turn.partial, turn.draft, turn.status = "", "", ""
                        if not turn.evidence and ev.answer.evidence:
                            turn.evidence = tuple(ev.answer.evidence)
                        if not turn.hits and ev.answer.hits:
                            turn.hits = tuple(ev.answer.hits)
        except BusyError as e:
            turn.error = f"Busy: {e}"
        except RagError as e:
            turn.error = f"Error: {e}"
        except Exception as e:  # the server keeps serving whatever one question does
            log.exception("question failed: %r", q[:200])
            turn.error = readable_error(e)
        finally:
            try:
                if stream is not None:
                    stream.close()
            finally:
                if ticket is not None:
                    queue.leave(ticket)
                admission.release()
        turn.status = ""
        if turn.answer is None and not turn.error:
            turn.error = "No answer was produced."

    def prepare(question: Any, since: str, until: str, outlets: Any, top_k: Any) -> tuple[TurnView | None, Filters, int]:
        """A new turn for the question, with its error already set when it cannot be asked."""
        q, problem = check_question(question)
        if not q and not problem:
            return None, Filters(), 0
        turn = TurnView(question=q if len(q) <= 300 else q[:300] + "…", status="searching the articles…")
        if problem:
            turn.error, turn.status = problem, ""
            return turn, Filters(), 0
        try:
            filters = make_filters(since, until, outlets if isinstance(outlets, (list, tuple)) else [], pipes.sources())
            k = max(1, min(int(top_k or settings.top_k), top_k_max))
        except SettingsError as e:
            turn.error, turn.status = str(e), ""
            return turn, Filters(), 0
        except (TypeError, ValueError):
            turn.error, turn.status = f"the number of passages must be a whole number from 1 to {top_k_max}", ""
            return turn, Filters(), 0
        turn.filters = {"sources": list(filters.sources), "since": filters.since, "until": filters.until}
        return turn, filters, k

    # ---------------------------------------------------------------- handlers
    def ask(question: str, turns: list[TurnView] | None, since: str, until: str, outlets: list[str] | None,
            top_k: float, model: str) -> Iterator[tuple[str, list[TurnView], str]]:  # fmt: skip
        turns = list(turns or [])
        turn, filters, k = prepare(question, since, until, outlets, top_k)
        if turn is None:
            yield render.conversation_html(turns), turns, question or ""
            return
        turns.append(turn)
        if turn.error:
            keep = question if len(str(question or "")) > MAX_QUESTION_CHARS else ""
            yield render.conversation_html(turns), turns, keep
            return
        yield render.conversation_html(turns), turns, ""
        q = check_question(question)[0]
        for _ in answer_steps(turn, q, filters, k, _history(turns[:-1]), model or pipes.configured_model):
            yield render.conversation_html(turns), turns, ""
        yield render.conversation_html(turns), turns, ""

    def api_ask(
        question: str, since: str = "", until: str = "", outlets: list[str] | None = None, k: int = 0, model: str = ""
    ) -> dict:
        """Answer one question from the index. Returns the JSON that `rag ask --json` prints
        (query, answer, short, refused, reason, sentences, citations, evidence, hits, timings, model),
        or {"query", "error", "busy"} when the question could not be answered."""
        turn, filters, kk = prepare(question, since, until, list(outlets or []), k or settings.top_k)
        if turn is None:
            return {"query": "", "error": "no question given", "busy": False}
        q = check_question(question)[0]
        if not turn.error:
            for _ in answer_steps(turn, q, filters, kk, [], model or pipes.configured_model):
                pass
        if turn.answer is not None:
            return turn.answer.to_json()
        return {"query": q, "error": turn.error, "busy": turn.error.startswith("Busy")}

    def open_ref(turns: list[TurnView] | None, evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        try:
            kind, ti, n = str(data.get("kind", "")), int(data.get("turn", -1)), int(data.get("n", -1))
        except (TypeError, ValueError):
            return render.panel_message_html("Could not read that click; try again.", "error")
        turns = turns or []
        if not 0 <= ti < len(turns):
            return render.panel_message_html("That answer is no longer in this conversation.", "error")
        t = turns[ti]
        target: Any = None
        heading = ""
        if kind == "cite":
            cites = t.answer.citations if t.answer else ()
            target = next((c for c in cites if c.n == n), None) or next((e for e in t.evidence if e.n == n), None)
            heading = f"Q{ti + 1}: cited passage [{n}]"
        elif kind == "src":
            target = next((e for e in t.evidence if e.n == n), None)
            heading = f"Q{ti + 1}: source [{n}]"
        elif kind == "hit" and 0 <= n < len(t.hits):
            target = t.hits[n]
            heading = f"Q{ti + 1}: retrieved passage #{n + 1}"
        if target is None:
            return render.panel_message_html(f"Passage [{n}] is not part of that answer.", "error")
        quote = str(getattr(target, "quote", None) or getattr(target, "text", ""))
        hl = Highlight(int(target.start), int(target.end), f"[{n}]" if kind != "hit" else f"#{n + 1}", quote)
        try:
            with swap.read():
                meta = dict(pipes.index.article_meta(target.article_id))
                body = pipes.index.article_body(target.article_id)
        except KeyError:
            meta = {"title": target.title, "source": target.source, "published_at": target.published_at}
            return render.article_html(meta, "", [hl], heading + " (the article is no longer in the index)")
        except Exception as e:
            log.exception("article look-up failed")
            return render.panel_message_html(f"Could not open the article: {e}", "error")
        return render.article_html(meta, body, [hl], heading)

    def export(turns: list[TurnView] | None) -> str | None:
        turns = turns or []
        if not turns:
            raise gr.Error("Nothing to export yet: ask a question first.")
        urls = {}
        for t in turns:
            for c in t.answer.citations if t.answer else ():
                try:
                    urls[c.article_id] = str(pipes.index.article_meta(c.article_id).get("url") or "")
                except KeyError:
                    pass
        info = pipes.index.info()
        now = datetime.now(timezone.utc)
        header = {
            "Exported": now.isoformat(timespec="seconds"),
            "Index version": str(info.get("version", "")),
            "Articles": str((info.get("counts") or {}).get("articles", "")),
        }
        path = export_dir / f"conversation-{now.strftime('%Y%m%d-%H%M%S-%f')}.md"
        path.write_text(render.conversation_markdown(turns, header, urls), encoding="utf-8")
        return str(path)

    # ---------------------------------------------------------------- index editing
    hidden = gr.update(visible=False)

    def run_job(paths: list[Path], mode: str, max_remove: int, model: str) -> Iterator[tuple[Any, ...]]:
        with job.lock:
            if job.running:
                yield job.status_html(), gr.skip(), gr.skip(), hidden, hidden, None
                return
            job.running, job.mode, job.stage, job.error, job.message = True, mode, "starting", "", ""
            job.corpus = [str(p) for p in paths]
            job.started = time.time()
            threading.Thread(
                target=_run_index_job, args=(job, pipes, swap, settings, paths, mode, max_remove), name=f"index-{mode}",
                daemon=True,
            ).start()  # fmt: skip
        while job.running:
            yield job.status_html(), gr.skip(), gr.skip(), hidden, hidden, None
            time.sleep(0.5)
        yield job.status_html(), _index_info(pipes, model), gr.update(choices=pipes.sources()), hidden, hidden, None

    def review(corpus_text: str, mode: str, model: str) -> Iterator[tuple[Any, ...]]:
        """Check the paths, then either start (nothing would be removed) or ask for confirmation."""
        if job.running:
            yield job.status_html(), gr.skip(), gr.skip(), hidden, hidden, None
            return
        try:
            paths = check_paths(corpus_text, roots)
            with swap.read():
                plan, _ = plan_change(mode, paths, pipes.index, settings.skip_bad)
        except RagError as e:
            job.error, job.message, job.mode = str(e), "", mode
            yield job.status_html(), gr.skip(), gr.skip(), hidden, hidden, None
            return
        if not plan.removed:
            yield from run_job(paths, mode, 0, model)
            return
        verb = "update" if mode == "update" else "rebuild"
        text = (
            f"{plan.summary()}: {plan.removal_list()}. Nothing has been changed yet. Press 'Confirm {verb}' to go ahead "
            "and remove them, or 'Cancel'."
        )
        yield (
            render.message_html(text, "busy"), gr.skip(), gr.skip(),
            gr.update(visible=True, value=f"Confirm {verb} (removes {len(plan.removed)})"), gr.update(visible=True),
            {"mode": mode, "paths": [str(p) for p in paths], "removed": len(plan.removed), "version": plan.version},
        )  # fmt: skip

    def confirm(pending: dict | None, model: str) -> Iterator[tuple[Any, ...]]:
        if not pending:
            yield render.message_html("Nothing to confirm: press Update or Rebuild first.", "info"), gr.skip(), gr.skip(), \
                hidden, hidden, None
            return
        if str(pipes.index.info().get("version", "")) != pending.get("version"):
            yield render.message_html("The index changed since the review; press Update or Rebuild again.", "error"), \
                gr.skip(), gr.skip(), hidden, hidden, None
            return
        try:  # the roots are checked again: the pending paths came back from the browser
            paths = check_paths("\n".join(pending.get("paths") or []), roots)
        except RagError as e:
            yield render.message_html(str(e), "error"), gr.skip(), gr.skip(), hidden, hidden, None
            return
        yield from run_job(paths, str(pending.get("mode")), int(pending.get("removed", 0)), model)

    def cancel() -> tuple[Any, ...]:
        return render.message_html("Cancelled: the index was not changed.", "info"), hidden, hidden, None

    def on_load(model: str) -> tuple[str, str]:
        return _index_info(pipes, model), job.status_html()

    def new_chat() -> tuple[str, list[TurnView], str]:
        return render.conversation_html([]), [], render.empty_panel_html()

    # ---------------------------------------------------------------- layout
    choices = pipes.model_choices()
    with gr.Blocks(title="News Q&A", analytics_enabled=False, fill_width=True) as app:
        turns_state = gr.State([])
        pending_state = gr.State(None)
        gr.HTML(
            '<div class="page-title"><h2>News Q&amp;A</h2><p>Answers from the indexed articles only, '
            "with checked citations. Click a marker like [1] to read the passage.</p></div>",
            js_on_load=None, elem_id="page-title",
        )  # fmt: skip
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=5, min_width=340, elem_id="chat-column"):
                conversation = gr.HTML(
                    render.conversation_html([]), js_on_load=CLICK_JS, elem_id="conversation", autoscroll=False,
                    container=False,
                )  # fmt: skip
                with gr.Row(elem_id="ask-row", equal_height=True):
                    question = gr.Textbox(
                        label="Question", show_label=False, lines=1, max_lines=3, scale=6, min_width=160,
                        placeholder="Ask about the articles: who, what, when, or Yes/No",
                        elem_id="question", autofocus=True, container=False,
                    )  # fmt: skip
                    with gr.Column(scale=0, min_width=96, elem_id="ask-buttons"):
                        ask_btn = gr.Button("Ask", variant="primary", elem_id="ask", size="sm")
                        new_btn = gr.Button("New conversation", size="sm", elem_id="new-chat")
                with gr.Accordion("Filters and model", open=False, elem_id="controls"):
                    with gr.Row():
                        since = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="2023-10-01", elem_id="since", max_length=10)
                        until = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="2023-12-31", elem_id="until", max_length=10)
                    outlets = gr.Dropdown(
                        choices=pipes.sources(), value=[], multiselect=True, label="Outlets (none = all)", elem_id="outlets",
                    )  # fmt: skip
                    with gr.Row():
                        top_k = gr.Slider(1, top_k_max, value=settings.top_k, step=1, label="Passages retrieved", elem_id="top-k")
                        model = gr.Dropdown(
                            choices=choices, value=pipes.configured_model, label="Model", elem_id="model",
                            interactive=len(choices) > 1,
                            info=None if len(choices) > 1 else "the only model this server offers",
                        )  # fmt: skip
                with gr.Accordion("Export", open=False, elem_id="export-box"):
                    export_btn = gr.Button("Export conversation (markdown)", elem_id="export")
                    export_file = gr.File(label="Conversation", interactive=False, elem_id="export-file")
            with gr.Column(scale=4, min_width=340, elem_id="side-column"):
                panel = gr.HTML(render.empty_panel_html(), js_on_load=PANEL_JS, elem_id="article-panel", container=False)
                with gr.Accordion("Index", open=False, elem_id="index-box"):
                    index_info = gr.HTML(_index_info(pipes), js_on_load=None, elem_id="index-info")
                    if editing:
                        corpus = gr.Textbox(
                            label="Corpus path(s) on the server (one per line)",
                            value="\n".join(str(p) for p in settings.corpus), lines=1, max_lines=4, elem_id="corpus",
                            info="Only under: " + ", ".join(str(r) for r in roots) + ". Update embeds new or changed "
                            "articles and removes articles that are not in this corpus; Rebuild embeds everything. "
                            "Anything that would remove articles asks first.",
                        )  # fmt: skip
                        with gr.Row():
                            update_btn = gr.Button("Update index", elem_id="update-index")
                            rebuild_btn = gr.Button("Rebuild index", elem_id="rebuild-index")
                        with gr.Row():
                            confirm_btn = gr.Button("Confirm", variant="stop", visible=False, elem_id="confirm-index")
                            cancel_btn = gr.Button("Cancel", visible=False, elem_id="cancel-index")
                    else:
                        gr.HTML(
                            render.message_html(
                                "Read-only: this server does not let the page change the index. Whoever runs it can "
                                "allow updates with 'rag serve --allow-index-editing --corpus-root DIR'.", "info",
                            ), js_on_load=None, elem_id="index-readonly",
                        )  # fmt: skip
                    index_status = gr.HTML("", js_on_load=None, elem_id="index-status")

        # ---------------------------------------------------------------- events
        ask_inputs = [question, turns_state, since, until, outlets, top_k, model]
        ask_outputs = [conversation, turns_state, question]
        for trig in (question.submit, ask_btn.click):  # named so that the public API keeps the name "ask"
            trig(ask, ask_inputs, ask_outputs, show_progress="hidden", concurrency_limit=None, api_visibility="private",
                 api_name="page_ask")  # fmt: skip
        conversation.click(open_ref, [turns_state], [panel], show_progress="hidden", api_visibility="private")
        new_btn.click(new_chat, None, [conversation, turns_state, panel], api_visibility="private")
        export_btn.click(export, [turns_state], [export_file], api_visibility="private")
        if editing:
            job_outputs = [index_status, index_info, outlets, confirm_btn, cancel_btn, pending_state]

            def run_update(corpus_text: str, model_name: str) -> Iterator[tuple[Any, ...]]:
                yield from review(corpus_text, "update", model_name)

            def run_rebuild(corpus_text: str, model_name: str) -> Iterator[tuple[Any, ...]]:
                yield from review(corpus_text, "build", model_name)

            for btn, fn in ((update_btn, run_update), (rebuild_btn, run_rebuild)):
                btn.click(fn, [corpus, model], job_outputs, show_progress="hidden", concurrency_limit=None,
                          api_visibility="private")  # fmt: skip
            confirm_btn.click(confirm, [pending_state, model], job_outputs, show_progress="hidden", concurrency_limit=None,
                              api_visibility="private")  # fmt: skip
            cancel_btn.click(cancel, None, [index_status, confirm_btn, cancel_btn, pending_state], api_visibility="private")
        model.change(lambda m: _index_info(pipes, m), [model], [index_info], api_visibility="private")
        app.load(on_load, [model], [index_info, index_status], api_visibility="private")
        gr.api(api_ask, api_name="ask", concurrency_limit=None)

    app.queue(default_concurrency_limit=settings.max_concurrency, max_size=max(32, settings.max_concurrency * 4))
    app.rag_pipelines = pipes  # type: ignore[attr-defined]  # for tests and serve()
    return app


# ----------------------------------------------------------------------------------
# starting


def _theme() -> Any:
    # system fonts only: the page must not fetch anything from the internet
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def launch_app(app: gr.Blocks, settings: Settings, *, block: bool = True, port: int | None = None, quiet: bool = False) -> str:
    """Start a built page on settings.host (never a share link); returns the local URL."""
    auth = parse_auth(settings.auth)
    _, local_url, _ = app.launch(
        server_name=settings.host,
        server_port=settings.port if port is None else port,
        share=False,
        auth=auth,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        theme=_theme(),
        css=STYLE.read_text(encoding="utf-8") if STYLE.is_file() else None,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        max_file_size="1mb",  # the page offers no upload; keep Gradio's upload route small
        footer_links=["api", "settings"],
    )
    url = local_url or f"http://{settings.host}:{settings.port if port is None else port}/"
    if not quiet:
        where = "this machine only" if settings.host in {"127.0.0.1", "localhost", "::1"} else "reachable from the network"
        print(f"chat page: {url} ({where}{'; login required' if auth else ''})", flush=True)
        if where != "this machine only" and not auth:
            print("warning: the page is reachable from other machines without a login; set auth = 'user:password'", flush=True)
    if block:
        try:
            app.block_thread()
        finally:
            app.close()
    return url


def serve(settings: Settings, embedder: Any = None) -> None:
    """Load the index (and, in the background, the model) and serve the chat page until Ctrl-C."""
    from rag.pipeline import Pipeline

    parse_auth(settings.auth)  # a malformed auth setting fails before the slow loads
    pipe = Pipeline.from_settings(settings, embedder=embedder)
    app = build_app(pipe, settings)

    def warm() -> None:
        try:
            _ = pipe.generator
        except Exception as e:  # the first question will say what is wrong
            log.warning("model not loaded yet: %s", e)

    threading.Thread(target=warm, name="load-model", daemon=True).start()
    launch_app(app, settings)
