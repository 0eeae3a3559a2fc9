#!/usr/bin/env bash
# The test command: installs the test extras (and Debian's Chromium for the UI tests), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
