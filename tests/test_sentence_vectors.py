"""Sentence vectors stored at ingest: right sentences, kept in step with the index, used by answers."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.factory import build_assistant
from ingest.chunker import Chunker
from index.update import update
from corpus.text import sentences
from index.catalog import load_catalog, save_catalog
from index.sentences import SentenceVectors, sentence_key


def run(paths, index, embedder):
    return update(index, [Path(p) for p in paths], Chunker(count_tokens=embedder.count_tokens))


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


def test_a_store_of_the_previous_layout_is_read_and_replaced(small_corpus, tmp_path, make_index, embedder):
    """Stores written before they were streamed grouped rows by sorted chunk id, with one start more than chunks."""
    data = tmp_path / "data"
    index = make_index(data)
    run([small_corpus], index, embedder)
    catalog = load_catalog(data)
    store, folder = index.sentences(), data / catalog.sentences_file
    counts = Counter(store.row_keys().tolist())  # a sentence in two passages has two rows: either may be found
    texts = [s for p in index.passages(sorted(catalog.chunk_ids())) for s in sentences(p.text)
             if counts[sentence_key(s)] == 1][:20]
    before = SentenceVectors(embedder, index.sentences).vectors(texts)
    order = np.argsort(np.asarray(store.chunk_ids))
    rows = np.concatenate([np.arange(store.starts[i], store.stops[i]) for i in order])
    keys = store.row_keys()[rows]
    key_order = np.argsort(keys, kind="stable")
    old_layout = {"vectors": np.asarray(store.vectors)[rows], "chunk_ids": np.asarray(store.chunk_ids)[order],
                  "starts": np.r_[0, np.cumsum((store.stops - store.starts)[order])], "keys": keys[key_order],
                  "key_rows": key_order}
    for name, array in old_layout.items():
        np.save(folder / f"{name}.npy", array)
    (folder / "stops.npy").unlink()
    old = make_index(data)
    reader = SentenceVectors(embedder, old.sentences)
    assert np.allclose(reader.vectors(texts), before) and reader.embedded == 0
    clauses = small_corpus / "guide/clauses.md"
    clauses.write_text(clauses.read_text() + "\n\nA new paragraph about exit plans and data return.\n", encoding="utf-8")
    run([small_corpus], old, embedder)
    assert (data / load_catalog(data).sentences_file / "stops.npy").exists()
    assert set(old.sentences().keys.tolist()) == live_sentences(old)
