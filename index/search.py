"""Hybrid search: dense (Chroma) and keyword (BM25) results fused by reciprocal rank.

`search_many` is the one code path; `search` wraps it. Each `Passage` carries
everything a citation needs: document, title, collection, section path, page,
URL, exact text and offsets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from index.index import Index

Mode = Literal["hybrid", "dense", "keyword"]
RRF_K = 60


class IndexNotReady(RuntimeError):
    """There is no index yet, or it was built with another embedding model."""


@dataclass(frozen=True)
class Scope:
    """Restrict a search to some documents and/or collections (empty: everything)."""

    doc_ids: frozenset[str] = frozenset()
    collections: frozenset[str] = frozenset()

    def where(self) -> dict | None:
        clauses = []
        if self.doc_ids:
            clauses.append({"doc_id": {"$in": sorted(self.doc_ids)}})
        if self.collections:
            clauses.append({"collection": {"$in": sorted(self.collections)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass
class Passage:
    """A retrieved passage, ranked."""

    rank: int
    chunk_id: str
    doc_id: str
    title: str
    collection: str
    section: str
    url: str
    page: int | None
    text: str
    score: float
    start: int = 0
    end: int = 0
    publisher: str = ""
    license: str = ""
    similarity: float | None = None  # cosine similarity to the question, when dense search saw it
    signals: dict = field(default_factory=dict)  # ranks in each retriever, for evals and debugging

    def to_dict(self) -> dict:
        return asdict(self)


class Searcher:
    """Finds passages for questions in an Index."""

    def __init__(self, index: Index, mode: Mode = "hybrid", candidates: int = 30, keyword_weight: float = 1.0):
        self.index = index
        self.mode = mode
        self.candidates = candidates
        self.keyword_weight = keyword_weight

    def search(self, query: str, k: int = 5, scope: Scope = Scope()) -> list[Passage]:
        return self.search_many([query], k, scope)[0]

    def search_many(self, queries: list[str], k: int = 5, scope: Scope = Scope()) -> list[list[Passage]]:
        catalog = self.index.catalog()
        if not catalog.documents:
            raise IndexNotReady("the index is empty: run `procure-ai ingest FOLDER` first")
        if catalog.collection != self.index.collection:
            raise IndexNotReady(
                f"the index was built with the model {catalog.model!r}, not {self.index.embedder.name!r}: "
                "re-run `procure-ai ingest` with this model"
            )
        return [self._one(q, k, scope) for q in queries]

    def _one(self, query: str, k: int, scope: Scope) -> list[Passage]:
        not_live = self.index.not_live()
        fused: dict[str, float] = {}
        signals: dict[str, dict] = {}
        records: dict[str, object] = {}
        similarity: dict[str, float] = {}
        if self.mode in ("hybrid", "dense"):
            vector = self.index.embedder.embed_query(query)
            hits = self.index.dense(vector, self.candidates + len(not_live), scope.where())
            rank = 0
            for hit in hits:
                if hit.id in not_live:
                    continue
                rank += 1
                records[hit.id] = hit
                similarity[hit.id] = 1.0 - (hit.distance or 0.0)
                fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
                signals.setdefault(hit.id, {})["dense_rank"] = rank
        keyword = self.index.keyword() if self.mode in ("hybrid", "keyword") else None
        if keyword is not None:
            mask = keyword.mask(set(scope.doc_ids), set(scope.collections), not_live)
            for rank, (cid, score) in enumerate(keyword.search(query, self.candidates, mask), start=1):
                fused[cid] = fused.get(cid, 0.0) + self.keyword_weight / (RRF_K + rank)
                signals.setdefault(cid, {}).update(keyword_rank=rank, bm25=round(score, 3))
        best = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        missing = [cid for cid in best if cid not in records]
        for rec in self.index.passages(missing):
            records[rec.id] = rec
        out = []
        for cid in best:
            rec = records.get(cid)
            if rec is None:
                continue
            meta = rec.metadata
            out.append(
                Passage(
                    rank=len(out) + 1,
                    chunk_id=cid,
                    doc_id=meta.get("doc_id", ""),
                    title=meta.get("title", ""),
                    collection=meta.get("collection", ""),
                    section=meta.get("section", ""),
                    url=meta.get("url", ""),
                    page=meta.get("page"),
                    text=rec.text,
                    score=round(fused[cid], 6),
                    start=int(meta.get("start", 0)),
                    end=int(meta.get("end", 0)),
                    publisher=meta.get("publisher", ""),
                    license=meta.get("license", ""),
                    similarity=round(similarity[cid], 4) if cid in similarity else None,
                    signals=signals.get(cid, {}),
                )
            )
        return out
