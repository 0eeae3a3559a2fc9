"""A BM25 keyword index over the live passages (bm25s, memory-mapped), saved beside Chroma."""

from __future__ import annotations

import json
import math
from array import array
from pathlib import Path

import numpy as np

from corpus.text import tokenize

def keyword_text(title: str, section: str, text: str) -> str:
    """What BM25 reads for a passage: its heading path and its text."""
    return f"{section or title}\n{text}"


class KeywordIndex:
    """BM25 scores over passages; `id_of(i)` is the chunk id of row i.

    Scoring reads the memory-mapped BM25 matrix (one column of postings per
    term) and touches only the rows a query's terms occur in, plus two
    vectorised passes over a float32 array of one score per passage; nothing
    per query is a Python loop over the passages. Rows map to documents by an
    int32 code, so scoping to documents or collections is a table lookup.
    """

    def __init__(self, retriever, ids, doc_codes: np.ndarray, docs: list[str], doc_collections: list[str]):
        self._retriever = retriever
        # plain ndarray views of the memory maps: the same pages, without np.memmap's cost on every slice
        self._scores = {k: np.asarray(v) if isinstance(v, np.ndarray) else v for k, v in retriever.scores.items()}
        self._vocab = retriever.vocab_dict
        self._ids = ids  # row -> chunk id (a memory-mapped array)
        self._doc_codes = np.asarray(doc_codes, dtype=np.int32)
        self._docs = {doc: i for i, doc in enumerate(docs)}
        self._collections: dict[str, list[int]] = {}
        for i, collection in enumerate(doc_collections):
            self._collections.setdefault(collection, []).append(i)
        self._rows: dict[str, int] | None = None  # chunk id -> row, built only when rows must be excluded
        self._bounds: dict[tuple[int, int], float] = {}  # a term's postings -> its highest score (MaxScore)
        self.size = len(self._doc_codes)
        self.pruned = 0  # searches that MaxScore cut short (for tests and benchmarks)

    @classmethod
    def build(cls, folder: Path, ids: list[str], texts: list[str], doc_ids: list[str], collections: list[str]) -> None:
        import bm25s

        folder.mkdir(parents=True, exist_ok=True)
        docs: dict[str, int] = {}
        doc_collections: list[str] = []
        codes = np.empty(len(ids), dtype=np.int32)
        for row, (doc, collection) in enumerate(zip(doc_ids, collections)):
            if doc not in docs:
                docs[doc] = len(docs)
                doc_collections.append(collection)
            codes[row] = docs[doc]
        if texts:  # token ids per passage as compact int arrays: a million passages fit in a few hundred MB
            vocab: dict[str, int] = {}
            corpus = [array("i", [vocab.setdefault(tok, len(vocab)) for tok in tokenize(t) or ["_"]]) for t in texts]
            retriever = bm25s.BM25()
            retriever.index((corpus, vocab), show_progress=False)
            retriever.save(str(folder))
        np.save(folder / "ids.npy", np.array(ids, dtype=f"<U{max((len(i) for i in ids), default=1)}"))
        np.save(folder / "doc_codes.npy", codes)
        (folder / "rows.json").write_text(
            json.dumps({"format": 2, "docs": list(docs), "doc_collections": doc_collections}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex | None":
        import bm25s

        rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
        if rows.get("format") != 2:
            raise ValueError(f"{folder}: a keyword index of an unknown format; run procure-ai ingest again")
        ids = np.load(folder / "ids.npy", mmap_mode="r")
        codes = np.load(folder / "doc_codes.npy", mmap_mode="r")
        docs, doc_collections = rows["docs"], rows["doc_collections"]
        if not len(ids):
            return None
        retriever = bm25s.BM25.load(str(folder), mmap=True)
        return cls(retriever, ids, codes, docs, doc_collections)

    def id_of(self, row: int) -> str:
        return str(self._ids[row])

    def _postings(self, term: str) -> tuple[int, int] | None:
        token = self._vocab.get(term)
        if token is None:
            return None
        indptr = self._scores["indptr"]
        return int(indptr[token]), int(indptr[token + 1])

    def knows(self, term: str) -> bool:
        """Whether a stemmed term occurs in any passage."""
        return bool(self._postings(term))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over the passages (unseen terms count as rare)."""
        span = self._postings(term)
        df = span[1] - span[0] if span else 0
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with score > 0, among rows where `mask` is True.

        Exact, with MaxScore pruning. Terms are added rarest first. At the
        first long postings list, a threshold is set from real scores: the
        best 300 passages so far, their remaining terms looked up (binary
        search: each term's postings are sorted by row); the k-th best of
        those is at most the final k-th best. Once the most the remaining
        (common) terms could add is below it, a passage no rarer term matched
        cannot reach the top k; the remaining terms are added only to the
        passages that still can, a term at a time, dropping those that no
        longer can. Ties at the k-th score go to the earlier rows, so results
        are the same every run. tests/test_keyword.py checks it against scoring
        every posting; README "Scale" gives its speed at a million passages.
        """
        spans = sorted((s for s in (self._postings(t) for t in tokenize(query)) if s and s[1] > s[0]),
                       key=lambda s: s[1] - s[0])
        if not spans or k <= 0:
            return []
        data, indices = self._scores["data"], self._scores["indices"]
        rest = np.cumsum([self._most(s) for s in spans][::-1])[::-1]  # the most terms i.. can add to a passage
        scores = np.zeros(self.size, dtype=np.float32)
        if mask is not None:
            scores[~mask] = -np.inf  # never in the top k, whatever terms add
        rows = None  # the rows that can be in the top k, once pruning has found them
        for i, (start, end) in enumerate(spans):  # a term's postings name each row once: a plain scatter-add is exact
            if i and end - start > self.size // 16:  # a long list: must it be added in full?
                kth = self._threshold(scores, k, indices[spans[i - 1][0] : spans[i - 1][1]], spans[i:])
                if rest[i] < kth:  # a passage no rarer term matched cannot reach the top k
                    self.pruned += 1
                    rows = self._finish(np.flatnonzero(scores + rest[i] >= kth), scores, spans[i:], kth)
                    break
            scores[indices[start:end]] += data[start:end]
        rows = np.flatnonzero(scores > 0) if rows is None else rows[scores[rows] > 0]
        if len(rows) > k:  # the k best; of rows tied at the k-th score, the first rows (rows is sorted)
            best = scores[rows]
            kth = np.partition(best, len(best) - k)[len(best) - k]
            above = rows[best > kth]
            rows = np.concatenate([above, rows[best == kth][: k - len(above)]])
        rows = rows[np.lexsort((rows, -scores[rows]))]
        return [(self.id_of(i), float(scores[i])) for i in rows]

    def _most(self, span: tuple[int, int]) -> float:
        """The highest score a term (its postings' span) gives any passage."""
        if span not in self._bounds:
            self._bounds[span] = float(self._scores["data"][span[0] : span[1]].max())
        return self._bounds[span]

    def _threshold(self, scores: np.ndarray, k: int, seen: np.ndarray, spans, sample: int = 300) -> float:
        """A lower bound of the k-th best final score: the k-th best exact score (the remaining terms looked
        up) of the `sample` best rows so far among `seen` (one term's postings: distinct rows). Real scores
        of real rows, so never above the true k-th best; high from the start, as those rows already match
        the rare terms. -inf when there are fewer than k."""
        if len(seen) < k:
            return -np.inf
        some = scores[seen]
        n = min(len(seen), max(sample, k))
        top = np.sort(seen[np.argpartition(-some, n - 1)[:n]]) if n < len(seen) else np.sort(seen)
        exact = scores[top]  # a copy: fancy indexing
        self._add_for(top, exact, spans, into=np.arange(len(top)))
        return float(np.partition(exact, len(exact) - k)[len(exact) - k])

    def _finish(self, rows: np.ndarray, scores: np.ndarray, spans, kth: float) -> np.ndarray:
        """Add the remaining terms to the `rows` that can still reach the top k (rows is sorted), a term at a
        time, dropping after each the rows that can no longer reach `kth` with what is left; the rows left,
        with their exact scores (at least the k whose scores set kth)."""
        data, indices = self._scores["data"], self._scores["indices"]
        left = float(sum(self._most(span) for span in spans))
        for start, end in spans:
            left -= self._most((start, end))
            if len(rows) * 8 > end - start:  # many rows: one pass over the postings is cheaper than lookups
                scores[indices[start:end]] += data[start:end]  # other rows change too, staying below kth
            else:
                self._add_for(rows, scores, [(start, end)])
            rows = rows[scores[rows] + left >= kth]
        return rows

    def _add_for(self, rows: np.ndarray, scores: np.ndarray, spans, into: np.ndarray | None = None) -> None:
        """Add the terms' scores to `rows` (sorted) only, by binary search in each term's postings
        (into scores[into] instead, where given)."""
        if not len(rows):
            return
        into = rows if into is None else into
        data, indices = self._scores["data"], self._scores["indices"]
        keys = rows.astype(indices.dtype, copy=False)  # the postings' own type: else searchsorted copies them all
        for start, end in spans:
            postings = indices[start:end]
            at = np.minimum(np.searchsorted(postings, keys), end - start - 1)
            hit = postings[at] == rows
            scores[into[hit]] += data[start:end][at[hit]]

    def mask(self, doc_ids: set[str] | None = None, collections: set[str] | None = None, exclude: set[str] | None = None):
        """A row mask for a scope (documents, collections) minus excluded ids; None when unrestricted."""
        if not doc_ids and not collections and not exclude:
            return None
        allowed = np.ones(len(self._docs), dtype=bool)
        for wanted, codes in ((doc_ids, [self._docs[d] for d in doc_ids or () if d in self._docs]),
                              (collections, [i for c in collections or () for i in self._collections.get(c, [])])):
            if wanted:
                chosen = np.zeros(len(self._docs), dtype=bool)
                chosen[codes] = True
                allowed &= chosen
        keep = allowed[self._doc_codes]
        if exclude:
            if self._rows is None:
                self._rows = {self.id_of(i): i for i in range(self.size)}
            keep[[self._rows[cid] for cid in exclude if cid in self._rows]] = False
        return keep
