"""Works out what an ingest changes: which files are new, changed or gone, read and split into chunks.

Incremental: a file whose bytes and path match what the index already holds is
not read again (its entry is kept as it was), a changed file is read and split
anew, and a file gone from a folder that is ingested again leaves the index.
Documents under folders not named this time are kept. Nothing here touches the
index: it hands `Changes` to `Index.apply` (index/update.py runs the two under
the index's lock).
"""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from corpus.records import Changes, Chunk, Document, DocumentEntry
from ingest.chunker import Chunker
from ingest.discover import Candidate, discover
from ingest.instructions import find_instructions, mark_chunks, where
from ingest.readers import UnreadableFile, read_document

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def no_progress(stage: str, done: int, total: int) -> None:
    return None


def plan(paths: list[Path], previous: dict[str, DocumentEntry], chunker: Chunker,
         progress: Progress = no_progress, collection: str | None = None, reread: bool = False) -> Changes:
    """The changes that bring an index holding `previous` in line with the files under `paths`.

    Raises InputError for paths that cannot be ingested at all; files that
    cannot be read are skipped (the last good version kept) and listed, and
    lines addressed to an AI assistant are listed per file (`flagged`).
    `collection` names the collection of every document read (see discover).
    `reread`: read every file, unchanged or not, and keep no last good version
    of one that cannot be read (the store lost them: see index/update.py).
    """
    t = time.perf_counter()
    held: dict[str, set[str]] = {}
    for entry in previous.values():
        held.setdefault(entry.root, set()).add(entry.collection)
    known = {root: next(iter(names)) if len(names) == 1 else "" for root, names in held.items()}
    candidates, skipped = discover(paths, collection, known)
    roots = {c.root for c in candidates} | {str(Path(p).expanduser().resolve()) for p in paths}
    documents = {d: e for d, e in previous.items() if e.root not in roots}
    fresh: list[Chunk] = []
    added, changed = [], []
    flagged: dict[str, list[str]] = {}
    read = 0
    for i, cand in enumerate(candidates, start=1):
        progress("reading", i, len(candidates))
        if cand.doc_id in documents:
            skipped[str(cand.path)] = f"duplicate document id {cand.doc_id} (already indexed from {documents[cand.doc_id].root})"
            continue
        before = previous.get(cand.doc_id)
        heard: list[str] = []
        try:
            sha = file_sha256(cand.path)
            if (before and not reread and before.sha256 == sha and before.path == str(cand.path)
                    and before.collection == cand.collection and before.provenance.language):  # read before languages were
                documents[cand.doc_id] = before
                read += 1
                continue
            with pdf_warnings(heard):
                doc = read_document(cand.path, cand.doc_id, cand.source)
        except (UnreadableFile, OSError) as exc:
            reason = str(exc) if isinstance(exc, UnreadableFile) else f"cannot read: {(exc.strerror or str(exc)).lower()}"
            skipped[str(cand.path)] = reason + (f"; pypdf says: {', '.join(heard)}" if heard else "")
            if before and not reread:  # keep the last good version rather than lose it
                documents[cand.doc_id] = before
            continue
        doc.provenance = replace(doc.provenance, collection=cand.collection)
        chunks, notes = _split(doc, cand, chunker)
        if notes:
            flagged[str(cand.path)] = notes
        fresh.extend(chunks)
        read += 1
        (changed if before else added).append(cand.doc_id)
        documents[cand.doc_id] = DocumentEntry(
            doc_id=doc.doc_id, path=str(cand.path), root=cand.root, sha256=sha, kind=doc.kind,
            provenance=doc.provenance, chunk_ids=[c.chunk_id for c in chunks], outline=outline(chunks),
        )
    return Changes(
        documents=documents, fresh=fresh, chunker=chunker.signature(), added=added, changed=changed,
        removed=sorted(set(previous) - set(documents)), skipped=skipped,
        timings={"parse_s": round(time.perf_counter() - t, 3)}, read=read, flagged=flagged,
    )


def outline(chunks: list[Chunk]) -> list[list]:
    """[section path, the page it starts on] for each section of a paged document, in order ([] if not paged):
    how a citation finds the same place in the document's other-language edition."""
    out: dict[str, int] = {}
    for c in chunks:
        if c.page is not None:
            out.setdefault(c.section, c.page)
    return [[section, page] for section, page in out.items()]


def _split(doc: Document, cand: Candidate, chunker: Chunker) -> tuple[list[Chunk], list[str]]:
    """The document's chunks, those holding text addressed to an AI assistant marked, and a note per such line.
    A title taken from such a line (a text file's first line) gives way to the file's name."""
    flags = find_instructions(doc.text)
    if doc.title and any(doc.title in f.text for f in flags):
        doc.provenance = replace(doc.provenance, title=cand.path.name)
    chunks = mark_chunks(chunker.split(doc), doc.text, flags)
    raw = None
    if flags and doc.kind in ("markdown", "txt", "csv", "html"):
        raw = cand.path.read_bytes().decode("utf-8-sig", errors="replace")
    notes = [f"{where(f, doc.text, raw, doc.page_at(f.start))}: {f.text[:160]}" for f in flags]
    return chunks, notes


@contextmanager
def pdf_warnings(heard: list[str]) -> Iterator[None]:
    """Collect into `heard` what pypdf says about a file ("invalid pdf header", "EOF marker not found") instead
    of letting it reach the terminal: a skipped file's line carries it."""

    def note(message: str) -> None:
        line = message.strip().splitlines()[0][:120] if message.strip() else ""
        if line and line not in heard:
            heard.append(line)

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            note(record.getMessage())

    logger = logging.getLogger("pypdf")
    handler, propagate = Collect(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                for w in caught:
                    note(str(w.message))
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
