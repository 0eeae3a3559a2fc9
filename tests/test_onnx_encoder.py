"""Questions embedded from the model's ONNX export: the same vectors as torch, and no torch in the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from index.embedder import Embedder

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "Who signs off on choosing the vendor?",
    "what happens to our data when the contract ends",
    "Prüfung der Datenqualität — données personnelles, ÀI procurement 🤖",
    "exit " * 400,  # over the model's 256 tokens: truncated as sentence-transformers truncates
    "",
]


def test_the_export_gives_torchs_vectors_batched_padded_and_truncated(tmp_path, embedder):
    exporting = Embedder(onnx_dir=tmp_path / "models")
    path = exporting.export_onnx()
    assert path is not None and path.parent == tmp_path / "models" and path.stat().st_size > 10_000_000
    assert exporting.export_onnx() == path and len(list((tmp_path / "models").iterdir())) == 1  # once
    reader = Embedder(onnx_dir=tmp_path / "models")
    assert reader.backend == "onnx"
    onnx = reader.embed(TEXTS)  # one padded batch
    torch = embedder.embed(TEXTS)
    assert onnx.shape == torch.shape == (len(TEXTS), 384) and onnx.dtype == np.float32
    assert np.abs(onnx - torch).max() < 1e-4
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1, atol=1e-5)
    assert np.abs(reader.embed_query(TEXTS[0]) - torch[0]).max() < 1e-4


def test_late_chunking_and_token_counts_agree_with_torch(tmp_path, embedder):
    """Ingest with an export in place (a re-ingest) embeds passages and their sentences without torch."""
    from index.sentences import chunk_sentence_spans

    Embedder(onnx_dir=tmp_path / "models").export_onnx()
    reader = Embedder(onnx_dir=tmp_path / "models")
    texts = ["Who to involve\nProcurement leads the tender. Legal checks the contract! Does IT sign off?",
             "Exit\n" + "The supplier returns our data. " * 60,  # truncated: late sentences have no tokens
             "Glossary\nÀI — l'intelligence artificielle; données."]
    spans = [chunk_sentence_spans(t.split("\n", 1)[1], t)[1] for t in texts]
    onnx_vectors, onnx_pooled = reader.embed_with_spans(texts, spans)
    torch_vectors, torch_pooled = embedder.embed_with_spans(texts, spans)
    assert reader.backend == "onnx" and np.abs(onnx_vectors - torch_vectors).max() < 1e-4
    for a, b in zip(onnx_pooled, torch_pooled):
        assert [v is None for v in a] == [v is None for v in b]
        assert all(np.abs(x - y).max() < 1e-4 for x, y in zip(a, b) if x is not None)
    assert any(v is None for v in onnx_pooled[1]) and all(v is not None for v in onnx_pooled[0])
    for text in [*texts, TEXTS[2], TEXTS[3], ""]:
        assert reader.count_tokens(text) == embedder.count_tokens(text)


def test_a_damaged_export_falls_back_to_torch(tmp_path, embedder):
    exporting = Embedder(onnx_dir=tmp_path / "models")
    exporting._onnx_file().parent.mkdir(parents=True)
    exporting._onnx_file().write_bytes(b"not a model")
    reader = Embedder(onnx_dir=tmp_path / "models")
    assert reader.backend == "torch"
    assert np.abs(reader.embed([TEXTS[0]]) - embedder.embed([TEXTS[0]])).max() < 1e-6


def test_after_ingest_a_fresh_ask_answers_without_loading_torch(small_corpus, tmp_path):
    data = tmp_path / "data"
    env_cmd = [sys.executable, "-m", "assistant.cli"]
    done = subprocess.run([*env_cmd, "ingest", str(small_corpus), "--data-dir", str(data)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(list((data / "models").glob("*.onnx"))) == 1
    probe = (
        "import sys, json\n"
        "from assistant.cli.main import main\n"
        "code = main(['ask', 'Who has to be involved before choosing the vendor?', '--data-dir', sys.argv[1], '--json'])\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'code': code}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(data)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    answer, probe_result = json.loads("\n".join(lines[:-1])), json.loads(lines[-1])
    assert probe_result == {"torch": False, "code": 0}
    assert not answer["refused"] and answer["citations"]
    # a later ingest of a changed file embeds with the export too
    clauses = small_corpus / "guide/clauses.md"
    clauses.write_text(clauses.read_text() + "\n\nThe supplier must return all data within 30 days.\n", encoding="utf-8")
    probe = (
        "import sys, json\n"
        "from assistant.cli.main import main\n"
        "code = main(['ingest', sys.argv[2], '--data-dir', sys.argv[1]])\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'code': code}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(data), str(small_corpus)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"torch": False, "code": 0}
    done = subprocess.run([*env_cmd, "ask", "How soon must the supplier return our data?", "--data-dir", str(data), "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    assert "30 days" in json.loads(done.stdout)["answer"]
