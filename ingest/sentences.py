"""Splits text into sentences, keeping each sentence's offsets so it can be quoted exactly."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (and any closing quote or bracket) before whitespace and
# a capital, digit, quote or bullet; or at a line break (list items, table rows).
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9•-])|\n+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Mr.", "Ms.", "Dr.", "St.", "No.", "U.S.", "approx.")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, stripped of surrounding space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start()
        if text[:end].endswith(_ABBREVIATIONS) and "\n" not in match.group(0):
            continue
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


_ITEM = re.compile(r"[ \t]*(?:[-•*]|\d{1,2}[.)])[ \t]+\S")


def list_spans(text: str, min_items: int = 3) -> list[list[tuple[int, int]]]:
    """The bulleted lists of `text`, each as the (start, end) of its items: lines that open with a
    bullet, one after another or parted by blank lines; a plain line right under an item (no blank
    line between, not a heading) continues it, as in Markdown. Shorter lists are left out."""
    lists: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    offset, blank = 0, True
    for raw in text.split("\n"):
        start, offset = offset, offset + len(raw) + 1
        if not raw.strip():
            blank = True
            continue
        end = start + len(raw.rstrip())
        if _ITEM.match(raw):
            current.append((start + len(raw) - len(raw.lstrip()), end))
        elif current and not blank and not raw.lstrip().startswith("#"):
            current[-1] = (current[-1][0], end)
        else:
            if len(current) >= min_items:
                lists.append(current)
            current = []
        blank = False
    if len(current) >= min_items:
        lists.append(current)
    return lists


def sentences(text: str) -> list[str]:
    """The sentences of `text`."""
    return [text[s:e] for s, e in sentence_spans(text)]
