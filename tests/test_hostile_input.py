"""Hostile and odd questions over the page, the HTTP API and the CLI: each case's exact outcome.

Outcomes:

- ``answer``: a checked answer (or the pipeline's reasoned refusal), no error message;
- a quoted message: exactly that message instead of an answer.

On the page every case also renders without script, event handlers, images or remote
requests, and shows the question as text (HTML and markdown literally, right-to-left
text with ``dir="auto"``, emoji ZWJ sequences and ZWNJ kept). The CLI (``rag ask`` and
``rag search``, run in-process with typer's runner over the real small index) never
prints a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_ui_browser import (  # noqa: F401  (fixtures)
    CitingGenerator,
    ask,
    browser,
    page_for,
    start_server,
    wait_final_answer,
)

ANSWER = "answer"
TOO_LONG = "The question is 10,000 characters long; questions are limited to 1,000 characters. Please shorten it."
EMPTY = "The question is empty once invisible and control characters are removed; type it as plain text."
LONG_Q = ("What did US officials warn North Korea against? " * 300)[:10_000]
ZWJ_EMOJI = "\U0001f469\u200d\U0001f4bb \U0001f3f3\ufe0f\u200d\U0001f308 \U0001f468\u200d\U0001f469\u200d\U0001f467"
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "mi-khaham" with its ZWNJ
ARABIC = "\u0645\u0627\u0630\u0627 \u062d\u0630\u0631 \u0627\u0644\u0645\u0633\u0624\u0648\u0644\u0648\u0646 \u0627\u0644\u0623\u0645\u0631\u064a\u0643\u064a\u0648\u0646 North Korea?"
HTML_MD = (
    '<img src=x onerror="alert(1)"><script>alert(2)</script> **What** did [US officials](javascript:alert(3)) '
    "warn ![North Korea](http://127.0.0.1:9/x.png) against?"
)

# name -> (question, outcome on the page/API, how the question is shown on the page)
CASES: dict[str, tuple[str, str, str | None]] = {
    "after_end_of_calendar": ("What did US officials warn North Korea against after 9999-12-31?", ANSWER, None),
    "before_start_of_calendar": ("What did US officials warn North Korea against before 0001-01-01?", ANSWER, None),
    "ten_thousand_characters": (LONG_Q, TOO_LONG, None),
    "control_characters": (
        "What did US\x00 officials\x07\x1b warn\x7f North Korea\x08 against?",
        ANSWER,
        "What did US officials warn North Korea against?",
    ),
    "only_control_characters": ("\x00\x01\x1b\x7f\u200b", EMPTY, None),
    "html_and_markdown": (HTML_MD, ANSWER, HTML_MD),
    "right_to_left": (ARABIC, ANSWER, ARABIC),
    "bidi_override": ("What did \u202eUS officials\u202c warn North Korea against?", ANSWER,
                      "What did US officials warn North Korea against?"),  # fmt: skip
    "emoji_zwj_sequences": (f"What did US officials {ZWJ_EMOJI} warn North Korea against?", ANSWER, None),
    "persian_zwnj": (f"{PERSIAN} What did US officials warn North Korea against?", ANSWER, None),
}


def settings(settings_for: Any, index: Path) -> Any:
    return settings_for(index, model="smollm2-135m")


# ----------------------------------------------------------------------------------
# the page


BAD_DOM_JS = """() => {
  const sel = '#conversation .conversation';
  const els = Array.from(document.querySelectorAll(
    sel + ' script, ' + sel + ' img, ' + sel + ' iframe, ' + sel + ' a[href^="javascript"], ' + sel + ' svg, ' + sel + ' style'));
  const handlers = Array.from(document.querySelectorAll(sel + ' *')).filter(
    (e) => Array.from(e.attributes).some((a) => a.name.startsWith('on') || a.name === 'style' || a.name === 'src'));
  return els.concat(handlers).map((e) => e.outerHTML.slice(0, 120));
}"""


def test_hostile_questions_on_the_page(start_server, page_for, small_index: Path, settings_for) -> None:  # noqa: F811
    srv = start_server(small_index, settings(settings_for, small_index), CitingGenerator())
    page = page_for(srv.url)
    outcomes = {}
    for name, (question, _want, shown) in CASES.items():
        ask(page, question)
        turn = wait_final_answer(page)
        err = turn.locator(".error-message")
        got = err.inner_text().strip() if err.count() else ANSWER if turn.locator(".answer").count() else "nothing"
        outcomes[name] = got
        q_el = turn.locator(".question [dir=auto]")
        if shown is not None:
            assert q_el.inner_text() == shown, name
        if name == "emoji_zwj_sequences":
            assert ZWJ_EMOJI in q_el.inner_text()
        if name == "persian_zwnj":
            assert PERSIAN in q_el.inner_text()
        if name == "ten_thousand_characters":  # kept in the box to be shortened
            assert len(page.locator("#question textarea").input_value()) == 10_000
            page.locator("#question textarea").fill("")
    assert outcomes == {name: want for name, (_q, want, _s) in CASES.items()}
    assert page.evaluate(BAD_DOM_JS) == []
    page.wait_for_timeout(300)
    assert page.dialogs == [], page.dialogs
    assert page.foreign_requests == [], page.foreign_requests
    assert "Internal error" not in page.locator("#conversation").inner_text()


# ----------------------------------------------------------------------------------
# the HTTP API


def test_hostile_questions_over_the_api(start_server, small_index: Path, settings_for) -> None:  # noqa: F811
    from gradio_client import Client

    srv = start_server(small_index, settings(settings_for, small_index), CitingGenerator())
    client = Client(srv.url, verbose=False)
    outcomes = {}
    for name, (question, _want, _shown) in CASES.items():
        got = client.predict(question, api_name="/ask")
        outcomes[name] = got.get("error") or (ANSWER if "answer" in got else json.dumps(got))
    assert outcomes == {name: want for name, (_q, want, _s) in CASES.items()}


# ----------------------------------------------------------------------------------
# the CLI


@pytest.fixture()
def cli(monkeypatch, small_index: Path, real_embedder) -> Any:
    """run(*args) -> typer result of `rag ...` over the small index, answering with CitingGenerator."""
    from typer.testing import CliRunner

    import rag.pipeline
    from rag.cli import app
    from rag.index import open_index

    real_from_settings = rag.pipeline.Pipeline.from_settings

    def from_settings(s: Any, embedder: Any = None, generator: Any = None) -> Any:
        return rag.pipeline.Pipeline(open_index(small_index, embedder_id=real_embedder.model_id), real_embedder, s,
                                     generator=CitingGenerator())  # fmt: skip

    monkeypatch.setattr(rag.pipeline.Pipeline, "from_settings", staticmethod(from_settings))
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=True)

    yield run
    monkeypatch.setattr(rag.pipeline.Pipeline, "from_settings", real_from_settings)


def no_traceback(r: Any) -> None:
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


CLI_EXPECT = {name: (2, "error: " + EMPTY[0].lower() + EMPTY[1:]) if want == EMPTY else (0, ANSWER)
              for name, (_q, want, _s) in CASES.items()}  # fmt: skip


def cli_outcome(r: Any) -> tuple[int, str]:
    if r.exit_code != 0:
        return r.exit_code, (r.stderr or r.output).strip().splitlines()[-1]
    line = r.stdout.strip().splitlines()[-1]
    return 0, ANSWER if "answer" in json.loads(line) or "hits" in json.loads(line) else line


def test_hostile_questions_rag_ask(cli, tmp_path: Path) -> None:
    outcomes = {}
    for name, (question, _want, _shown) in CASES.items():
        r = cli("ask", question.replace("\x00", ""), "--json")  # argv cannot hold NUL; the batch below can
        no_traceback(r)
        outcomes[name] = cli_outcome(r)
    assert outcomes == CLI_EXPECT

    batch = tmp_path / "hostile.json"
    batch.write_text(json.dumps([q for q, _w, _s in CASES.values()]))
    r = cli("ask", "--batch", str(batch))
    no_traceback(r)
    lines = [json.loads(x) for x in r.stdout.strip().splitlines()]
    assert len(lines) == len(CASES)
    for (name, (_q, want, _s)), line in zip(CASES.items(), lines, strict=True):
        if want == EMPTY:
            assert line["error"] == CLI_EXPECT[name][1].removeprefix("error: "), name
        else:
            assert "answer" in line, (name, line)
    assert r.exit_code == 1  # one question could not be asked; the others were answered


def test_hostile_questions_rag_search(cli) -> None:
    for name, (question, want, _shown) in CASES.items():
        r = cli("search", question.replace("\x00", ""), "--json")
        no_traceback(r)
        if want == EMPTY:
            assert cli_outcome(r) == CLI_EXPECT[name], name
        else:
            assert r.exit_code == 0, (name, r.output)
            assert "hits" in json.loads(r.stdout.strip().splitlines()[-1]), name


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--since", "2023-13-45"], None, re.compile(r"^error: .*2023-13-45")),
        (["--since", "0000-00-00"], None, re.compile(r"^error: .*0000-00-00")),
        (["--until", "99999-01-01"], None, re.compile(r"^error: .*99999-01-01")),
        (["-k", "0"], 2, None),
    ],
)
def test_odd_cli_options_are_one_line_errors(cli, args: list[str], code: int | None, message: Any) -> None:
    for cmd in ("ask", "search"):
        r = cli(cmd, "What did US officials warn North Korea against?", *args)
        no_traceback(r)
        assert r.exit_code != 0
        if code is not None:
            assert r.exit_code == code
        if message is not None:
            assert message.search(r.stderr.strip().splitlines()[-1]), r.stderr
