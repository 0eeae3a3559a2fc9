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
        "from assistant.cli import main\n"
        "code = main(['ask', 'Who has to be involved before choosing the vendor?', '--data-dir', sys.argv[1], '--json'])\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'code': code}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(data)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    answer, probe_result = json.loads("\n".join(lines[:-1])), json.loads(lines[-1])
    assert probe_result == {"torch": False, "code": 0}
    assert not answer["refused"] and answer["citations"]
