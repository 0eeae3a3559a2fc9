"""Finds the tables drawn on a PDF page, and which cell a point falls in.

A table is a grid of ruling lines, or of filled cells that touch one another:
straight lines that cross or meet form one table, and a table needs at least two
cells (a single framed box, such as a call-out, is not one). The cell around a
point is bounded by the nearest lines on each side that pass it, so merged cells
come out whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.readers.pdfium import RawPage

_SNAP = 2.5  # points: lines this close count as meeting


@dataclass
class Table:
    """One table: its extent (x0, top, x1, bottom) and the lines that draw it."""

    bbox: tuple[float, float, float, float]
    hlines: list[tuple[float, float, float]] = field(default_factory=list)  # (y, x0, x1)
    vlines: list[tuple[float, float, float]] = field(default_factory=list)  # (x, top, bottom)

    def contains(self, x: float, y: float) -> bool:
        x0, top, x1, bottom = self.bbox
        return x0 - _SNAP <= x <= x1 + _SNAP and top - _SNAP <= y <= bottom + _SNAP

    def cell_at(self, x: float, y: float) -> tuple[float, float, float, float] | None:
        """The cell (x0, top, x1, bottom) around a point, or None outside every cell."""
        left = max((vx for vx, t, b in self.vlines if vx <= x and t - _SNAP <= y <= b + _SNAP), default=None)
        right = min((vx for vx, t, b in self.vlines if vx >= x and t - _SNAP <= y <= b + _SNAP), default=None)
        top = max((hy for hy, a, b in self.hlines if hy <= y and a - _SNAP <= x <= b + _SNAP), default=None)
        bottom = min((hy for hy, a, b in self.hlines if hy >= y and a - _SNAP <= x <= b + _SNAP), default=None)
        if None in (left, right, top, bottom) or right - left < 1 or bottom - top < 1:
            return None
        return (round(left, 1), round(top, 1), round(right, 1), round(bottom, 1))


def find_tables(page: RawPage) -> list[Table]:
    """The tables on a page, in no particular order."""
    hlines = list(page.hlines)
    vlines = list(page.vlines)
    for box in _touching(page.boxes):
        x0, top, x1, bottom = box
        hlines += [(top, x0, x1), (bottom, x0, x1)]
        vlines += [(x0, top, bottom), (x1, top, bottom)]
    hlines, vlines = _merge(hlines), _merge(vlines)
    edges = [("h", e) for e in hlines] + [("v", e) for e in vlines]
    parent = list(range(len(edges)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    crossing = set()
    for i, (kind, h) in enumerate(edges):
        if kind != "h":
            continue
        for j, (other, v) in enumerate(edges):
            if other == "v" and _meet(h, v):
                parent[find(i)] = find(j)
                crossing.update((i, j))
    groups: dict[int, list[int]] = {}
    for i in crossing:
        groups.setdefault(find(i), []).append(i)
    tables = []
    for members in groups.values():
        hs = [edges[i][1] for i in members if edges[i][0] == "h"]
        vs = [edges[i][1] for i in members if edges[i][0] == "v"]
        ys = _distinct(y for y, _, _ in hs)
        xs = _distinct(x for x, _, _ in vs)
        if len(ys) < 2 or len(xs) < 2 or len(ys) + len(xs) < 5:  # one framed box is not a table
            continue
        bbox = (min(xs), min(ys), max(xs), max(ys))
        tables.append(Table(bbox, hs, vs))
    return tables


def _touching(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Filled boxes that share a side with another: the cells of a table drawn as shaded rectangles."""
    out = []
    for i, (a0, at, a1, ab) in enumerate(boxes):
        for j, (b0, bt, b1, bb) in enumerate(boxes):
            if i == j:
                continue
            side_by_side = (abs(a1 - b0) <= _SNAP or abs(b1 - a0) <= _SNAP) and min(ab, bb) - max(at, bt) > _SNAP
            stacked = (abs(ab - bt) <= _SNAP or abs(bb - at) <= _SNAP) and min(a1, b1) - max(a0, b0) > _SNAP
            if side_by_side or stacked:
                out.append((a0, at, a1, ab))
                break
    return out


def _merge(lines: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Join collinear lines that overlap or nearly meet: (position, start, end)."""
    out: list[list[float]] = []
    for pos, start, end in sorted(lines, key=lambda e: (round(e[0]), e[1])):
        last = out[-1] if out else None
        if last and abs(last[0] - pos) <= _SNAP and start <= last[2] + _SNAP:
            last[2] = max(last[2], end)
        else:
            out.append([pos, start, end])
    return [(p, s, e) for p, s, e in out]


def _meet(h: tuple[float, float, float], v: tuple[float, float, float]) -> bool:
    hy, hx0, hx1 = h
    vx, vt, vb = v
    return hx0 - _SNAP <= vx <= hx1 + _SNAP and vt - _SNAP <= hy <= vb + _SNAP


def _distinct(values) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _SNAP:
            out.append(v)
    return out
