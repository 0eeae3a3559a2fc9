"""The records ingest produces: a cleaned `Document` and the `Chunk`s cut from it."""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import asdict, dataclass, field


@dataclass
class Document:
    """A file's readable text (cleaned) with what a citation needs to name it.

    `pages` lists (offset, page number) where each PDF page starts in `text`.
    """

    doc_id: str
    title: str
    text: str
    path: str = ""
    kind: str = "markdown"
    sha256: str = ""
    collection: str = ""
    publisher: str = ""
    url: str = ""
    license: str = ""
    pages: list[tuple[int, int]] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        """The page number the character at `offset` is on (None if not paged)."""
        if not self.pages:
            return None
        i = bisect.bisect_right([start for start, _ in self.pages], offset) - 1
        return self.pages[max(i, 0)][1]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Chunk:
    """A passage of a document: `text == document.text[start:end]`."""

    chunk_id: str
    doc_id: str
    text: str
    section: str
    start: int
    end: int
    page: int | None = None
    title: str = ""
    collection: str = ""
    publisher: str = ""
    url: str = ""
    license: str = ""
    gap: str = ""  # the whitespace between the previous chunk's end and this chunk's start

    def embedding_text(self) -> str:
        """What the embedder reads: where the passage sits, then the passage."""
        heading = self.section or self.title
        return f"{heading}\n{self.text}" if heading else self.text

    def to_dict(self) -> dict:
        return asdict(self)


def chunk_id(doc_id: str, section: str, text: str, occurrence: int = 0) -> str:
    """A stable id from what the chunk says, so unchanged passages keep their ids."""
    digest = hashlib.sha1(f"{doc_id}\x00{section}\x00{text}\x00{occurrence}".encode()).hexdigest()
    return digest[:20]
