"""Sharing one server between many people: the model queue and the loaded models.

``ModelQueue`` is a first-come-first-served ticket line for the model. A question takes a
ticket once its sources are on the page (the pipeline's first ``retrieval`` event, before
the model is touched), waits for its turn while the page shows its position, and holds
the model for all of its calls (Yes/No probabilities, generation, name grounding) until
its answer is complete, so two questions never interleave and throw away each other's
prompt cache. A question that waits longer than ``request_timeout`` gets a clear busy
message instead.

``Pipelines`` holds the served pipeline and one pipeline per model the page offers
(``Settings.ui_models``, the configured presets only), sharing the index and embedder.
At most ``Settings.max_loaded_models`` models stay loaded: loading another one first
drops the least recently used. Loading and dropping only happen while the caller holds
the model queue, so no running question loses its model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rag.errors import SettingsError

log = logging.getLogger(__name__)


class ModelQueue:
    """FIFO tickets for the model: ``position`` 0 means "your turn / you hold it"."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._line: deque[object] = deque()
        self._holder: object | None = None

    def enter(self) -> object:
        ticket = object()
        with self._cond:
            self._line.append(ticket)
        return ticket

    def position(self, ticket: object) -> int:
        """Questions ahead of this ticket (the one holding the model included)."""
        with self._cond:
            try:
                return self._line.index(ticket)
            except ValueError:
                return 0

    def wait_turn(self, ticket: object, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for this ticket's turn; True once it holds the model."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._holder is ticket:
                    return True
                if self._holder is None and self._line and self._line[0] is ticket:
                    self._holder = ticket
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)

    def leave(self, ticket: object) -> None:
        with self._cond:
            try:
                self._line.remove(ticket)
            except ValueError:
                pass
            if self._holder is ticket:
                self._holder = None
            self._cond.notify_all()

    @property
    def length(self) -> int:
        with self._cond:
            return len(self._line)


def _loaded(p: Any) -> bool:
    return getattr(p, "_generator", None) is not None


def _unload(p: Any) -> None:
    """Drop the pipeline's model (it is loaded again on its next use)."""
    if hasattr(p, "_generator"):
        p._generator = None
    if hasattr(p, "_decider"):
        p._decider = None


class Pipelines:
    """The served pipeline plus one pipeline per offered model (sharing its index)."""

    def __init__(self, base: Any, max_loaded: int = 1, models: list[str] | None = None) -> None:
        self.base = base
        self.configured_model = base.settings.model
        offered = [self.configured_model] + [m for m in (models or []) if m]
        self._choices = list(dict.fromkeys(offered))
        self.max_loaded = max(1, int(max_loaded))
        self._by_model: dict[str, Any] = {self.configured_model: base}
        self._used: dict[str, float] = {self.configured_model: time.monotonic()}
        self._lock = threading.Lock()
        self.queue = ModelQueue()

    def model_choices(self) -> list[str]:
        return list(self._choices)

    def get(self, model: str) -> Any:
        """The pipeline answering with ``model`` (created on first use; its model loads lazily)."""
        if model not in self._choices:
            raise SettingsError(f"unknown model '{model}'; this server offers: {', '.join(self._choices)}")
        with self._lock:
            p = self._by_model.get(model)
            if p is None:
                p = self.base.with_settings(model=model)
                self._by_model[model] = p
            self._used[model] = time.monotonic()
            return p

    def make_room(self, model: str) -> list[str]:
        """Before ``model`` is used (caller holds the queue): drop the least recently used
        other models until loading it keeps at most ``max_loaded``. Returns the dropped names."""
        with self._lock:
            loaded = [m for m, p in self._by_model.items() if _loaded(p) and m != model]
            need = len(loaded) + (0 if _loaded(self._by_model.get(model)) else 1) - self.max_loaded
            dropped = []
            for m in sorted(loaded, key=lambda m: self._used.get(m, 0.0))[: max(0, need)]:
                _unload(self._by_model[m])
                dropped.append(m)
            if dropped:
                log.info("unloaded model(s) %s to load %s (max_loaded_models=%d)", ", ".join(dropped), model, self.max_loaded)
            return dropped

    def loaded_models(self) -> list[str]:
        with self._lock:
            return [m for m, p in self._by_model.items() if _loaded(p)]

    @property
    def index(self) -> Any:
        return self.base.index

    def sources(self) -> list[str]:
        return list(self.base.retriever.sources)

    @contextmanager
    def holding(self, timeout: float) -> Iterator[bool]:
        """Take the model queue (True) or time out (False); for callers that need no position display."""
        t = self.queue.enter()
        try:
            yield self.queue.wait_turn(t, timeout)
        finally:
            self.queue.leave(t)

    def reload(self, swap: Any) -> dict[str, Any]:
        """Switch every pipeline to the index directory's current version (loaded models kept)."""
        with swap.write(), self._lock:
            info = self.base.reload_index()
            for m, p in list(self._by_model.items()):
                if p is not self.base:
                    self._by_model[m] = p.with_index(self.base.index)
        return info
