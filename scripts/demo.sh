#!/usr/bin/env bash
# The main job on the embedded default: set everything up, build the sample index,
# and serve the chat page on http://127.0.0.1:7860 (this machine only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/rag demo "$@"
