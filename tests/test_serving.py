"""Many users on one server (ui/serving.py): the FIFO model queue and the loaded-model limit."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from rag.errors import SettingsError
from ui.serving import ModelQueue, Pipelines


def test_queue_is_first_come_first_served_with_positions() -> None:
    q = ModelQueue()
    a, b, c = q.enter(), q.enter(), q.enter()
    assert [q.position(t) for t in (a, b, c)] == [0, 1, 2]
    assert not q.wait_turn(b, 0.05)  # a is first in line
    assert q.wait_turn(a, 0.05)
    assert not q.wait_turn(b, 0.05)  # a holds the model
    order: list[str] = []

    def waiter(t: object, name: str) -> None:
        assert q.wait_turn(t, 5)
        order.append(name)
        time.sleep(0.05)
        q.leave(t)

    threads = [threading.Thread(target=waiter, args=(c, "c")), threading.Thread(target=waiter, args=(b, "b"))]
    for th in threads:
        th.start()
    time.sleep(0.1)
    assert order == []  # nobody runs while a holds it
    q.leave(a)
    for th in threads:
        th.join(5)
    assert order == ["b", "c"]
    assert q.length == 0


def test_leaving_while_waiting_moves_the_line_up() -> None:
    q = ModelQueue()
    a, b, c = q.enter(), q.enter(), q.enter()
    assert q.wait_turn(a, 0.05)
    q.leave(b)  # b gave up (timeout, closed tab)
    assert q.position(c) == 1
    q.leave(a)
    assert q.wait_turn(c, 0.05)


class FakePipe:
    def __init__(self, model: str, generator: object | None = None) -> None:
        self.settings = SimpleNamespace(model=model)
        self._generator = generator
        self.index = "index"
        self.retriever = SimpleNamespace(sources=["Wire"])

    def with_settings(self, model: str) -> FakePipe:
        return FakePipe(model)

    def load(self) -> None:
        self._generator = object()


def test_model_list_is_the_configured_presets_only() -> None:
    pipes = Pipelines(FakePipe("qwen2.5-coder-0.5b", object()), 1, [])
    assert pipes.model_choices() == ["qwen2.5-coder-0.5b"]
    with pytest.raises(SettingsError, match=r"this server offers: qwen2\.5-coder-0\.5b"):
        pipes.get("qwen2.5-coder-1.5b")
    pipes = Pipelines(FakePipe("qwen2.5-coder-0.5b", object()), 1, ["smollm2-135m", "qwen2.5-coder-0.5b"])
    assert pipes.model_choices() == ["qwen2.5-coder-0.5b", "smollm2-135m"]


def test_at_most_max_loaded_models_stay_loaded() -> None:
    base = FakePipe("a", object())
    pipes = Pipelines(base, 1, ["b", "c"])
    assert pipes.loaded_models() == ["a"]
    b = pipes.get("b")
    assert pipes.make_room("b") == ["a"]  # loading b first drops a
    b.load()
    assert pipes.loaded_models() == ["b"] and base._generator is None
    assert pipes.make_room("b") == []  # b is loaded already: nothing to drop
    assert pipes.get("b") is b  # one pipeline per model, reused

    pipes2 = Pipelines(FakePipe("a", object()), 2, ["b", "c"])
    pipes2.get("b")
    assert pipes2.make_room("b") == []
    pipes2.get("b").load()
    pipes2.get("a")  # a used after b: b is now the least recently used
    assert pipes2.make_room("c") == ["b"]
    assert sorted(pipes2.loaded_models()) == ["a"]
