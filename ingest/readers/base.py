"""What every reader shares: the error for a file that cannot be read, what a reader returns, and how a
document's title is chosen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class UnreadableFile(Exception):
    """A file that cannot be ingested; the message says why in one line."""


@dataclass
class Read:
    """A file's readable text, where its pages start (PDFs), an explicit title (front matter, an HTML
    <title>, a text file's first line) and the title its metadata claims (PDF, DOCX), which is used only
    when it reads as a title."""

    text: str
    pages: list[tuple[int, int]] = field(default_factory=list)
    title: str | None = None
    metadata_title: str | None = None


_FILE_NAME = re.compile(r"\.(?:docx?|pdf|odt|rtf|pptx?|xlsx?|txt|md|html?)$", re.I)
_PLACEHOLDER = re.compile(r"^(?:untitled|document\d*|microsoft word\b.*|slide \d+|title|none|null)$", re.I)


def reads_as_title(text: str | None) -> bool:
    """True for a metadata title a person wrote: not a file name ("... Welsh translation.docx"), not tags
    ("#public #webversion"), not a placeholder ("Untitled", "Microsoft Word - report.doc")."""
    text = (text or "").strip()
    return bool(
        text and len(text) <= 200 and re.search(r"[^\W\d_]{2}", text) and not _FILE_NAME.search(text)
        and not re.search(r"(?:^|\s)#\w", text) and not _PLACEHOLDER.match(text) and "\ufffd" not in text
    )


def first_heading(text: str) -> str | None:
    match = re.search(r"^#{1,6} (.+)$", text, re.M)
    return match.group(1).strip() if match else None


def decode(data: bytes) -> str:
    """UTF-8 text, or UnreadableFile saying why not."""
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
