#!/usr/bin/env bash
# Creates .venv and installs procure-ai into it. `--test` adds what the tests need.
# torch 2.13.0 (CPU) goes in first: a bare `torch` requirement would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
extra=""
if [ "${1:-}" = "--test" ]; then extra="[test]"; fi
.venv/bin/pip install -q -e ".${extra}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import assistant, ingest, index, corpus, evals" # fails loudly if the install did not take
echo "procure-ai installed in .venv${extra:+ (with test extras)}"
