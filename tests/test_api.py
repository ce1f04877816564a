"""The HTTP API beside the chat page (``gr.api`` named "ask" in ui/app.py).

The same server that serves the page answers ``/gradio_api/call/ask`` with the JSON that
``rag ask --json`` prints (``Answer.to_json()``): through ``gradio_client`` and through the
two plain HTTP requests the README shows (POST the question, then read the result).
A question that cannot be answered gives ``{"query", "error", "busy"}``, never an
internal error.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path

import pytest
from test_ui_browser import QUESTION, CitingGenerator, start_server  # noqa: F401  (fixture)

from rag.retrieve import Filters

VOLATILE = {"timings"}


def stable(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in VOLATILE}


def call_http(url: str, *args: object) -> dict:
    """The README's two requests: POST the inputs (all six), then read the server-sent result."""
    base = url.rstrip("/")
    req = urllib.request.Request(
        f"{base}/gradio_api/call/ask", data=json.dumps({"data": list(args)}).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{base}/gradio_api/call/ask/{event_id}", timeout=120) as r:
        body = r.read().decode("utf-8")
    events = [line for line in body.splitlines() if line.startswith(("event:", "data:"))]
    assert events[-2] == "event: complete", body
    (result,) = json.loads(events[-1][len("data:") :])
    return result


def test_api_returns_the_rag_ask_json(start_server, small_index: Path, settings_for) -> None:  # noqa: F811
    from gradio_client import Client

    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), CitingGenerator())
    expected = stable(srv.pipeline.answer(QUESTION, Filters()).to_json())  # what `rag ask --json` prints

    client = Client(srv.url, verbose=False)
    got = client.predict(QUESTION, api_name="/ask")
    assert stable(got) == expected
    assert set(got) >= {"query", "answer", "refused", "citations", "evidence", "timings"}
    assert got["citations"] and got["citations"][0]["quote"]

    # the plain-HTTP form from the README, with filters
    got = call_http(srv.url, QUESTION, "2023-11-01", "2023-11-30", [], 5, "")
    want = stable(srv.pipeline.answer(QUESTION, Filters(since="2023-11-01", until="2023-11-30"), 5).to_json())
    assert stable(got) == want
    assert all("2023-11-01" <= e["published_at"] <= "2023-11-30" for e in got["evidence"])


def test_api_errors_are_messages(start_server, small_index: Path, settings_for) -> None:  # noqa: F811
    from gradio_client import Client

    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m"), CitingGenerator())
    client = Client(srv.url, verbose=False)
    got = client.predict(QUESTION, "2023-13-45", api_name="/ask")
    assert got == {
        "query": QUESTION, "busy": False,
        "error": "From date '2023-13-45' is not a date; use YYYY-MM-DD (e.g. 2023-11-14)",
    }  # fmt: skip
    got = client.predict("x" * 5000, api_name="/ask")
    assert got["error"] == (
        "The question is 5,000 characters long; questions are limited to 1,000 characters. Please shorten it."
    )
    got = client.predict(QUESTION, "", "", ["No Such Outlet"], api_name="/ask")
    assert got["error"].startswith("unknown outlet(s): No Such Outlet")
    got = client.predict(QUESTION, model="qwen2.5-coder-1.5b", api_name="/ask")
    assert got["error"] == "Error: unknown model 'qwen2.5-coder-1.5b'; this server offers: smollm2-135m"


def test_api_busy_is_a_clear_message(start_server, small_index: Path, settings_for) -> None:  # noqa: F811
    from gradio_client import Client

    gen = CitingGenerator(hold_start=True)
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m", max_concurrency=1), gen)
    first: list[dict] = []
    t = threading.Thread(target=lambda: first.append(Client(srv.url, verbose=False).predict(QUESTION, api_name="/ask")))
    t.start()
    assert gen.started.wait(60)
    got = Client(srv.url, verbose=False).predict(QUESTION, api_name="/ask")
    assert got["busy"] is True and got["error"].startswith("Busy: 1 question(s) are already being answered")
    gen.go_start.set()
    t.join(60)
    assert first and first[0]["citations"]


@pytest.mark.parametrize("timeout", [1.0])
def test_queued_question_times_out_with_busy(start_server, small_index: Path, settings_for, timeout: float) -> None:  # noqa: F811
    """A question that waits for the model longer than request_timeout gets 'Busy', not an error."""
    from gradio_client import Client

    gen = CitingGenerator(hold_start=True)
    srv = start_server(small_index, settings_for(small_index, model="smollm2-135m", request_timeout=timeout), gen)
    first: list[dict] = []
    t = threading.Thread(target=lambda: first.append(Client(srv.url, verbose=False).predict(QUESTION, api_name="/ask")))
    t.start()
    assert gen.started.wait(60)
    got = Client(srv.url, verbose=False).predict("Who is Jake Sullivan?", api_name="/ask")
    assert got["busy"] is True
    assert got["error"].startswith("Busy: the model has been answering other questions for")
    gen.go_start.set()
    t.join(60)
    assert first and "error" not in first[0]
