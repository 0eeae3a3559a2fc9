"""Sentence vectors for the answerer and the citation check, computed at ingest at no extra cost.

Answers compare the question with single sentences of the retrieved passages.
Embedding those sentences when the question comes would cost a model pass per
question. Instead, ingest keeps what the model computes anyway for each
passage, its token vectors, averaged over each sentence's tokens ("late
chunking"): no extra model pass, and each vector carries its passage's
context. A question then needs only its own embedding.

A `SentenceStore` is a folder per catalog generation of plain .npy files that
readers memory-map: the vectors in the order they were written (a chunk's
sentences together), and lookups sorted by chunk id (each chunk's first and
last row) and by sentence key. Every lookup is a binary search, so opening the
store costs nothing and only the rows an answer touches are read from disk
(at a million passages the vectors are about 12 GB, which no reader loads).
`SentenceWriter` writes one a batch at a time, so an ingest never holds every
vector in memory. `SentenceVectors` is the answerer's reader: stored rows
first; a sentence not stored (one that straddles two chunks, an LLM's claim)
is embedded on its own and cached.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from corpus.text import sentence_spans

_HEADER = 128  # bytes of the vectors file's .npy header, written again with the real row count at the end


def sentence_key(text: str) -> bytes:
    return hashlib.blake2b(text.strip().encode("utf-8"), digest_size=16).digest()


def chunk_sentence_spans(chunk_text: str, embedding_text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The chunk's sentences, and their spans in the text the embedder reads (the chunk follows its heading)."""
    shift = len(embedding_text) - len(chunk_text)
    spans = sentence_spans(chunk_text)
    return [chunk_text[s:e] for s, e in spans], [(s + shift, e + shift) for s, e in spans]


def _npy_header(rows: int, dimensions: int) -> bytes:
    """A float32 (rows, dimensions) .npy header padded to _HEADER bytes, so it can be rewritten in place."""
    body = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, dimensions)
    body = body.ljust(_HEADER - 11) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")


class SentenceWriter:
    """Writes a SentenceStore into `folder` a batch at a time; readers see no folder or the whole one.

    Use as a context manager: on a clean exit the lookups are written and the
    folder renamed into place; on an error nothing is left behind.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._chunks: list[str] = []
        self._starts: list[int] = []
        self._keys: list[np.ndarray] = []
        self.rows = 0
        self.dimensions = 0

    def __enter__(self) -> "SentenceWriter":
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=f".{self.folder.name}."))
        self._vectors = open(self._tmp / "vectors.npy", "wb")
        self._vectors.write(b"\0" * _HEADER)
        return self

    def add(self, chunk_id: str, keys: list[bytes], vectors: np.ndarray) -> None:
        """One chunk's sentence rows: their keys and vectors, in the chunk's order."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(keys), -1)
        if len(keys):
            self.dimensions = self.dimensions or vectors.shape[1]
            self._vectors.write(vectors.tobytes())
        self._chunks.append(chunk_id)
        self._starts.append(self.rows)
        self._keys.append(np.asarray(keys, dtype="S16"))
        self.rows += len(keys)

    def add_texts(self, chunk_id: str, texts: list[str], vectors: list) -> None:
        """A chunk's sentences as the embedder returned them (a sentence it could not place has None)."""
        kept = [(t, v) for t, v in zip(texts, vectors) if v is not None]
        self.add(chunk_id, [sentence_key(t) for t, _ in kept],
                 np.array([v for _, v in kept], dtype=np.float32) if kept else np.zeros((0, 0), np.float32))

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self._vectors.seek(0)
                self._vectors.write(_npy_header(self.rows, self.dimensions))
                self._vectors.flush()
                os.fsync(self._vectors.fileno())
            self._vectors.close()
            if kind is not None:
                return
            chunks = np.asarray(self._chunks, dtype=str)
            order = np.argsort(chunks, kind="stable")
            starts = np.asarray(self._starts, dtype=np.int64)
            stops = np.r_[starts[1:], self.rows].astype(np.int64) if len(starts) else starts
            keys = np.concatenate(self._keys) if self._keys else np.zeros(0, dtype="S16")
            key_order = np.argsort(keys, kind="stable")
            for name, array in {"chunk_ids": chunks[order], "starts": starts[order], "stops": stops[order],
                                "keys": keys[key_order], "key_rows": key_order.astype(np.int64)}.items():
                np.save(self._tmp / f"{name}.npy", array)
            for path in self._tmp.iterdir():
                with open(path, "rb+") as fh:
                    os.fsync(fh.fileno())
            if self.folder.exists():
                shutil.rmtree(self.folder)
            os.replace(self._tmp, self.folder)
        finally:
            if self._tmp.exists():
                shutil.rmtree(self._tmp, ignore_errors=True)


class SentenceStore:
    """A saved sentence store, memory-mapped (see the module's docstring)."""

    def __init__(self, vectors: np.ndarray, chunk_ids: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                 keys: np.ndarray, key_rows: np.ndarray):
        self.vectors, self.chunk_ids, self.starts, self.stops = vectors, chunk_ids, starts, stops
        self.keys, self.key_rows = keys, key_rows

    @classmethod
    def open(cls, folder: Path) -> "SentenceStore":
        # plain ndarray views of the memory maps: the same pages, without np.memmap's cost on every lookup
        names = ("vectors", "chunk_ids", "starts", "keys", "key_rows")
        arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)) for name in names}
        if (folder / "stops.npy").exists():
            arrays["stops"] = np.asarray(np.load(folder / "stops.npy", mmap_mode="r", allow_pickle=False))
        else:  # written before stores were streamed: rows grouped by sorted chunk id, one start more than chunks
            arrays["stops"], arrays["starts"] = arrays["starts"][1:], arrays["starts"][:-1]
        if len(arrays["starts"]) != len(arrays["chunk_ids"]) or len(arrays["keys"]) != len(arrays["vectors"]):
            raise ValueError(f"{folder}: the store's files do not match")
        return cls(**arrays)

    def __len__(self) -> int:
        return len(self.vectors)

    def chunk_set(self) -> set[str]:
        return set(np.asarray(self.chunk_ids).tolist())

    def chunk_rows(self, chunk_ids: list[str]) -> list[tuple[str, slice]]:
        """(chunk id, its rows) for each of `chunk_ids` the store has."""
        found = _find(self.chunk_ids, np.asarray(chunk_ids, dtype=str))
        return [(cid, slice(int(self.starts[i]), int(self.stops[i]))) for cid, i in zip(chunk_ids, found) if i is not None]

    def rows_of_keys(self, keys: list[bytes]) -> list[int | None]:
        """The row of each sentence key, None where the store lacks it."""
        return [int(self.key_rows[i]) if i is not None else None
                for i in _find(self.keys, np.asarray(keys, dtype="S16"))]

    def row_keys(self) -> np.ndarray:
        """The sentence key of every row, in row order."""
        keys = np.empty(len(self.keys), dtype="S16")
        keys[np.asarray(self.key_rows)] = self.keys
        return keys


def _find(sorted_values: np.ndarray, wanted: np.ndarray) -> list[int | None]:
    """The index of each wanted value in a sorted array (binary search), None where it is absent."""
    if not len(sorted_values) or not len(wanted):
        return [None] * len(wanted)
    at = np.minimum(np.searchsorted(sorted_values, wanted), len(sorted_values) - 1)
    return [i if ok else None for i, ok in zip(at.tolist(), (sorted_values[at] == wanted).tolist())]


class SentenceVectors:
    """Vectors for sentences of passages: stored ones first, the rest embedded now and cached.

    `store` returns the live SentenceStore (or None); it is called per request,
    so a reader follows the catalog when an ingest commits a new one.
    """

    def __init__(self, embedder, store: Callable[[], SentenceStore | None] = lambda: None, cache_size: int = 8192):
        self.embedder = embedder
        self.store = store
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}
        self.stored_hits = 0
        self.embedded = 0

    def vectors(self, texts: list[str]) -> np.ndarray:
        """One normalised row per text."""
        store = self.store()
        rows = store.rows_of_keys([sentence_key(t) for t in texts]) if store is not None else [None] * len(texts)
        out: list[np.ndarray | None] = []
        missing: list[str] = []
        for text, row in zip(texts, rows):
            if row is not None:
                out.append(np.asarray(store.vectors[row]))
                self.stored_hits += 1
            elif text.strip() in self._cache:
                out.append(self._cache[text.strip()])
            else:
                out.append(None)
                missing.append(text.strip())
        if missing:
            unique = list(dict.fromkeys(missing))
            for text, vector in zip(unique, self.embedder.embed(unique)):
                self._cache[text] = vector
            self.embedded += len(unique)
            while len(self._cache) > self.cache_size:
                self._cache.pop(next(iter(self._cache)))
            out = [v if v is not None else self._cache[t.strip()] for v, t in zip(out, texts)]
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(out)
