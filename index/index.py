"""The index a data dir holds: written by one transaction per ingest (`apply`), read by search.

It owns the embedder, the Chroma store, the keyword index, the sentence store
and the catalog, and the lock that lets one ingest at a time write. `apply`
is the whole ingest transaction: a journal naming what is about to go live
and what will go away, the new passages embedded and stored, the sentence
store and keyword index of the new generation written beside the old ones,
the catalog committed (the one atomic step, see index/catalog.py), then the
clean-up. A killed ingest leaves the previous catalog live; the next one
finishes the clean-up. Readers reload the catalog when an ingest commits,
and check once per catalog that the store still holds its passages
(`check_store`); an ingest into a store that lost them embeds every passage
again (`refill`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from corpus.records import Changes, Chunk, IngestReport, Provenance
from corpus.settings import IngestSettings
from index.catalog import (CATALOG, EMBEDDED, Catalog, Journal, clear_journal, fingerprint, load_catalog, load_journal,
                           save_catalog, save_journal)
from index.embedder import Embedder
from index.keyword import KeywordIndex, keyword_text
from index.sentences import SentenceStore, SentenceWriter, chunk_sentence_spans
from index.store import ChromaStore, StoredPassage, StoreMismatch, collection_name

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class IndexBusy(RuntimeError):
    """Another ingest is writing to this data dir."""


class Index:
    """Embeddings in Chroma (embedded under data_dir/chroma, or at `chroma_url`) plus BM25, sentences and a catalog."""

    def __init__(self, data_dir: Path, embedder: Embedder, chroma_url: str | None = None,
                 settings: IngestSettings = IngestSettings()):
        self.data_dir = Path(data_dir)
        self.embedder = embedder
        self.settings = settings
        self.collection = collection_name(embedder.name)
        self.chroma_url = chroma_url
        self._store: ChromaStore | None = None
        self._catalog: Catalog | None = None
        self._catalog_mtime: float | None = None
        self._keyword: KeywordIndex | None = None
        self._not_live: set[str] = set()
        self._positions: dict[str, tuple[str, int]] | None = None
        self._sentences: SentenceStore | None = None
        self._committed: int | None = None  # the generation this object committed, if any
        self._store_checked: Catalog | None = None  # the catalog `check_store` last found the store holding

    @property
    def store_location(self) -> str:
        """What `Catalog.store` records for this index's store: EMBEDDED or the server's URL."""
        return self.chroma_url or EMBEDDED

    def where(self) -> str:
        """The store's collection and place, for messages."""
        return f"the Chroma collection {self.collection} at {self.chroma_url or self.data_dir / 'chroma'}"

    @property
    def store(self) -> ChromaStore:
        """The Chroma collection, opened on first use."""
        if self._store is None:
            self._store = ChromaStore(self.collection, path=self.data_dir / "chroma", url=self.chroma_url,
                                      page=self.settings.store_page)
        return self._store

    # -- writing (ingest) -------------------------------------------------
    @contextmanager
    def writing(self, wait_s: float = 0) -> Iterator[None]:
        """Hold the data dir's ingest lock; raise IndexBusy if another ingest holds it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.data_dir / "ingest.lock"))
        try:
            lock.acquire(timeout=wait_s)
        except Timeout:
            raise IndexBusy(f"another ingest is running on {self.data_dir}; wait for it to finish") from None
        try:
            yield
        finally:
            lock.release()

    def recover(self) -> Catalog:
        """Finish the clean-up of an ingest that was killed, and return the live catalog."""
        catalog = load_catalog(self.data_dir)
        journal = load_journal(self.data_dir)
        if journal is not None:
            if journal.collection == self.collection:
                self.store.delete(journal.not_live(catalog.generation))
            clear_journal(self.data_dir)
        return catalog

    def apply(self, changes: Changes, base: Catalog, progress: Progress | None = None, refill: str = "") -> IngestReport:
        """Make `changes` the live index, in place of `base` (the live catalog); hold `writing()` around it.

        Passages already live keep their vectors and sentence rows; only
        `changes.fresh` chunks not yet live are embedded, a batch at a time.
        `refill` (why: see `store_mismatch`) says the store does not hold
        `base`, so nothing of it is taken as stored and every chunk is embedded.
        """
        started = time.perf_counter()
        progress = progress or (lambda stage, done, total: None)
        same_store = base.collection == self.collection and not refill
        same_space = same_store and base.chunker == changes.chunker
        new = Catalog(generation=base.generation + 1, model=self.embedder.name, collection=self.collection,
                      store=self.store_location, chunker=changes.chunker, documents=dict(changes.documents))
        live_before = base.chunk_ids() if same_store else set()
        live_after = new.chunk_ids()
        report = IngestReport(
            documents=len(new.documents), chunks=len(live_after), added_documents=list(changes.added),
            changed_documents=list(changes.changed), skipped=dict(changes.skipped), timings=dict(changes.timings),
            removed_documents=list(changes.removed) if same_space else sorted(set(base.documents) - set(new.documents)),
            read=changes.read, flagged=dict(changes.flagged), refilled=refill,
        )
        if refill:
            report.added_documents = sorted(set(new.documents) - set(base.documents))
            report.changed_documents = sorted(set(new.documents) & set(base.documents))
        if not report.changed and same_space and base.sentences_file:
            self._export_model(report)
            report.seconds = round(time.perf_counter() - started, 3)
            return report
        adding = sorted(live_after - live_before)
        removing = sorted(live_before - live_after)
        save_journal(self.data_dir, Journal(new.generation, self.collection, adding, removing))
        new.sentences_file = f"sentences-{new.generation}"
        texts: dict[str, str] = {}  # the keyword index's text of each passage embedded now
        previous = self._load_sentences(base.sentences_file) if same_store else None
        restamp: list[Chunk] = []  # chunks of changed documents already stored: new offsets, collection or flags
        with SentenceWriter(self.data_dir / new.sentences_file) as writer:
            t = time.perf_counter()

            def fresh():
                for chunk in changes.fresh:
                    if chunk.chunk_id in live_before:
                        restamp.append(chunk)
                    elif chunk.chunk_id in live_after:
                        yield chunk

            report.embedded_chunks = self._embed(fresh(), writer, texts, lambda n: progress("embedding", n, len(adding)))
            self.store.restamp(restamp)
            report.timings["embed_store_s"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            self._keep_sentences(sorted(live_after - texts.keys()), previous, writer)
            report.timings["sentences_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        new.keyword_dir = self._build_keyword_index(new, texts)
        report.timings["keyword_s"] = round(time.perf_counter() - t, 3)
        new.fingerprint = fingerprint(live_after)
        self.commit(new)  # the commit point
        self.store.delete(removing)
        if base.collection and base.collection != self.collection:
            self.store.drop_collection(base.collection)
        self._drop_older(keep={new.keyword_dir, new.sentences_file})
        clear_journal(self.data_dir)
        report.removed_chunks = len(removing)
        self._export_model(report)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def store_mismatch(self, catalog: Catalog, everything: bool = False) -> str:
        """Nothing ("") when the store holds every live passage of `catalog`; else one line saying it does not.

        The store's count must reach the catalog's; then `settings.verify_sample`
        live ids spread over the documents are looked up, or with `everything`
        (ingest, for up to `settings.verify_all_max` passages) all of them: the
        store's ids against the fingerprint the catalog committed, else one by
        one. More passages than the catalog's is fine: an ingest in progress
        adds its own before it commits.
        """
        live = catalog.chunk_ids()
        if not live or catalog.collection != self.collection:
            return ""
        count = self.store.count()
        missing = len(live) - count
        if missing <= 0 and everything and len(live) <= self.settings.verify_all_max:
            held = self.store.ids()
            missing = 0 if catalog.fingerprint == fingerprint(held) else len(live - held)
        elif missing <= 0:
            ids = _spread(catalog, self.settings.verify_sample)
            missing = len(ids) - len(self.store.has(ids))
        if missing <= 0:
            return ""
        built = f"; it was built in {catalog.store}" if catalog.store and catalog.store != self.store_location else ""
        return (f"{self.where()} does not hold this index ({count:,} passages, {len(live):,} expected{built}): "
                "run procure-ai ingest")

    def check_store(self, again: bool = False) -> None:
        """Raise StoreMismatch unless the store holds the live catalog's passages; checked once per catalog
        loaded (so at start and after each reload), or `again`. A catalog that changed under the check (an
        ingest committing and deleting what it replaced) is checked anew."""
        for _ in range(3):
            catalog = self.catalog()
            if self._store_checked is catalog and not again:
                return
            problem = self.store_mismatch(catalog)
            if not problem:
                self._store_checked = catalog
                return
            self._catalog_mtime = None  # read the catalog file again: it may have moved on
            if self.catalog().generation == catalog.generation:
                raise StoreMismatch(problem)
        raise StoreMismatch(problem)

    def _embed(self, chunks: Iterable[Chunk], writer: SentenceWriter, texts: dict[str, str], done: Callable) -> int:
        """Embed and store chunks a batch at a time, their sentence rows into `writer`; how many."""
        count, size = 0, max(self.settings.embed_batch * 4, 1)
        chunks = iter(chunks)
        while part := list(islice(chunks, size)):
            vectors, pooled = self._embed_chunks(part)
            self.store.add(part, vectors)
            for chunk, rows in zip(part, pooled):
                writer.add_texts(chunk.chunk_id, chunk_sentence_spans(chunk.text, chunk.embedding_text())[0], rows)
                texts[chunk.chunk_id] = keyword_text(chunk.title, chunk.section, chunk.text)
            count += len(part)
            done(count)
        return count

    def _embed_chunks(self, chunks: list[Chunk]):
        texts = [c.embedding_text() for c in chunks]
        spans = [chunk_sentence_spans(c.text, t)[1] for c, t in zip(chunks, texts)]
        return self.embedder.embed_with_spans(texts, spans)

    def embedding_texts(self, ids: list[str]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """({id: the text the embedder read for the passage}, {id: (document, section)}): what tuning the
        embedder trains on (assistant/judge/retriever.py)."""
        texts, where = {}, {}
        for passage in self.store.get(ids):
            chunk = _chunk_of(passage)
            texts[chunk.chunk_id], where[chunk.chunk_id] = chunk.embedding_text(), (chunk.doc_id, chunk.section)
        return texts, where

    def _keep_sentences(self, kept: list[str], previous: SentenceStore | None, writer: SentenceWriter) -> None:
        """Copy the sentence rows of passages that stay live; embed any the previous store lacks."""
        have: set[str] = set()
        if previous is not None and kept:
            keys = previous.row_keys()
            for cid, rows in previous.chunk_rows(kept):
                writer.add(cid, keys[rows].tolist(), np.asarray(previous.vectors[rows]))
                have.add(cid)
        lacking = [cid for cid in kept if cid not in have]
        for i in range(0, len(lacking), self.settings.embed_batch * 4):  # an index built without sentence rows
            part = [_chunk_of(p) for p in self.store.get(lacking[i : i + self.settings.embed_batch * 4])]
            for chunk, rows in zip(part, self._embed_chunks(part)[1]):
                writer.add_texts(chunk.chunk_id, chunk_sentence_spans(chunk.text, chunk.embedding_text())[0], rows)

    def _build_keyword_index(self, catalog: Catalog, texts: dict[str, str]) -> str:
        """BM25 over every live chunk into a new folder (texts of passages not embedded now come from the
        store); the folder's name."""
        ids = [cid for doc in catalog.documents.values() for cid in doc.chunk_ids]
        missing = [cid for cid in ids if cid not in texts]
        for passage in self.store.get(missing):
            meta = passage.metadata
            texts[passage.id] = keyword_text(meta.get("title", ""), meta.get("section", ""), passage.text)
        lost = [cid for cid in ids if cid not in texts]
        if lost:
            raise RuntimeError(f"{len(lost)} passages are in the catalog but not in Chroma; ingest into a new data dir")
        doc_of = {cid: doc for doc in catalog.documents.values() for cid in doc.chunk_ids}
        name = f"keyword-{catalog.generation}"
        KeywordIndex.build(self.data_dir / name, ids, [texts[cid] for cid in ids],
                           doc_ids=[doc_of[cid].doc_id for cid in ids], collections=[doc_of[cid].collection for cid in ids])
        return name

    def commit(self, catalog: Catalog) -> None:
        """Make `catalog` the live one (atomic: see index/catalog.py)."""
        save_catalog(self.data_dir, catalog)
        self._committed = catalog.generation

    def _drop_older(self, keep: set[str]) -> None:
        """Remove keyword indexes and sentence stores of other generations, and temporary folders of a killed
        ingest."""
        for path in [*self.data_dir.glob("keyword-*"), *self.data_dir.glob("sentences-*"), *self.data_dir.glob(".sentences-*")]:
            if path.name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def _export_model(self, report: IngestReport) -> None:
        """Save the embedding model for onnxruntime once, so answering processes need not load torch."""
        t = time.perf_counter()
        if self.embedder.export_onnx() is not None:
            report.timings["model_export_s"] = round(time.perf_counter() - t, 3)

    # -- reading (search) -------------------------------------------------
    def catalog(self) -> Catalog:
        """The live catalog, reloaded if an ingest committed a newer one since the last call."""
        path = self.data_dir / CATALOG
        for attempt in range(3):
            mtime = path.stat().st_mtime_ns if path.exists() else None
            if self._catalog is not None and mtime == self._catalog_mtime:
                return self._catalog
            try:
                self._reload(mtime)
                return self._catalog
            except FileNotFoundError:  # an ingest replaced that generation meanwhile: read the newer catalog
                self._catalog_mtime = None
                if attempt == 2:
                    raise
                time.sleep(0.05)
        return self._catalog

    def _reload(self, mtime: int | None) -> None:
        first = self._catalog is None
        catalog = load_catalog(self.data_dir)
        if not first and self._store is not None and catalog.generation != self._committed:
            self._store = self._store.reopened()  # another process's ingest: see its vectors
        journal = load_journal(self.data_dir)
        self._keyword = KeywordIndex.load(self.data_dir / catalog.keyword_dir) if catalog.keyword_dir else None
        self._catalog, self._catalog_mtime = catalog, mtime
        self._positions = None
        self._sentences = None
        self._not_live = journal.not_live(catalog.generation) if journal else set()

    def keyword(self) -> KeywordIndex | None:
        self.catalog()
        return self._keyword

    def positions(self) -> dict[str, tuple[str, int]]:
        """chunk id -> (document id, position in the document), for the live catalog."""
        catalog = self.catalog()
        if self._positions is None:
            self._positions = {
                cid: (doc_id, i) for doc_id, doc in catalog.documents.items() for i, cid in enumerate(doc.chunk_ids)
            }
        return self._positions

    def sentences(self) -> SentenceStore | None:
        """The live catalog's sentence vectors, memory-mapped (None for an index built without them)."""
        catalog = self.catalog()
        if self._sentences is None and catalog.sentences_file:
            self._sentences = self._load_sentences(catalog.sentences_file)
        return self._sentences

    def sentence_similarity(self, vector: np.ndarray, chunk_ids) -> dict[str, float]:
        """chunk id -> cosine of `vector` with the chunk's closest sentence (chunks with stored sentences)."""
        store = self.sentences()
        found = store.chunk_rows(sorted(chunk_ids)) if store is not None else []
        found = [(cid, rows) for cid, rows in found if rows.stop > rows.start]
        if not found:
            return {}
        rows = np.concatenate([np.arange(r.start, r.stop) for _, r in found])
        scores = store.vectors[rows] @ vector
        bounds = np.cumsum([0] + [r.stop - r.start for _, r in found[:-1]])
        return {cid: float(v) for (cid, _), v in zip(found, np.maximum.reduceat(scores, bounds))}

    def _load_sentences(self, name: str) -> SentenceStore | None:
        path = self.data_dir / name
        if not name or not path.is_dir():
            return None
        try:
            return SentenceStore.open(path)
        except (OSError, ValueError):  # unreadable: answers embed sentences instead
            return None

    def not_live(self) -> set[str]:
        """Ids in Chroma that a reader must skip (left by an unfinished ingest)."""
        self.catalog()
        return self._not_live

    def dense(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        return self.store.query(vector, k, where)

    def passages(self, ids: list[str]) -> list[StoredPassage]:
        return self.store.get(ids)


def _spread(catalog: Catalog, n: int) -> list[str]:
    """Up to n live ids spread evenly over the catalog's documents, in order."""
    ids = [cid for doc in catalog.documents.values() for cid in doc.chunk_ids]
    step = max(1, len(ids) // max(n, 1))
    return ids[::step][:n]


def _chunk_of(passage: StoredPassage) -> Chunk:
    """A stored passage as a chunk again (for re-embedding its sentences)."""
    meta = passage.metadata
    return Chunk(chunk_id=passage.id, doc_id=meta.get("doc_id", ""), text=passage.text, section=meta.get("section", ""),
                 start=int(meta.get("start", 0)), end=int(meta.get("end", 0)), provenance=Provenance.from_dict(meta))
