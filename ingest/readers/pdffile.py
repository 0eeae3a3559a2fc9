"""Reads a PDF as a reader sees it: headings as `#` lines, bulleted items as `- ` lines, tables as rows
(pdfcells.py), paragraphs whole (across a page break too), running headers, footers and page numbers left
out.

Headings come from the PDF's outline (bookmarks), found on their page; without an outline, or for lines
it does not name, from the type: a line set larger than the body text is a heading, its level by its size.
A paragraph all in bold (120 characters at most) is a sub-heading, as a bold line is in Markdown
(ingest/clean.py), and so is a short line with bold in it that ends in a colon and opens a list
("Potential **technical requirements** include:"). A line joins the paragraph above when it sits at the
paragraph's line spacing; it starts a new line of the same paragraph when the line above ended early
though its first word would have fitted there (a deliberate break: "Who: ... / What: ..."), and a new
paragraph when that line was all bold (a title set apart: "Myth: ..."). A word split by a hyphen at a line
end is joined, without the hyphen where the document spells the word without one elsewhere.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.readers.pdfium import load
from ingest.readers.pdfcells import same_column, table_blocks
from ingest.readers.pdflines import BULLET, Block, Line, hide_furniture, is_glyph_bullet, page_lines
from ingest.readers.pdftables import find_tables


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
                table = table_blocks([l for l in page if l.table == line.table],
                                     self.tables[line.page - 1][line.table].bbox[0], self.flow)
                if (table and out and table[0].kind == "para" and out[-1].kind in ("para", "item")
                        and table[0].parts[0][2] == out[-1].parts[-1][2] + 1 and not _ends_sentence(out[-1].text)
                        and same_column(out[-1].lines[-1], table[0].lines[0])):
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
        for block, after in zip(out, [*out[1:], None]):
            text = block.text
            if block.kind != "para" or not re.search(r"[^\W\d_]", text):
                continue
            quotation = text[:1] in "“\"‘'" and text[-1:] in "”\"’'"  # a pull quote is no heading
            bold_line = all(l.bold for l in block.lines) and len(text) <= 120 and not quotation  # as in Markdown
            list_title = (len(block.lines) == 1 and block.lines[0].some_bold and text.endswith(":")
                          and len(text.split()) <= 10 and after is not None and after.kind == "item")
            if bold_line or list_title:
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
            if line.region != last.region or last.bold and self._early(block, line):  # a bold line set apart
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
        elif line.page == last.page and self._early(block, line):
            sep = "\n"
        block.parts.append((sep, line.text, line.page))
        block.lines.append(line)

    def _early(self, block: Block, line: Line) -> bool:
        """The block's last line ended though the next line's first word would have fitted on it."""
        last = block.lines[-1]
        return last.x1 + line.first_word + 0.6 * last.size < self._right(block)

    def _right(self, block: Block) -> float:
        """Where a block's lines end when full: its cell's or box's edge less the padding on its left; the
        page's right margin, less the block's indent (a quotation set in from both sides)."""
        line = block.lines[-1]
        region = line.cell or line.box
        if region:
            return region[2] - max(self.pads.get((line.page, region), 0.0), 0.0)
        indent = min(l.x0 for l in block.lines) - self.flow_left
        return self.flow_right - (indent if indent > 10 else 0.0)


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
