"""The offline answerer: the guidance's own sentences, chosen for the question, each with its [n].

Deterministic and fast: sentences of the retrieved passages are scored by the
idf-weighted share of the question's words they contain plus their passage's
retrieval rank; the best few are re-scored by embedding similarity to the
question (vectors stored at ingest, see index/sentences.py), picked without
near-repeats, grouped by source and put back in document order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.records import Answer, Citation, Sentence
from ingest.sentences import sentence_spans
from index.keyword import tokenize
from index.search import Passage
from index.sentences import SentenceVectors

_METADATA_LINE = re.compile(r"^\s*-?\s*(Who|What)\s*:", re.I)
# sections that point elsewhere (reading lists) rather than give guidance: their sentences answer last
_POINTERS = re.compile(r"\b(resources?|further reading|references|read more|useful links|bibliography)\b", re.I)


@dataclass
class _Candidate:
    passage: int
    start: int
    text: str
    terms: frozenset[str]
    score: float = 0.0
    weight: float = 1.0  # below 1 for sentences of reading lists


class ExtractiveAnswerer:
    """Composes answers from passage sentences. `idf` weights words; `embedder` (the question) and
    `sentences` (the passages' sentences) re-score candidates."""

    name = "extractive"

    def __init__(
        self, embedder=None, idf=None, max_sentences: int = 5, per_passage: int = 4, prefilter: int = 10,
        sentences: SentenceVectors | None = None,
    ):
        self.embedder = embedder
        self.idf = idf or (lambda term: 1.0)
        self.max_sentences = max_sentences
        self.per_passage = per_passage
        self.prefilter = prefilter
        self.rank_prior = 0.15  # how much a sentence gains from its passage ranking high
        self.sentences = sentences or (SentenceVectors(embedder) if embedder is not None else None)

    def candidates(self, question: str, passages: list[Passage]) -> list[_Candidate]:
        q_terms = set(tokenize(question))
        total = sum(self.idf(t) for t in q_terms) or 1.0
        out = []
        for i, p in enumerate(passages):
            weight = 0.5 if _POINTERS.search(p.section.split(" > ")[-1]) else 1.0
            for s, e in sentence_spans(p.text):
                text = p.text[s:e].strip()
                words = text.split()
                if len(words) < 5 or _METADATA_LINE.match(text) or text.endswith(":"):
                    continue
                terms = frozenset(tokenize(text))
                lexical = sum(self.idf(t) for t in q_terms & terms) / total
                out.append(_Candidate(i, s, text, terms, weight * (lexical + self.rank_prior / (i + 1)), weight))
        return out

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        candidates = sorted(self.candidates(question, passages), key=lambda c: -c.score)[: self.prefilter]
        if candidates and self.embedder is not None:
            q = self.embedder.embed_query(question)
            vectors = self.sentences.vectors([c.text for c in candidates])
            for c, v in zip(candidates, vectors):
                c.score = c.weight * 0.6 * float(v @ q) + 0.4 * c.score
            candidates.sort(key=lambda c: -c.score)
        chosen: list[_Candidate] = []
        per: dict[int, int] = {}
        best = candidates[0].score if candidates else 0.0
        for c in candidates:
            if len(chosen) == self.max_sentences or c.score < 0.6 * best:
                break
            if per.get(c.passage, 0) >= self.per_passage:
                continue
            if any(_jaccard(c.terms, o.terms) > 0.5 for o in chosen):
                continue
            chosen.append(c)
            per[c.passage] = per.get(c.passage, 0) + 1
        return compose(question, passages, chosen, self.name)


def compose(question: str, passages: list[Passage], chosen: list[_Candidate], answerer: str) -> Answer:
    """Group chosen sentences by passage (best first), in document order; number citations 1..m."""
    order: list[int] = []
    for c in chosen:
        if c.passage not in order:
            order.append(c.passage)
    citations: list[Citation] = []
    sentences: list[Sentence] = []
    blocks: list[str] = []
    for n, pi in enumerate(order, start=1):
        passage = passages[pi]
        mine = sorted((c for c in chosen if c.passage == pi), key=lambda c: c.start)
        citations.append(Citation.from_passage(n, passage, quote=" ".join(c.text for c in mine)))
        leaf = passage.section.split(" > ")[-1] if passage.section else passage.title
        label = passage.title if leaf == passage.title else f"{passage.title} › {leaf}"
        lines = [f"From *{label}*:"]
        for c in mine:
            text = c.text.lstrip("-• ").strip()
            sentences.append(Sentence(text=text, citations=[n], supported=True, support=1.0))
            lines.append(f"- {text} [{n}]")
        blocks.append("\n".join(lines))
    return Answer(
        question=question, answer="\n\n".join(blocks), refused=not sentences, citations=citations,
        retrieved=passages, sentences=sentences, answerer=answerer,
    )


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
