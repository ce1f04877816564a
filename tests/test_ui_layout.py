"""Where things are on the screen: the chat page after three questions, wide and phone-sized.

Real server (ui.app on 127.0.0.1), real small index, headless Debian chromium. After
three questions, at 1400x1000 and at 390x844:

- the newest answer's box is inside the window and inside the conversation area, where
  the page put it by itself (the test does not scroll before measuring);
- no answer or sources box (the part of it visible in the conversation area) intersects
  the question box or the "Filters and model" panel, collapsed or open;
- every citation marker and every "Sources" heading, scrolled into view, is the topmost
  element at its centre (nothing covers it);
- the article panel is beside the conversation on the wide screen and below it on the phone.

A screenshot of each is saved in tests/artifacts/ for a person to look at. The fast
variant answers with the deterministic ``CitingGenerator``; ``test_layout_real_default_model``
runs the same checks on the real default models (qwen2.5-coder-1.5b writes, qwen2.5-coder-0.5b decides
Yes/No), loaded by the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_ui_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    QUESTION,
    TIMEOUT_MS,
    CitingGenerator,
    ask,
    browser,
    start_server,
    wait_final_answer,
)

pytestmark = pytest.mark.browser

QUESTIONS = [QUESTION, "Who is Jake Sullivan?", "What else did they say about it?"]
VIEWPORTS = {"wide": (1400, 1000), "phone": (390, 844)}

GEOMETRY_JS = """
() => {
  const rect = (e) => { const r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const conv = document.getElementById('conversation');
  const c = rect(conv);
  const clip = (r) => ({l: Math.max(r.l, c.l), t: Math.max(r.t, c.t), r: Math.min(r.r, c.r), b: Math.min(r.b, c.b)});
  const shown = (r) => r.r - r.l > 1 && r.b - r.t > 1;
  const turns = conv.querySelectorAll('section.turn');
  const last = turns[turns.length - 1];
  const answer = last.querySelector('.answer');
  return {
    window: {w: window.innerWidth, h: window.innerHeight, scrollY: window.scrollY,
             docW: document.documentElement.scrollWidth},
    conversation: c,
    question: rect(document.querySelector('#question textarea') || document.getElementById('question')),
    questionBox: rect(document.getElementById('ask-row')),
    filters: rect(document.getElementById('controls')),
    panel: rect(document.getElementById('article-panel')),
    newestAnswer: answer ? rect(answer) : null,
    turns: turns.length,
    boxes: Array.from(conv.querySelectorAll('.answer, .sources')).map((e) => clip(rect(e))).filter(shown),
  };
}
"""

COVERED_JS = """
() => {
  const conv = document.getElementById('conversation');
  const out = [];
  const targets = conv.querySelectorAll('button.cite, .sources h4');
  targets.forEach((e) => {
    e.scrollIntoView({block: 'nearest'});
    const r = e.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const top = document.elementFromPoint(x, y);
    if (!top || !(top === e || e.contains(top))) {
      out.push({what: e.outerHTML.slice(0, 80), by: top ? (top.id || top.className || top.tagName) : 'nothing', x, y});
    }
  });
  return {checked: targets.length, covered: out};
}
"""


def intersects(a: dict, b: dict) -> bool:
    return a["l"] < b["r"] - 0.5 and b["l"] < a["r"] - 0.5 and a["t"] < b["b"] - 0.5 and b["t"] < a["b"] - 0.5


def inside(a: dict, b: dict) -> bool:
    return a["l"] >= b["l"] - 1 and a["r"] <= b["r"] + 1 and a["t"] >= b["t"] - 1 and a["b"] <= b["b"] + 1


@pytest.fixture()
def phone_or_wide_page(browser) -> Iterator[Any]:  # noqa: F811
    contexts = []

    def make(url: str, size: tuple[int, int]) -> Any:
        ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=1)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.dialogs = []  # type: ignore[attr-defined]
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.locator("#question textarea").wait_for()
        return page

    yield make
    for c in contexts:
        c.close()


def check_layout(page: Any, name: str, size: tuple[int, int]) -> dict:
    for q in QUESTIONS:
        ask(page, q)
        turn = wait_final_answer(page)
        assert turn.locator(".error-message").count() == 0, turn.inner_text()
    page.wait_for_timeout(300)  # let the last scroll settle
    g = page.evaluate(GEOMETRY_JS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{size[0]}x{size[1]}.png"))
    win = {"l": 0, "t": 0, "r": g["window"]["w"], "b": g["window"]["h"]}

    assert g["turns"] == 3
    assert g["window"]["docW"] <= g["window"]["w"] + 1, f"the page scrolls sideways: {g['window']}"
    a = g["newestAnswer"]
    assert a is not None
    assert inside(a, win), f"newest answer {a} is not inside the window {win}"
    assert inside(a, g["conversation"]), f"newest answer {a} is not inside the conversation area {g['conversation']}"
    assert inside(g["questionBox"], win), f"question box {g['questionBox']} is off screen"
    assert not intersects(g["conversation"], g["questionBox"]), (g["conversation"], g["questionBox"])
    for box in g["boxes"]:
        assert not intersects(box, g["questionBox"]), f"{box} overlaps the question box {g['questionBox']}"
        assert not intersects(box, g["filters"]), f"{box} overlaps the filters panel {g['filters']}"
    if "wide" in name:
        assert g["panel"]["l"] >= g["conversation"]["r"] - 1, "the article panel should be beside the conversation"
    else:
        assert g["panel"]["t"] >= g["questionBox"]["b"] - 1, "the article panel should be below the conversation"

    # open the filters panel: it pushes what follows down, it covers nothing
    page.locator("#controls").get_by_text("Filters and model").first.click()
    page.locator("#since").wait_for()
    page.wait_for_timeout(300)
    g2 = page.evaluate(GEOMETRY_JS)
    for box in g2["boxes"]:
        assert not intersects(box, g2["filters"]), f"{box} overlaps the open filters panel {g2['filters']}"
        assert not intersects(box, g2["questionBox"]), f"{box} overlaps the question box {g2['questionBox']}"
    page.locator("#controls").get_by_text("Filters and model").first.click()

    cov = page.evaluate(COVERED_JS)
    assert cov["checked"] >= 3, cov  # a "Sources" heading per answer, plus its markers
    assert cov["covered"] == [], f"{len(cov['covered'])} of {cov['checked']} markers/headings covered: {cov['covered']}"

    # a marker still opens the quoted passage
    last = page.locator("#conversation section.turn").last
    marker = last.locator(".answer button.cite")
    (marker.first if marker.count() else last.locator(".sources button.source").first).click()
    page.locator("#article-panel mark.quote").wait_for()
    page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{size[0]}x{size[1]}-article.png"))
    return g


@pytest.mark.parametrize("name", sorted(VIEWPORTS))
def test_layout_after_three_questions(start_server, phone_or_wide_page, small_index: Path, settings_for, name) -> None:  # noqa: F811
    gen = CitingGenerator()
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), gen)
    page = phone_or_wide_page(srv.url, VIEWPORTS[name])
    check_layout(page, name, VIEWPORTS[name])
    assert page.dialogs == []


def test_newest_answer_followed_while_streaming(start_server, phone_or_wide_page, small_index: Path, settings_for) -> None:  # noqa: F811
    """Sources first, then the streaming text, then the checked answer, each inside the conversation area."""
    gen = CitingGenerator()
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), gen)
    page = phone_or_wide_page(srv.url, VIEWPORTS["phone"])
    for q in QUESTIONS[:2]:
        ask(page, q)
        wait_final_answer(page)
    gen.hold_start = gen.hold_middle = True
    gen.go_start.clear()
    gen.go_middle.clear()
    gen.started.clear()
    turn = ask(page, QUESTIONS[2])
    turn.locator(".sources li").first.wait_for()
    assert gen.started.wait(30)
    conv = page.locator("#conversation").bounding_box()
    q_box = turn.locator(".question").bounding_box()
    assert conv["y"] - 1 <= q_box["y"] <= conv["y"] + conv["height"], "the new question was not scrolled into view"
    gen.go_start.set()
    streaming = turn.locator(".answer.streaming")
    streaming.wait_for()
    s = streaming.bounding_box()
    assert conv["y"] - 1 <= s["y"] and s["y"] + s["height"] <= conv["y"] + conv["height"] + 1, (s, conv)
    gen.go_middle.set()
    final = turn.locator(".answer:not(.streaming)")
    final.wait_for()
    page.wait_for_timeout(200)
    f = final.bounding_box()
    assert conv["y"] - 1 <= f["y"] and f["y"] + f["height"] <= conv["y"] + conv["height"] + 1, (f, conv)


@pytest.mark.slow
def test_layout_real_default_model(start_server, phone_or_wide_page, small_index: Path, settings_for) -> None:  # noqa: F811
    """The real default model (loaded by the pipeline from the model cache) on the page, wide screen."""
    from rag.settings import Settings

    assert Settings().model == "qwen2.5-coder-1.5b"
    srv = start_server(small_index, settings_for(small_index), None)
    page = phone_or_wide_page(srv.url, VIEWPORTS["wide"])
    g = check_layout(page, "real-model-wide", VIEWPORTS["wide"])
    meta = page.locator("#conversation section.turn").last.locator(".answer-meta").inner_text()
    assert "qwen2.5-coder" in meta.lower(), meta
    assert g["turns"] == 3
