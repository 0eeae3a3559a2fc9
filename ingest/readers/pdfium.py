"""What PDFium (pypdfium2, the only module that imports it) sees on a PDF's pages: every character with its
box and font, the ruling lines and filled boxes tables are drawn with, the outline and the metadata title;
and a page drawn as a PNG with a quote highlighted.

Coordinates are PDF points measured from the page's top-left corner (`top` grows downwards), so that
"above" and "below" read as on paper. Text comes in PDFium's content order, which is the order the
producer wrote it: reading order for the word processors officers' documents come from, cell by cell
in tables. Laying the characters out as headings, paragraphs, lists and tables is `pdffile.py`'s work.
"""

from __future__ import annotations

import ctypes
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

BREAK = "\n"  # a Glyph with this char marks a line end PDFium found (it has no box)


class PdfError(Exception):
    """A PDF PDFium cannot open; the message says why in a few words."""


@dataclass(frozen=True)
class Glyph:
    """One character as drawn: its box (loose, from the font's ascent and descent), size and weight."""

    char: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    bold: bool
    mono: bool


@dataclass
class RawPage:
    """A page's characters in content order, and the straight lines and filled boxes drawn on it.

    `hlines` are (y, x0, x1) and `vlines` (x, top, bottom); `boxes` (x0, top, x1, bottom) are filled
    rectangles at least `min_box` points on each side (cells, call-out boxes), the page's own
    background left out.
    """

    number: int
    width: float
    height: float
    glyphs: list[Glyph] = field(default_factory=list)
    hlines: list[tuple[float, float, float]] = field(default_factory=list)
    vlines: list[tuple[float, float, float]] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)


@dataclass
class RawPdf:
    """A whole PDF: its pages, its outline as (depth from 0, title, page number, top or None), its metadata title."""

    pages: list[RawPage]
    outline: list[tuple[int, str, int, float | None]]
    title: str = ""


_LINE_WIDTH = 3.0  # a filled rectangle thinner than this is a drawn line
_MIN_BOX = 20.0


def load(data: bytes) -> RawPdf:
    """Read every page of a PDF; raise PdfError for one PDFium cannot open."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfError(_why(exc)) from None
    try:
        pages = [_read_page(pdf[i], i + 1) for i in range(len(pdf))]
        return RawPdf(pages=pages, outline=_outline(pdf, pages), title=(pdf.get_metadata_dict().get("Title") or "").strip())
    finally:
        pdf.close()


def _why(exc: Exception) -> str:
    message = str(exc).lower()
    if "password" in message:
        return "encrypted PDF (it needs a password)"
    if "format" in message or "file" in message:
        return "corrupt or unreadable PDF (PDFium: data format error)"
    return f"corrupt or unreadable PDF ({str(exc)[:80]})"


def _crop(page) -> tuple[float, float, float, float]:
    left, bottom, right, top = page.get_cropbox()
    return left, bottom, right, top


def _read_page(page, number: int) -> RawPage:
    import pypdfium2.raw as raw

    left, bottom, right, top = _crop(page)
    out = RawPage(number=number, width=right - left, height=top - bottom)
    textpage = page.get_textpage()
    handle = textpage.raw
    box = raw.FS_RECTF()
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    fonts: dict[bytes, tuple[bool, bool]] = {}
    previous: Glyph | None = None
    for i in range(raw.FPDFText_CountChars(handle)):
        code = raw.FPDFText_GetUnicode(handle, i)
        generated = raw.FPDFText_IsGenerated(handle, i) == 1
        char = chr(code) if code else ""
        if generated and char in "\r\n":
            if char == "\n" or previous is None or previous.char != BREAK:
                out.glyphs.append(Glyph(BREAK, 0, 0, 0, 0, 0, False, False))
                previous = out.glyphs[-1]
            continue
        if char == "\x02" or raw.FPDFText_IsHyphen(handle, i) == 1:
            char = "-"  # PDFium's mark for a hyphen that ends a line (the layout decides whether to keep it)
        if not char or char in "\r\n\x00\ufffe":
            continue
        raw.FPDFText_GetLooseCharBox(handle, i, box)
        raw.FPDFText_GetFontInfo(handle, i, name, 128, flags)
        font = name.value
        if font not in fonts:
            lowered = font.decode("latin-1").lower()
            weight = raw.FPDFText_GetFontWeight(handle, i)
            named = re.search(r"bold|black|heavy|semibold|demi|(regular|book|light|thin|medium|roman|italic|oblique)", lowered)
            bold = (not named.group(1)) if named else (weight >= 700 or bool(flags.value & (1 << 18)))  # a name says more
            fonts[font] = (bold, bool(flags.value & 1) or bool(re.search(r"mono|courier|consol", lowered)))
        bold, mono = fonts[font]
        if generated and previous is not None and previous.char != BREAK:  # a space PDFium inferred: no box of its own
            glyph = Glyph(char, previous.x1, previous.top, previous.x1, previous.bottom, previous.size, previous.bold, mono)
        else:
            glyph = Glyph(char, box.left - left, top - box.top, box.right - left, top - box.bottom,
                          round(raw.FPDFText_GetFontSize(handle, i), 2), bold, mono)
        out.glyphs.append(glyph)
        previous = glyph
    textpage.close()
    _read_drawing(page, out, left, top)
    return out


def _read_drawing(page, out: RawPage, left: float, top: float) -> None:
    """The page's straight lines (stroked segments, thin filled rectangles) and filled boxes."""
    import pypdfium2.raw as raw

    point_x, point_y = ctypes.c_float(), ctypes.c_float()
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    matrix = raw.FS_MATRIX()
    handle = page.raw
    for index in range(raw.FPDFPage_CountObjects(handle)):  # the raw API: thousands of text objects a page
        obj = raw.FPDFPage_GetObject(handle, index)
        if raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_PATH:
            continue
        raw.FPDFPath_GetDrawMode(obj, fill, stroke)
        if not raw.FPDFPageObj_GetMatrix(obj, matrix):
            continue
        a, b, c, d, e, f = matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f
        points: list[tuple[float, float]] = []
        segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
        for s in range(raw.FPDFPath_CountSegments(obj)):
            seg = raw.FPDFPath_GetPathSegment(obj, s)
            raw.FPDFPathSegment_GetPoint(seg, point_x, point_y)
            x, y = point_x.value, point_y.value
            here = (a * x + c * y + e - left, top - (b * x + d * y + f))
            kind = raw.FPDFPathSegment_GetType(seg)
            if kind == raw.FPDF_SEGMENT_LINETO and points:
                segments.append((points[-1], here))
            points.append(here)
            if raw.FPDFPathSegment_GetClose(seg) and len(points) > 1:
                segments.append((here, points[0]))
        if not points:
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if fill.value:
            if y1 - y0 <= _LINE_WIDTH and x1 - x0 > _LINE_WIDTH:
                out.hlines.append(((y0 + y1) / 2, x0, x1))
                continue
            if x1 - x0 <= _LINE_WIDTH and y1 - y0 > _LINE_WIDTH:
                out.vlines.append(((x0 + x1) / 2, y0, y1))
                continue
            if min(x1 - x0, y1 - y0) >= _MIN_BOX and (x1 - x0) * (y1 - y0) < 0.8 * out.width * out.height:
                out.boxes.append((x0, y0, x1, y1))  # a shaded box, rounded corners or not
                continue
        if stroke.value:
            for (px, py), (qx, qy) in segments:
                if abs(py - qy) < 0.5 and abs(px - qx) > _LINE_WIDTH:
                    out.hlines.append((py, min(px, qx), max(px, qx)))
                elif abs(px - qx) < 0.5 and abs(py - qy) > _LINE_WIDTH:
                    out.vlines.append((px, min(py, qy), max(py, qy)))


def _outline(pdf, pages: list[RawPage]) -> list[tuple[int, str, int, float | None]]:
    out = []
    try:
        for item in pdf.get_toc(max_depth=8):
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            if index is None or not 0 <= index < len(pages):
                continue
            _, view = dest.get_view()
            y = view[1] if len(view) >= 2 and view[1] else None
            top = pages[index].height - y if y is not None else None  # cropbox origin assumed at the mediabox's
            out.append((item.level, (item.get_title() or "").strip(), index + 1, top))
    except Exception:  # a damaged outline is no reason to refuse the text  # noqa: BLE001
        return []
    return out


def read_pages(path: Path, numbers: list[int]) -> list[RawPage]:
    """Some pages of the PDF at `path` (numbers from 1); raise PdfError if the file or a page cannot be read."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(Path(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise PdfError(_why(exc)) from None
    try:
        missing = [n for n in numbers if not 1 <= n <= len(pdf)]
        if missing:
            raise PdfError(f"no page {missing[0]} (the PDF has {len(pdf)})")
        return [_read_page(pdf[n - 1], n) for n in numbers]
    finally:
        pdf.close()


def page_image(path: Path, number: int, boxes_for, scale: float = 1.5) -> bytes:
    """Page `number` of the PDF at `path` as PNG bytes, the rectangles `boxes_for(page)` returns
    (x0, top, x1, bottom in points) shaded yellow. Raises PdfError if the file or page cannot be read."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    try:
        pdf = pdfium.PdfDocument(Path(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise PdfError(_why(exc)) from None
    try:
        if not 1 <= number <= len(pdf):
            raise PdfError(f"no page {number} (the PDF has {len(pdf)})")
        page = pdf[number - 1]
        raw_page = _read_page(page, number)
        image = page.render(scale=scale).to_pil().convert("RGBA")
    finally:
        pdf.close()
    shade = image.copy()
    draw = ImageDraw.Draw(shade)
    for x0, top, x1, bottom in boxes_for(raw_page):
        draw.rectangle([x0 * scale - 1, top * scale - 1, x1 * scale + 1, bottom * scale + 1], fill=(255, 214, 0, 255))
    from PIL import Image

    image = Image.blend(image, shade, 0.35)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()
