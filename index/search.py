"""Hybrid search: dense (Chroma) and keyword (BM25) results fused, widened to whole sections.

`search_many` is the one code path; `search` wraps it. Each `Passage` carries
everything a citation needs: document, title, collection, section path, page,
URL, exact text and offsets.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from corpus.records import Passage, Provenance, Scope
from corpus.settings import RetrievalSettings
from ingest.instructions import without_instructions
from index.catalog import Catalog
from index.index import Index
from index.store import StoredPassage, chunk_pages

log = logging.getLogger("procure_ai.search")


class IndexNotReady(RuntimeError):
    """There is no index yet, or it was built with another embedding model."""


class UnknownScope(ValueError):
    """A search limited to a document or collection the index does not hold; `field` is "doc" or "collection"."""

    def __init__(self, field: str, names: list[str]):
        self.field, self.names = field, names
        what = "document" if field == "doc" else "collection"
        super().__init__(f"no {what} {', '.join(map(repr, names))} in the index: "
                         "`procure-ai status` lists the documents by collection")


class Searcher:
    """Finds passages for questions in an Index (`settings` is the retrieval branch of the settings tree).

    Dense and keyword candidates are fused by z-scored relevance: the passage's
    cosine, plus its closest sentence's cosine (sentence vectors stored at
    ingest, weighted `sentence_weight`), plus BM25 (weighted `keyword_weight`).
    Z-scores put the three on one scale whatever their ranges, so a passage
    strong in one retriever and absent from another still competes. The best
    chunks are then widened into their section: up to `expand` neighbouring
    chunks of the same section join the passage ("small to big"), so a list
    split over two chunks comes back whole, and a section is returned once.
    Then up to `children` chunks of its own subsections that directly follow
    it join too, while the passage stays within `max_words`: a section's
    opening that leads into "Key roles include" comes back with the roles.
    """

    def __init__(self, index: Index, settings: RetrievalSettings = RetrievalSettings()):
        self.index = index
        self.settings = settings
        self.mode = settings.mode
        self._scopes: tuple = (None, {})  # (catalog, {scope: its passage ids}) for _scope_ids

    def catalog(self) -> Catalog:
        """The live catalog: what can be searched."""
        return self.index.catalog()

    def search(self, query: str, k: int | None = None, scope: Scope = Scope()) -> list[Passage]:
        """The k (default: top_k) best passages for one query."""
        return self.search_many([query], k, scope)[0]

    def search_many(self, queries: list[str], k: int | None = None, scope: Scope = Scope()) -> list[list[Passage]]:
        k = self.settings.top_k if k is None else k
        catalog = self.index.catalog()
        if not catalog.documents:
            raise IndexNotReady("the index is empty: run `procure-ai ingest FOLDER` first")
        if catalog.collection != self.index.collection:
            raise IndexNotReady(
                f"the index was built with the model {catalog.model!r}, not {self.index.embedder.name!r}: "
                "re-run `procure-ai ingest` with this model"
            )
        self._check_scope(scope, catalog)
        self.index.check_store()
        return [self._one(q, k, scope) for q in queries]

    @staticmethod
    def _check_scope(scope: Scope, catalog: Catalog) -> None:
        """Raise UnknownScope for a document or collection the catalog does not hold."""
        if unknown := sorted(scope.doc_ids - catalog.documents.keys()):
            raise UnknownScope("doc", unknown)
        if unknown := sorted(scope.collections - {d.collection for d in catalog.documents.values()}):
            raise UnknownScope("collection", unknown)

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
            for cid, distance in self._dense(vector, self.settings.candidates + len(not_live), scope):
                if cid in not_live:
                    continue
                dense[cid] = similarity[cid] = 1.0 - distance
                signals.setdefault(cid, {})["dense_rank"] = len(dense)
        kw = self.index.keyword() if self.mode in ("hybrid", "keyword") else None
        if kw is not None:
            mask = kw.mask(set(scope.doc_ids), set(scope.collections), not_live)
            for cid, score in kw.search(query, self.settings.candidates, mask):
                keyword[cid] = score
                signals.setdefault(cid, {}).update(keyword_rank=len(keyword), bm25=round(score, 3))
        sentence: dict[str, float] = {}
        if dense and self.settings.sentence_weight and self.mode == "hybrid":
            sentence = self.index.sentence_similarity(vector, dense.keys() | keyword.keys())
            for r, cid in enumerate(sorted(sentence, key=lambda c: -sentence[c]), start=1):
                signals.setdefault(cid, {})["sentence_rank"] = r
        parts = [_zfuse(scores, weight) for scores, weight in
                 ((dense, 1.0), (sentence, self.settings.sentence_weight), (keyword, self.settings.keyword_weight)) if scores]
        floors = [_floor(part) for part in parts]
        fused = {
            cid: sum(part.get(cid, floor) for part, floor in zip(parts, floors))
            for cid in dense.keys() | keyword.keys()
        }
        return fused, records, similarity, signals

    def _dense(self, vector: np.ndarray, k: int, scope: Scope) -> list[tuple[str, float]]:
        """(chunk id, cosine distance) of the k nearest passages in scope, nearest first.

        Chroma's metadata filter costs time in proportion to the whole
        collection, not to the scope, so a scope avoids it where it can: a small one is searched
        exactly over its own vectors; a large share of the index by taking more
        unfiltered neighbours and keeping those in scope. Only a scope that is
        both large and a small share of the index is left to the filter.
        """
        if not scope.doc_ids and not scope.collections:
            return self.index.dense(vector, k)
        ids, inside = self._scope_ids(scope)
        if not ids:
            return []
        if len(ids) <= self.settings.exact_max:
            found, vectors = self.index.store.vectors(ids)
            if not found:
                return []
            cosine = vectors @ vector / np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(vector), 1e-12)
            best = np.argsort(-cosine, kind="stable")[:k]
            return [(found[i], float(1.0 - cosine[i])) for i in best]
        total = len(self.index.positions())
        want = min(total, math.ceil(1.5 * k * total / len(ids)))
        if want <= self.settings.overfetch_max:
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
        lost: list[str] = []
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
                window = ids[max(0, i - self.settings.expand) : i + self.settings.expand + 1]
                ahead = ids[max(0, i - self.settings.expand) : i + self.settings.expand + 1 + self.settings.children]
                batch.append((cid, window, ahead))
                covered.add(cid)  # its neighbours only once its passage takes them in: one of another section is
                # a passage of its own ("Myth: open source is always safer" beside "Myth: ... more risky")
            missing = list(dict.fromkeys(cid for _, _, ahead in batch for cid in ahead if cid not in records))
            for rec in self.index.passages(missing):
                records[rec.id] = rec
            for cid in missing:
                if cid not in records:  # live in the catalog, gone from the store: skip it, say so, answer on
                    lost.append(cid)
                    log.warning("passage %s of %s is in the catalog but not in %s: skipped", cid,
                                position[cid][0] if cid in position else "?", self.index.where())
            taken = {c for _, _, run in chosen for c in run}
            for cid, window, ahead in batch:
                if cid not in records:
                    continue
                if cid in taken:  # already in an earlier passage, taken in as a subsection
                    continue
                run = self._run(cid, ahead, records)
                taken.update(run)
                covered.update(run)
                chosen.append((cid, window, run))
        if lost and not chosen:
            self.index.check_store(again=True)  # the store lost the index: say so in one line
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
        while hi + 1 < len(window) and hi + 1 <= at + self.settings.expand and window[hi + 1] in records \
                and records[window[hi + 1]].metadata.get("section") == section:
            hi += 1
        run = window[lo : hi + 1]
        if self.settings.children and hi + 1 < len(window):
            words = sum(len(records[c].text.split()) for c in run)
            prefix = f"{section} > " if section else None
            for cid in window[hi + 1 : hi + 1 + self.settings.children]:
                rec = records.get(cid)
                if prefix is None or rec is None or not rec.metadata.get("section", "").startswith(prefix):
                    break
                words += len(rec.text.split())
                if words > self.settings.max_words:
                    break
                run.append(cid)
        return run

    def _passage(self, rank, best, run, records, fused, similarity, signals) -> Passage:
        meta = records[best].metadata
        text, pages, starts = "", [], []
        for i, cid in enumerate(run):
            if i:
                text += records[cid].metadata.get("gap", "\n\n")
            for page, start in zip(*chunk_pages(records[cid].metadata)):
                if not pages or page != pages[-1]:
                    pages.append(page)
                    starts.append(len(text) + start)
            text += records[cid].text
        first, last = records[run[0]].metadata, records[run[-1]].metadata
        flagged = [line for cid in run for line in records[cid].metadata.get("instructions", "").split("\n") if line]
        if flagged:  # text addressed to an AI assistant is no guidance: no answerer reads it
            text = without_instructions(text, flagged)
        return Passage(
            rank=rank,
            chunk_id=best,
            doc_id=meta.get("doc_id", ""),
            section=meta.get("section", ""),
            page=first.get("page"),
            text=text,
            score=round(fused[best], 4),
            provenance=Provenance.from_dict(meta),
            start=int(first.get("start", 0)),
            end=int(last.get("end", 0)),
            similarity=round(similarity[best], 4) if best in similarity else None,
            signals={**signals.get(best, {}), "chunks": run},
            instructions=flagged,
            pages=tuple(pages),
            page_starts=tuple(starts),
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
