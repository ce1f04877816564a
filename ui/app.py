"""The Gradio chat page over one index.

``serve(settings)`` loads the pipeline (``rag.pipeline.Pipeline.from_settings``) and
starts the page on ``settings.host:settings.port`` (127.0.0.1 by default: this machine
only; never a public share link), with a login when ``settings.auth`` is
``user:password``. ``build_app(pipeline, settings)`` builds the page without starting it
and ``launch_app`` starts a built page; tests use these two.

What happens on a question: the page shows the question at once, then the retrieved
passages (the pipeline's ``retrieval`` event) before the model writes, the model's text
token by token, and finally the checked answer, whose [n] markers are buttons. A click
on a marker or a source sends ``{kind, turn, n}`` to the server through the HTML
component's own ``trigger`` (see ``CLICK_JS``); the server renders the article with the
passage highlighted in the side panel. All HTML comes from ``ui.render`` (escaped and
sanitised there).

Nothing heavy happens at import time: no model, index or embedder is loaded until
``serve``/``build_app`` is called, and this module never imports faiss, llama_cpp or
sentence_transformers itself.
"""

from __future__ import annotations

import logging
import re
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

from rag.errors import BusyError, CorpusError, RagError, SettingsError
from rag.followup import Turn
from rag.retrieve import Filters
from rag.settings import Settings
from ui import render
from ui.render import Highlight, TurnView

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
STYLE = Path(__file__).with_name("style.css")

# Event delegation on the conversation component: any button carrying data-kind
# (citation marker, source item, retrieved hit) sends its coordinates to the server.
CLICK_JS = """
element.addEventListener('click', function (ev) {
  const b = ev.target && ev.target.closest ? ev.target.closest('button[data-kind]') : null;
  if (!b || !element.contains(b)) return;
  ev.preventDefault();
  element.querySelectorAll('button.active').forEach(function (x) { x.classList.remove('active'); });
  b.classList.add('active');
  trigger('click', {kind: String(b.dataset.kind || ''), turn: parseInt(b.dataset.turn, 10), n: parseInt(b.dataset.n, 10)});
});
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


class Pipelines:
    """The served pipeline plus one pipeline per model chosen on the page (sharing its index)."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.configured_model = base.settings.model
        self._by_model: dict[str, Any] = {self.configured_model: base}
        self._lock = threading.Lock()
        self.swap = SwapLock(writer_timeout=float(base.settings.request_timeout) + 30.0)

    def model_choices(self) -> list[str]:
        from rag.models import PRESETS

        return [self.configured_model] + [m for m in PRESETS if m != self.configured_model]

    def get(self, model: str) -> Any:
        if model not in self.model_choices():
            raise SettingsError(f"unknown model '{model}'; choose one of: {', '.join(self.model_choices())}")
        with self._lock:
            p = self._by_model.get(model)
            if p is None:
                p = self.base.with_settings(model=model)
                self._by_model[model] = p
            return p

    @property
    def index(self) -> Any:
        return self.base.index

    def sources(self) -> list[str]:
        return list(self.base.retriever.sources)

    def reload(self) -> dict[str, Any]:
        """Switch every pipeline to the index directory's current version (loaded models kept)."""
        with self.swap.write(), self._lock:
            info = self.base.reload_index()
            for m, p in list(self._by_model.items()):
                if p is not self.base:
                    self._by_model[m] = p.with_index(self.base.index)
        return info


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
            return render.message_html(f"Index {self.mode} failed: {self.error}. The previous index is still in use.", "error")
        if self.message:
            return render.message_html(self.message, "info")
        return ""


def _parse_corpus(text: str) -> list[Path]:
    parts = [p.strip() for p in re.split(r"[\n;]", text or "") if p.strip()]
    if not parts:
        raise CorpusError("(no path)", "no corpus path given", "type a corpus file or folder path")
    out = []
    for p in parts:
        path = Path(render.clean_text(p)).expanduser()
        if not path.exists():
            raise CorpusError(str(path), "not found", "give an existing corpus file or folder on the server")
        out.append(path)
    return out


def _run_index_job(job: IndexJob, pipes: Pipelines, settings: Settings, paths: list[Path], mode: str) -> None:
    try:
        from rag.build import BuildOptions, build_index, update_index
        from rag.ingest import load_corpus

        job.stage = "reading the corpus"
        report = load_corpus(paths, skip_bad=settings.skip_bad)
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
        pipes.reload()
        skipped = f", {len(result.skipped)} file(s) skipped" if result.skipped else ""
        job.message = (
            f"Index {mode} done in {result.seconds:.1f} s: {result.articles} articles, {result.chunks} chunks, "
            f"{result.embedded} embedded, {result.removed} removed{skipped}. Now serving the new index."
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


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def make_filters(since: str, until: str, outlets: Sequence[str] | None, known: Sequence[str]) -> Filters:
    """Validate the page's filter controls; raises SettingsError with a readable message."""
    since, until = (since or "").strip(), (until or "").strip()
    for name, v in (("From", since), ("To", until)):
        if v:
            try:
                if not _DATE.match(v):
                    raise ValueError
                date.fromisoformat(v)
            except ValueError:
                raise SettingsError(f"{name} date '{v}' is not a date; use YYYY-MM-DD (e.g. 2023-11-14)") from None
    if since and until and since > until:
        raise SettingsError(f"the From date {since} is after the To date {until}")
    chosen = tuple(o for o in (outlets or []) if o)
    unknown = [o for o in chosen if o not in known]
    if unknown:
        raise SettingsError(f"unknown outlet(s): {', '.join(unknown)}; the index has no articles from them")
    return Filters(sources=chosen, since=since, until=until)


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
    pipes = Pipelines(pipeline)
    job = IndexJob()
    admission = threading.BoundedSemaphore(settings.max_concurrency)
    export_dir = Path(tempfile.mkdtemp(prefix="rag-chat-export-"))
    top_k_max = max(30, settings.top_k)

    # ---------------------------------------------------------------- handlers
    def ask(question: str, turns: list[TurnView] | None, since: str, until: str, outlets: list[str] | None,
            top_k: float, model: str) -> Iterator[tuple[str, list[TurnView], str]]:  # fmt: skip
        turns = list(turns or [])
        q = " ".join(render.clean_text(question or "").split())[:MAX_QUESTION_CHARS]
        if not q:
            yield render.conversation_html(turns), turns, question or ""
            return
        turn = TurnView(question=q, status="searching the articles…")
        turns.append(turn)
        try:
            filters = make_filters(since, until, outlets, pipes.sources())
        except SettingsError as e:
            turn.error = str(e)
            yield render.conversation_html(turns), turns, ""
            return
        turn.filters = {"sources": list(filters.sources), "since": filters.since, "until": filters.until}
        if not admission.acquire(blocking=False):
            turn.error = (
                f"Busy: {settings.max_concurrency} question(s) are already being answered on this server. "
                "Please ask again in a moment."
            )
            yield render.conversation_html(turns), turns, q
            return
        stream = None
        try:
            yield render.conversation_html(turns), turns, ""
            with pipes.swap.read():
                pipe = pipes.get(model or pipes.configured_model)
                k = max(1, min(int(top_k or settings.top_k), top_k_max))
                stream = pipe.stream(q, filters, k, _history(turns[:-1]))
                last = 0.0
                for ev in stream:
                    if ev.kind == "retrieval":
                        turn.standalone = ev.query or q
                        turn.evidence, turn.hits, turn.notes = tuple(ev.evidence), tuple(ev.hits), tuple(ev.notes)
                        turn.status = "writing the answer…" if ev.evidence else "checking…"
                        yield render.conversation_html(turns), turns, ""
                    elif ev.kind == "token":
                        turn.partial += ev.text
                        now = time.monotonic()
                        if now - last >= 0.05:
                            last = now
                            yield render.conversation_html(turns), turns, ""
                    elif ev.kind == "answer" and ev.answer is not None:
                        turn.answer = ev.answer
                        turn.standalone = ev.answer.rewritten_query or turn.standalone or q
                        turn.partial, turn.status = "", ""
                        if not turn.evidence and ev.answer.evidence:
                            turn.evidence = tuple(ev.answer.evidence)
                        if not turn.hits and ev.answer.hits:
                            turn.hits = tuple(ev.answer.hits)
        except BusyError as e:
            turn.error = f"Busy: {e}"
        except RagError as e:
            turn.error = f"Error: {e}"
        except Exception as e:  # the server keeps serving whatever one question does
            log.exception("question failed: %s", q)
            turn.error = f"Internal error ({type(e).__name__}); the question was not answered. Details are in the server log."
        finally:
            if stream is not None:
                stream.close()
            admission.release()
        turn.status = ""
        if turn.answer is None and not turn.error:
            turn.error = "No answer was produced."
        yield render.conversation_html(turns), turns, ""

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
            with pipes.swap.read():
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

    def start_index_job(corpus_text: str, mode: str, model: str) -> Iterator[tuple[Any, ...]]:
        with job.lock:
            if job.running:
                yield job.status_html(), gr.skip(), gr.skip()
                return
            try:
                paths = _parse_corpus(corpus_text)
            except RagError as e:
                job.error, job.message, job.mode = str(e), "", mode
                yield job.status_html(), gr.skip(), gr.skip()
                return
            job.running, job.mode, job.stage, job.error, job.message = True, mode, "starting", "", ""
            job.corpus = [str(p) for p in paths]
            job.started = time.time()
            threading.Thread(
                target=_run_index_job, args=(job, pipes, settings, paths, mode), name=f"index-{mode}", daemon=True
            ).start()
        while job.running:
            yield job.status_html(), gr.skip(), gr.skip()
            time.sleep(0.5)
        yield job.status_html(), _index_info(pipes, model), gr.update(choices=pipes.sources())

    def on_load(model: str) -> tuple[str, str]:
        return _index_info(pipes, model), job.status_html()

    def new_chat() -> tuple[str, list[TurnView], str]:
        return render.conversation_html([]), [], render.empty_panel_html()

    # ---------------------------------------------------------------- layout
    with gr.Blocks(title="News Q&A", analytics_enabled=False, fill_width=True) as app:
        turns_state = gr.State([])
        gr.HTML(
            '<div class="page-title"><h2>News Q&amp;A</h2><p>Answers from the indexed articles only, '
            "with checked citations. Click a marker like [1] to read the passage.</p></div>",
            js_on_load=None,
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=420):
                conversation = gr.HTML(
                    render.conversation_html([]), js_on_load=CLICK_JS, elem_id="conversation", autoscroll=True,
                    min_height=240,
                )  # fmt: skip
                with gr.Row():
                    question = gr.Textbox(
                        label="Question", placeholder="Ask about the indexed articles: who, what, when, or a Yes/No question",
                        lines=1, max_lines=4, max_length=MAX_QUESTION_CHARS, scale=6, elem_id="question", autofocus=True,
                    )  # fmt: skip
                    with gr.Column(scale=1, min_width=120):
                        ask_btn = gr.Button("Ask", variant="primary", elem_id="ask")
                        new_btn = gr.Button("New conversation", size="sm", elem_id="new-chat")
                with gr.Accordion("Filters and model", open=True, elem_id="controls"):
                    with gr.Row():
                        since = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="2023-10-01", elem_id="since", max_length=10)
                        until = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="2023-12-31", elem_id="until", max_length=10)
                    outlets = gr.Dropdown(
                        choices=pipes.sources(), value=[], multiselect=True, label="Outlets (none = all)", elem_id="outlets",
                    )  # fmt: skip
                    with gr.Row():
                        top_k = gr.Slider(1, top_k_max, value=settings.top_k, step=1, label="Passages retrieved", elem_id="top-k")
                        model = gr.Dropdown(
                            choices=pipes.model_choices(), value=pipes.configured_model, label="Model", elem_id="model",
                        )  # fmt: skip
                with gr.Accordion("Export", open=False, elem_id="export-box"):
                    export_btn = gr.Button("Export conversation (markdown)", elem_id="export")
                    export_file = gr.File(label="Conversation", interactive=False, elem_id="export-file")
            with gr.Column(scale=4, min_width=360):
                panel = gr.HTML(render.empty_panel_html(), js_on_load=PANEL_JS, elem_id="article-panel", min_height=240)
                with gr.Accordion("Index", open=False, elem_id="index-box"):
                    index_info = gr.HTML(_index_info(pipes), js_on_load=None, elem_id="index-info")
                    corpus = gr.Textbox(
                        label="Corpus path(s) on the server (one per line)",
                        value="\n".join(str(p) for p in settings.corpus), lines=1, max_lines=4, elem_id="corpus",
                        info="Update embeds only new or changed articles and removes articles that are not in this corpus; "
                        "Rebuild embeds everything.",
                    )  # fmt: skip
                    with gr.Row():
                        update_btn = gr.Button("Update index", elem_id="update-index")
                        rebuild_btn = gr.Button("Rebuild index", elem_id="rebuild-index")
                    index_status = gr.HTML("", js_on_load=None, elem_id="index-status")

        # ---------------------------------------------------------------- events
        ask_inputs = [question, turns_state, since, until, outlets, top_k, model]
        ask_outputs = [conversation, turns_state, question]
        for trig in (question.submit, ask_btn.click):
            trig(ask, ask_inputs, ask_outputs, show_progress="hidden", concurrency_limit=None, api_visibility="private")
        conversation.click(open_ref, [turns_state], [panel], show_progress="hidden", api_visibility="private")
        new_btn.click(new_chat, None, [conversation, turns_state, panel], api_visibility="private")
        export_btn.click(export, [turns_state], [export_file], api_visibility="private")

        def run_update(corpus_text: str, model_name: str) -> Iterator[tuple[Any, ...]]:
            yield from start_index_job(corpus_text, "update", model_name)

        def run_rebuild(corpus_text: str, model_name: str) -> Iterator[tuple[Any, ...]]:
            yield from start_index_job(corpus_text, "build", model_name)

        for btn, fn in ((update_btn, run_update), (rebuild_btn, run_rebuild)):
            btn.click(
                fn, [corpus, model], [index_status, index_info, outlets], show_progress="hidden", concurrency_limit=None,
                api_visibility="private",
            )  # fmt: skip
        model.change(lambda m: _index_info(pipes, m), [model], [index_info], api_visibility="private")
        app.load(on_load, [model], [index_info, index_status], api_visibility="private")

    app.queue(default_concurrency_limit=settings.max_concurrency, max_size=max(4, settings.max_concurrency * 4))
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
        footer_links=["settings"],
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
        except RagError as e:
            log.warning("model not loaded yet: %s", e)

    threading.Thread(target=warm, name="load-model", daemon=True).start()
    launch_app(app, settings)
