"""A table's cells read into blocks: rows of short cells as "a | b | c" lines; cells that hold paragraphs or
lists under their row's label (a sub-heading) or their column's header. A column's header, and a bold label
inside a labelled row ("Project needs"), lead into their text as a line ending in a colon, so a row or a
table stays one section, as the one-line rows of a Markdown table do."""

from __future__ import annotations

from ingest.readers.pdflines import Block, Line


def table_blocks(lines: list[Line], table_left: float, flow) -> list[Block]:
    """A table's blocks on one page (`flow` lays out a cell's lines). Rows of short cells become "a | b | c"
    lines. Where cells hold paragraphs or lists: if each row opens with a short label ("Procurement"), the
    label is a sub-heading and the rest of the row follows under it (a row continued from the page before,
    with no label, stays under the label there); else, under a header row, each column's header leads its
    cells' text ("Prompts for discussion:"); else the cells in row order. A row that is one cell across the
    table (a title) is read as ordinary text."""
    cells: dict[tuple, list[Line]] = {}
    for line in lines:
        cells.setdefault(line.cell, []).append(line)
    if len(cells) < 2:  # one cell: a row continued from the page before is under its label there
        only = next(iter(cells))
        return [_lead(b) if only[0] > table_left + 2.5 else b for b in flow(lines)]
    left, right = min(c[0] for c in cells), max(c[2] for c in cells)
    rows: list[list[tuple]] = []
    for cell in sorted(cells, key=lambda c: (c[1], c[0])):
        if rows and abs(rows[-1][0][1] - cell[1]) <= 2.5:
            rows[-1].append(cell)
        else:
            rows.append([cell])
    content = {cell: flow(cell_lines) for cell, cell_lines in cells.items()}
    out: list[Block] = []
    body = []
    for row in rows:
        if len(row) == 1 and row[0][2] - row[0][0] >= 0.9 * (right - left):
            if body:
                out += _rows(body, content, table_left)
                body = []
            out += content[row[0]]
        else:
            body.append(sorted(row, key=lambda c: c[0]))
    return out + (_rows(body, content, table_left) if body else [])

def _rows(rows: list[list[tuple]], content: dict, table_left: float) -> list[Block]:
    def short(cell, words):
        blocks = content[cell]
        return len(blocks) == 1 and blocks[0].kind in ("para", "sub") and len(blocks[0].text.split()) <= words

    rich = any(len(content[c]) > 1 or any(b.kind in ("item", "heading") for b in content[c]) for row in rows for c in row)
    if not rich:
        return [_row(row, content) for row in rows]
    header = rows[0] if len(rows) > 1 and all(short(c, 8) and all(l.bold for l in content[c][0].lines)
                                              for c in rows[0]) else None
    rest = rows[1:] if header else rows
    opens = [row[0][0] <= table_left + 2.5 for row in rest]  # a row with a first cell (a continued row has none)
    labelled = all(not o or (len(row) > 1 and short(row[0], 8)) for o, row in zip(opens, rest))
    out: list[Block] = [_row(header, content)] if header and labelled else []
    if labelled:
        for o, row in zip(opens, rest):
            if o:
                out.append(Block("sub", list(content[row[0]][0].parts), level=1, lines=content[row[0]][0].lines))
            out += [_lead(b) for cell in (row[1:] if o else row) for b in content[cell]]
    elif header:
        for column in header:
            out.append(_lead(Block("sub", list(content[column][0].parts), level=1, lines=content[column][0].lines)))
            for row in rest:
                out += [_lead(b) for cell in row if column[0] - 2.5 <= cell[0] < column[2] - 2.5
                        for b in content[cell]]
    else:
        out += [b for row in rows for cell in row for b in content[cell]]
    return out

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


def same_column(a: Line, b: Line) -> bool:
    """Two lines in table cells of the same column (on two pages: a row continued)."""
    return a.cell is not None and b.cell is not None and abs(a.cell[0] - b.cell[0]) < 3 and abs(a.cell[2] - b.cell[2]) < 3


def _deeper(block: Block) -> Block:
    if block.kind == "sub":
        block.level += 1
    return block


def _lead(block: Block) -> Block:
    """A bold label inside a labelled row: the line that leads into its list ("Project needs:")."""
    if block.kind == "sub":
        block.kind = "para"
        text, page = block.text.rstrip(":"), block.parts[0][2]
        block.parts = [("", text + ":", page)]
    return block
