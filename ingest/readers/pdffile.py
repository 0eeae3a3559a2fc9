"""Reads a PDF as a reader sees it: headings as `#` lines, bulleted items as `- ` lines, tables row by row,
paragraphs whole (across a page break too), running headers, footers and page numbers left out.

Headings come from the PDF's outline (bookmarks), found on their page; without an outline, or for lines
it does not name, from the type: a line set larger than the body text is a heading, its level by its size.
A paragraph all in bold (at most 15 words, no full stop) is a sub-heading, as a bold line is in Markdown
(ingest/clean.py). A line joins the paragraph above when it sits at the paragraph's line spacing; it starts
a new line of the same paragraph when the line above ended early though its first word would have fitted
there (a deliberate break: "Who: ... / What: ..."). A word split by a hyphen at a line end is joined,
without the hyphen where the document spells the word without one elsewhere. Tables: see `_table`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ingest.readers.pdfium import load
from ingest.readers.pdflines import BULLET, Line, hide_furniture, is_glyph_bullet, page_lines
from ingest.readers.pdftables import find_tables


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


@dataclass
class PdfText:
    """What the reader hands back: the text, where each page starts in it, its first heading, the metadata title."""

    text: str
    pages: list[tuple[int, int]]
    first_heading: str | None
    metadata_title: str


def read_pdf(data: bytes) -> PdfText:
    """Lay out a PDF's text (see the module docstring). Raises pdfium.PdfError if PDFium cannot open it."""
    raw = load(data)
    tables = [find_tables(page) for page in raw.pages]
    pages = [page_lines(page, found) for page, found in zip(raw.pages, tables)]
    lines = [line for page in pages for line in page]
    if not lines:
        return PdfText("", [], None, raw.title)
    body: Counter = Counter()
    for line in lines:
        body[line.size] += len(line.text)
    body_size = body.most_common(1)[0][0]
    hide_furniture(pages, [p.height for p in raw.pages], body_size)
    layout = _Layout(pages, body_size, [p.height for p in raw.pages], tables)
    layout.mark_headings(raw.outline)
    blocks = layout.blocks()
    text, starts, first = _assemble(blocks)
    return PdfText(text, starts, first, raw.title)


class _Layout:
    """The document's lines and what is learnt from all of them: body size, line spacing, margins, vocabulary."""

    def __init__(self, pages: list[list[Line]], body_size: float, heights: list[float], tables: list[list]):
        self.pages = pages
        self.heights = heights
        self.tables = tables
        self.body_size = body_size
        self.visible = [line for page in pages for line in page if not line.hidden]
        self.leading = self._leading()
        flow = [l for l in self.visible if l.table is None and l.box is None]
        rights, lefts = sorted(l.x1 for l in flow), sorted(l.x0 for l in flow)
        self.flow_right = rights[int(len(rights) * 0.95)] if flow else 0.0
        self.flow_left = lefts[int(len(lefts) * 0.05)] if flow else 0.0
        self.vocabulary = {w.lower() for l in self.visible for w in re.findall(r"\w+(?:-\w+)*", l.text)}
        self.pads: dict[tuple, float] = {}
        for l in self.visible:
            region = l.cell or l.box
            if region:
                key = (l.page, region)
                self.pads[key] = min(self.pads.get(key, l.x0 - region[0]), l.x0 - region[0])

    def _leading(self) -> dict[tuple, float]:
        """The usual distance from one line's top to the next line's, for each kind of line (see `_kind`)."""
        seen: dict[tuple, Counter] = {}
        for page in self.pages:
            shown = [l for l in page if not l.hidden]
            for a, b in zip(shown, shown[1:]):
                pitch = b.top - a.top
                if _kind(a) == _kind(b) and a.region == b.region and 0.7 * a.size <= pitch <= 2.5 * a.size:
                    seen.setdefault(_kind(a), Counter())[round(pitch * 2) / 2] += 1
        return {kind: pitches.most_common(1)[0][0] for kind, pitches in seen.items()}

    def spacing(self, line: Line) -> float:
        """The most a line's top may sit below the top of the line above it in the same paragraph."""
        return self.leading.get(_kind(line), 1.2 * line.size) * 1.25 + 0.5

    def mark_headings(self, outline) -> None:
        """Mark headings: the outline's entries found on their pages, then lines set larger than the body."""
        by_size: dict[float, int] = {}
        for depth, title, number, top in outline:
            target = _key(title)
            if not target or number > len(self.pages):
                continue
            shown = [l for l in self.pages[number - 1] if not l.hidden and not l.heading]
            matches = []
            for i in range(len(shown)):
                seen = ""
                for j in range(i, min(i + 4, len(shown))):
                    seen += _key(shown[j].text)
                    if seen == target:
                        matches.append((i, j))
                    if not target.startswith(seen):
                        break
            if not matches:
                continue
            i, j = min(matches, key=lambda m: abs(shown[m[0]].top - top) if top is not None else m[0])
            self._heading(shown[i : j + 1], min(depth + 1, 6))
            by_size[shown[i].size] = min(by_size.get(shown[i].size, 9), min(depth + 1, 6))
        candidates = [l for l in self.visible if not l.heading and not l.hidden and l.size >= self.body_size * 1.15
                      and len(l.text.split()) <= 20 and not l.bullet and re.search(r"[^\W\d_]", l.text)]
        sizes = sorted({l.size for l in candidates} | set(by_size), reverse=True)
        for run in _runs(candidates, self.spacing):
            size = run[0].size
            known = [s for s in by_size if abs(s - size) <= 0.05 * size]
            level = by_size[known[0]] if known else sizes.index(size) + 1
            self._heading(run, min(level, 6))

    @staticmethod
    def _heading(run: list[Line], level: int) -> None:
        run[0].heading = level
        run[0].heading_text = " ".join(l.text for l in run)
        for later in run[1:]:
            later.hidden = True

    def blocks(self) -> list[Block]:
        """Every page's blocks in reading order; a table's blocks where the table starts."""
        out: list[Block] = []
        pending: list[Line] = []
        for page in self.pages:
            done_tables = set()
            for line in page:
                if line.table is None:
                    pending.append(line)
                    continue
                if line.table in done_tables:
                    continue
                done_tables.add(line.table)
                out += self.flow(pending)
                pending = []
                table = self._table([l for l in page if l.table == line.table],
                                    self.tables[line.page - 1][line.table].bbox[0])
                if (table and out and table[0].kind == "para" and out[-1].kind in ("para", "item")
                        and table[0].parts[0][2] == out[-1].parts[-1][2] + 1 and not _ends_sentence(out[-1].text)
                        and _same_column(out[-1].lines[-1], table[0].lines[0])):
                    out[-1].parts += [(" ", table[0].text, table[0].parts[0][2])]  # a row continued from the page before
                    out[-1].lines += table.pop(0).lines
                out += table
        return out + self.flow(pending)

    def flow(self, lines: list[Line]) -> list[Block]:
        """Lines in order as headings, paragraphs and list items."""
        out: list[Block] = []
        current: Block | None = None
        for line in lines:
            if line.hidden:
                continue
            if line.heading:
                out.append(Block("heading", [("", line.heading_text, line.page)], level=line.heading, lines=[line]))
                current = None
                continue
            if current is not None and self._continues(current, line):
                self._join(current, line)
                continue
            match = BULLET.match(line.text)
            if match:
                marker = "-" if is_glyph_bullet(line.text) else match.group(0).strip().strip("()")
                marker = marker if marker == "-" else marker.rstrip(".)") + "."
                current = Block("item", [("", line.text[match.end():], line.page)], marker=marker, lines=[line])
            else:
                current = Block("para", [("", line.text, line.page)], lines=[line])
            out.append(current)
        for block in out:
            text = block.text
            if (block.kind == "para" and all(l.bold for l in block.lines) and len(text.split()) <= 15
                    and not re.search(r"(?<!\.\.)[.!?][\"'”’)\]]*$", text) and re.search(r"[^\W\d_]", text)):
                block.kind, block.level = "sub", 1
        return out

    def _continues(self, block: Block, line: Line) -> bool:
        last = block.lines[-1]
        if line.mono != last.mono or abs(line.size - last.size) > 0.15 * last.size:
            return False
        if line.bullet and not (block.kind == "para" and re.match(r"[-–—]\s", line.text) and abs(line.x0 - last.x0) < 2
                                and not _ends_sentence(last.text)):  # a dash that wrapped to the margin is no bullet
            return False
        if line.page == last.page:
            if line.region != last.region:
                return False
            if not 0 < line.top - last.top <= self.spacing(last):
                return False
        elif not (line.page == last.page + 1 and line.table is None and last.table is None
                  and (line.box is None) == (last.box is None) and not _ends_sentence(last.text)
                  and last.bottom > 0.75 * self.heights[last.page - 1]):  # the page before ran out, not stopped
            return False
        if block.kind == "item":
            return line.x0 > block.lines[0].x0 + 1  # indented under its bullet
        return line.x0 <= max(l.x0 for l in block.lines) + 4

    def _join(self, block: Block, line: Line) -> None:
        last = block.lines[-1]
        sep = " "
        before = block.parts[-1][1]
        if re.search(r"[^\W\d_]-$", before) and line.text[:1].islower():
            head = re.search(r"([\w'’]+)-$", before).group(1)
            tail = re.match(r"[\w'’]+", line.text).group(0)
            if (head + tail).lower() in self.vocabulary and f"{head}-{tail}".lower() not in self.vocabulary:
                block.parts[-1] = (block.parts[-1][0], before[:-1], block.parts[-1][2])
            sep = ""
        elif line.page == last.page and last.x1 + line.first_word + 0.6 * last.size < self._right(block):
            sep = "\n"
        block.parts.append((sep, line.text, line.page))
        block.lines.append(line)

    def _right(self, block: Block) -> float:
        """Where a block's lines end when full: its cell's or box's edge less the padding on its left; the
        page's right margin, less the block's indent (a quotation set in from both sides)."""
        line = block.lines[-1]
        region = line.cell or line.box
        if region:
            return region[2] - max(self.pads.get((line.page, region), 0.0), 0.0)
        indent = min(l.x0 for l in block.lines) - self.flow_left
        return self.flow_right - (indent if indent > 10 else 0.0)

    def _table(self, lines: list[Line], table_left: float) -> list[Block]:
        """A table's blocks. Rows of short cells become "a | b | c" lines. Where cells hold paragraphs or
        lists: if each row opens with a short label ("Procurement"), the label is a sub-heading and the rest
        of the row follows under it; else, under a header row, each column is a sub-heading with its cells'
        text beneath; else the cells in row order. A row that is one cell across the table (a title) is
        read as ordinary text."""
        cells: dict[tuple, list[Line]] = {}
        for line in lines:
            cells.setdefault(line.cell, []).append(line)
        if len(cells) < 2:  # one cell: a row continued from the page before is under its label there
            only = next(iter(cells))
            return [_deeper(b) if only[0] > table_left + 2.5 else b for b in self.flow(lines)]
        left, right = min(c[0] for c in cells), max(c[2] for c in cells)
        rows: list[list[tuple]] = []
        for cell in sorted(cells, key=lambda c: (c[1], c[0])):
            if rows and abs(rows[-1][0][1] - cell[1]) <= 2.5:
                rows[-1].append(cell)
            else:
                rows.append([cell])
        content = {cell: self.flow(cell_lines) for cell, cell_lines in cells.items()}
        out: list[Block] = []
        body = []
        for row in rows:
            if len(row) == 1 and row[0][2] - row[0][0] >= 0.9 * (right - left):
                if body:
                    out += self._rows(body, content, table_left)
                    body = []
                out += content[row[0]]
            else:
                body.append(sorted(row, key=lambda c: c[0]))
        return out + (self._rows(body, content, table_left) if body else [])

    def _rows(self, rows: list[list[tuple]], content: dict, table_left: float) -> list[Block]:
        def short(cell, words):
            blocks = content[cell]
            return len(blocks) == 1 and blocks[0].kind in ("para", "sub") and len(blocks[0].text.split()) <= words

        rich = any(len(content[c]) > 1 or any(b.kind in ("item", "heading") for b in content[c]) for row in rows for c in row)
        if not rich:
            return [self._row(row, content) for row in rows]
        header = rows[0] if len(rows) > 1 and all(short(c, 8) and all(l.bold for l in content[c][0].lines)
                                                  for c in rows[0]) else None
        rest = rows[1:] if header else rows
        opens = [row[0][0] <= table_left + 2.5 for row in rest]  # a row with a first cell (a continued row has none)
        labelled = all(not o or (len(row) > 1 and short(row[0], 8)) for o, row in zip(opens, rest))
        out: list[Block] = [self._row(header, content)] if header and labelled else []
        if labelled:
            for o, row in zip(opens, rest):
                if o:
                    out.append(Block("sub", list(content[row[0]][0].parts), level=1, lines=content[row[0]][0].lines))
                out += [_deeper(b) for cell in (row[1:] if o else row) for b in content[cell]]
        elif header:
            for column in header:
                out.append(Block("sub", list(content[column][0].parts), level=1, lines=content[column][0].lines))
                for row in rest:
                    out += [_deeper(b) for cell in row if column[0] - 2.5 <= cell[0] < column[2] - 2.5
                            for b in content[cell]]
        else:
            out += [b for row in rows for cell in row for b in content[cell]]
        return out

    @staticmethod
    def _row(row: list[tuple], content: dict) -> Block:
        parts: list[tuple[str, str, int]] = []
        lines: list[Line] = []
        for cell in row:
            for block in content[cell]:
                text = " ".join(block.text.split())
                if text:
                    parts.append((" | " if parts else "", text, block.parts[0][2]))
                    lines += block.lines
        return Block("row", parts, lines=lines)


def _same_column(a: Line, b: Line) -> bool:
    """Two lines in table cells of the same column (on two pages: a row continued)."""
    return a.cell is not None and b.cell is not None and abs(a.cell[0] - b.cell[0]) < 3 and abs(a.cell[2] - b.cell[2]) < 3


def _deeper(block: Block) -> Block:
    if block.kind == "sub":
        block.level += 1
    return block


def _kind(line: Line) -> tuple:
    """Lines that share a spacing: one size, monospaced or not, in a table or not."""
    return (line.size, line.mono, line.table is not None)


def _runs(lines: list[Line], spacing) -> list[list[Line]]:
    """Consecutive heading lines of one size and region, at line spacing: one wrapped heading."""
    runs: list[list[Line]] = []
    for line in lines:
        last = runs[-1][-1] if runs else None
        if (last is not None and last.page == line.page and last.region == line.region and last.size == line.size
                and 0 < line.top - last.top <= spacing(last)):
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


def _key(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


def _ends_sentence(text: str) -> bool:
    return bool(re.search(r"[.!?:][\"'”’)\]]*$", text.strip()))


def _assemble(blocks: list[Block]) -> tuple[str, list[tuple[int, int]], str | None]:
    """The text (blocks parted by blank lines, a list's items and a table's rows by line breaks), where each
    page starts in it, and the first heading."""
    out: list[str] = []
    starts: list[tuple[int, int]] = []
    offset, base, first, previous = 0, 0, None, None
    for block in blocks:
        if not block.text:
            continue
        if block.kind == "heading":
            base = block.level
        if block.kind in ("heading", "sub"):
            level = block.level if block.kind == "heading" else min(base + block.level, 6)
            title = " ".join(block.text.split()).rstrip(":").strip()
            first = first or title
            prefix, pieces = "#" * level + " ", [(title, block.parts[0][2])]
        else:
            prefix = block.marker + " " if block.kind == "item" else ""
            pieces = [((sep if i else "") + text, page) for i, (sep, text, page) in enumerate(block.parts)]
        joined = previous == block.kind and block.kind in ("item", "row") or (
            previous == "para" and block.kind == "item" and out[-1].rstrip().endswith(":"))  # a list under its lead
        sep = "" if not out else "\n" if joined else "\n\n"
        out.append(sep + prefix)
        line_start = offset + len(sep)
        offset = line_start + len(prefix)
        for i, (piece, page) in enumerate(pieces):
            if piece.strip() and (not starts or page > starts[-1][1]):
                starts.append((line_start if i == 0 else offset + len(piece) - len(piece.lstrip()), page))
            out.append(piece)
            offset += len(piece)
        previous = block.kind
    return "".join(out) + "\n", starts, first


def read_pdf_file(data: bytes):
    """The PDF reader for `read_document`: a `Read`, or UnreadableFile saying why not."""
    from ingest.readers.base import Read, UnreadableFile
    from ingest.readers.pdfium import PdfError

    try:
        read = read_pdf(data)
    except PdfError as exc:
        raise UnreadableFile(str(exc)) from None
    if not read.text.strip():
        raise UnreadableFile("PDF has no extractable text (a scan?)")
    return Read(read.text, pages=read.pages, title=read.first_heading, metadata_title=read.metadata_title)
