"""Checks that each answer sentence is supported by the passages it cites.

The offline check combines two kinds of evidence for a (sentence, passage) pair:
- lexical: the share of the sentence's content words (stemmed, idf-weighted)
  that the passage contains, and whether the sentence is a verbatim quote;
- semantic: the cosine similarity between the sentence and the passage's
  closest sentence (MiniLM).
It catches citations to the wrong passage, invented numbers or names, and
sentences with no citation. It cannot tell negation or a reversed claim ("must"
vs "must not") from the original when the words overlap: that needs an NLI or
LLM judge, which plugs in through the `Support` protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from corpus.records import Citation, Sentence
from corpus.settings import CheckSettings
from corpus.text import normalise, sentence_spans, tokenize
from index.sentences import SentenceVectors

CITATION = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d[\d,.]*")


class Support(Protocol):
    """Scores how well `passage` supports `claim`, from 0 to 1."""

    def support(self, claim: str, passage: str) -> float: ...


@dataclass
class OfflineSupport:
    """Lexical + embedding support score; `embedder` may be None for lexical only."""

    embedder: object | None = None
    idf: object | None = None  # callable term -> weight
    sentences: SentenceVectors | None = None  # passage sentences' vectors, stored at ingest
    settings: CheckSettings = CheckSettings()

    def __post_init__(self):
        if self.sentences is None and self.embedder is not None:
            self.sentences = SentenceVectors(self.embedder)

    def support(self, claim: str, passage: str) -> float:
        if normalise(CITATION.sub("", claim)).strip(" -•") in normalise(passage):
            return 1.0
        claim_terms = set(tokenize(claim))
        if not claim_terms:
            return 0.0
        passage_terms = set(tokenize(passage))
        weight = self.idf or (lambda term: 1.0)
        total = sum(weight(t) for t in claim_terms)
        lexical = sum(weight(t) for t in claim_terms & passage_terms) / total if total else 0.0
        # a number in the claim that the passage does not contain is a strong sign of invention
        numbers = set(_NUMBER.findall(claim)) - set(_NUMBER.findall(passage))
        if numbers:
            lexical *= self.settings.number_penalty
        semantic = lexical
        if self.embedder is not None:
            sentences = [passage[s:e] for s, e in sentence_spans(passage)] or [passage]
            vectors = self.sentences.vectors(sentences[: self.settings.passage_sentences])
            semantic = float(np.max(vectors @ self.embedder.embed_query(claim)))
        share = self.settings.semantic_share
        return round((1 - share) * lexical + share * semantic, 3)


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """An answer's sentences with the [n] numbers each carries (markers stay in the text)."""
    out = []
    for line in text.splitlines():
        for s, e in sentence_spans(line):
            sentence = line[s:e]
            numbers = [int(n) for n in CITATION.findall(sentence)]
            if CITATION.sub("", sentence).strip(" -•*:") or numbers:
                out.append((sentence, numbers))
    # a citation marker that ended up alone belongs to the sentence before it
    merged: list[tuple[str, list[int]]] = []
    for sentence, numbers in out:
        if merged and not CITATION.sub("", sentence).strip(" -•*:.") and numbers:
            merged[-1] = (merged[-1][0] + " " + sentence, merged[-1][1] + numbers)
        else:
            merged.append((sentence, numbers))
    return merged


def verify(
    sentences: list[tuple[str, list[int]]], citations: dict[int, Citation], support: Support,
    threshold: float = CheckSettings.support_threshold,
) -> list[Sentence]:
    """Score each sentence against each passage it cites; keep only supporting citations.

    A citation number with no passage, or whose passage does not support the
    sentence, is dropped from that sentence. A sentence left with no supporting
    citation is marked unsupported (support = the best score seen).
    """
    checked = []
    for text, numbers in sentences:
        claim = CITATION.sub("", text).strip()
        kept, best = [], 0.0
        for n in dict.fromkeys(numbers):
            citation = citations.get(n)
            if citation is None:
                continue
            score = support.support(claim, citation.text)
            best = max(best, score)
            if score >= threshold:
                kept.append(n)
        checked.append(Sentence(text=claim, citations=kept, supported=bool(kept), support=round(best, 3)))
    return checked


def renumber(sentences: list[Sentence], citations: dict[int, Citation]) -> tuple[list[Sentence], list[Citation]]:
    """Number citations 1..m in order of first use; drop citations no sentence uses."""
    mapping: dict[int, int] = {}
    for sentence in sentences:
        for n in sentence.citations:
            mapping.setdefault(n, len(mapping) + 1)
    out_citations = [replace(citations[old], n=new) for old, new in mapping.items()]
    out_sentences = [
        Sentence(s.text, [mapping[n] for n in s.citations], s.supported, s.support) for s in sentences
    ]
    return out_sentences, out_citations


def render(sentences: list[Sentence], mark_unsupported: bool = False) -> str:
    """Answer text: each supported sentence followed by its [n] markers.

    Unsupported sentences are left out, or kept with an [unsupported] mark.
    """
    parts = []
    for s in sentences:
        if s.supported:
            parts.append(s.text + "".join(f" [{n}]" for n in s.citations))
        elif mark_unsupported:
            parts.append(f"{s.text} [unsupported]")
    return " ".join(parts)
