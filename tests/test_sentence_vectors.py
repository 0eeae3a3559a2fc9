"""Sentence vectors stored at ingest: right sentences, kept in step with the index, used by answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from assistant.factory import build_assistant
from ingest.chunker import Chunker
from ingest.pipeline import ingest
from ingest.sentences import sentences
from index.catalog import load_catalog, save_catalog
from index.sentences import SentenceVectors, sentence_key


def run(paths, index, embedder):
    return ingest([Path(p) for p in paths], index, Chunker(count_tokens=embedder.count_tokens))


def live_sentences(index) -> set[bytes]:
    keys = set()
    for passage in index.passages(sorted(index.catalog().chunk_ids())):
        keys.update(sentence_key(s) for s in sentences(passage.text))
    return keys


def test_every_live_sentence_has_a_vector_that_points_at_itself(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    run([small_corpus], index, embedder)
    store = index.sentences()
    assert store is not None and set(store.keys.tolist()) == live_sentences(index)
    assert store.chunk_set() == index.catalog().chunk_ids()
    # pooled over the right tokens: each stored vector is nearest to its own sentence embedded alone
    texts = sorted({s for p in index.passages(sorted(index.catalog().chunk_ids())) for s in sentences(p.text)})
    texts = [t for t in texts if len(t.split()) >= 4]
    alone = embedder.embed(texts)
    stored = SentenceVectors(embedder, index.sentences).vectors(texts)
    nearest = (stored @ alone.T).argmax(axis=1)
    assert np.mean(nearest == np.arange(len(texts))) >= 0.9


def test_the_table_follows_changed_removed_and_kept_documents(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    run([small_corpus], index, embedder)
    before = index.sentences()
    clauses = small_corpus / "guide/clauses.md"
    clauses.write_text(clauses.read_text().replace("exit strategy", "orderly exit plan"), encoding="utf-8")
    (small_corpus / "notes/meeting.txt").unlink()
    run([small_corpus], index, embedder)
    after = index.sentences()
    assert set(after.keys.tolist()) == live_sentences(index)
    assert not any(sentence_key(s) in set(after.keys.tolist()) for s in ["The steering group meets monthly to review the pilot's accuracy figures."])
    unchanged = sorted(before.chunk_set() & after.chunk_set())
    assert unchanged and all(
        np.array_equal(before.vectors[b], after.vectors[a])
        for (_, b), (_, a) in zip(before.chunk_rows(unchanged), after.chunk_rows(unchanged), strict=True)
    )
    assert sorted(p.name for p in (tmp_path / "data").glob("*sentences-*")) == [load_catalog(tmp_path / "data").sentences_file]


def test_an_index_without_sentence_vectors_gets_them_on_the_next_ingest(small_corpus, tmp_path, make_index, embedder):
    data = tmp_path / "data"
    index = make_index(data)
    run([small_corpus], index, embedder)
    catalog = load_catalog(data)
    shutil.rmtree(data / catalog.sentences_file)
    catalog.sentences_file = ""  # as an index built by an earlier version
    save_catalog(data, catalog)
    fresh = make_index(data)
    assert fresh.sentences() is None
    report = run([small_corpus], fresh, embedder)
    assert report.embedded_chunks == 0  # nothing re-stored in Chroma
    assert set(fresh.sentences().keys.tolist()) == live_sentences(fresh)


def test_answers_use_the_stored_vectors(small_corpus, tmp_path, make_index, embedder, settings):
    index = make_index(settings.data_dir)
    run([small_corpus], index, embedder)
    assistant = build_assistant(settings, index=index)
    answer = assistant.ask("Who has to be involved before choosing the vendor?")
    store = assistant.answerer.sentences
    assert not answer.refused and answer.citations
    assert store.stored_hits > 0 and store.embedded == 0
    assert json.dumps(answer.to_dict())  # the contract still serialises


def test_an_npz_table_of_an_earlier_version_is_read_and_replaced_by_a_store(small_corpus, tmp_path, make_index, embedder):
    data = tmp_path / "data"
    index = make_index(data)
    run([small_corpus], index, embedder)
    catalog = load_catalog(data)
    table = index.sentences().table()
    np.savez(data / "sentences-1.npz", keys=table.keys, chunks=table.chunks.astype(str), vectors=table.vectors)
    shutil.rmtree(data / catalog.sentences_file)
    catalog.sentences_file = "sentences-1.npz"  # as written before the store was memory-mapped
    save_catalog(data, catalog)
    old = make_index(data)
    texts = [s for p in old.passages(sorted(catalog.chunk_ids())) for s in sentences(p.text)][:20]
    reader = SentenceVectors(embedder, old.sentences)
    assert np.allclose(reader.vectors(texts), SentenceVectors(embedder, index.sentences).vectors(texts))
    assert reader.embedded == 0
    clauses = small_corpus / "guide/clauses.md"
    clauses.write_text(clauses.read_text() + "\n\nA new paragraph about exit plans and data return.\n", encoding="utf-8")
    run([small_corpus], old, embedder)
    assert (data / load_catalog(data).sentences_file).is_dir()
    assert not (data / "sentences-1.npz").exists()
    assert set(old.sentences().keys.tolist()) == live_sentences(old)
