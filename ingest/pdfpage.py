"""A cited PDF page as the reader sees it: drawn as an image with the quote highlighted, and how much of
a quote the page's own text holds (the check behind "every cited page holds its quote").

A quote is matched word by word (letters and digits, case aside), in runs: the answer may join
sentences or list items that the page sets apart with bullets and line breaks.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ingest.readers.pdfium import BREAK, PdfError, RawPage, page_image, read_pages

__all__ = ["PdfError", "quote_coverage", "render_page"]

_SPLIT = re.compile(r"[\s\-–—/]+")
_MIN_RUN = 3  # words: a shorter run counts only as the whole rest of the quote


def render_page(path: Path, page: int, quote: str = "", scale: float = 1.5) -> bytes:
    """Page `page` of the PDF at `path` as PNG bytes, the words of `quote` found there shaded yellow.
    Raises PdfError when the file or the page cannot be read."""
    def boxes(raw: RawPage) -> list[tuple[float, float, float, float]]:
        words = _page_words([raw])
        hits = sorted(i for start, length in _runs([w for w, _ in words], _tokens(quote)) for i in range(start, start + length))
        return _merge([words[i][1] for i in hits])

    return page_image(Path(path), page, boxes, scale)


def quote_coverage(path: Path, pages: list[int], quote: str) -> float:
    """The share of the quote's words the PDF's own text of `pages` holds, in runs of at least three words
    (or a whole short quote). 0.0 when the pages cannot be read."""
    tokens = _tokens(quote)
    if not tokens:
        return 0.0
    try:
        words = _page_words(read_pages(Path(path), sorted(set(pages))))
    except PdfError:
        return 0.0
    return sum(length for _, length in _runs([w for w, _ in words], tokens)) / len(tokens)


def _tokens(text: str) -> list[str]:
    words = (re.sub(r"\W+", "", w.lower()) for w in _SPLIT.split(unicodedata.normalize("NFKC", text)))
    return [w for w in words if w]


def _page_words(pages: list[RawPage]) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every word on the pages, normalised as `_tokens` does, with its box."""
    out = []
    for page in pages:
        current: list = []
        for glyph in [*page.glyphs, None]:
            char = glyph.char if glyph is not None else " "
            wrapped = glyph is not None and current and glyph.x0 < current[-1].x0 - 1  # the next line, no break drawn
            if wrapped or char == BREAK or _SPLIT.match(unicodedata.normalize("NFKC", char)):
                word = re.sub(r"\W+", "", unicodedata.normalize("NFKC", "".join(g.char for g in current)).lower())
                if word:
                    out.append((word, (min(g.x0 for g in current), min(g.top for g in current),
                                       max(g.x1 for g in current), max(g.bottom for g in current))))
                current = [glyph] if wrapped and char != BREAK and not _SPLIT.match(char) else []
            else:
                current.append(glyph)
    return out


def _runs(words: list[str], tokens: list[str]) -> list[tuple[int, int]]:
    """(start in `words`, length) of the runs that cover the quote's tokens, longest first at each point."""
    where: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        where.setdefault(w, []).append(i)
    out, j = [], 0
    while j < len(tokens):
        best, at = 0, -1
        for i in where.get(tokens[j], []):
            k = 0
            while i + k < len(words) and j + k < len(tokens) and words[i + k] == tokens[j + k]:
                k += 1
            if k > best:
                best, at = k, i
        if best and (best >= _MIN_RUN or j + best == len(tokens) and not out or best == len(tokens)):
            out.append((at, best))
            j += best
        else:
            j += 1
    return out


def _merge(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Words next to each other on a line as one box."""
    out: list[list[float]] = []
    for x0, top, x1, bottom in boxes:
        last = out[-1] if out else None
        if last and abs(last[1] - top) < 2 and abs(last[3] - bottom) < 2 and 0 <= x0 - last[2] < 12:
            last[2], last[3] = x1, max(last[3], bottom)
        else:
            out.append([x0, top, x1, bottom])
    return [tuple(b) for b in out]
