"""Sentence vectors for the answerer and the citation check, computed at ingest at no extra cost.

Answers compare the question with single sentences of the retrieved passages.
Embedding those sentences when the question comes cost about 50 ms a question.
Instead, ingest keeps what the model computes anyway for each passage, its
token vectors, and averages them over each sentence's tokens ("late
chunking"): no extra model pass, and each vector carries its passage's
context (on the gold set, key-point coverage rose from 0.319 to 0.339). A
question then needs only its own embedding.

`SentenceTable` holds rows of (sentence key, chunk id, vector) in memory while
ingest builds them. It is saved as a `SentenceStore`: a folder per catalog
generation, written before the catalog commits (see ingest/pipeline.py), of
plain .npy files that readers memory-map. Rows are grouped by chunk id, and
both chunk ids and sentence keys are sorted, so a lookup is a binary search:
opening the store costs nothing, and only the rows an answer touches are read
from disk (at 1M passages the table is ~13 GB, which no reader should load).
`SentenceVectors` is the answerer's reader: stored rows first; a sentence not
stored (one that straddles two chunks, an LLM's claim) is embedded on its own
and cached.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.document import Chunk
from ingest.sentences import sentence_spans


def sentence_key(text: str) -> bytes:
    return hashlib.blake2b(text.strip().encode("utf-8"), digest_size=16).digest()


def chunk_sentence_spans(chunk_text: str, embedding_text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The chunk's sentences, and their spans in the text the embedder reads (the chunk follows its heading)."""
    shift = len(embedding_text) - len(chunk_text)
    spans = sentence_spans(chunk_text)
    return [chunk_text[s:e] for s, e in spans], [(s + shift, e + shift) for s, e in spans]


@dataclass
class SentenceTable:
    """Rows of (sentence key, chunk id, vector)."""

    keys: np.ndarray  # (n,) S16
    chunks: np.ndarray  # (n,) str
    vectors: np.ndarray  # (n, d) float32

    @classmethod
    def empty(cls, dimensions: int = 0) -> "SentenceTable":
        return cls(np.zeros(0, dtype="S16"), np.zeros(0, dtype="U1"), np.zeros((0, dimensions), dtype=np.float32))

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str, np.ndarray]]) -> "SentenceTable":
        """From (sentence text, chunk id, vector) rows."""
        if not rows:
            return cls.empty()
        return cls(
            np.array([sentence_key(text) for text, _, _ in rows], dtype="S16"),
            np.array([chunk for _, chunk, _ in rows]),
            np.stack([vector for _, _, vector in rows]).astype(np.float32),
        )

    @classmethod
    def concat(cls, tables: list["SentenceTable"]) -> "SentenceTable":
        tables = [t for t in tables if len(t)]
        if not tables:
            return cls.empty()
        return cls(
            np.concatenate([t.keys for t in tables]),
            np.concatenate([t.chunks.astype(str) for t in tables]),
            np.concatenate([t.vectors for t in tables]),
        )

    def __len__(self) -> int:
        return len(self.keys)

    def chunk_ids(self) -> set[str]:
        return set(self.chunks.tolist())

    def merged(self, newer: "SentenceTable", live: set[str]) -> "SentenceTable":
        """This table's rows of live chunks that `newer` does not replace, plus `newer`'s rows."""
        replaced = newer.chunk_ids()
        keep = np.array([c in live and c not in replaced for c in self.chunks.tolist()], dtype=bool)
        return SentenceTable.concat([SentenceTable(self.keys[keep], self.chunks[keep], self.vectors[keep]), newer])

    def save(self, folder: Path) -> None:
        """Write as a SentenceStore folder, atomically: readers see no folder or the whole one."""
        with store_writer(folder) as tmp:
            for name, array in self._grouped().items():
                np.save(tmp / f"{name}.npy", array)

    def _grouped(self) -> dict[str, np.ndarray]:
        """The store's arrays for these rows: vectors grouped by sorted chunk id, and the lookups."""
        chunks = self.chunks.astype(str)
        order = np.argsort(chunks, kind="stable")
        chunks = chunks[order]
        firsts = np.flatnonzero(np.r_[True, chunks[1:] != chunks[:-1]]) if len(chunks) else np.zeros(0, dtype=np.int64)
        return {"vectors": self.vectors[order].astype(np.float32),
                **lookup_arrays(chunks[firsts], np.r_[firsts, len(chunks)], self.keys[order])}

    @classmethod
    def load(cls, path: Path) -> "SentenceTable":
        """An .npz written by procure-ai before the store was memory-mapped."""
        with np.load(path, allow_pickle=False) as data:
            return cls(data["keys"], data["chunks"], data["vectors"])


@contextmanager
def store_writer(folder: Path) -> Iterator[Path]:
    """A temporary folder beside `folder` to write a store's files into; renamed to `folder` when the block ends
    without error, removed otherwise."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        yield tmp
        for path in tmp.iterdir():
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def lookup_arrays(chunk_ids: np.ndarray, starts: np.ndarray, row_keys: np.ndarray) -> dict[str, np.ndarray]:
    """The store's lookups for rows grouped by chunk: `chunk_ids` sorted, chunk i owning rows
    starts[i]:starts[i+1]; `row_keys` the sentence key of each row (stored sorted, with their rows)."""
    key_order = np.argsort(row_keys, kind="stable")
    return {"chunk_ids": np.asarray(chunk_ids).astype(str), "starts": np.asarray(starts, dtype=np.int64),
            "keys": np.asarray(row_keys, dtype="S16")[key_order], "key_rows": key_order.astype(np.int64)}


def write_lookup(folder: Path, chunk_ids: np.ndarray, starts: np.ndarray, row_keys: np.ndarray) -> None:
    """`lookup_arrays` saved into a store folder (the vectors are written on their own)."""
    for name, array in lookup_arrays(chunk_ids, starts, row_keys).items():
        np.save(folder / f"{name}.npy", array)


class SentenceStore:
    """A saved sentence table, memory-mapped (see the module's docstring)."""

    def __init__(self, vectors: np.ndarray, chunk_ids: np.ndarray, starts: np.ndarray, keys: np.ndarray,
                 key_rows: np.ndarray):
        self.vectors, self.chunk_ids, self.starts, self.keys, self.key_rows = vectors, chunk_ids, starts, keys, key_rows

    @classmethod
    def open(cls, folder: Path) -> "SentenceStore":
        # plain ndarray views of the memory maps: the same pages, without np.memmap's cost on every lookup
        arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False))
                  for name in ("vectors", "chunk_ids", "starts", "keys", "key_rows")}
        if len(arrays["starts"]) != len(arrays["chunk_ids"]) + 1 or len(arrays["keys"]) != len(arrays["vectors"]):
            raise ValueError(f"{folder}: the store's files do not match")
        return cls(**arrays)

    @classmethod
    def from_table(cls, table: SentenceTable) -> "SentenceStore":
        """In memory, for an .npz written by an earlier version."""
        return cls(**table._grouped())

    def __len__(self) -> int:
        return len(self.vectors)

    def chunk_set(self) -> set[str]:
        return set(np.asarray(self.chunk_ids).tolist())

    def chunk_rows(self, chunk_ids: list[str]) -> list[tuple[str, slice]]:
        """(chunk id, its rows) for each of `chunk_ids` the store has."""
        found = _find(self.chunk_ids, np.asarray(chunk_ids, dtype=str))
        return [(cid, slice(int(self.starts[i]), int(self.starts[i + 1]))) for cid, i in zip(chunk_ids, found) if i is not None]

    def rows_of_keys(self, keys: list[bytes]) -> list[int | None]:
        """The row of each sentence key, None where the store lacks it."""
        return [int(self.key_rows[i]) if i is not None else None
                for i in _find(self.keys, np.asarray(keys, dtype="S16"))]

    def table(self) -> SentenceTable:
        """Every row, in memory (ingest merges it with new rows)."""
        keys = np.empty(len(self.keys), dtype="S16")
        keys[np.asarray(self.key_rows)] = self.keys
        return SentenceTable(keys, np.repeat(np.asarray(self.chunk_ids), np.diff(self.starts)), np.array(self.vectors))


def _find(sorted_values: np.ndarray, wanted: np.ndarray) -> list[int | None]:
    """The index of each wanted value in a sorted array (binary search), None where it is absent."""
    if not len(sorted_values) or not len(wanted):
        return [None] * len(wanted)
    at = np.minimum(np.searchsorted(sorted_values, wanted), len(sorted_values) - 1)
    return [i if ok else None for i, ok in zip(at.tolist(), (sorted_values[at] == wanted).tolist())]


def table_for_chunks(chunks: list[Chunk], pooled: list[list]) -> SentenceTable:
    """Rows for chunks embedded with `Embedder.embed_with_spans` over `chunk_sentence_spans`."""
    rows = []
    for chunk, vectors in zip(chunks, pooled):
        texts, _ = chunk_sentence_spans(chunk.text, chunk.embedding_text())
        rows.extend((text, chunk.chunk_id, v) for text, v in zip(texts, vectors) if v is not None)
    return SentenceTable.from_rows(rows)


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
