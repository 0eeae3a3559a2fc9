"""A PDF page's characters grouped into lines, each knowing its place, size, weight, and the table cell or
shaded box it sits in; the lines a reader does not read (running headers and footers, page numbers); and the
blocks lines are laid out into (heading, paragraph, list item, table row).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from ingest.readers.pdfium import BREAK, Glyph, RawPage

BULLET = re.compile(r"^(?:[●•▪■◦○◆◇►▸➢➤✓✔\uf0b7\uf0a7\uf076\uf0d8\uf0fc*\-–—]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_GLYPH_BULLET = re.compile(r"^[●•▪■◦○◆◇►▸➢➤✓✔\uf0b7\uf0a7\uf076\uf0d8\uf0fc*\-–—]\s+")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$|^[-–]\s*\d{1,4}\s*[-–]$|^[ivxlc]{1,6}$", re.I)
_BAND = 0.08  # the top and bottom 8% of a page hold its running header and footer


@dataclass
class Line:
    """One line of text as laid out: where it sits, its type, and its region (a table cell or a shaded box)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool  # every letter bold
    mono: bool
    page: int
    first_word: float  # width of its first word: would it have fitted on the line above?
    text_x0: float  # where its words start (after a bullet)
    table: int | None = None  # index of its table on the page
    cell: tuple | None = None
    box: tuple | None = None  # the shaded box (call-out) it sits in
    some_bold: bool = False  # a word or more in bold ("Potential **technical requirements** include:")
    heading: int = 0  # a heading's level, from the outline or the type size
    heading_text: str = ""  # a heading's whole text (a wrapped heading's first line carries it)
    hidden: bool = False  # not read: running header or footer, page number, a code box's "None" label, a heading's
    #                       later lines

    @property
    def bullet(self) -> bool:
        return bool(BULLET.match(self.text))

    @property
    def region(self) -> tuple:
        return (self.page, self.table, self.cell, self.box)


@dataclass
class Block:
    """A heading, paragraph, list item or table row, with the page of each piece of its text."""

    kind: str  # heading (absolute level) | sub (level below the last heading) | para | item | row
    parts: list[tuple[str, str, int]] = field(default_factory=list)  # (separator before, text, page)
    level: int = 0
    marker: str = ""
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(sep + text for sep, text, _ in self.parts).strip()


def page_lines(page: RawPage, tables: list) -> list[Line]:
    """The page's lines in content order. A line ends where PDFium saw one end, where the text jumps to
    another line or across a wide gap, or where it crosses into another table cell."""
    lines: list[Line] = []
    run: list[Glyph] = []
    where: tuple = (None, None)

    def flush():
        if run:
            line = _line(run, page.number, where)
            if line is not None:
                line.box = next((b for b in page.boxes if b[0] <= line.x0 and line.x1 <= b[2] + 1
                                 and b[1] <= line.top + 1 and line.bottom <= b[3] + 1), None)
                lines.append(line)
        run.clear()

    for glyph in page.glyphs:
        if glyph.char == BREAK:
            flush()
            continue
        if not glyph.char.strip() and not run:
            continue
        here = _cell_of(glyph, tables, where)
        if run:
            last = next((g for g in reversed(run) if g.char.strip()), run[-1])
            jumped = glyph.char.strip() and (glyph.top >= last.bottom - 0.2 * (last.bottom - last.top)
                                              or glyph.bottom <= last.top + 0.2 * (last.bottom - last.top))
            gap = glyph.char.strip() and (glyph.x0 - last.x1 > max(last.size, glyph.size)
                                          or glyph.x1 < last.x0 - last.size)
            if jumped or gap or here != where:
                flush()
        where = here
        run.append(glyph)
    flush()
    return lines


def _cell_of(glyph: Glyph, tables: list, previous: tuple) -> tuple:
    """(table index, cell box) around a glyph's centre; (None, None) outside tables."""
    if not tables:
        return (None, None)
    x, y = (glyph.x0 + glyph.x1) / 2, (glyph.top + glyph.bottom) / 2
    if previous[1] is not None:
        x0, top, x1, bottom = previous[1]
        if x0 <= x <= x1 and top <= y <= bottom:
            return previous
    for i, table in enumerate(tables):
        if table.contains(x, y):
            cell = table.cell_at(x, y)
            if cell is not None:
                return (i, cell)
    return (None, None)


def _line(glyphs: list[Glyph], page: int, where: tuple) -> Line | None:
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", "".join(g.char for g in glyphs))).strip()
    inked = [g for g in glyphs if g.char.strip()]
    if not text or not inked:
        return None
    letters = [g for g in inked if g.char.isalnum()] or inked
    sizes = Counter(g.size for g in inked)
    first_end = next((g.x0 for g in glyphs[1:] if not g.char.strip() and g.x0 > inked[0].x0), inked[-1].x1)
    bullet = BULLET.match(text)
    text_x0 = inked[0].x0
    if bullet:
        words = [g for g in inked if g.x0 > inked[0].x1 + 0.5]
        text_x0 = words[0].x0 if words else text_x0
    return Line(
        text=text, x0=inked[0].x0, x1=max(g.x1 for g in inked), top=min(g.top for g in inked),
        bottom=max(g.bottom for g in inked), size=sizes.most_common(1)[0][0], bold=all(g.bold for g in letters),
        mono=all(g.mono for g in letters), page=page, first_word=max(first_end - inked[0].x0, 0.0), text_x0=text_x0,
        table=where[0], cell=where[1], some_bold=any(g.bold for g in letters),
    )


def is_glyph_bullet(text: str) -> bool:
    """A bullet drawn as a mark (not a number): the item becomes "- ..."."""
    return bool(_GLYPH_BULLET.match(text))


def hide_furniture(pages: list[list[Line]], heights: list[float], body_size: float) -> None:
    """Mark what a reader skips: running headers and footers (the same words, numbers aside, in the top or
    bottom band of at least two pages and half of them), page numbers in those bands, and the "None" label
    Google Docs prints over a code box whose language is unset."""
    seen: Counter = Counter()
    for lines, height in zip(pages, heights):
        keys = {_furniture_key(l) for l in lines if _in_band(l, height) and len(l.text.split()) <= 15}
        seen.update(keys)
    repeated = {k for k, n in seen.items() if n >= 2 and n >= len(pages) / 2}
    for lines, height in zip(pages, heights):
        for line in lines:
            if line.table is None and _in_band(line, height) and (
                    _furniture_key(line) in repeated or _PAGE_NUMBER.match(line.text)):
                line.hidden = True
            elif line.text == "None" and line.size < body_size * 0.95:
                line.hidden = True


def _in_band(line: Line, height: float) -> bool:
    return line.bottom <= height * _BAND or line.top >= height * (1 - _BAND)


def _furniture_key(line: Line) -> str:
    return re.sub(r"\d+", "#", line.text.lower())
