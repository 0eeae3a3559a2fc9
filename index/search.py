"""Hybrid search: dense (Chroma) and keyword (BM25) results fused, widened to whole sections.

`search_many` is the one code path; `search` wraps it. Each `Passage` carries
everything a citation needs: document, title, collection, section path, page,
URL, exact text and offsets.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from index.index import Index
from index.store import StoredPassage

Mode = Literal["hybrid", "dense", "keyword"]
EXACT_MAX = 1000  # a scope of at most this many passages is searched exactly, over its vectors fetched by id
OVERFETCH_MAX = 2000  # a larger one: at most this many unfiltered neighbours, those in scope kept


class IndexNotReady(RuntimeError):
    """There is no index yet, or it was built with another embedding model."""


@dataclass(frozen=True)
class Scope:
    """Restrict a search to some documents and/or collections (empty: everything)."""

    doc_ids: frozenset[str] = frozenset()
    collections: frozenset[str] = frozenset()

    @classmethod
    def of(cls, collections=None, doc_ids=None) -> "Scope":
        """A scope from user input: each argument a name, a list of names, or nothing."""

        def names(value) -> frozenset[str]:
            if not value:
                return frozenset()
            return frozenset([value] if isinstance(value, str) else (str(v) for v in value))

        return cls(doc_ids=names(doc_ids), collections=names(collections))

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
    """Finds passages for questions in an Index.

    Dense and keyword candidates are fused by z-scored relevance, which beat
    reciprocal-rank fusion on the dev set: the passage's cosine, plus its
    closest sentence's cosine (sentence vectors stored at ingest, weighted
    `sentence_weight`), plus BM25 (weighted `keyword_weight`). The best chunks are then widened into their section: up to
    `expand` neighbouring chunks of the same section join the passage ("small
    to big"), so a list split over two chunks comes back whole, and a section
    is returned once. Then up to `children` chunks of its own subsections that
    directly follow it join too, while the passage stays within `max_words`:
    a section's opening that leads into "Key roles include" comes back with
    the roles. That raised gold hit@5 0.705 -> 0.718, MRR 0.578 -> 0.591,
    cited evidence 0.615 -> 0.628 (dev hit@5 0.737 -> 0.789, MRR 0.506 ->
    0.568), passages 19 words longer on average; key points 0.391 -> 0.387
    (dev 0.545 -> 0.527). BM25 at weight 1.0 instead of 0.5, judged on the
    184 answerable questions of gold, dev and the four held-out sets: hit@5
    0.728 -> 0.766, MRR 0.589 -> 0.606, but answers no better (cited
    evidence 0.670 -> 0.665, key points 0.470 -> 0.473) and the chatbot-
    licence answer loses its "Key roles include" line: left at 0.5.
    """

    def __init__(
        self, index: Index, mode: Mode = "hybrid", candidates: int = 100, keyword_weight: float = 0.5,
        sentence_weight: float = 0.5, expand: int = 1, exact_max: int = EXACT_MAX, overfetch_max: int = OVERFETCH_MAX,
        children: int = 2, max_words: int = 400,
    ):
        self.index = index
        self.mode = mode
        self.candidates = candidates
        self.keyword_weight = keyword_weight
        self.sentence_weight = sentence_weight
        self.expand = expand
        self.children = children  # subsection chunks a section's passage may take in after it (see _run)
        self.max_words = max_words  # ... while the passage stays within this many words
        self.exact_max, self.overfetch_max = exact_max, overfetch_max  # how a scope is searched: see _dense
        self._scopes: tuple = (None, {})  # (catalog, {scope: its passage ids}) for _scope_ids

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

    def _candidates(self, query: str, scope: Scope):
        """{chunk id: fused score}, the records seen, cosine similarities, and per-retriever ranks."""
        not_live = self.index.not_live()
        records: dict[str, StoredPassage] = {}
        similarity: dict[str, float] = {}
        signals: dict[str, dict] = {}
        dense: dict[str, float] = {}
        keyword: dict[str, float] = {}
        if self.mode in ("hybrid", "dense"):
            vector = self.index.embedder.embed_query(query)
            for cid, distance in self._dense(vector, self.candidates + len(not_live), scope):
                if cid in not_live:
                    continue
                dense[cid] = similarity[cid] = 1.0 - distance
                signals.setdefault(cid, {})["dense_rank"] = len(dense)
        kw = self.index.keyword() if self.mode in ("hybrid", "keyword") else None
        if kw is not None:
            mask = kw.mask(set(scope.doc_ids), set(scope.collections), not_live)
            for cid, score in kw.search(query, self.candidates, mask):
                keyword[cid] = score
                signals.setdefault(cid, {}).update(keyword_rank=len(keyword), bm25=round(score, 3))
        sentence: dict[str, float] = {}
        if dense and self.sentence_weight and self.mode == "hybrid":
            sentence = self.index.sentence_similarity(vector, dense.keys() | keyword.keys())
            for r, cid in enumerate(sorted(sentence, key=lambda c: -sentence[c]), start=1):
                signals.setdefault(cid, {})["sentence_rank"] = r
        parts = [_zfuse(scores, weight) for scores, weight in
                 ((dense, 1.0), (sentence, self.sentence_weight), (keyword, self.keyword_weight)) if scores]
        floors = [_floor(part) for part in parts]
        fused = {
            cid: sum(part.get(cid, floor) for part, floor in zip(parts, floors))
            for cid in dense.keys() | keyword.keys()
        }
        return fused, records, similarity, signals

    def _dense(self, vector: np.ndarray, k: int, scope: Scope) -> list[tuple[str, float]]:
        """(chunk id, cosine distance) of the k nearest passages in scope, nearest first.

        Chroma's metadata filter costs time in proportion to the whole
        collection (125 ms for one document among 100k passages, over a second
        at 1M), so a scope avoids it where it can: a small one is searched
        exactly over its own vectors; a large share of the index by taking more
        unfiltered neighbours and keeping those in scope. Only a scope that is
        both large and a small share of the index is left to the filter.
        """
        if not scope.doc_ids and not scope.collections:
            return self.index.dense(vector, k)
        ids, inside = self._scope_ids(scope)
        if not ids:
            return []
        if len(ids) <= self.exact_max:
            found, vectors = self.index.store.vectors(ids)
            if not found:
                return []
            cosine = vectors @ vector / np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(vector), 1e-12)
            best = np.argsort(-cosine, kind="stable")[:k]
            return [(found[i], float(1.0 - cosine[i])) for i in best]
        total = len(self.index.positions())
        want = min(total, math.ceil(1.5 * k * total / len(ids)))
        if want <= self.overfetch_max:
            hits = [(cid, d) for cid, d in self.index.dense(vector, want) if cid in inside][:k]
            if len(hits) >= min(k, len(ids)):
                return hits
        return self.index.dense(vector, k, scope.where())

    def _scope_ids(self, scope: Scope) -> tuple[list[str], frozenset[str]]:
        """The live passages in a scope, listed and as a set (remembered per catalog)."""
        catalog = self.index.catalog()
        cache = self._scopes
        if cache[0] is not catalog:
            cache = self._scopes = (catalog, {})
        entry = cache[1].get(scope)
        if entry is None:
            docs = ([catalog.documents[d] for d in sorted(scope.doc_ids) if d in catalog.documents] if scope.doc_ids
                    else catalog.documents.values())
            ids = [cid for doc in docs if not scope.collections or doc.collection in scope.collections
                   for cid in doc.chunk_ids]
            if len(cache[1]) >= 64:
                cache[1].clear()
            entry = cache[1][scope] = (ids, frozenset(ids))
        return entry

    def _one(self, query: str, k: int, scope: Scope) -> list[Passage]:
        fused, records, similarity, signals = self._candidates(query, scope)
        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))
        catalog = self.index.catalog()
        position = self.index.positions()
        chosen: list[tuple[str, list[str], list[str]]] = []  # (best chunk id, its window, the passage's chunks)
        covered: set[str] = set()
        at = 0
        while len(chosen) < k and at < len(ranked):
            batch: list[tuple[str, list[str], list[str]]] = []  # (best, window, window with the chunks after it)
            while at < len(ranked) and len(chosen) + len(batch) < k:
                cid = ranked[at]
                at += 1
                if cid in covered or cid not in position:
                    continue
                doc_id, i = position[cid]
                ids = catalog.documents[doc_id].chunk_ids
                window = ids[max(0, i - self.expand) : i + self.expand + 1]
                ahead = ids[max(0, i - self.expand) : i + self.expand + 1 + self.children]
                batch.append((cid, window, ahead))
                covered.update(window)
            missing = list(dict.fromkeys(cid for _, _, ahead in batch for cid in ahead if cid not in records))
            for rec in self.index.passages(missing):
                records[rec.id] = rec
            taken = {c for _, _, run in chosen for c in run}
            for cid, window, ahead in batch:
                if cid in taken:  # already in an earlier passage, taken in as a subsection
                    continue
                run = self._run(cid, ahead, records)
                taken.update(run)
                covered.update(run)
                chosen.append((cid, window, run))
        return [
            self._passage(rank, best, run, records, fused, similarity, signals)
            for rank, (best, _, run) in enumerate(chosen, start=1)
        ]

    def _run(self, best: str, window: list[str], records) -> list[str]:
        """The chunks of the passage around `best`: the contiguous run of its section's chunks in the
        window, then (up to `children`) the chunks of its subsections that directly follow it, while
        the passage stays within `max_words` ("parent to child": a section's intro that ends on
        "Key roles include" comes back with the roles)."""
        section = records[best].metadata.get("section")
        at = window.index(best)
        lo = hi = at
        while lo > 0 and window[lo - 1] in records and records[window[lo - 1]].metadata.get("section") == section:
            lo -= 1
        while hi + 1 < len(window) and hi + 1 <= at + self.expand and window[hi + 1] in records \
                and records[window[hi + 1]].metadata.get("section") == section:
            hi += 1
        run = window[lo : hi + 1]
        if self.children and hi + 1 < len(window):
            words = sum(len(records[c].text.split()) for c in run)
            prefix = f"{section} > " if section else None
            for cid in window[hi + 1 : hi + 1 + self.children]:
                rec = records.get(cid)
                if prefix is None or rec is None or not rec.metadata.get("section", "").startswith(prefix):
                    break
                words += len(rec.text.split())
                if words > self.max_words:
                    break
                run.append(cid)
        return run

    def _passage(self, rank, best, run, records, fused, similarity, signals) -> Passage:
        meta = records[best].metadata
        text = records[run[0]].text
        for cid in run[1:]:
            text += records[cid].metadata.get("gap", "\n\n") + records[cid].text
        first, last = records[run[0]].metadata, records[run[-1]].metadata
        return Passage(
            rank=rank,
            chunk_id=best,
            doc_id=meta.get("doc_id", ""),
            title=meta.get("title", ""),
            collection=meta.get("collection", ""),
            section=meta.get("section", ""),
            url=meta.get("url", ""),
            page=first.get("page"),
            text=text,
            score=round(fused[best], 4),
            start=int(first.get("start", 0)),
            end=int(last.get("end", 0)),
            publisher=meta.get("publisher", ""),
            license=meta.get("license", ""),
            similarity=round(similarity[best], 4) if best in similarity else None,
            signals={**signals.get(best, {}), "chunks": run},
        )


def _zfuse(scores: dict[str, float], weight: float) -> dict[str, float]:
    """Z-score a retriever's candidate scores and weight them."""
    values = list(scores.values())
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    return {cid: weight * (v - mean) / sd for cid, v in scores.items()}


def _floor(fused: dict[str, float]) -> float:
    """What a chunk missing from one retriever's candidates gets from it: below all of them."""
    return min(fused.values()) if fused else 0.0
