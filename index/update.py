"""An ingest or a removal, start to end: under the index's lock, ingest works out the changes and the index applies them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from corpus.records import IngestReport
from ingest.chunker import Chunker
from ingest.plan import Progress, no_progress, plan
from ingest.remove import plan_removal
from index.index import Index
from index.store import StoreMismatch


def update(index: Index, paths: list[Path], chunker: Chunker, progress: Progress = no_progress,
           collection: str | None = None) -> IngestReport:
    """Bring the index in line with the files under `paths` (their documents joining `collection`, if given);
    return what changed.

    Raises InputError for paths that cannot be ingested at all, IndexBusy when
    another ingest holds the lock; files that cannot be read are skipped and
    listed in the report. When the store does not hold the live index (a new,
    empty Chroma server on the same URL), every folder the index holds is read
    and embedded again, the ones named here included.
    """
    signature = {**chunker.signature(), "model": index.embedder.name}  # what makes every chunk id or vector stale
    with index.writing():
        base = index.recover()
        same_space = base.collection == index.collection and base.chunker == signature
        refill = index.store_mismatch(base, everything=True) if same_space else ""
        previous = base.documents if same_space else {}
        if refill:  # read again every folder the index holds that is still there; the others' documents leave
            previous = {d: e for d, e in previous.items() if Path(e.root).exists()}
            given = {str(Path(p).expanduser().resolve()) for p in paths}
            paths = [*paths, *(Path(r) for r in sorted({e.root for e in previous.values()} - given))]
        changes = plan(paths, previous, chunker, progress, collection, reread=bool(refill))
        return index.apply(replace(changes, chunker=signature), base, progress, refill=refill)


def remove(index: Index, targets: list[str], collections: list[str] = ()) -> IngestReport:
    """Take documents out of the index, atomically like an ingest: each target a document id or a path (a file,
    or a folder: every document from under it); `collections` whole, or, with targets, the targets within them.

    Raises InputError naming what the index does not hold (and removes nothing), StoreMismatch when the store
    does not hold the index, IndexBusy when an ingest holds the lock.
    """
    with index.writing():
        base = index.recover()
        if base.documents and base.collection != index.collection:
            raise ValueError(f"the index was built with the model {base.model!r}: pass --model {base.model!r}")
        if problem := index.store_mismatch(base):
            raise StoreMismatch(problem)
        changes = plan_removal(list(targets), list(collections), base.documents)
        return index.apply(replace(changes, chunker=base.chunker), base)
