"""The web faces' own words (labels, messages, errors, the presenter view) in English and Welsh.

One catalogue per language, `i18n/<language>.json`, with the same keys (a test
keeps them so). The language is the visitor's choice (`?lang=cy`, the switch
on every page) or else their browser's (Accept-Language); the answers' own
frame is the core's (assistant/frame.py) and follows the question's language.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from assistant.frame import Frame as Texts  # the same thing: one language's words, `t(key, **values)`
from corpus.language import ENGLISH, LANGUAGES

FOLDER = Path(__file__).with_name("i18n")


def catalogue(language: str) -> dict:
    return json.loads((FOLDER / f"{language}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def texts(language: str = "en") -> Texts:
    """The words in `language` (English for one without a catalogue)."""
    return Texts(language, catalogue(language)) if language in LANGUAGES else texts(ENGLISH)


_TAG = re.compile(r"\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def choose(asked: str | None = None, accept_language: str | None = None) -> str:
    """The page's language: `asked` (the ?lang= of the URL) when it is one we have, else the first of ours the
    browser prefers (its Accept-Language header, by quality), else English."""
    if asked in LANGUAGES:
        return asked
    preferred = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        match = _TAG.match(part)
        if match:
            try:
                quality = float(match.group(2)) if match.group(2) else 1.0
            except ValueError:
                continue
            preferred.append((-quality, i, match.group(1).lower()))
    return next((tag for _, _, tag in sorted(preferred) if tag in LANGUAGES), ENGLISH)
