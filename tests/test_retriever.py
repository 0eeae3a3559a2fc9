"""The tuned embedder: the shipped layers come from the data in the repository, lay over the bundled weights,
and find the evidence better than the bundled model on questions kept apart from its training."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from assistant.judge.pairs import data_hash
from assistant.judge.retriever import CARD, MODEL_DIR, _batches, positives
from corpus.text import normalise
from index.embedder import BASE_MODEL, TUNED, Embedder, EmbedderError

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "evals" / "train"


def test_the_shipped_embedder_was_tuned_on_the_data_in_the_repository():
    """Change the training data and this fails until `procure-ai train --only retriever` tunes it again."""
    card = json.loads((MODEL_DIR / CARD).read_text(encoding="utf-8"))
    assert card["data_sha256"] == data_hash(TRAIN)
    assert TUNED.stat().st_size == card["file_bytes"]
    before, after = card["validation_dense"]["untuned"], card["validation_dense"]["tuned"]
    assert after["recall@10"] > before["recall@10"] and after["mrr"] > before["mrr"]


def test_the_default_embedder_is_the_bundled_one_with_the_tuned_layers(embedder):
    base = Embedder(BASE_MODEL)
    question = "Who should we bring in before buying an off-the-shelf chatbot licence?"
    tuned, plain = embedder.embed([question])[0], base.embed([question])[0]
    assert abs(float(np.linalg.norm(tuned)) - 1.0) < 1e-5
    assert float(tuned @ plain) < 0.999  # other weights, other vectors
    assert embedder.name != base.name  # an index built with one is not searched with the other


def test_a_missing_tuned_file_is_one_clear_error(monkeypatch, tmp_path):
    import index.embedder as module

    monkeypatch.setattr(module, "TUNED", tmp_path / "tuned.safetensors")
    with pytest.raises(EmbedderError, match="tuned.safetensors is missing"):
        Embedder().embed(["anything"])


def test_an_index_names_the_tuned_layers_it_was_built_with(monkeypatch, tmp_path):
    """Tuned again, the embedder is another model: an index built with the old layers asks for a new ingest."""
    import index.embedder as module

    shipped = Embedder().name
    assert shipped.startswith("all-MiniLM-L6-v2 tuned ") and shipped != BASE_MODEL
    retrained = tmp_path / "tuned.safetensors"
    retrained.write_bytes(b"other weights")
    monkeypatch.setattr(module, "TUNED", retrained)
    assert Embedder().name != shipped and Embedder(shipped).tuned == retrained  # the recorded name still means it


def test_evidence_is_found_in_its_chunk_even_across_a_chunk_boundary():
    ids = ["a1", "a2", "b1"]
    texts = ["Roles. The procurement officer leads the process and", "signs off the vendor selection with legal advice.",
             "Contract clauses. The procurement officer leads the process and signs off the vendor selection."]
    where = {"a1": ("guide/roles.md", "Roles"), "a2": ("guide/roles.md", "Roles"), "b1": ("guide/clauses.md", "Clauses")}
    norm = [normalise(t) for t in texts]
    # the span is whole in b1, but its document is roles.md: the chunk holding most of its words there
    assert positives(["the procurement officer leads the process and signs"], ["guide/roles.md"], ids, norm, where) == [0]
    assert positives(["signs off the vendor selection"], ["guide/roles.md"], ids, norm, where) == [1]
    assert positives(["an unrelated sentence about lasagna"], ["guide/roles.md"], ids, norm, where) == []


def test_no_batch_holds_a_question_or_passage_twice():
    """A passage twice in a batch would be scored as a negative of itself."""
    rng = random.Random(1)
    train = [(f"q{i % 40}", i % 25, 25 + (i * 7) % 30) for i in range(200)]
    batches = _batches(train, 16, rng, epochs=2)
    assert sorted(i for b in batches for i in b) == sorted(list(range(200)) * 2)
    for batch in batches:
        questions = [train[i][0] for i in batch]
        passages = [p for i in batch for p in train[i][1:]]
        assert len(set(questions)) == len(questions)
        assert len(set(passages)) == len(passages)
