"""`python -m assistant.cli`: the same as the `procure-ai` command."""

import sys

from assistant.cli.main import main

sys.exit(main())
