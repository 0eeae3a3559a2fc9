"""An ingest, start to end: under the index's lock, ingest works out the changes and the index applies them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from corpus.records import IngestReport
from ingest.chunker import Chunker
from ingest.plan import Progress, no_progress, plan
from index.index import Index


def update(index: Index, paths: list[Path], chunker: Chunker, progress: Progress = no_progress) -> IngestReport:
    """Bring the index in line with the files under `paths`; return what changed.

    Raises InputError for paths that cannot be ingested at all, IndexBusy when
    another ingest holds the lock; files that cannot be read are skipped and
    listed in the report.
    """
    signature = {**chunker.signature(), "model": index.embedder.name}  # what makes every chunk id or vector stale
    with index.writing():
        base = index.recover()
        same_space = base.collection == index.collection and base.chunker == signature
        changes = plan(paths, base.documents if same_space else {}, chunker, progress)
        return index.apply(replace(changes, chunker=signature), base, progress)
