"""The benchmarks run end to end on real components: many users on the HTTP API, and the scale harness."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evals.bench.load import run_load, served
from evals.bench.scale import build, build_server, parse_sizes, prepare, run_scale, save, table
from evals.bench.synthetic import SyntheticCorpus
from ingest.chunker import Chunker
from index.update import update
from index.index import Index
from corpus.records import Scope
from corpus.settings import RetrievalSettings
from index.search import Searcher
from index.sentences import chunk_sentence_spans, sentence_key

QUESTIONS = [
    "who signs off on choosing the vendor?",
    "what happens to our data when the contract ends?",
    "how do we avoid being locked in to one supplier?",
    "can we test the tool with real data before signing?",
]


def test_ten_users_at_once_all_get_cited_answers(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    update(index, [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    with served(tmp_path / "data", concurrency=4) as (url, _, log):
        result = run_load(url, QUESTIONS, users=10, seconds=5)
    assert result.errors == {}  # every reply was HTTP 200, JSON, an answer with citations
    assert result.refusals == 0 and result.answers >= 10
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_scale_builds_once_then_only_measures(tmp_path, embedder):
    """A tiny corpus through the whole harness, embedded and on a `chroma run` server; the build is then reused."""
    corpus, cache = SyntheticCorpus(bases=16), tmp_path / "cache"
    result = run_scale([300], cache, server=True, embedder=embedder, log=lambda _: None, corpus=corpus, questions=8)
    size = result["sizes"]["300"]
    assert size["build"]["documents"] > 1 and size["server_build"]["how"] == "through the server's HTTP API"
    for path in ("embedded", "server"):
        m = size[path]
        assert m["raw_ms"]["n"] == m["hybrid_ms"]["n"] == 16 and m["hybrid_with_embedding_ms"]["n"] == 8
        assert m["rss_mb"] > 0
    assert size["server"]["server_rss"]["rss_mb"] > 0 and size["numpy"]["raw_ms"]["n"] == 16
    # the sentence store: each passage's rows are its own sentences, near its vector
    store, vectors = Index(cache / "n300" / "data", embedder).sentences(), np.load(cache / "n300" / "vectors.npy")
    row_keys = store.row_keys()
    chunks = [c for _, part in corpus.chunks(300) for c in part]
    assert len(store) == size["build"]["sentences"] > 300
    for i in (0, 151, 299):
        [(_, rows)] = store.chunk_rows([chunks[i].chunk_id])
        texts, _ = chunk_sentence_spans(chunks[i].text, chunks[i].embedding_text())
        assert row_keys[rows].tolist() == [sentence_key(t) for t in texts]
        assert ((np.asarray(store.vectors[rows]) @ vectors.T).argmax(axis=1) == i).all()  # its own passage, of all 300
    built = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    base = prepare(cache, embedder, corpus)[1]
    assert build(300, cache, corpus, base) == size["build"] and build_server(300, cache, corpus) == size["server_build"]
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == built  # nothing rebuilt
    data, plot = save(result, tmp_path / "bench")
    assert json.loads(data.read_text())["sizes"]["300"]["passages"] == 300 and plot.stat().st_size > 10_000
    assert "| 300 | server |" in table(result)


def test_scale_sizes_are_parsed_or_refused():
    assert parse_sizes("10k, 100k,1M") == [10_000, 100_000, 1_000_000]
    for bad in ("", "ten", "5"):
        try:
            parse_sizes(bad)
        except ValueError as exc:
            assert "\n" not in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_a_scope_is_searched_without_chromas_filter_and_gives_its_answer(small_corpus, tmp_path, make_index, embedder):
    """Exact over the scope's vectors, over-fetching unfiltered neighbours, or Chroma's filter: same passages, in scope."""
    index = make_index(tmp_path / "data")
    update(index, [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    catalog = index.catalog()
    question = "who owns the data at the end of the contract?"
    scopes = [Scope(doc_ids=frozenset({"corpus/guide/clauses.md"})), Scope(collections=frozenset({"Test Guide"})),
              Scope(doc_ids=frozenset({"guide/who.md", "corpus/page.html"}), collections=frozenset({"Test Guide"}))]
    for scope in scopes:
        allowed = {cid for d, doc in catalog.documents.items() for cid in doc.chunk_ids
                   if (not scope.doc_ids or d in scope.doc_ids) and (not scope.collections or doc.collection in scope.collections)}
        nearest = index.dense(embedder.embed_query(question), 1, scope.where())[0][0]
        seen = []
        for exact_max, overfetch_max in ((1000, 2000), (0, 2000), (0, 0)):  # exact; over-fetch; Chroma's filter
            passages = Searcher(index, RetrievalSettings(mode="dense", exact_max=exact_max, overfetch_max=overfetch_max)).search(question, 5, scope)
            assert passages and {cid for p in passages for cid in p.signals["chunks"]} <= allowed
            assert passages[0].signals["dense_rank"] == 1 and nearest in passages[0].signals["chunks"]
            seen.append(([p.chunk_id for p in passages], [p.similarity for p in passages]))
        assert seen[0][0] == seen[1][0] == seen[2][0]
        assert seen[0][1] == pytest.approx(seen[2][1], abs=1e-3) == seen[1][1]
