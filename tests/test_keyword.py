"""BM25 search with MaxScore pruning returns exactly what scoring every posting returns."""

from __future__ import annotations

import numpy as np

from corpus.text import tokenize
from index.keyword import KeywordIndex


def brute_force(kw: KeywordIndex, query: str, k: int, mask=None) -> list[tuple[str, float]]:
    data, indices = kw._scores["data"], kw._scores["indices"]
    scores = np.zeros(kw.size, dtype=np.float32)
    if mask is not None:
        scores[~mask] = -np.inf
    spans = [s for s in (kw._postings(t) for t in tokenize(query)) if s]
    for start, end in sorted(spans, key=lambda s: s[1] - s[0]):  # search's order: float sums then agree to the bit
        scores[indices[start:end]] += data[start:end]
    rows = np.flatnonzero(scores > 0)
    rows = rows[np.lexsort((rows, -scores[rows]))][:k]
    return [(kw.id_of(i), float(scores[i])) for i in rows]


def test_pruned_search_is_exact_with_common_and_rare_terms_and_scopes(tmp_path):
    rng = np.random.default_rng(7)
    vocab = [f"term{i}x" for i in range(3000)]
    weights = 1 / np.arange(1, len(vocab) + 1)  # Zipf: a few words in most passages, most words rare
    weights /= weights.sum()
    n = 6000
    texts = [" ".join(rng.choice(vocab, size=rng.integers(8, 60), p=weights)) for _ in range(n)]
    docs = [f"doc{i // 20}" for i in range(n)]
    collections = [f"col{i // 1000}" for i in range(n)]
    KeywordIndex.build(tmp_path / "kw", [f"c{i}" for i in range(n)], texts, docs, collections)
    kw = KeywordIndex.load(tmp_path / "kw")
    queries = [" ".join(rng.choice(vocab[:40], 3)) + " " + " ".join(rng.choice(vocab, rng.integers(1, 10))) for _ in range(60)]
    scopes = [None, kw.mask({"doc3", "doc250"}, set(), set()), kw.mask(set(), {"col2", "col4"}, {"c4001"})]
    for q in queries:
        for mask in scopes:
            for k in (1, 10, 100):
                got, want = kw.search(q, k, mask), brute_force(kw, q, k, mask)
                assert [c for c, _ in got] == [c for c, _ in want], q
                assert np.allclose([s for _, s in got], [s for _, s in want], rtol=1e-5)
    assert kw.pruned > 100  # the pruning path ran, not only the plain one
