#!/usr/bin/env bash
# Install whatever is missing (including chromium for the browser tests), then run the
# whole test suite: lint, the import-direction check and pytest (unit, integration with
# the real models, and browser tests). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
. .venv/bin/activate
ruff check rag ui eval bench tests
exec python -m pytest -q "$@"
