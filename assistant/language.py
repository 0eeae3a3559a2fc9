"""Questions in the language of the documents: Welsh questions answered from the Welsh guidance, in Welsh.

The trained judge (assistant/judge/) reads English only: asked about a Welsh
question it refuses, as it was trained to. So a Welsh question takes a path of
its own (assistant/factory.py builds it): the hybrid search over the Welsh
documents, the offline answerer's own scores, and refusals by the rules and
the similarity floor, all in a Welsh frame (assistant/frame.py).

Passages are looked for in the question's language first (`LanguageFirst`).
all-MiniLM-L6-v2 puts any Welsh text near any other, so a Welsh question finds
Welsh passages "close" whether or not they answer it; what tells is whether
they mention what it asks about (corpus/language.py `coverage`). When the
Welsh passages hold too little of the question, the English guidance is
searched instead, and an answer from it says so in Welsh and quotes it in
English (the Welsh Language Standards do not ask for text the body did not
produce to be translated). English questions keep the English path over
every document: the judge has not quoted a Welsh passage for one on any
eval set.

A document and its edition in the other language are a pair (sources.toml's
`pair`); `with_editions` gives each citation of one the same place in the
other, by the order of their sections.
"""

from __future__ import annotations

from dataclasses import replace

from corpus.language import ENGLISH, coverage
from corpus.records import Citation, Passage, Scope


def language_of(entry) -> str:
    """A catalog entry's language ("en" for documents ingested before languages were recorded)."""
    return entry.provenance.language or ENGLISH


class LanguageFirst:
    """A Searcher (assistant/service.py) that looks in `language`'s documents first.

    With `min_coverage`, those passages are kept only when they hold that share of the question's words;
    otherwise (or when the scope has no document in `language`) the other documents in scope are searched.
    Without it, the documents in `language` are searched whenever the scope holds any. With it, each passage
    found carries `signals["coverage"]`.
    """

    def __init__(self, searcher, language: str, min_coverage: float | None = None):
        self.searcher = searcher
        self.language = language
        self.min_coverage = min_coverage
        self.settings = getattr(searcher, "settings", None)  # the judge's reranker reads top_k from it

    def catalog(self):
        return self.searcher.catalog()

    def search(self, query: str, k: int | None = None, scope: Scope = Scope()) -> list[Passage]:
        documents = self.searcher.catalog().documents
        collections = {e.collection for e in documents.values()}
        if scope.doc_ids - documents.keys() or scope.collections - collections:
            return self.searcher.search(query, k, scope)  # an unknown name: the searcher says which, in one line
        chosen = [d for d, e in documents.items() if (not scope.doc_ids or d in scope.doc_ids)
                  and (not scope.collections or e.collection in scope.collections)]
        own = frozenset(d for d in chosen if language_of(documents[d]) == self.language)
        other = frozenset(chosen) - own
        if not other:
            return self._marked(query, self.searcher.search(query, k, scope))
        if own:
            found = self._marked(query, self.searcher.search(query, k, Scope(doc_ids=own)))
            if self.min_coverage is None or (found and found[0].signals["coverage"] >= self.min_coverage):
                return found
        return self._marked(query, self.searcher.search(query, k, Scope(doc_ids=other)))

    def _marked(self, query: str, passages: list[Passage]) -> list[Passage]:
        if self.min_coverage is None:
            return passages
        share = round(coverage(query, [f"{p.section}\n{p.text}" for p in passages]), 4)
        return [replace(p, signals={**p.signals, "coverage": share}) for p in passages]


def with_editions(citations: list[Citation], documents: dict) -> list[Citation]:
    """The citations, each of a document that has a pair in `documents` (the catalog's) given that edition:
    the section that stands in the same place in the other language (by the order of the two documents'
    sections, when they have as many), and the page it starts on."""
    out = []
    for c in citations:
        entry = documents.get(c.doc_id)
        pair = _pair(c.doc_id, entry, documents) if entry is not None else None
        if pair is None:
            out.append(c)
            continue
        other = documents[pair]
        section, page = "", None
        mine = [s for s, _ in entry.outline]
        if c.section in mine and len(mine) == len(other.outline):
            section, page = other.outline[mine.index(c.section)]
        out.append(replace(c, other_language={"doc_id": pair, "language": language_of(other), "title": other.title,
                                              "url": other.provenance.url, "section": section, "page": page}))
    return out


def _pair(doc_id: str, entry, documents: dict) -> str | None:
    """The id of the document's other-language edition in the index: the one it names, or one naming it."""
    if entry.provenance.pair in documents and entry.provenance.pair != doc_id:
        return entry.provenance.pair
    return next((d for d, e in documents.items() if e.provenance.pair == doc_id and d != doc_id), None)
