"""A synthetic corpus of any size for the scale benchmark: procurement-like text and realistic vectors.

Text recombines the sentences and words of the gold and dev sets (questions,
reference answers, key points) with a long tail of invented names, so BM25
sees a real vocabulary with Zipf-like frequencies; no corpus document is
copied. Vectors are real MiniLM vectors of a few thousand generated "base"
passages, mixed and jittered: passage i takes its words from bases a and b and
its vector is normalise(0.75 v_a + 0.25 v_b + noise), so text and vector agree
the way they do in a real index. Everything is seeded: the same size gives the
same corpus on every machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.records import Chunk, DocumentEntry, Provenance, chunk_id
from evals.cases import DEV, GOLD, load_cases

SEED = 20261122
BASES = 4096  # passages embedded for real; every synthetic vector is a mixture of these
COLLECTIONS = ["Buying AI at scale", "Public participation", "Contract clauses", "Data and privacy",
               "Risk and assurance", "Market engagement", "Local government", "Health procurement"]
_SENTENCE = re.compile(r"[^.?!]+[.?!]?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def questions() -> list[str]:
    """The gold and dev questions: the queries every scale measurement asks."""
    return [c.question for c in load_cases(GOLD) + load_cases(DEV)]


@dataclass
class Vocabulary:
    sentences: list[list[str]]  # word lists of real-looking sentences
    words: list[str]  # head vocabulary, most frequent first
    weights: np.ndarray  # sampling probability of each head word
    tail: list[str]  # invented names and codes: the long tail of a large corpus
    headings: list[str]


def vocabulary(seed: int = SEED) -> Vocabulary:
    """Sentences, words and headings from the gold and dev sets, plus a seeded long tail."""
    cases = load_cases(GOLD) + load_cases(DEV)
    sentences, counts = [], {}
    for case in cases:
        for text in [case.question, case.reference_answer, *case.key_points]:
            for s in _SENTENCE.findall(text):
                words = _WORD.findall(s)
                if len(words) >= 3:
                    sentences.append(words)
                for w in words:
                    counts[w.lower()] = counts.get(w.lower(), 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))
    weights = np.array([counts[w] for w in words], dtype=np.float64)
    rng = np.random.default_rng(seed)
    syllables = ["bar", "ven", "tor", "lis", "mar", "quen", "dal", "rho", "sil", "kan", "tre", "vo", "mel", "dun",
                 "cal", "est", "ri", "zan", "pol", "gar", "nix", "or", "lum", "fen", "hal", "wick", "ton", "shire"]
    tail = sorted({"".join(rng.choice(syllables, size=rng.integers(2, 4))) for _ in range(40_000)})
    tail += [f"{p}-{n}" for p in ("rfq", "lot", "itt", "dps", "g-cloud") for n in range(1000, 3000)]
    headings = sorted({" ".join(w.capitalize() if i == 0 else w for i, w in enumerate(kp.split()[:6]))
                       for c in cases for kp in c.key_points if len(kp.split()) >= 2})
    return Vocabulary(sentences, words, weights / weights.sum(), tail, headings)


class SyntheticCorpus:
    """Deterministic passages and vectors; `bases()` are the texts to embed once."""

    def __init__(self, seed: int = SEED, bases: int = BASES):
        self.seed = seed
        self.n_bases = bases
        self.vocab = vocabulary(seed)
        rng = np.random.default_rng(seed + 1)
        self._base_sentences = [[self._sentence(rng) for _ in range(10)] for _ in range(bases)]

    def _sentence(self, rng: np.random.Generator) -> str:
        """A gold-set sentence with a quarter of its words swapped for vocabulary words, one maybe for a name."""
        words = list(self.vocab.sentences[rng.integers(len(self.vocab.sentences))])
        swap = rng.random(len(words)) < 0.25
        picks = rng.choice(len(self.vocab.words), size=int(swap.sum()), p=self.vocab.weights)
        for i, j in zip(np.flatnonzero(swap), picks):
            words[i] = self.vocab.words[j]
        if rng.random() < 0.5:  # Zipf over the tail: a few names are common, most are rare
            k = min(int(rng.zipf(1.3)) - 1, len(self.vocab.tail) - 1)
            words.insert(int(rng.integers(len(words) + 1)), self.vocab.tail[(k * 7919) % len(self.vocab.tail)])
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def bases(self) -> list[str]:
        """The base passages whose real MiniLM vectors every synthetic vector mixes."""
        return [" ".join(s) for s in self._base_sentences]

    def vectors(self, n: int, base_vectors: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """n normalised float32 vectors: 0.75 base a + 0.25 base b + noise, a and b as in `chunks`."""
        a, b = self._mix(n)
        out = np.empty((n, base_vectors.shape[1]), dtype=np.float32) if out is None else out
        rng = np.random.default_rng(self.seed + 3)
        for i in range(0, n, 50_000):
            j = slice(i, min(n, i + 50_000))
            v = 0.75 * base_vectors[a[j]] + 0.25 * base_vectors[b[j]]
            v += rng.standard_normal(v.shape, dtype=np.float32) * 0.02
            out[j] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out

    def _mix(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed + 2)
        return rng.integers(self.n_bases, size=n), rng.integers(self.n_bases, size=n)

    def chunks(self, n: int) -> Iterator[tuple[DocumentEntry, list[Chunk]]]:
        """Documents of 5 to 40 passages each, n passages in all, with what the catalog records of them."""
        a, b = self._mix(n)
        rng = np.random.default_rng(self.seed + 4)
        done, number = 0, 0
        while done < n:
            size = min(int(rng.integers(5, 41)), n - done)
            collection = COLLECTIONS[number % len(COLLECTIONS)]
            doc_id = f"synthetic/{collection.lower().replace(' ', '-')}/doc-{number:06d}.md"
            title = self.vocab.headings[int(rng.integers(len(self.vocab.headings)))]
            provenance = Provenance(title=title, collection=collection, publisher=f"{collection} Unit",
                                    url=f"https://example.org/{doc_id}", license="CC BY 4.0")
            entry = DocumentEntry(doc_id=doc_id, path=f"/synthetic/{doc_id}", root="/synthetic",
                                  sha256=f"{number:064x}", kind="markdown", provenance=provenance)
            chunks, offset, section = [], 0, title
            for i in range(done, done + size):
                if rng.random() < 0.35:
                    section = f"{title} > {self.vocab.headings[int(rng.integers(len(self.vocab.headings)))]}"
                own = self._base_sentences[a[i]]
                keep = sorted(rng.choice(10, size=6, replace=False))
                other = self._base_sentences[b[i]]
                text = " ".join([own[k] for k in keep] + [other[int(k)] for k in rng.integers(10, size=2)])
                gap = "\n\n" if chunks else ""
                start = offset + len(gap)
                chunks.append(Chunk(chunk_id=chunk_id(doc_id, section, text, i), doc_id=doc_id, text=text,
                                    section=section, start=start, end=start + len(text), provenance=provenance,
                                    gap=gap))
                offset = start + len(text)
            entry.chunk_ids = [c.chunk_id for c in chunks]
            yield entry, chunks
            done += size
            number += 1


def embed_bases(corpus: SyntheticCorpus, embedder, path: Path) -> np.ndarray:
    """The base passages' real vectors, computed once and kept at `path` (.npy)."""
    if path.exists():
        return np.load(path)
    vectors = embedder.embed(corpus.bases())
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
