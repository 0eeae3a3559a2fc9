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
import time
from collections.abc import Callable
from pathlib import Path

from corpus.records import Changes, Chunk, DocumentEntry
from ingest.chunker import Chunker
from ingest.discover import discover
from ingest.readers import UnreadableFile, read_document

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def no_progress(stage: str, done: int, total: int) -> None:
    return None


def plan(paths: list[Path], previous: dict[str, DocumentEntry], chunker: Chunker,
         progress: Progress = no_progress) -> Changes:
    """The changes that bring an index holding `previous` in line with the files under `paths`.

    Raises InputError for paths that cannot be ingested at all; files that
    cannot be read are skipped (the last good version kept) and listed.
    """
    t = time.perf_counter()
    candidates, skipped = discover(paths)
    roots = {c.root for c in candidates} | {str(Path(p).expanduser().resolve()) for p in paths}
    documents = {d: e for d, e in previous.items() if e.root not in roots}
    fresh: list[Chunk] = []
    added, changed = [], []
    for i, cand in enumerate(candidates, start=1):
        progress("reading", i, len(candidates))
        if cand.doc_id in documents:
            skipped[str(cand.path)] = f"duplicate document id {cand.doc_id} (already indexed from {documents[cand.doc_id].root})"
            continue
        before = previous.get(cand.doc_id)
        sha = file_sha256(cand.path)
        if before and before.sha256 == sha and before.path == str(cand.path):
            documents[cand.doc_id] = before
            continue
        try:
            doc = read_document(cand.path, cand.doc_id, cand.source)
        except UnreadableFile as exc:
            skipped[str(cand.path)] = str(exc)
            if before:  # keep the last good version rather than lose it
                documents[cand.doc_id] = before
            continue
        chunks = chunker.split(doc)
        fresh.extend(chunks)
        (changed if before else added).append(cand.doc_id)
        documents[cand.doc_id] = DocumentEntry(
            doc_id=doc.doc_id, path=str(cand.path), root=cand.root, sha256=sha, kind=doc.kind,
            provenance=doc.provenance, chunk_ids=[c.chunk_id for c in chunks],
        )
    return Changes(
        documents=documents, fresh=fresh, chunker=chunker.signature(), added=added, changed=changed,
        removed=sorted(set(previous) - set(documents)), skipped=skipped,
        timings={"parse_s": round(time.perf_counter() - t, 3)},
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
