"""The records that cross modules, from a manifest entry to an answer; each becomes JSON by `to_dict()`.

This module imports nothing of the project, so every layer can use it. Where a document came from (title,
publisher, collection, URL, licence) is one `Provenance`, carried whole by every record that needs it; `to_dict()`
spreads it into the record's own fields, which is the JSON contract of `procure-ai ask --json`, `POST /api/ask`
and the catalog. PDF passages carry their `pages`, and a citation the page its quote is on.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class Provenance:
    """Who published a document, where, and under what licence."""

    title: str = ""
    collection: str = ""
    publisher: str = ""
    url: str = ""
    license: str = ""
    language: str = ""  # "en" or "cy" (corpus/language.py): the manifest's, else read from the text at ingest
    pair: str = ""  # the id of the same document in the other language, where the manifest names one

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Provenance":
        """From any mapping holding these fields (a manifest entry, Chroma metadata, a record's JSON)."""
        return cls(**{f.name: str(data.get(f.name) or "") for f in fields(cls)})


class _Provenanced:
    """A record carrying a `provenance`: its title is the document's."""

    @property
    def title(self) -> str:
        return self.provenance.title


def _flat(record) -> dict:
    """A record's fields with its provenance spread among them."""
    data = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "provenance"}
    data = {k: (v.to_dict() if hasattr(v, "to_dict") else _plain(v)) for k, v in data.items()}
    return {**data, **record.provenance.to_dict()}


def _plain(value):
    """Tuples as lists, as JSON gives them back: a record's dict equals its JSON read back."""
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def _unflat(cls, data: dict):
    """The inverse of `_flat` for a record class with a `provenance` field."""
    names = {f.name for f in fields(cls)} - {"provenance"}
    return cls(**{k: v for k, v in data.items() if k in names}, provenance=Provenance.from_dict(data))


@dataclass(frozen=True)
class Source(_Provenanced):
    """One document of a corpus as its `sources.toml` manifest describes it."""

    id: str
    path: str
    provenance: Provenance
    published: str = ""
    download: str = ""
    sha256: str = ""

    def to_dict(self) -> dict:
        return _flat(self)


@dataclass
class Document(_Provenanced):
    """A file's readable text (cleaned) with what a citation needs to name it.

    `pages` lists (offset, page number) where each page starts in `text`.
    """

    doc_id: str
    text: str
    provenance: Provenance
    path: str = ""
    kind: str = "markdown"
    sha256: str = ""
    pages: list[tuple[int, int]] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        """The page number the character at `offset` is on (None if not paged)."""
        if not self.pages:
            return None
        i = bisect.bisect_right([start for start, _ in self.pages], offset) - 1
        return self.pages[max(i, 0)][1]

    def pages_in(self, start: int, end: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The pages text[start:end] is on, and where each begins in that span (the first at 0)."""
        if not self.pages:
            return (), ()
        pages, starts = [self.page_at(start)], [0]
        for offset, page in self.pages:
            if start < offset < end and page != pages[-1]:
                pages.append(page)
                starts.append(offset - start)
        return tuple(pages), tuple(starts)

    def to_dict(self) -> dict:
        return _flat(self)


@dataclass(frozen=True)
class Chunk(_Provenanced):
    """A passage of a document as ingest cut it: `text == document.text[start:end]`."""

    chunk_id: str
    doc_id: str
    text: str
    section: str
    start: int
    end: int
    provenance: Provenance
    page: int | None = None
    gap: str = ""  # the whitespace between the previous chunk's end and this chunk's start
    instructions: tuple[str, ...] = ()  # its lines addressed to an AI assistant (ingest/instructions.py): never quoted
    pages: tuple[int, ...] = ()  # every page the chunk is on (PDFs): a chunk across a page break has two
    page_starts: tuple[int, ...] = ()  # where each of `pages` begins in `text` (the first at 0)

    def embedding_text(self) -> str:
        """What the embedder reads: where the passage sits, then the passage."""
        heading = self.section or self.provenance.title
        return f"{heading}\n{self.text}" if heading else self.text

    def to_dict(self) -> dict:
        return _flat(self)


def chunk_id(doc_id: str, section: str, text: str, occurrence: int = 0) -> str:
    """A stable id from what the chunk says, so unchanged passages keep their ids."""
    digest = hashlib.sha1(f"{doc_id}\x00{section}\x00{text}\x00{occurrence}".encode()).hexdigest()
    return digest[:20]


@dataclass
class DocumentEntry(_Provenanced):
    """What the index records of one ingested document: where it came from and its chunks, in order."""

    doc_id: str
    path: str
    root: str
    sha256: str
    kind: str
    provenance: Provenance
    chunk_ids: list[str] = field(default_factory=list)
    outline: list = field(default_factory=list)  # [section path, page it starts on] in order (paged documents)

    @property
    def collection(self) -> str:
        return self.provenance.collection

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DocumentEntry":
        return _unflat(cls, data)


@dataclass
class Changes:
    """What ingest found under the paths it was given, for the index to apply.

    `documents` is every document the index should hold afterwards (those under
    other paths kept as they were); `fresh` the chunks of the documents added or
    changed, in order (any iterable: the scale benchmark streams a million).
    """

    documents: dict[str, DocumentEntry]
    fresh: object = ()  # Iterable[Chunk]
    chunker: dict = field(default_factory=dict)  # what, if changed, makes every chunk id and vector stale
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    read: int = 0  # files under the paths given that are in the index now (read, or unchanged)
    flagged: dict[str, list[str]] = field(default_factory=dict)  # file -> "line N: ..." addressed to an AI assistant

    def to_dict(self) -> dict:
        return {"documents": sorted(self.documents), "chunker": self.chunker, "added": self.added,
                "changed": self.changed, "removed": self.removed, "skipped": self.skipped, "timings": self.timings,
                "read": self.read, "flagged": self.flagged}


@dataclass
class IngestReport:
    """What an ingest did, for the summary line and `--json`."""

    documents: int = 0
    chunks: int = 0
    added_documents: list[str] = field(default_factory=list)
    changed_documents: list[str] = field(default_factory=list)
    removed_documents: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    removed_chunks: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    read: int = 0  # files under the paths given that are in the index now: 0 with files skipped is a failed ingest
    flagged: dict[str, list[str]] = field(default_factory=dict)  # file -> "line N: ..." addressed to an AI assistant
    refilled: str = ""  # why every document was embedded again (the store did not hold the index), if it was

    @property
    def changed(self) -> bool:
        return bool(self.added_documents or self.changed_documents or self.removed_documents)

    def to_dict(self) -> dict:
        return {**asdict(self), "changed": self.changed}


@dataclass(frozen=True)
class Scope:
    """Restrict a search to some documents and/or collections (empty: everything)."""

    doc_ids: frozenset[str] = frozenset()
    collections: frozenset[str] = frozenset()

    @classmethod
    def of(cls, collections=None, doc_ids=None) -> "Scope":
        """A scope from user input: each argument a name, a list of names, or nothing."""

        def names(value) -> frozenset[str]:
            if not value:
                return frozenset()
            return frozenset([value] if isinstance(value, str) else (str(v) for v in value))

        return cls(doc_ids=names(doc_ids), collections=names(collections))

    def where(self) -> dict | None:
        """The scope as a Chroma metadata filter (None: everything)."""
        clauses = []
        if self.doc_ids:
            clauses.append({"doc_id": {"$in": sorted(self.doc_ids)}})
        if self.collections:
            clauses.append({"collection": {"$in": sorted(self.collections)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def to_dict(self) -> dict:
        return {"doc_ids": sorted(self.doc_ids), "collections": sorted(self.collections)}


@dataclass
class Passage(_Provenanced):
    """A retrieved passage, ranked: a chunk widened to its section, with everything a citation needs."""

    rank: int
    chunk_id: str
    doc_id: str
    section: str
    page: int | None
    text: str
    score: float
    provenance: Provenance
    start: int = 0
    end: int = 0
    similarity: float | None = None  # cosine similarity to the question, when dense search saw it
    signals: dict = field(default_factory=dict)  # ranks in each retriever, for evals and debugging
    instructions: list[str] = field(default_factory=list)  # its lines addressed to an AI assistant, left out of `text`
    pages: tuple[int, ...] = ()  # every page the passage is on (PDFs)
    page_starts: tuple[int, ...] = ()  # where each of `pages` begins in `text` (the first at 0)

    def page_of(self, offset: int) -> int | None:
        """The page the character at `offset` of `text` is on (None if not paged)."""
        if not self.pages:
            return self.page
        return self.pages[max(bisect.bisect_right(self.page_starts, offset) - 1, 0)]

    def pages_between(self, start: int, end: int) -> tuple[int, ...]:
        """The pages text[start:end] is on."""
        if not self.pages:
            return (self.page,) if self.page is not None else ()
        first = max(bisect.bisect_right(self.page_starts, start) - 1, 0)
        last = max(bisect.bisect_left(self.page_starts, end) - 1, first)
        return self.pages[first : last + 1]

    def to_dict(self) -> dict:
        return _flat(self)


@dataclass(frozen=True)
class Citation(_Provenanced):
    """[n] in an answer: the passage it points to, and the sentences of it the answer quotes."""

    n: int
    doc_id: str
    section: str
    page: int | None
    text: str
    provenance: Provenance
    chunk_id: str = ""
    quote: str = ""
    instructions: tuple[str, ...] = ()  # the passage's lines addressed to an AI assistant (a warning to show)
    pages: tuple[int, ...] = ()  # the pages the quote is on (PDFs); without a quote, the passage's
    # the cited document in its other language (sources.toml `pair`): {doc_id, language, title, url, and the
    # section in the quote's place and the page it starts on}; None without one (assistant/language.py)
    other_language: dict | None = None

    @property
    def page_label(self) -> str:
        """"p. 2", "pp. 2–3" for a quote across a page break, "" when not paged."""
        pages = self.pages or ((self.page,) if self.page else ())
        return "" if not pages else f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"

    @classmethod
    def from_passage(cls, n: int, passage: Passage, quote: str = "", span: tuple[int, int] | None = None) -> "Citation":
        """[n] for a passage; `span` is where the quote sits in the passage's text, and gives the pages it is on
        (the passage's pages without it)."""
        pages = passage.pages_between(*span) if span is not None and passage.pages else passage.pages
        return cls(n=n, doc_id=passage.doc_id, section=passage.section, page=pages[0] if pages else passage.page,
                   text=passage.text, provenance=passage.provenance, chunk_id=passage.chunk_id, quote=quote,
                   pages=tuple(pages), instructions=tuple(passage.instructions))

    def to_dict(self) -> dict:
        return _flat(self)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer, the citations behind it, and how well they support it."""

    text: str
    citations: list[int]
    supported: bool
    support: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """A cited answer, or a refusal that says why and names the nearest topics."""

    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""
    answerer: str = "extractive"
    kind: str = "answer"  # "answer"; "closest" (the closest passages); "premise" (what it says instead); "refusal"
    confidence: float | None = None  # the judge's probability that the best passage answers (None: no judge)
    language: str = "en"  # the question's, which the answer's own words (its frame) are in

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "kind": self.kind,
            "language": self.language,
            "confidence": self.confidence,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [{k: v for k, v in p.to_dict().items() if k != "signals"} for p in self.retrieved],
            "sentences": [s.to_dict() for s in self.sentences],
            "timings_ms": self.timings_ms,
            "standalone_question": self.standalone_question or self.question,
            "answerer": self.answerer,
        }


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Query:
    """A question with its conversation so far and the part of the corpus to search."""

    question: str
    history: tuple[Turn, ...] = ()
    scope: Scope = field(default_factory=Scope)

    def to_dict(self) -> dict:
        return {"question": self.question, "history": [t.to_dict() for t in self.history], "scope": self.scope.to_dict()}
