"""Progress bars for long stages: tqdm on stderr with count, rate and ETA.

Every long stage of a build (reading, chunking, embedding, writing) shows one of these, also
under ``--json`` (stdout then carries only the JSON line). Third-party bars (bm25s, weight
loading) are switched off by ``quiet_third_party()`` so ours are the only ones.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from tqdm import tqdm

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]"


def progress_bar(total: int, desc: str, unit: str, disable: bool = False, **kw: Any) -> tqdm:
    """A tqdm bar on stderr (rate and ETA); ``disable`` gives a silent one with the same API."""
    return tqdm(
        total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr, bar_format=BAR_FORMAT,
        dynamic_ncols=True, mininterval=0.5, smoothing=0.1, **kw,
    )  # fmt: skip


def quiet_third_party() -> None:
    """No progress bars or info chatter from huggingface_hub, transformers or sentence-transformers."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("transformers", "sentence_transformers", "optimum", "onnxruntime", "huggingface_hub"):
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))
    try:
        from transformers.utils import logging as tlog

        tlog.disable_progress_bar()
    except Exception:  # transformers not importable: nothing to quiet
        pass
