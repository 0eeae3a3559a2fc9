#!/usr/bin/env bash
# One command for a new user: install, index the guidance, start the assistant.
#   bash run.sh            # on the defaults: embedded Chroma, the bundled model, the corpus
# The corpus comes from the local mirror (../shared/corpus) when there is one,
# otherwise it is downloaded from its publishers (procure-ai corpus sync).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
CORPUS=${PROCURE_AI_CORPUS:-../shared/corpus}
if [ ! -f "$CORPUS/sources.toml" ]; then
  CORPUS=${PROCURE_AI_DATA_DIR:-$HOME/.local/share/procure-ai}/corpus
  .venv/bin/procure-ai corpus sync "$CORPUS"
fi
# The Welsh edition of the worker-voice toolkit sits beside the mirror, in corpus-extra/ (a sync downloads it
# with the rest): indexed with it, as the English edition's pair.
WELSH="$(dirname "$CORPUS")/corpus-extra/toolkit-worker-voice-procurement-wales-cy.pdf"
if [ -f "$WELSH" ]; then
  .venv/bin/procure-ai ingest "$CORPUS" "$WELSH"
else
  .venv/bin/procure-ai ingest "$CORPUS"
fi
if .venv/bin/procure-ai serve --help >/dev/null 2>&1; then
  exec .venv/bin/procure-ai serve "$@"
fi
exec .venv/bin/procure-ai ask "${1:-We're buying an off-the-shelf chatbot licence: who do we need to involve?}"
