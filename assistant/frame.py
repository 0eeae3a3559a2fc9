"""The assistant's own words around the guidance it quotes, in each language it answers in.

An answer quotes the guidance as it stands; what the assistant adds itself
(the "From *title*:" lead-ins, refusals, the nearest-topics line, "does not
answer this directly", the sources heading) is its frame, and the frame is in
the question's language: a Welsh question gets a Welsh frame in the chat, the
CLI and every API alike. Each language's words are one catalogue,
`frames/<language>.json`, with the same keys (a test keeps them so); the web
faces' own labels are in assistant/web/i18n/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corpus.language import ENGLISH, LANGUAGES

FOLDER = Path(__file__).with_name("frames")


@dataclass(frozen=True)
class Frame:
    """One language's frame: `frame(key, **values)` is the catalogue's text for `key` with the values filled in."""

    language: str
    words: dict

    def __call__(self, key: str, **values) -> str:
        text = self.words[key]
        return text.format(**values) if values else text

    def language_name(self, language: str) -> str:
        """Another language's name as this one says it ("Welsh"; "Saesneg")."""
        return self.words.get(language, language)


def catalogue(language: str) -> dict:
    """The frame's words in `language` (frames/<language>.json)."""
    return json.loads((FOLDER / f"{language}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def frame(language: str = ENGLISH) -> Frame:
    """The frame for answers in `language` (English for a language it has no catalogue for)."""
    return Frame(language, catalogue(language)) if language in LANGUAGES else frame(ENGLISH)
