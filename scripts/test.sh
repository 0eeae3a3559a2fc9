#!/usr/bin/env bash
# The test command: installs the test extras (and Debian's Chromium for the UI tests), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# The UI tests drive Debian's Chromium (Playwright cannot download browsers here) and run axe-core, pinned in
# tests/package.json, in the pages (npm from Debian where there is none).
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
MISSING=""
[ -x /usr/bin/chromium ] || MISSING="chromium"
command -v npm >/dev/null || MISSING="$MISSING npm"
if [ -n "$MISSING" ]; then
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $MISSING >/dev/null
fi
npm ci --prefix tests --no-audit --no-fund --loglevel=error >/dev/null
exec .venv/bin/python -m pytest "$@"
