"""Sentence vectors for the answerer and the citation check, computed at ingest at no extra cost.

Answers compare the question with single sentences of the retrieved passages.
Embedding those sentences when the question comes cost about 50 ms a question.
Instead, ingest keeps what the model computes anyway for each passage, its
token vectors, and averages them over each sentence's tokens ("late
chunking"): no extra model pass, and each vector carries its passage's
context (on the gold set, key-point coverage rose from 0.319 to 0.339). A
question then needs only its own embedding.

`SentenceTable` is the stored form: one file per catalog generation, written
before the catalog commits (see ingest/pipeline.py), rows keyed by a hash of
the sentence's text and tagged with their chunk id so an incremental ingest
keeps the rows of live chunks. `SentenceVectors` is the reader: stored rows
first; a sentence not stored (one that straddles two chunks, an LLM's claim)
is embedded on its own and cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.document import Chunk
from index.catalog import write_atomic
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

    def save(self, path: Path) -> None:
        """Write atomically: readers see the old file or the new one."""
        write_atomic(path, lambda fh: np.savez(fh, keys=self.keys, chunks=self.chunks.astype(str), vectors=self.vectors),
                     binary=True)

    @classmethod
    def load(cls, path: Path) -> "SentenceTable":
        with np.load(path, allow_pickle=False) as data:
            return cls(data["keys"], data["chunks"], data["vectors"])


def table_for_chunks(chunks: list[Chunk], pooled: list[list]) -> SentenceTable:
    """Rows for chunks embedded with `Embedder.embed_with_spans` over `chunk_sentence_spans`."""
    rows = []
    for chunk, vectors in zip(chunks, pooled):
        texts, _ = chunk_sentence_spans(chunk.text, chunk.embedding_text())
        rows.extend((text, chunk.chunk_id, v) for text, v in zip(texts, vectors) if v is not None)
    return SentenceTable.from_rows(rows)


class SentenceVectors:
    """Vectors for sentences of passages: stored ones first, the rest embedded now and cached.

    `table` returns the live SentenceTable (or None); it is called per request,
    so a reader follows the catalog when an ingest commits a new one.
    """

    def __init__(self, embedder, table: Callable[[], SentenceTable | None] = lambda: None, cache_size: int = 8192):
        self.embedder = embedder
        self.table = table
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}
        self._table: SentenceTable | None = None
        self._rows: dict[bytes, int] = {}
        self.stored_hits = 0
        self.embedded = 0

    def _lookup(self) -> dict[bytes, int]:
        table = self.table()
        if table is not self._table:
            self._table = table
            self._rows = {k: i for i, k in enumerate(table.keys.tolist())} if table is not None else {}
        return self._rows

    def vectors(self, texts: list[str]) -> np.ndarray:
        """One normalised row per text."""
        rows = self._lookup()
        out: list[np.ndarray | None] = []
        missing: list[str] = []
        for text in texts:
            i = rows.get(sentence_key(text))
            if i is not None:
                out.append(self._table.vectors[i])
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
