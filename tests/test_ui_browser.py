"""The chat page in a real browser (headless Debian chromium driven by Playwright).

Each test starts the real app (``ui.app.build_app`` + ``ui.app.launch_app`` on
127.0.0.1 and a free port, in this process) over the real ``small_index`` (MiniLM,
FAISS, BM25). One test answers with the real SmolLM2 model; the others use
``CitingGenerator``, a real implementation of the generator protocol that writes a
known cited answer and can pause at gates, so citation clicks, streaming, follow-ups,
busy handling and errors are exercised deterministically.

Run: ``pytest tests/test_ui_browser.py -m browser`` (needs ``apt-get install chromium``).
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
ARTIFACTS = Path(__file__).parent / "artifacts"
QUESTION = "What did US officials warn North Korea against?"
SEED_QUOTE = "arms deal with Russia"
TIMEOUT_MS = 60_000


# ----------------------------------------------------------------------------------
# a deterministic generator (real implementation of rag.generate.Generator)


class CitingGenerator:
    """Answers with one sentence citing the evidence line that mentions an arms deal with Russia
    (and a sure 'Yes' to a Yes/No question).

    ``hold_start`` / ``hold_middle``: when set, ``stream`` waits for the test to open
    ``go_start`` (before the first token) and ``go_middle`` (half way through the answer).
    ``fail_with``: raise this error instead of answering.
    """

    name = "citing-fake"

    def __init__(self, hold_start: bool = False, hold_middle: bool = False) -> None:
        self.hold_start, self.hold_middle = hold_start, hold_middle
        self.go_start, self.go_middle = threading.Event(), threading.Event()
        self.started = threading.Event()
        self.fail_with: Exception | None = None
        self.prompts: list[str] = []
        self.reply_for = self.default_reply

    @staticmethod
    def default_reply(prompt: str) -> str:
        m = re.search(r"^\[(\d+)\] [^\n]*" + re.escape(SEED_QUOTE), prompt, flags=re.M)
        n = m.group(1) if m else "1"
        return f"US officials warned North Korea against an arms deal with Russia [{n}]."

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        """A sure 'Yes' (and never 'Insufficient')."""
        return [0.0 if o == "Yes" else -10.0 for o in options]

    def continuation_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        return [0.0 if i == 0 else -10.0 for i, _ in enumerate(options)]

    def chat_prompt(self, system: str, user: str, assistant_prefix: str = "") -> str:
        return f"{system}\n\n{user}\n\n{assistant_prefix}"

    def stream(
        self, prompt: str, max_tokens: int, grammar: str | None = None, stop: list[str] | None = None, ban: Sequence[str] = ()
    ) -> Iterator[str]:
        self.prompts.append(prompt)
        self.started.set()
        if self.fail_with is not None:
            raise self.fail_with
        if self.hold_start:
            assert self.go_start.wait(TIMEOUT_MS / 1000), "test never released the generator"
        words = re.findall(r"\S+\s*", self.reply_for(prompt))
        half = len(words) // 2
        yield from words[:half]
        if self.hold_middle:
            assert self.go_middle.wait(TIMEOUT_MS / 1000), "test never released the generator"
        yield from words[half:]

    def release(self) -> None:
        self.go_start.set()
        self.go_middle.set()


# ----------------------------------------------------------------------------------
# fixtures


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Server:
    def __init__(self, app: Any, url: str, pipeline: Any, settings: Any) -> None:
        self.app, self.url, self.pipeline, self.settings = app, url, pipeline, settings


@pytest.fixture()
def start_server(real_embedder) -> Iterator[Any]:
    """start(index_dir, settings, generator) -> Server (real app on 127.0.0.1:free port)."""
    from rag.index import open_index
    from rag.pipeline import Pipeline
    from ui.app import build_app, launch_app

    started: list[Server] = []
    gens: list[Any] = []

    def start(index_dir: Path, settings: Any, generator: Any) -> Server:
        pipe = Pipeline(open_index(index_dir, embedder_id=real_embedder.model_id), real_embedder, settings, generator=generator)
        app = build_app(pipe, settings)
        url = launch_app(app, settings, block=False, port=free_port(), quiet=True)
        srv = Server(app, url, pipe, settings)
        started.append(srv)
        gens.append(generator)
        return srv

    yield start
    for g in gens:
        if isinstance(g, CitingGenerator):
            g.release()
    for s in started:
        s.app.close()


@pytest.fixture()
def page_for(browser) -> Iterator[Any]:
    """page_for(url) -> a fresh page that records requests leaving the server and JS dialogs."""
    contexts = []

    def make(url: str, ready: bool = True) -> Any:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.foreign_requests = []  # type: ignore[attr-defined]
        page.dialogs = []  # type: ignore[attr-defined]
        base = url.rstrip("/")
        page.on(
            "request",
            lambda r: None if r.url.startswith(base) or r.url.startswith("data:") else page.foreign_requests.append(r.url),
        )
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        if ready:
            page.locator("#question textarea").wait_for()
        return page

    yield make
    for c in contexts:
        c.close()


def ask(page: Any, question: str) -> Any:
    """Type and send a question; returns the locator of its (new) turn once it is on the page."""
    turns = page.locator("#conversation section.turn")
    before = turns.count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    turns.nth(before).wait_for()
    return turns.nth(before)


def fill_box(box: Any, text: str) -> None:
    """Type into a Gradio textbox and leave it, so the page holds the value before a button sends it
    (a click straight after fill once sent the box's old, empty value)."""
    box.fill(text)
    box.press("Tab")
    assert box.input_value() == text


def last_turn(page: Any) -> Any:
    return page.locator("#conversation section.turn").last


def wait_final_answer(page: Any) -> Any:
    """The last turn, once it holds its final answer or an error message."""
    turn = last_turn(page)
    turn.locator(".answer:not(.streaming), .error-message").first.wait_for()
    return turn


def open_controls(page: Any) -> None:
    """Open the (collapsed by default) "Filters and model" panel."""
    if not page.locator("#outlets").is_visible():
        page.locator("#controls").get_by_text("Filters and model").first.click()
        page.locator("#outlets").wait_for()


def pick_outlet(page: Any, outlet: str) -> None:
    open_controls(page)
    box = page.locator("#outlets input")
    box.click()
    box.fill(outlet)
    page.get_by_role("option", name=outlet, exact=True).click()
    page.keyboard.press("Escape")


# ----------------------------------------------------------------------------------
# tests


def test_cited_answer_streams_and_citation_opens_highlighted_article(
    start_server, page_for, small_index: Path, settings_for
) -> None:
    """Deterministic path: sources before the model, streaming, [n] click, follow-up, export."""
    from rag.followup import Turn, rewrite

    gen = CitingGenerator(hold_start=True, hold_middle=True)
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), gen)
    page = page_for(srv.url)
    ask(page, QUESTION)

    # 1. the sources are on the page while the model has not written a word
    turn = last_turn(page)
    turn.locator(".sources .source-list li").first.wait_for()
    assert gen.started.wait(30)  # the model is running (held at its first token) ...
    assert turn.locator(".answer:not(.streaming)").count() == 0  # ... no checked answer yet ...
    partial = turn.locator(".answer.streaming .partial")
    assert partial.count() == 0 or partial.inner_text().replace("▍", "").strip() == ""  # ... and no model text
    assert SEED_QUOTE in turn.locator(".sources").inner_text()

    # 2. the first half of the answer streams in before the rest exists
    gen.go_start.set()
    page.wait_for_function(
        "() => { const p = document.querySelector('#conversation section.turn:last-of-type .answer.streaming .partial');"
        " return p && p.innerText.includes('US'); }"
    )
    assert "Russia" not in turn.locator(".answer.streaming .partial").inner_text()

    # 3. the checked final answer replaces the stream, with clickable markers
    gen.go_middle.set()
    turn.locator(".answer:not(.streaming)").wait_for()
    assert turn.locator(".answer.streaming").count() == 0
    answer = turn.locator(".answer")
    assert answer.locator(".short-answer").inner_text().strip()
    markers = answer.locator("button.cite")
    assert markers.count() >= 1
    for i in range(markers.count()):
        n = int(markers.nth(i).get_attribute("data-n"))
        assert markers.nth(i).inner_text() == f"[{n}]"
    # the source holding the seed quote, and a marker pointing at it if the answer cites it
    seed_src = turn.locator(".sources button.source", has_text=SEED_QUOTE).first
    seed_n = int(seed_src.get_attribute("data-n"))
    cited = answer.locator(f'button.cite[data-n="{seed_n}"]')
    target, label = (cited.first, f"cited passage [{seed_n}]") if cited.count() else (seed_src, f"source [{seed_n}]")

    # 4. clicking it opens the article with the quote highlighted
    target.click()
    mark = page.locator("#article-panel mark.quote")
    mark.wait_for()
    assert SEED_QUOTE in mark.inner_text()
    panel = page.locator("#article-panel")
    assert "US officials have issued a warning to North Korea" in panel.locator(".article-title").inner_text()
    assert "2023-11-14" in panel.locator(".article-meta").inner_text()
    assert label in panel.inner_text()
    body = panel.locator(".article-body").inner_text()
    assert "Jake Sullivan" in body and len(body) > 1000  # the full article, not just the passage
    # any other marker opens its own passage
    markers.first.click()
    page.locator("#article-panel", has_text=f"cited passage [{markers.first.get_attribute('data-n')}]").wait_for()
    assert page.locator("#article-panel mark.quote").inner_text().strip()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cited_answer.png"), full_page=True)

    # 5. a follow-up shows the standalone question it was rewritten to
    follow = "What else did they say about it?"
    expected = rewrite(follow, [Turn(QUESTION, answer.locator(".short-answer").inner_text().strip())])
    assert expected != follow
    ask(page, follow)
    t2 = wait_final_answer(page)
    assert page.locator("#conversation section.turn").count() == 2
    assert t2.locator(".rewritten em").inner_text() == expected
    assert expected in gen.prompts[-1]  # the pipeline searched and prompted with the standalone form

    # 6. export: a markdown file with both questions and the citations
    page.locator("#export-box").click()
    page.locator("#export").click()
    link = page.locator("#export-file a[download]")
    link.wait_for()
    resp = page.request.get(link.get_attribute("href"))
    assert resp.ok
    md = resp.text()
    assert f"## Q1. {QUESTION}" in md and "## Q2." in md
    assert "**Answer:** " in md and "**Citations**" in md
    assert re.search(r"- \\\[\d+\\\] \"", md)
    assert f"*Searched as:* {expected}" in md.replace("\\", "")
    assert page.foreign_requests == [], f"the page fetched from other hosts: {page.foreign_requests}"


def test_real_smollm2_answer(start_server, page_for, small_index: Path, settings_for, smollm2) -> None:
    """End to end with the real model: sources first, a streamed answer, then the checked one."""
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), smollm2)
    page = page_for(srv.url)
    # record the order in which the parts of the answer appear
    page.evaluate(
        """() => {
          window.__seen = [];
          const note = (k) => { if (!window.__seen.includes(k)) window.__seen.push(k); };
          new MutationObserver(() => {
            const t = document.querySelector('#conversation section.turn:last-of-type');
            if (!t) return;
            if (t.querySelector('.sources li')) note('sources');
            if (t.querySelector('.answer.streaming')) note('streaming');
            if (t.querySelector('.answer:not(.streaming)')) note('final');
          }).observe(document.body, {subtree: true, childList: true, characterData: true});
        }"""
    )
    ask(page, QUESTION)
    turn = wait_final_answer(page)
    assert turn.locator(".error-message").count() == 0, turn.inner_text()
    seen = page.evaluate("window.__seen")
    assert seen[0] == "sources" and seen[-1] == "final", seen
    assert "streaming" in seen, f"no streamed text was shown before the final answer: {seen}"
    assert SEED_QUOTE in turn.locator(".sources").inner_text()

    answer = turn.locator(".answer")
    if answer.locator("button.cite").count():
        answer.locator("button.cite").first.click()
        expected = "cited passage"
    else:  # SmolLM2's answer was refused by the citation check: the reason is shown, sources still open
        assert "Insufficient information." in answer.inner_text()
        assert answer.locator(".refusal-reason").inner_text().strip() != "Reason:"
        turn.locator(".sources button.source").first.click()
        expected = "source [1]"
    page.locator("#article-panel mark.quote").wait_for()
    assert expected in page.locator("#article-panel").inner_text()
    assert page.locator("#article-panel mark.quote").inner_text().strip()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answered.png"), full_page=True)


def test_outlet_and_date_filters(start_server, page_for, small_index: Path, settings_for) -> None:
    from rag.generate import ScriptedGenerator

    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), ScriptedGenerator())
    sources = srv.pipeline.retriever.sources
    outlet = "TechCrunch" if "TechCrunch" in sources else sources[0]
    page = page_for(srv.url)
    pick_outlet(page, outlet)
    ask(page, QUESTION)
    turn = wait_final_answer(page)
    outlets = turn.locator(".sources .outlet").all_inner_texts()
    assert outlets and set(outlets) == {outlet}, outlets
    assert f"outlets: {outlet}" in turn.locator(".filters-used").inner_text()
    # no article of that outlet names North Korea with the US: the question is refused before the
    # model runs, and the refusal and its reason, naming what is missing, are on the page
    assert "Insufficient information." in turn.locator(".answer.refused").inner_text()
    reason = turn.locator(".refusal-reason").inner_text()
    assert "no article found mentions" in reason and "North Korea" in reason, reason

    # clear the outlet, restrict dates instead
    page.locator("#outlets").get_by_role("button", name=re.compile("remove|clear", re.I)).first.click()
    page.locator("#since input, #since textarea").first.fill("2023-11-10")
    page.locator("#until input, #until textarea").first.fill("2023-11-20")
    ask(page, QUESTION)
    turn = wait_final_answer(page)
    dates = turn.locator(".sources time").all_inner_texts()
    assert dates and all("2023-11-10" <= d <= "2023-11-20" for d in dates), dates
    assert "outlets:" not in turn.locator(".filters-used").inner_text()

    # a malformed date is a message, not a crash
    page.locator("#since input, #since textarea").first.fill("2023-13-45")
    ask(page, QUESTION)
    turn = wait_final_answer(page)
    assert "YYYY-MM-DD" in turn.locator(".error-message").inner_text()


class UnsureGenerator(CitingGenerator):
    """Never "Insufficient" over all the passages, then a coin toss (0.1 nats apart) between Yes
    and No over the one passage that would settle the question."""

    def first_token_logprobs(self, prompt: str, options: list[str]) -> list[float]:
        if "Passage: " in prompt:
            return [-0.6 if o == "Yes" else -0.7 for o in options]
        return [-10.0 if o == "Insufficient" else -1.0 for o in options]


def test_an_undecided_yes_no_answer_quotes_the_passage_with_a_working_marker(
    start_server, page_for, small_index: Path, settings_for
) -> None:
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), UnsureGenerator())
    page = page_for(srv.url)
    ask(page, "Did US officials warn North Korea against an arms deal with Russia?")
    turn = wait_final_answer(page)
    answer = turn.locator(".answer.refused")
    assert answer.locator(".short-answer").inner_text().strip() == "Insufficient information."
    reason = answer.locator(".refusal-reason")
    text = reason.inner_text()
    assert "could not decide either way" in text and "quoted so you can judge" in text, text
    # the quoted passage is in the reason, under the refusal line, with a marker that opens it
    short_box, reason_box = answer.locator(".short-answer").bounding_box(), reason.bounding_box()
    assert reason.is_visible() and reason_box["y"] >= short_box["y"] + short_box["height"] - 1
    marker = reason.locator("button.cite")
    assert marker.count() == 1
    n = marker.get_attribute("data-n")
    quoted = re.search(r"“(.+?)”", text).group(1).strip("…")
    marker.click()
    page.locator("#article-panel", has_text=f"[{n}]").wait_for()
    mark = page.locator("#article-panel mark.quote")
    mark.wait_for()
    assert quoted[:40] in " ".join(mark.inner_text().split())
    assert answer.locator("details.rejected").count() == 0  # not shown as a rejected answer
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "undecided_yes_no.png"), full_page=True)


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    """A real index over the bundled sample corpus (30 articles, six outlets)."""
    from rag.build import BuildOptions, build_index

    d = tmp_path_factory.mktemp("sample") / "idx"
    build_index([Path(__file__).resolve().parents[1] / "rag" / "sample_corpus"], d, real_embedder, BuildOptions(progress=False))
    return d


def test_a_two_outlet_claim_shows_each_outlets_passage_under_the_yes(
    start_server, page_for, sample_index: Path, settings_for
) -> None:
    gen = CitingGenerator()  # sure "Yes" over every passage it is asked about
    srv = start_server(sample_index, settings_for(sample_index, model="smollm2-135m"), gen)
    page = page_for(srv.url)
    ask(page, "Did Harbor Daily and The Ledger both report that Quillon Systems was fined $48 million?")
    turn = wait_final_answer(page)
    answer = turn.locator(".answer")
    assert answer.locator(".short-answer").inner_text().strip().startswith("Yes")
    # one quote per outlet named, each under the "Yes", each opening its own outlet's article
    quotes = answer.locator(".explanation .sentence.supported")
    assert quotes.count() == 2
    short_box = answer.locator(".short-answer").bounding_box()
    outlets = []
    for i in range(2):
        q = quotes.nth(i)
        assert q.bounding_box()["y"] >= short_box["y"] + short_box["height"] - 1
        said = q.inner_text()
        assert "48 million" in said
        q.locator("button.cite").click()
        panel = page.locator("#article-panel")
        mark = panel.locator("mark.quote")
        mark.wait_for()
        # the panel shows the article just opened, not still the one before (a loaded machine is slow
        # to swap them): its highlighted sentence is the one quoted under this marker
        for _ in range(100):
            if " ".join(mark.inner_text().split())[:40] in " ".join(said.split()):
                break
            page.wait_for_timeout(100)
        assert " ".join(mark.inner_text().split())[:40] in " ".join(said.split()), (mark.inner_text(), said)
        outlets.append(next(o for o in ("Harbor Daily", "The Ledger") if o in panel.inner_text()))
        assert "48 million" in mark.inner_text()
    assert sorted(outlets) == ["Harbor Daily", "The Ledger"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "two_outlet_yes.png"), full_page=True)


def test_busy_and_errors_keep_the_server_serving(start_server, page_for, small_index: Path, settings_for) -> None:
    from rag.errors import ModelError

    gen = CitingGenerator(hold_start=True)
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m", max_concurrency=1), gen)
    a, b = page_for(srv.url), page_for(srv.url)
    ask(a, QUESTION)
    last_turn(a).locator(".sources li").first.wait_for()
    assert gen.started.wait(30)

    # a second question while the only slot is taken: a clear busy message, at once
    ask(b, QUESTION)
    busy = wait_final_answer(b).locator(".error-message")
    assert busy.inner_text().startswith("Busy:")

    gen.go_start.set()
    assert wait_final_answer(a).locator(".answer button.cite").count() >= 1

    # a RagError from the model is shown as a message ...
    gen.fail_with = ModelError("model file damaged; run rag models prepare")
    ask(b, QUESTION)
    err = wait_final_answer(b).locator(".error-message")
    assert "Error: model file damaged" in err.inner_text()
    # ... and the next question is answered normally
    gen.fail_with = None
    ask(b, QUESTION)
    turn = wait_final_answer(b)
    assert turn.locator(".error-message").count() == 0
    assert turn.locator(".answer button.cite").count() >= 1


def test_model_switch_uses_one_cached_pipeline_per_model(start_server, page_for, small_index: Path, settings_for) -> None:
    """The dropdown offers the configured presets only and switches to another one (the real
    SmolLM2, loaded on first use) and back."""
    gen = CitingGenerator()
    settings = settings_for(small_index, model="qwen2.5-coder-0.5b", ui_models=["smollm2-135m"], max_loaded_models=2)
    srv = start_server(small_index, settings, gen)
    page = page_for(srv.url)
    open_controls(page)
    model_box = page.locator("#model input")
    assert model_box.input_value() == "qwen2.5-coder-0.5b"
    model_box.click()
    assert [t.replace("✓", "").strip() for t in page.get_by_role("option").all_inner_texts()] == [
        "qwen2.5-coder-0.5b", "smollm2-135m",
    ]  # fmt: skip
    page.keyboard.press("Escape")

    ask(page, QUESTION)
    assert "model citing-fake" in wait_final_answer(page).locator(".answer-meta").inner_text()

    model_box.click()
    page.get_by_role("option", name="smollm2-135m", exact=True).click()
    page.locator("#index-box").click()
    page.locator("#index-info").get_by_text("smollm2-135m").wait_for()
    ask(page, QUESTION)
    turn = wait_final_answer(page)
    assert turn.locator(".error-message").count() == 0, turn.inner_text()
    assert "model smollm2-135m" in turn.locator(".answer-meta").inner_text()
    pipes = srv.app.rag_pipelines
    smol = pipes.get("smollm2-135m")
    assert smol is not srv.pipeline and smol.index is srv.pipeline.index  # shares the index, own model
    ask(page, "Who is Jake Sullivan?")
    wait_final_answer(page)
    assert pipes.get("smollm2-135m") is smol  # cached, not rebuilt per question

    model_box.click()
    page.get_by_role("option", name="qwen2.5-coder-0.5b", exact=True).click()
    ask(page, QUESTION)
    assert "model citing-fake" in wait_final_answer(page).locator(".answer-meta").inner_text()


def test_index_update_errors_keep_old_index_then_switch(
    start_server, page_for, small_index: Path, settings_for, corpus_slice: Path, seed_dir: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(small_index, index_dir)
    gen = CitingGenerator()
    roots = [tmp_path, corpus_slice.parent, seed_dir]
    srv = start_server(index_dir, settings_for(index_dir, model="smollm2-135m", allow_index_editing=True, corpus_roots=roots), gen)
    page = page_for(srv.url)
    page.locator("#index-box").click()
    info = page.locator("#index-info")
    before = srv.pipeline.index.info()["counts"]["articles"]
    assert f"Articles: {before}" in info.inner_text()

    status = page.locator("#index-status")
    corpus = page.locator("#corpus textarea")
    # a path that does not exist
    fill_box(corpus, str(tmp_path / "no-such-corpus"))
    page.locator("#update-index").click()
    status.get_by_text("failed").wait_for()
    assert "not found" in status.inner_text() and "previous index is still in use" in status.inner_text()
    # a corpus file that is not valid JSON (CorpusError raised in the background build)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    fill_box(corpus, str(bad))
    page.locator("#update-index").click()
    page.wait_for_function(
        "() => { const t = document.querySelector('#index-status').innerText; return t.includes('failed') && t.includes('bad.json'); }"
    )
    assert srv.pipeline.index.info()["counts"]["articles"] == before
    ask(page, QUESTION)  # still answering from the old index
    assert wait_final_answer(page).locator(".answer button.cite").count() >= 1

    # a good corpus: the old articles plus one new one
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    (new_dir / "gazette.json").write_text(json.dumps([{
        "title": "Harbour city opens floating library", "source": "Test Gazette", "published_at": "2023-12-01",
        "author": "", "category": "local", "url": "https://gazette.example/library",
        "body": "The harbour city of Lirana opened a floating library on a converted ferry on Friday. "
                "The library holds 12,000 books and will sail between the city's four islands every week.",
    }]))  # fmt: skip
    fill_box(corpus, f"{corpus_slice}\n{seed_dir}\n{new_dir}")
    page.locator("#update-index").click()
    status.get_by_text("Index update done").wait_for(timeout=180_000)
    assert "1 embedded" in status.inner_text()
    assert f"Articles: {before + 1}" in info.inner_text()
    assert srv.pipeline.index.info()["counts"]["articles"] == before + 1
    # the new outlet is offered and the new article is searchable
    pick_outlet(page, "Test Gazette")
    ask(page, "Which city opened a floating library?")
    turn = wait_final_answer(page)
    assert "Harbour city opens floating library" in turn.locator(".sources").inner_text()


def test_index_is_read_only_by_default(start_server, page_for, small_index: Path, settings_for) -> None:
    """Without --allow-index-editing the page shows what is indexed and when, and offers no way to change it."""
    from rag.generate import ScriptedGenerator

    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), ScriptedGenerator())
    page = page_for(srv.url)
    page.locator("#index-box").click()
    info = page.locator("#index-info")
    info.get_by_text("Articles:").wait_for()
    text = info.inner_text()
    n = srv.pipeline.index.info()["counts"]["articles"]
    assert f"Articles: {n}" in text and "Built:" in text and "Dates:" in text
    assert "Read-only" in page.locator("#index-readonly").inner_text()
    for sel in ("#corpus", "#update-index", "#rebuild-index", "#confirm-index"):
        assert page.locator(sel).count() == 0, sel
    config = json.loads(urllib.request.urlopen(srv.url.rstrip("/") + "/config", timeout=10).read())
    api_names = {d.get("api_name") for d in config.get("dependencies", []) if d.get("api_visibility", "public") != "private"}
    assert api_names <= {"ask"}, api_names  # the only public endpoint answers questions


def test_update_says_what_it_removes_and_asks_first(
    start_server, page_for, small_index: Path, settings_for, corpus_slice: Path, seed_dir: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(small_index, index_dir)
    roots = [corpus_slice.parent, seed_dir]
    settings = settings_for(index_dir, model="smollm2-135m", allow_index_editing=True, corpus_roots=roots)
    srv = start_server(index_dir, settings, CitingGenerator())
    page = page_for(srv.url)
    page.locator("#index-box").click()
    status, corpus = page.locator("#index-status"), page.locator("#corpus textarea")
    before = srv.pipeline.index.info()["counts"]["articles"]

    # outside the roots: refused with the roots named, directly and through '..'
    for path in ("/etc", f"{seed_dir}/../.."):
        fill_box(corpus, path)
        page.locator("#update-index").click()
        page.wait_for_function(
            "(p) => document.querySelector('#index-status').innerText.includes(p + ': outside the corpus roots')", arg=path
        )
        assert "this server indexes only files under" in status.inner_text()
        assert page.locator("#confirm-index").is_hidden()

    # only the seed folder: the 20 slice articles would go; nothing happens before confirming
    fill_box(corpus, str(seed_dir))
    page.locator("#update-index").click()
    confirm = page.locator("#confirm-index")
    confirm.wait_for()
    removed = before - 1
    assert f"remove {removed} article(s)" in status.inner_text() and "Nothing has been changed yet" in status.inner_text()
    assert confirm.inner_text() == f"Confirm update (removes {removed})"
    page.wait_for_timeout(1000)
    assert srv.pipeline.index.info()["counts"]["articles"] == before
    page.locator("#cancel-index").click()
    status.get_by_text("Cancelled: the index was not changed.").wait_for()
    assert confirm.is_hidden() and srv.pipeline.index.info()["counts"]["articles"] == before

    page.locator("#update-index").click()
    confirm.wait_for()
    confirm.click()
    status.get_by_text("Index update done").wait_for(timeout=180_000)
    assert f"{removed} removed" in status.inner_text()
    assert srv.pipeline.index.info()["counts"]["articles"] == 1
    assert "Articles: 1" in page.locator("#index-info").inner_text()


def test_hostile_article_is_shown_as_text(
    start_server, page_for, real_embedder, seed_dir: Path, settings_for, tmp_path: Path
) -> None:
    from rag.build import BuildOptions, build_index

    corpus = tmp_path / "hostile.json"
    body = (
        "US officials warned about an arms deal with Russia <script>alert('body')</script> today. "
        '<img src="http://127.0.0.1:9/x.png" onerror="alert(1)"> <iframe src="javascript:alert(2)"></iframe> '
        "![pixel](http://127.0.0.1:9/pixel.png) [click](javascript:alert(3)) "
        "Hidden\U000e0069\U000e0067\U000e006e text\u200b here."
    )
    corpus.write_text(json.dumps([{
        "title": '<img src=x onerror="alert(4)">Arms deal <b>warning</b>', "source": "<i>Evil</i> Times",
        "published_at": "2023-11-15", "url": "javascript:alert(5)", "body": body,
    }]))  # fmt: skip
    index_dir = tmp_path / "index"
    build_index([corpus, seed_dir], index_dir, real_embedder, BuildOptions(progress=False))
    gen = CitingGenerator()
    gen.reply_for = lambda prompt: "Yes\nUS officials warned about an arms deal with Russia [{}].".format(
        (re.search(r"^\[(\d+)\] US officials warned about", prompt, flags=re.M) or re.search(r"\[(\d+)\]", prompt)).group(1)
    )
    srv = start_server(index_dir, settings_for(index_dir, model="smollm2-135m"), gen)
    page = page_for(srv.url)
    ask(page, "What did US officials warn about an arms deal with Russia?")
    turn = wait_final_answer(page)
    assert "<img src=x" in turn.locator(".sources").inner_text()  # the title is text, not markup
    turn.locator(".answer button.cite").first.click()
    page.locator("#article-panel mark.quote").wait_for()
    panel_text = page.locator("#article-panel").inner_text()
    assert "<script>alert('body')</script>" in panel_text
    assert "Hidden text here." in panel_text  # tag characters and zero-width space stripped
    bad = page.evaluate(
        """() => ['#conversation', '#article-panel'].flatMap(sel => Array.from(
               document.querySelectorAll(sel + ' script, ' + sel + ' img, ' + sel + ' iframe, ' + sel + ' a[href^="javascript"]')
             ).map(e => e.outerHTML))"""
    )
    assert bad == []
    assert page.locator("#article-panel a").count() == 0  # the javascript: url is not a link
    page.wait_for_timeout(300)
    assert page.dialogs == [], page.dialogs
    assert page.foreign_requests == [], page.foreign_requests


def test_server_listens_on_loopback_only(start_server, small_index: Path, settings_for) -> None:
    from rag.generate import ScriptedGenerator

    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), ScriptedGenerator())
    port = int(srv.url.rstrip("/").rsplit(":", 1)[1])
    assert srv.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(srv.url, timeout=10) as r:
        assert r.status == 200

    # the kernel's view: every listening socket on this port is bound to 127.0.0.1
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            local, state = f[1], f[3]
            addr, p = local.rsplit(":", 1)
            if state == "0A" and int(p, 16) == port:
                listening.append(addr)
    assert listening == ["0100007F"], listening  # 127.0.0.1, and no IPv6/wildcard socket

    # and a connection through this machine's non-loopback address is refused
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent; picks the outgoing interface
            ip = s.getsockname()[0]
        except OSError:
            ip = ""
    if ip and not ip.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((ip, port), timeout=3).close()


def test_login_required_when_auth_is_set(start_server, page_for, small_index: Path, settings_for) -> None:
    from rag.generate import ScriptedGenerator

    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m", auth="reader:s3cret"), ScriptedGenerator())
    with pytest.raises(urllib.error.HTTPError):  # the app's config is not served without a login
        urllib.request.urlopen(srv.url.rstrip("/") + "/config", timeout=10)
    page = page_for(srv.url, ready=False)
    password = page.locator("input[type=password]")
    password.wait_for()
    assert page.locator("#question").count() == 0
    page.locator("input[type=text]").first.fill("reader")
    password.fill("wrong")
    page.get_by_role("button", name=re.compile("login", re.I)).click()
    page.get_by_text(re.compile("incorrect|invalid", re.I)).first.wait_for()
    assert page.locator("#question").count() == 0
    page.locator("input[type=text]").first.fill("reader")
    password.fill("s3cret")
    page.get_by_role("button", name=re.compile("login", re.I)).click()
    page.locator("#question textarea").wait_for()
