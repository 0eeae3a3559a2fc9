"""Runs an ingest: read, split, embed what is new, and commit the index atomically.

Incremental and idempotent: an unchanged file is not re-read into the store,
an unchanged passage is never re-embedded (chunk ids come from content), a
changed file replaces its passages, and a file gone from a folder that is
ingested again leaves the index. See index/catalog.py for how a killed ingest
leaves the previous index live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.chunker import Chunker
from ingest.discover import discover
from ingest.document import Chunk
from ingest.readers import UnreadableFile, read_document
from index.catalog import Catalog, DocumentEntry, Journal, clear_journal, save_journal
from index.index import Index

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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

    @property
    def changed(self) -> bool:
        return bool(self.added_documents or self.changed_documents or self.removed_documents)

    def to_dict(self) -> dict:
        return {**asdict(self), "changed": self.changed}


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def ingest(paths: list[Path], index: Index, chunker: Chunker, progress: Progress = _no_progress) -> IngestReport:
    """Bring the index in line with the files under `paths`; return what changed.

    Raises InputError for paths that cannot be ingested at all; files that
    cannot be read are skipped and listed in the report.
    """
    started = time.perf_counter()
    report = IngestReport()
    candidates, report.skipped = discover(paths)
    roots = {c.root for c in candidates} | {str(Path(p).expanduser().resolve()) for p in paths}
    with index.writing():
        old = index.recover()
        same_space = old.collection == index.collection and old.chunker == chunker_signature(chunker, index)
        new = Catalog(
            generation=old.generation + 1,
            model=index.embedder.name,
            collection=index.collection,
            chunker=chunker_signature(chunker, index),
            documents={d: e for d, e in old.documents.items() if e.root not in roots} if same_space else {},
        )
        t = time.perf_counter()
        fresh: list[Chunk] = []
        for i, cand in enumerate(candidates, start=1):
            progress("reading", i, len(candidates))
            if cand.doc_id in new.documents:
                report.skipped[str(cand.path)] = f"duplicate document id {cand.doc_id} (already indexed from {new.documents[cand.doc_id].root})"
                continue
            previous = old.documents.get(cand.doc_id) if same_space else None
            sha = _sha256(cand.path)
            if previous and previous.sha256 == sha and previous.path == str(cand.path):
                new.documents[cand.doc_id] = previous
                continue
            try:
                doc = read_document(cand.path, cand.doc_id, cand.source)
            except UnreadableFile as exc:
                report.skipped[str(cand.path)] = str(exc)
                if previous:  # keep the last good version rather than lose it
                    new.documents[cand.doc_id] = previous
                continue
            chunks = chunker.split(doc)
            fresh.extend(chunks)
            (report.changed_documents if previous else report.added_documents).append(cand.doc_id)
            new.documents[cand.doc_id] = DocumentEntry(
                doc_id=doc.doc_id, title=doc.title, path=str(cand.path), root=cand.root, sha256=sha, kind=doc.kind,
                collection=doc.collection, publisher=doc.publisher, url=doc.url, license=doc.license,
                chunk_ids=[c.chunk_id for c in chunks],
            )
        report.timings["parse_s"] = round(time.perf_counter() - t, 3)
        report.removed_documents = sorted(set(old.documents) - set(new.documents)) if same_space else sorted(old.documents)
        live_before = old.chunk_ids() if same_space else set()
        live_after = new.chunk_ids()
        report.documents = len(new.documents)
        report.chunks = len(live_after)
        if not report.changed and same_space and old.sentences_file:
            _export_model(index, report)
            report.seconds = round(time.perf_counter() - started, 3)
            return report
        to_embed = {c.chunk_id: c for c in fresh if c.chunk_id not in live_before}
        removing = sorted(live_before - live_after)
        save_journal(index.data_dir, Journal(new.generation, index.collection, sorted(to_embed), removing))
        t = time.perf_counter()
        sentences = index.add(list(to_embed.values()), lambda done, total: progress("embedding", done, total))
        report.timings["embed_store_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        new.sentences_file = index.save_sentences(new, sentences, old if same_space else Catalog())
        report.timings["sentences_s"] = round(time.perf_counter() - t, 3)
        report.embedded_chunks = len(to_embed)
        t = time.perf_counter()
        new.keyword_dir = index.build_keyword_index(new, {c.chunk_id: c for c in fresh})
        report.timings["keyword_s"] = round(time.perf_counter() - t, 3)
        index.commit(new)  # the commit point
        index.delete(removing)
        if not same_space and old.collection and old.collection != index.collection:
            index.drop_collection(old.collection)
        index.drop_keyword_dirs(keep=new.keyword_dir)
        index.drop_sentence_files(keep=new.sentences_file)
        clear_journal(index.data_dir)
        report.removed_chunks = len(removing)
        _export_model(index, report)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _export_model(index: Index, report: IngestReport) -> None:
    """Save the embedding model for onnxruntime once, so answering processes need not load torch."""
    t = time.perf_counter()
    if index.embedder.export_onnx() is not None:
        report.timings["model_export_s"] = round(time.perf_counter() - t, 3)


def chunker_signature(chunker: Chunker, index: Index) -> dict:
    """What, if changed, makes every chunk id and vector stale."""
    return {"max_tokens": chunker.max_tokens, "version": 1, "model": index.embedder.name}


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
