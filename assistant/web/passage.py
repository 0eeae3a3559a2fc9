"""A cited passage as its document shows it, with the sentences an answer quotes in <mark>.

Ingest stores passages as cleaned text (ingest/clean.py): `#` headings, `- ` or
`• ` list items, table rows as "a | b | c" lines whose cells hold their own
lists as " - " items. A reader should see those as headings, lists and tables,
not as a wall of pipes and dashes, so this module rebuilds them. It works on
character offsets into the stored text, so a quote found there is marked
wherever it falls in the rebuilt structure (across a cell and its list, say).
Every piece of text is HTML-escaped; nothing from a document becomes markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from corpus.text import sentence_spans, tokenize

Span = tuple[int, int]

_HEADING = re.compile(r"(#{1,6})[ \t]+")
_BULLET = re.compile(r"([-•*○●■▪]|\d{1,2}[.)])[ \t]+(?=\S)")
_CELL_ITEM = " - "  # clean.py writes a cell's list items ("\- How might we...") after " - "
_SENTENCE_END = re.compile(r"[.?!:;)\]”\"’]\s+")
_CLOSEST_SHARE = 0.5  # a quote not found verbatim marks the passage sentence holding this share of its words


def quoted_spans(text: str, quotes: Iterable[str]) -> list[Span]:
    """Where the quotes are in `text`, merged and sorted. A quote is found verbatim (a short one at the start
    of a list item or cell first, as the extractive answerer quotes a list by its items' names); one that is
    not (an LLM's paraphrase) marks the passage sentence that holds at least half of its words, if any."""
    found: list[Span] = []
    for quote in quotes:
        quote = quote.strip().lstrip("-•* ").strip()
        if not quote:
            continue
        span = _verbatim(text, quote) or _closest_sentence(text, quote)
        if span:
            found.append(span)
    merged: list[Span] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _verbatim(text: str, quote: str) -> Span | None:
    starts = [m.start() for m in re.finditer(re.escape(quote), text)]
    if not starts:
        return None
    for start in starts:  # prefer an item's or a cell's name to the same words in running text
        before = text[text.rfind("\n", 0, start) + 1 : start]
        if not before.strip(" -•*|") or before.endswith(("| ", " - ")):
            return start, start + len(quote)
    return starts[0], starts[0] + len(quote)


def _closest_sentence(text: str, quote: str) -> Span | None:
    words = set(tokenize(quote))
    if len(words) < 3:
        return None
    best, best_share = None, _CLOSEST_SHARE
    for start, end in sentence_spans(text):
        share = len(words & set(tokenize(text[start:end]))) / len(words)
        if share >= best_share and (best is None or share > best_share):
            best, best_share = (start, end), share
    return best


def _marked(text: str, start: int, end: int, marks: list[Span]) -> str:
    """text[start:end], escaped, with the parts inside `marks` in <mark>."""
    out, at = [], start
    for m_start, m_end in marks:
        if m_end <= at or m_start >= end:
            continue
        s, e = max(m_start, at), min(m_end, end)
        out += [html.escape(text[at:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        at = e
    out.append(html.escape(text[at:end]))
    return "".join(out)


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lines(text: str) -> list[tuple[str, Span]]:
    """Each line as (kind, span of its content): heading-N, item-MARKER, row, blank or text."""
    out, offset = [], 0
    for raw in text.split("\n"):
        start, end = _strip(text, offset, offset + len(raw))
        offset += len(raw) + 1
        line = text[start:end]
        if not line:
            out.append(("blank", (start, end)))
        elif heading := _HEADING.match(line):
            out.append((f"heading-{len(heading.group(1))}", (start + heading.end(), end)))
        elif bullet := _BULLET.match(line):
            out.append(("item-" + ("ol" if bullet.group(1)[0].isdigit() else "ul"), (start + bullet.end(), end)))
        elif " | " in line:
            out.append(("row", (start, end)))
        else:
            out.append(("text", (start, end)))
    return out


def _cells(text: str, span: Span) -> list[Span]:
    cells, at = [], span[0]
    while True:
        bar = text.find(" | ", at, span[1])
        if bar < 0:
            cells.append(_strip(text, at, span[1]))
            return [c for c in cells if c[1] > c[0]]
        cells.append(_strip(text, at, bar))
        at = bar + 3


def _cell_groups(text: str, cell: Span) -> list[tuple[Span | None, list[Span]]]:
    """A cell's text as (label, items) groups: "Project needs - How...? - Can...? Risk and compliance - How...?"
    is two groups; a short capitalised phrase after an item's last sentence labels the items that follow it."""
    parts, at = [], cell[0]
    if text.startswith(_CELL_ITEM.lstrip(), at):  # a cell that is a list from its start
        parts, at = [(at, at)], at + len(_CELL_ITEM.lstrip())
    while (dash := text.find(_CELL_ITEM, at, cell[1])) >= 0:
        parts.append(_strip(text, at, dash))
        at = dash + len(_CELL_ITEM)
    parts.append(_strip(text, at, cell[1]))
    groups: list[tuple[Span | None, list[Span]]] = [(parts[0] if parts[0][1] > parts[0][0] else None, [])]
    for i, (start, end) in enumerate(parts[1:], start=1):
        label = None
        ends = list(_SENTENCE_END.finditer(text, start, end))
        if i < len(parts) - 1 and ends:
            tail = _strip(text, ends[-1].end(), end)
            words = text[tail[0]:tail[1]].split()
            if 1 <= len(words) <= 6 and words[0][:1].isupper() and not re.search(r"[.?!:;,]$", words[-1]):
                end, label = _strip(text, start, tail[0])[1], tail
        groups[-1][1].append((start, end))
        if label:
            groups.append((label, []))
    return [g for g in groups if g[0] or g[1]]


def _cell_html(text: str, cell: Span, marks: list[Span]) -> str:
    groups = _cell_groups(text, cell)
    if len(groups) == 1 and not groups[0][1]:
        return _marked(text, *cell, marks)
    out = []
    for label, items in groups:
        if label:
            out.append(f'<p class="cell-label">{_marked(text, *label, marks)}</p>')
        if items:
            out.append("<ul>" + "".join(f"<li>{_marked(text, *i, marks)}</li>" for i in items) + "</ul>")
    return "".join(out)


def _is_header(text: str, cells: list[Span]) -> bool:
    """A table's first row is its header when every cell is a short label (the separator line is gone)."""
    return len(cells) > 1 and all(len(text[s:e].split()) <= 8 and _CELL_ITEM not in text[s:e]
                                  and not text[s:e].endswith((".", "?", "!")) for s, e in cells)


def _table_html(text: str, rows: list[Span], marks: list[Span]) -> str:
    cells = [_cells(text, row) for row in rows]
    width = max(len(c) for c in cells)
    head = _is_header(text, cells[0])
    out = ['<div class="passage-table"><table>']
    for r, row in enumerate(cells):
        tag_row = []
        for c, cell in enumerate(row):
            span = f' colspan="{width - c}"' if c == len(row) - 1 and len(row) < width else ""
            if head and r == 0:
                tag_row.append(f'<th scope="col"{span}>{_marked(text, *cell, marks)}</th>')
            elif head and c == 0 and len(row) > 1 and len(text[cell[0]:cell[1]].split()) <= 6:
                tag_row.append(f'<th scope="row"{span}>{_marked(text, *cell, marks)}</th>')
            else:
                tag_row.append(f"<td{span}>{_cell_html(text, cell, marks)}</td>")
        out.append("<tr>" + "".join(tag_row) + "</tr>")
        if head and r == 0:
            out[-1] = "<thead>" + out[-1] + "</thead><tbody>"
    out.append("</tbody></table></div>" if head else "</table></div>")
    return "".join(out)


def passage_blocks(text: str, quotes: Iterable[str], heading_level: int = 4) -> str:
    """`text` (a stored passage) as HTML blocks, the quotes marked; its headings start at <h`heading_level`>."""
    marks = quoted_spans(text, quotes)
    lines = _lines(text)
    levels = [int(kind[8:]) for kind, _ in lines if kind.startswith("heading-")]
    top = min(levels, default=1)
    blocks, i = [], 0
    while i < len(lines):
        kind, span = lines[i]
        j = i + 1
        if kind == "blank":
            i = j
            continue
        if kind.startswith("heading-"):
            level = min(6, heading_level + int(kind[8:]) - top)
            blocks.append(f'<h{level} class="passage-heading">{_marked(text, *span, marks)}</h{level}>')
        elif kind.startswith("item-"):
            items = [span]
            while j < len(lines) and (lines[j][0] == kind or lines[j][0] == "text"):
                if lines[j][0] == "text":  # a plain line right under an item continues it, as in Markdown
                    items[-1] = (items[-1][0], lines[j][1][1])
                else:
                    items.append(lines[j][1])
                j += 1
            tag = kind[5:]
            blocks.append(f"<{tag}>" + "".join(f"<li>{_marked(text, *s, marks)}</li>" for s in items) + f"</{tag}>")
        elif kind == "row":
            rows = [span]
            while j < len(lines) and lines[j][0] == "row":
                rows.append(lines[j][1])
                j += 1
            blocks.append(_table_html(text, rows, marks))
        else:
            spans = [span]
            while j < len(lines) and lines[j][0] == "text":
                spans.append(lines[j][1])
                j += 1
            blocks.append("<p>" + " ".join(_marked(text, *s, marks) for s in spans) + "</p>")  # a soft line break, as in Markdown
        i = j
    return "".join(blocks)
