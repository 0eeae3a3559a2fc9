"""Reads one file (Markdown, PDF, DOCX, HTML, TXT, CSV) into a cleaned `Document`: one module per format.

A document's language is its `sources.toml` entry's, else the one its text is in (corpus/language.py).
A document's title is its `sources.toml` entry's, else an explicit one (front matter, an HTML <title>, a
text file's first line), else its first heading, else its metadata title where that reads as a title
(not "Buying AI guidance #public #webversion", not a .docx file name), else its file name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

from corpus.language import detect
from corpus.records import Document, Provenance, Source
from ingest.readers.base import Read, UnreadableFile, first_heading, reads_as_title
from ingest.readers.csvfile import read_csv
from ingest.readers.docxfile import read_docx
from ingest.readers.htmlfile import read_html
from ingest.readers.markdown import read_markdown, read_plain
from ingest.readers.pdffile import read_pdf_file

__all__ = ["SUPPORTED", "UnreadableFile", "read_document", "reads_as_title"]

_READERS = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_plain,
    ".pdf": read_pdf_file,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
    ".csv": read_csv,
}
SUPPORTED = set(_READERS)


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
    read: Read = _READERS[suffix](data)
    if not read.text.strip():
        raise UnreadableFile("no readable text in it")
    kind = {".htm": "html", ".markdown": "markdown", ".md": "markdown"}.get(suffix, suffix[1:])
    provenance = source.provenance if source else Provenance()
    title = (provenance.title or read.title or first_heading(read.text)
             or (read.metadata_title.strip() if reads_as_title(read.metadata_title) else None) or _title_from_name(path))
    return Document(
        doc_id=doc_id,
        text=read.text,
        provenance=replace(provenance, title=title, language=provenance.language or detect(read.text)),
        path=str(path),
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        pages=read.pages,
    )


def _title_from_name(path: Path) -> str:
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name
