"""The embedding model run by onnxruntime: the same vectors without loading torch.

Answering a question needs one small embedding. Through sentence-transformers
that means importing torch, transformers and scikit-learn first, seconds
before a fresh `procure-ai ask` or `serve` can answer. Ingest, which loads the model anyway, exports it once to ONNX
(`export`, into DATA_DIR/models/); readers then embed questions with
onnxruntime and the model's own `tokenizer.json` (`OnnxEncoder`): well under
a second to load, vectors equal to torch's within 1e-6.
A later ingest embeds with it too (token vectors and offsets for the sentence
vectors, token counts for the chunker), so it never needs torch either.

Only models that are a BERT-style transformer, mean pooling and
normalisation (the bundled all-MiniLM-L6-v2, and most sentence-transformers
models) are exported; any other keeps the torch path.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def exportable(model_dir: Path) -> bool:
    """Whether the sentence-transformers folder is transformer + mean pooling + normalise, with a tokenizer.json."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text())]
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    return modules == ["Transformer", "Pooling", "Normalize"] and bool(mean_only) and (model_dir / "tokenizer.json").exists()


def onnx_path(cache_dir: Path, model_dir: Path, over: list[Path] = ()) -> Path:
    """Where the export of this model's weights lives: named by the weights' file names, sizes and times, those
    of the folder and any `over` them (the tuned layers)."""
    stamp = hashlib.sha256(str(model_dir.resolve()).encode())
    for weights in [*sorted([*model_dir.glob("*.safetensors"), *model_dir.glob("*.bin")]), *(p for p in over if p.exists())]:
        st = weights.stat()
        stamp.update(f"{weights.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return cache_dir / f"{model_dir.name}-{stamp.hexdigest()[:16]}.onnx"


def export(model, path: Path) -> Path:
    """Write the transformer of a loaded SentenceTransformer as ONNX (last hidden state), atomically."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["a question", "a longer second question to pad"], padding=True, return_tensors="pt")
    args = tuple(sample.get(name, torch.zeros_like(sample["input_ids"])) for name in INPUTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(model[0].auto_model.eval()), args, tmp, input_names=list(INPUTS),
                output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")},
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class OnnxEncoder:
    """Normalised mean-pooled vectors from an exported model; `max_tokens` truncates as sentence-transformers does."""

    def __init__(self, path: Path, model_dir: Path, max_tokens: int):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # no busy-waiting between runs: spinning worker threads take CPU from the search that follows each
        # question's embedding
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))  # whole texts, for counting
        self.counter.no_truncation()
        self.counter.no_padding()
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        pad = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_padding(pad_id=pad if pad is not None else 0)
        self.dimensions = int(self.session.get_outputs()[0].shape[-1])

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.encode(texts, batch_size)[0]

    def encode(self, texts: list[str], batch_size: int = 32) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Normalised text vectors, and per text its token vectors with their (start, end) character offsets."""
        vectors, tokens = [], []
        for i in range(0, len(texts), batch_size):
            v, t = self._batch(texts[i : i + batch_size])
            vectors.append(v)
            tokens.extend(t)
        return (np.concatenate(vectors) if vectors else np.zeros((0, self.dimensions), dtype=np.float32)), tokens

    def count_tokens(self, text: str) -> int:
        return len(self.counter.encode(text, add_special_tokens=True).ids)

    def _batch(self, texts: list[str]):
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        summed = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        vectors = (summed / np.linalg.norm(summed, axis=1, keepdims=True)).astype(np.float32)
        lengths = mask.sum(axis=1)
        tokens = [(hidden[j, : lengths[j]], np.asarray(e.offsets[: lengths[j]])) for j, e in enumerate(encoded)]
        return vectors, tokens
