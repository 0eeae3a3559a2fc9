"""Keeps passages and their vectors in Chroma, embedded or on a server (the only module that imports chromadb)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from corpus.records import Chunk
from corpus.settings import IngestSettings


class StoreError(RuntimeError):
    """Chroma cannot be reached or refused a request; the message says which and where."""


class StoreMismatch(StoreError):
    """The Chroma collection does not hold the passages the catalog says are live (a new, empty server on the
    same URL, a lost volume): the message says where, and that `procure-ai ingest` fills it again."""


@dataclass
class StoredPassage:
    """A passage as Chroma returns it: id, text and metadata."""

    id: str
    text: str
    metadata: dict


def collection_name(model: str) -> str:
    """A Chroma collection name per embedding model, so vectors of two models never mix."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", Path(model.split(" ")[0]).name).strip("-").lower() or "model"
    digest = hashlib.sha1(model.encode()).hexdigest()[:8]
    return f"procure-ai-{slug[:40]}-{digest}"


def chunk_metadata(chunk: Chunk) -> dict:
    """What Chroma keeps beside a chunk's text (Chroma metadata takes no None)."""
    meta = {
        "doc_id": chunk.doc_id,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        **chunk.provenance.to_dict(),
        "gap": chunk.gap,
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.instructions:
        meta["instructions"] = "\n".join(chunk.instructions)  # Chroma metadata takes no lists
    if chunk.pages:  # Chroma metadata holds no lists: "3,4" and "0,412"
        meta["pages"] = ",".join(map(str, chunk.pages))
        meta["page_starts"] = ",".join(map(str, chunk.page_starts))
    return meta


def chunk_pages(meta: dict) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A stored chunk's pages and where each begins in its text (empty if not paged)."""
    pages, starts = str(meta.get("pages") or ""), str(meta.get("page_starts") or "")
    if not pages:
        return ((int(meta["page"]),), (0,)) if meta.get("page") is not None else ((), ())
    return tuple(int(p) for p in pages.split(",")), tuple(int(s) for s in starts.split(","))


class ChromaStore:
    """One Chroma collection. `url` (http://host:port) selects a server; else `path` is embedded."""

    def __init__(self, collection: str, path: Path | None = None, url: str | None = None,
                 page: int = IngestSettings.store_page):
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        self.location = url or str(path)
        self.collection_name = collection
        self.url, self.path = url, path
        self.page = page  # rows per Chroma call
        try:
            if url:
                parsed = urlparse(url)
                if parsed.scheme not in ("http", "https") or not parsed.hostname:
                    raise StoreError(f"bad Chroma URL {url!r}: use http://host:port")
                self._client = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
            else:
                if path is None:
                    raise StoreError("no Chroma path or URL given")
                Path(path).mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
            self._collection = self._open()
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; all mean "cannot use the store"
            raise StoreError(f"cannot open Chroma at {self.location}: {_reason(exc)}") from None

    def _open(self):
        return self._client.get_or_create_collection(
            self.collection_name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    def _call(self, what: str, method: str, *args, **kwargs):
        """The collection's `method` (by name, so a collection opened again is used); a collection gone from the
        server (a new server on the same URL) is opened again once, and the caller sees what it holds."""
        for attempt in range(2):
            try:
                return getattr(self._collection, method)(*args, **kwargs)
            except Exception as exc:
                if attempt == 0 and type(exc).__name__ == "NotFoundError":
                    try:
                        self._collection = self._open()
                        continue
                    except Exception:  # noqa: BLE001 (reported below as the call's failure)
                        pass
                raise StoreError(f"Chroma at {self.location} failed to {what}: {_reason(exc)}") from None

    def add(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Upsert chunks with their vectors (same order)."""
        for i in range(0, len(chunks), self.page):
            part = chunks[i : i + self.page]
            self._call(
                "store passages",
                "upsert",
                ids=[c.chunk_id for c in part],
                embeddings=vectors[i : i + self.page],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            )

    def restamp(self, chunks: list[Chunk]) -> None:
        """Rewrite the metadata of passages already stored (same text and vector: their offsets, collection or
        flags changed), without embedding them again."""
        for i in range(0, len(chunks), self.page):
            part = chunks[i : i + self.page]
            cleared = [{"page": None, "instructions": None} for _ in part]  # None removes a key Chroma holds
            self._call("update passages", "update", ids=[c.chunk_id for c in part],
                       metadatas=[{**gone, **chunk_metadata(c)} for gone, c in zip(cleared, part)])

    def has(self, ids: list[str]) -> set[str]:
        """Those of `ids` the collection holds."""
        found: set[str] = set()
        for i in range(0, len(ids), self.page):
            found.update(self._call("read passages", "get", ids=ids[i : i + self.page], include=[])["ids"])
        return found

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self.page):
            self._call("delete passages", "delete", ids=ids[i : i + self.page])

    def get(self, ids: list[str]) -> list[StoredPassage]:
        """The passages with these ids, in the order asked (missing ones left out)."""
        found: dict[str, StoredPassage] = {}
        for i in range(0, len(ids), self.page):
            res = self._call(
                "read passages", "get", ids=ids[i : i + self.page], include=["documents", "metadatas"]
            )
            for pid, text, meta in zip(res["ids"], res["documents"], res["metadatas"]):
                found[pid] = StoredPassage(pid, text, dict(meta or {}))
        return [found[i] for i in ids if i in found]

    def ids(self) -> set[str]:
        """Every id in the collection."""
        out: set[str] = set()
        offset = 0
        while True:
            res = self._call("list passages", "get", include=[], limit=5000, offset=offset)
            out.update(res["ids"])
            if len(res["ids"]) < 5000:
                return out
            offset += 5000

    def count(self) -> int:
        return self._call("count passages", "count")

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """The k nearest passages to `vector`: (id, cosine distance), nearest first; texts via `get`."""
        res = self._call(
            "search", "query", query_embeddings=[vector], n_results=k, where=where or None,
            include=["distances"],
        )
        return list(zip(res["ids"][0], (float(d) for d in res["distances"][0])))

    def vectors(self, ids: list[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of these ids: (the ids found, in the order asked; one row each)."""
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), self.page):
            res = self._call("read vectors", "get", ids=ids[i : i + self.page], include=["embeddings"])
            found.update(zip(res["ids"], res["embeddings"]))
        kept = [i for i in ids if i in found]
        rows = np.array([found[i] for i in kept], dtype=np.float32)
        return kept, rows.reshape(len(kept), -1) if kept else np.zeros((0, 0), dtype=np.float32)

    def reopened(self) -> "ChromaStore":
        """A fresh handle on the same store. An embedded client keeps what it has read, so a reader
        must reopen to see vectors another process (an ingest) added; a server's clients need not."""
        if self.url:
            return self
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(self.path), None)  # the next client starts afresh
        SharedSystemClient._identifier_to_refcount.pop(str(self.path), None)
        return ChromaStore(self.collection_name, path=self.path, page=self.page)

    def drop_collection(self, name: str) -> None:
        """Delete another collection of this client (e.g. one left by a previous model)."""
        try:
            self._client.delete_collection(name)
        except Exception:  # noqa: BLE001 (already gone is fine)
            pass


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
