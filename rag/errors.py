"""Errors raised by the library. Each message says what went wrong *and what to do next*.

They are raised in ``rag/`` and translated into exit codes / UI messages only at the
boundaries (``rag/cli.py``, ``ui/app.py``); nothing in the library swallows them.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: anything the user can fix by changing input, settings or the index."""

    exit_code = 1


class CorpusError(RagError):
    """A corpus file cannot be read as articles. ``path`` names the file."""

    exit_code = 3

    def __init__(self, path: str, reason: str, hint: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        msg = f"{self.path}: {reason}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class IndexNotFound(RagError):
    exit_code = 4


class IndexCorrupt(RagError):
    exit_code = 5


class IndexMismatch(RagError):
    exit_code = 6


class ModelError(RagError):
    exit_code = 7


class SettingsError(RagError):
    exit_code = 2


class BusyError(RagError):
    """The model is serving another request and the caller's wait limit ran out."""

    exit_code = 8


def rebuild_hint(index_dir: str) -> str:
    return f"rebuild it with: rag index build --corpus PATH --index-dir {index_dir}"
