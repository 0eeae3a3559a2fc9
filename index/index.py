"""The index a data dir holds: one object to write to (ingest) and read from (search).

It owns the embedder, the Chroma store, the keyword index and the catalog, and
the lock that lets one ingest at a time write. Readers reload the catalog when
an ingest commits a new one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ingest.document import Chunk
from index.catalog import CATALOG, Catalog, clear_journal, load_catalog, load_journal, save_catalog
from index.embedder import Embedder
from index.keyword import KeywordIndex, keyword_text
from index.sentences import SentenceStore, SentenceTable, chunk_sentence_spans, table_for_chunks
from index.store import ChromaStore, StoredPassage, collection_name


class IndexBusy(RuntimeError):
    """Another ingest is writing to this data dir."""


class Index:
    """Embeddings in Chroma (embedded under data_dir/chroma, or at `chroma_url`) plus BM25 and a catalog."""

    def __init__(self, data_dir: Path, embedder: Embedder, chroma_url: str | None = None, embed_batch: int = 64):
        self.data_dir = Path(data_dir)
        self.embedder = embedder
        self.embed_batch = embed_batch
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

    @property
    def store(self) -> ChromaStore:
        """The Chroma collection, opened on first use."""
        if self._store is None:
            self._store = ChromaStore(self.collection, path=self.data_dir / "chroma", url=self.chroma_url)
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

    def add(self, chunks: list[Chunk], progress: Callable[[int, int], None] | None = None) -> SentenceTable:
        """Embed and store chunks, a batch at a time; return their sentences' vectors (same model pass)."""
        batch = max(self.embed_batch * 4, 1)
        tables = []
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            vectors, pooled = self._embed_chunks(part)
            self.store.add(part, vectors)
            tables.append(table_for_chunks(part, pooled))
            if progress:
                progress(min(i + batch, len(chunks)), len(chunks))
        return SentenceTable.concat(tables)

    def _embed_chunks(self, chunks: list[Chunk]):
        texts = [c.embedding_text() for c in chunks]
        spans = [chunk_sentence_spans(c.text, t)[1] for c, t in zip(chunks, texts)]
        return self.embedder.embed_with_spans(texts, spans)

    def save_sentences(self, catalog: Catalog, fresh: SentenceTable, previous: Catalog) -> str:
        """Write the sentence vectors of `catalog`'s live chunks (kept rows, `fresh` ones, and any
        live chunk that has none yet, embedded now); return the file's name."""
        live = catalog.chunk_ids()
        old = self._load_sentences(previous.sentences_file) if previous.collection == catalog.collection else None
        table = (old.table() if old is not None else SentenceTable.empty()).merged(fresh, live)
        lacking = sorted(live - table.chunk_ids())
        if lacking:  # an index built before sentence vectors were stored, or rows lost: fill in
            chunks = [
                Chunk(chunk_id=p.id, doc_id=p.metadata.get("doc_id", ""), text=p.text, section=p.metadata.get("section", ""),
                      start=0, end=0, title=p.metadata.get("title", ""))
                for p in self.store.get(lacking)
            ]
            for i in range(0, len(chunks), self.embed_batch * 4):
                part = chunks[i : i + self.embed_batch * 4]
                table = table.merged(table_for_chunks(part, self._embed_chunks(part)[1]), live)
        name = f"sentences-{catalog.generation}"
        table.save(self.data_dir / name)
        return name

    def drop_sentence_files(self, keep: str) -> None:
        # folders, .npz files of earlier versions, and temporary folders of an ingest that was killed
        for path in [*self.data_dir.glob("sentences-*"), *self.data_dir.glob(".sentences-*")]:
            if path.name == keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def commit(self, catalog: Catalog) -> None:
        """Make `catalog` the live one (atomic: see index/catalog.py)."""
        save_catalog(self.data_dir, catalog)
        self._committed = catalog.generation

    def delete(self, ids: list[str]) -> None:
        self.store.delete(ids)

    def drop_collection(self, name: str) -> None:
        self.store.drop_collection(name)

    def build_keyword_index(self, catalog: Catalog, fresh: dict[str, Chunk]) -> str:
        """Build BM25 over every live chunk into a new folder; return the folder's name."""
        ids = [cid for doc in catalog.documents.values() for cid in doc.chunk_ids]
        texts: dict[str, str] = {cid: keyword_text(c.title, c.section, c.text) for cid, c in fresh.items()}
        missing = [cid for cid in ids if cid not in texts]
        for passage in self.store.get(missing):
            meta = passage.metadata
            texts[passage.id] = keyword_text(meta.get("title", ""), meta.get("section", ""), passage.text)
        lost = [cid for cid in ids if cid not in texts]
        if lost:
            raise RuntimeError(f"{len(lost)} passages are in the catalog but not in Chroma; re-ingest with --rebuild")
        docs = [catalog.documents[d] for d in catalog.documents]
        doc_of = {cid: i for i, doc in enumerate(docs) for cid in doc.chunk_ids}
        name = f"keyword-{catalog.generation}"
        KeywordIndex.build(
            self.data_dir / name,
            ids,
            [texts[cid] for cid in ids],
            doc_ids=[docs[doc_of[cid]].doc_id for cid in ids],
            collections=[docs[doc_of[cid]].collection for cid in ids],
        )
        return name

    def drop_keyword_dirs(self, keep: str) -> None:
        for path in self.data_dir.glob("keyword-*"):
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)

    # -- reading (search) -------------------------------------------------
    def catalog(self) -> Catalog:
        """The live catalog, reloaded if an ingest committed a newer one since the last call."""
        path = self.data_dir / CATALOG
        mtime = path.stat().st_mtime_ns if path.exists() else None
        if self._catalog is None or mtime != self._catalog_mtime:
            first = self._catalog is None
            self._catalog = load_catalog(self.data_dir)
            if not first and self._store is not None and self._catalog.generation != self._committed:
                self._store = self._store.reopened()  # another process's ingest: see its vectors
            self._catalog_mtime = mtime
            self._positions = None
            self._sentences = None
            journal = load_journal(self.data_dir)
            self._not_live = journal.not_live(self._catalog.generation) if journal else set()
            self._keyword = (
                KeywordIndex.load(self.data_dir / self._catalog.keyword_dir) if self._catalog.keyword_dir else None
            )
        return self._catalog

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
        if not name or not path.exists():
            return None
        try:
            return SentenceStore.open(path) if path.is_dir() else SentenceStore.from_table(SentenceTable.load(path))
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

