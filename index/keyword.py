"""A BM25 keyword index over the live passages (bm25s, memory-mapped), saved beside Chroma."""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def keyword_text(title: str, section: str, text: str) -> str:
    """What BM25 reads for a passage: its heading path and its text."""
    return f"{section or title}\n{text}"


def tokenize(text: str) -> list[str]:
    """Lower-case, drop English stop words, stem."""
    words = [w.replace("’", "'").split("'")[0] for w in _WORD.findall(text.lower())]
    stop = _stopwords()
    return _stemmer().stemWords([w for w in words if w and w not in stop])


class KeywordIndex:
    """BM25 scores over passages; `ids[i]` is the chunk id of row i."""

    def __init__(self, retriever, ids: list[str], doc_ids: list[str], collections: list[str], df: dict | None = None):
        self._retriever = retriever
        self._df = df or {}
        self.ids = ids
        self.doc_ids = np.array(doc_ids, dtype=object)
        self.collections = np.array(collections, dtype=object)
        self._row = {cid: i for i, cid in enumerate(ids)}
        self._vocab = set(retriever.vocab_dict)

    @classmethod
    def build(cls, folder: Path, ids: list[str], texts: list[str], doc_ids: list[str], collections: list[str]) -> None:
        import bm25s

        folder.mkdir(parents=True, exist_ok=True)
        retriever = bm25s.BM25()
        tokens = [tokenize(t) or ["_"] for t in texts]
        df: dict[str, int] = {}
        for toks in tokens:
            for tok in set(toks):
                df[tok] = df.get(tok, 0) + 1
        if texts:
            retriever.index(tokens, show_progress=False)
            retriever.save(str(folder))
        (folder / "rows.json").write_text(
            json.dumps({"ids": ids, "doc_ids": doc_ids, "collections": collections, "df": df}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex | None":
        import bm25s

        rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
        if not rows["ids"]:
            return None
        retriever = bm25s.BM25.load(str(folder), mmap=True)
        return cls(retriever, rows["ids"], rows["doc_ids"], rows["collections"], rows.get("df"))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over the passages (unseen terms count as rare)."""
        n = len(self.ids)
        return math.log(1 + (n - self._df.get(term, 0) + 0.5) / (self._df.get(term, 0) + 0.5))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with score > 0, among rows where `mask` is True."""
        terms = [t for t in tokenize(query) if t in self._vocab]
        if not terms:
            return []
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def mask(self, doc_ids: set[str] | None = None, collections: set[str] | None = None, exclude: set[str] | None = None):
        """A row mask for a scope (documents, collections) minus excluded ids; None when unrestricted."""
        if not doc_ids and not collections and not exclude:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if doc_ids:
            keep &= np.isin(self.doc_ids, list(doc_ids))
        if collections:
            keep &= np.isin(self.collections, list(collections))
        for cid in exclude or ():
            if cid in self._row:
                keep[self._row[cid]] = False
        return keep
