"""Reads one file (Markdown, PDF, DOCX, HTML, TXT, CSV) into a cleaned `Document`."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import replace
from pathlib import Path

from corpus.records import Document, Provenance, Source
from corpus.text import inline
from ingest.clean import clean_markdown, front_matter_title

SUPPORTED = {".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm", ".csv"}


class UnreadableFile(Exception):
    """A file that cannot be ingested; the message says why in one line."""


def read_document(path: Path, doc_id: str, source: Source | None = None) -> Document:
    """Read `path` into a Document; raise UnreadableFile with a one-line reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnreadableFile(f"unsupported file type {suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise UnreadableFile("empty file")
    reader = _READERS[suffix]
    text, title, pages = reader(data)
    if not text.strip():
        raise UnreadableFile("no readable text in it")
    kind = {".htm": "html", ".markdown": "markdown", ".md": "markdown"}.get(suffix, suffix[1:])
    provenance = source.provenance if source else Provenance()
    return Document(
        doc_id=doc_id,
        text=text,
        provenance=replace(provenance, title=provenance.title or title or _title_from_name(path)),
        path=str(path),
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        pages=pages,
    )


def _title_from_name(path: Path) -> str:
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#{1,6} (.+)$", text, re.M)
    return match.group(1).strip() if match else None


def _markdown(data: bytes):
    raw = _decode(data)
    text = clean_markdown(raw)
    return text, front_matter_title(raw) or _first_heading(text), []


def _plain(data: bytes):
    raw = _decode(data).replace("\r\n", "\n")
    text = re.sub(r"[ \t]+", " ", raw).strip() + "\n"
    first = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return text, first[:120] if first else None, []


def _pdf(data: bytes):
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("encrypted PDF")
        page_texts = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except UnreadableFile:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise UnreadableFile(f"corrupt or unreadable PDF ({type(exc).__name__})") from None
    parts, pages, offset = [], [], 0
    for number, page_text in enumerate(page_texts, start=1):
        cleaned = _tidy_pdf_text(page_text)
        if not cleaned:
            continue
        pages.append((offset, number))
        parts.append(cleaned)
        offset += len(cleaned) + 2
    text = "\n\n".join(parts) + "\n"
    if not parts:
        raise UnreadableFile("PDF has no extractable text (a scan?)")
    return text, str(meta_title).strip() if meta_title else None, pages


def _tidy_pdf_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\r", "\n")  # ligatures (ﬁ) -> letters
    text = re.sub(r"-\n(?=[a-z])", "", text)  # words hyphenated across lines
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    if paragraphs and sum(len(p.split()) <= 2 for p in paragraphs) > len(paragraphs) / 2:
        # Some PDFs come out one word per line with blank lines between: that is running text.
        return " ".join(text.split())
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    # Join the lines of a paragraph; keep breaks before bullets and after sentence ends.
    out: list[str] = []
    for line in lines:
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        if out and out[-1] and not re.match(r"^([•\-–*]|\d+[.)])\s", line) and not out[-1].endswith((".", ":", "?", "!")):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return "\n".join(out).strip().replace("\n\n\n", "\n\n")


def _docx(data: bytes):
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFile(f"corrupt or unreadable DOCX ({type(exc).__name__})") from None
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(block, document)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            level = re.match(r"(?:Heading|Title)\s*(\d*)", style)
            if level:
                lines.append("#" * min(int(level.group(1) or 1), 6) + " " + text)
            elif "List" in style:
                lines.append(f"- {text}")
            else:
                lines.append(text)
        elif tag == "tbl":
            table = docx.table.Table(block, document)
            for row in table.rows:
                cells = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):
                        cells.append(value)
                if cells:
                    lines.append(" | ".join(cells))
    text = "\n\n".join(lines) + "\n"
    title = document.core_properties.title or _first_heading(text)
    return text, title, []


def _html(data: bytes):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "form", "svg", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    body = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd"]):
        if el.find_parent(["li", "tr", "pre", "blockquote"]) and el.name not in ("tr",):
            continue
        if el.name == "tr":
            cells = [" ".join(c.get_text(" ").split()) for c in el.find_all(["td", "th"])]
            text = " | ".join(c for c in cells if c)
        else:
            text = " ".join(el.get_text(" ").split())
        if not text:
            continue
        if el.name[0] == "h":
            lines.append("#" * int(el.name[1]) + " " + text)
        elif el.name == "li":
            lines.append(f"- {text}")
        else:
            lines.append(text)
    text = "\n\n".join(lines) + "\n"
    return text, title or _first_heading(text), []


def _csv(data: bytes):
    raw = _decode(data)
    try:
        rows = list(csv.DictReader(io.StringIO(raw)))
    except csv.Error as exc:
        raise UnreadableFile(f"malformed CSV ({exc})") from None
    if not rows:
        raise UnreadableFile("CSV has no rows")
    columns = {c.lower().strip(): c for c in rows[0] if c}
    term = columns.get("term") or next(iter(columns.values()))
    definition = columns.get("definition")
    source = columns.get("source")
    entries = []
    for row in rows:
        name = inline((row.get(term) or "").strip())
        if not name:
            continue
        if definition:
            body = inline((row.get(definition) or "").strip())
            if source and row.get(source):
                body += f" (Source: {inline(row[source].strip())})"
        else:
            body = "; ".join(f"{k}: {inline(v.strip())}" for k, v in row.items() if k and k != term and v and v.strip())
        entries.append(f"## {name}\n\n{body}")
    return "\n\n".join(entries) + "\n", None, []


_READERS = {
    ".md": _markdown,
    ".markdown": _markdown,
    ".txt": _plain,
    ".pdf": _pdf,
    ".docx": _docx,
    ".html": _html,
    ".htm": _html,
    ".csv": _csv,
}
