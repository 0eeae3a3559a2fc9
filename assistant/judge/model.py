"""The trained judge at question time: its ONNX export run by onnxruntime, no torch.

One small cross-encoder (MiniLM's first `layers` layers, all six as shipped, mean-pooled, a two-way head;
assistant/judge/train.py) reads a question together with a text and says
how likely the text answers it ("answers": the text is a unit of a passage,
assistant/units.py) or how likely the question needs the one asked before it
("followup"). Reading both together is what lets it tell a passage that
answers from one that only shares the words, and a question that only
restates the guidance from one that twists it. Scores are cached per
(question, text), so reranking, refusing and picking what to quote, which
read the same units, run the model once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from assistant.judge.answerable import Answerability
from corpus.settings import JudgeSettings

MODEL_DIR = Path(__file__).with_name("model")  # judge.onnx, tokenizer.json, card.json (the shipped judge)
TASKS = ("answers", "followup")  # the head's two outputs, in order


class JudgeUnavailable(RuntimeError):
    """The judge's files are missing or unreadable; the message says which and how to rebuild them."""


def tokenizer(folder: Path, max_tokens: int):
    """The model's word-piece tokenizer for pairs: truncated to `max_tokens`, padded to the longest in a batch."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_tokens, strategy="longest_first")
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def encode(tok, pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Input arrays for (first, second) text pairs: [CLS] first [SEP] second [SEP]."""
    encodings = tok.encode_batch(pairs)
    return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}


class PairModel:
    """A cross-encoder's ONNX export (`filename` in `folder`, tokenizer.json and card.json beside it) that scores
    (first, second) text pairs, each of its outputs a task; scores are cached per (task, first, second)."""

    filename = "judge.onnx"
    card_name = "card.json"

    def __init__(self, folder: Path = MODEL_DIR, settings: JudgeSettings = JudgeSettings(), cache_size: int = 4096):
        import onnxruntime

        self.folder = Path(folder)
        self.settings = settings
        path = self.folder / self.filename
        if not path.exists() or not (self.folder / "tokenizer.json").exists():
            raise JudgeUnavailable(f"the model {self.filename} is not in {self.folder}: run `procure-ai train` to build it")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = 1  # one core a pair: pairs are read side by side instead (`_run`)
        self.workers = settings.workers or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            raise JudgeUnavailable(f"cannot load {path}: {str(exc).splitlines()[0][:200]}") from None
        self.tok = tokenizer(self.folder, settings.max_tokens)
        self.card = json.loads((self.folder / self.card_name).read_text(encoding="utf-8")) \
            if (self.folder / self.card_name).exists() else {}
        self._cache: OrderedDict[tuple[int, str, str], float] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.pairs_scored = 0  # for benchmarks: pairs the model actually read, and the seconds it took
        self.model_seconds = 0.0

    def _scores(self, task: int, pairs: list[tuple[str, str]]) -> np.ndarray:
        out = np.zeros(len(pairs), dtype=np.float32)
        missing = []
        with self._lock:
            for i, (a, b) in enumerate(pairs):
                key = (task, a, b)
                if key in self._cache:
                    self._cache.move_to_end(key)
                    out[i] = self._cache[key]
                else:
                    missing.append(i)
        if missing:
            unique = list(dict.fromkeys(pairs[i] for i in missing))
            started = time.perf_counter()
            logits = self._run(unique)[:, task]
            spent = time.perf_counter() - started
            probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
            found = dict(zip(unique, probs))
            with self._lock:
                self.pairs_scored += len(unique)
                self.model_seconds += spent
                for pair, p in found.items():
                    self._cache[(task, *pair)] = float(p)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            for i in missing:
                out[i] = found[pairs[i]]
        return out

    def _run(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """The model's logits for each pair, each read alone, unpadded. The int8 export quantizes activations with
        one scale per tensor, padding rows included, so in a padded batch a pair's score moved with its
        neighbours, enough to cross a cut-off; alone, a pair scores the same whatever is read with it and
        whatever the cache already holds. It is also quicker on CPU, since no word pieces are spent on padding
        (evals/results/judge.md, "Each pair read alone"). Pairs are read side by side, `workers` at a time, each on
        one core: a short pair's run gains nothing from a second thread, so two cores reading two pairs halve the
        time, and each pair's score is the same as read alone (the session is safe to run from several threads)."""
        feeds = [encode(self.tok, [pair]) for pair in pairs]
        if self.workers > 1 and len(feeds) > 1:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="judge")
            return np.concatenate([out[0] for out in self._pool.map(lambda feed: self.session.run(None, feed), feeds)])
        return np.concatenate([self.session.run(None, feed)[0] for feed in feeds])


class Judge(PairModel):
    """Scores (question, text) pairs with the shipped judge; `settings` is the judge's branch of the tree."""

    def __init__(self, folder: Path = MODEL_DIR, settings: JudgeSettings = JudgeSettings(), cache_size: int = 4096):
        super().__init__(folder, settings, cache_size)
        self.answerability = Answerability.load(self.folder)  # None: trained before it; no verdicts without it

    def answers(self, question: str, texts: list[str]) -> np.ndarray:
        """How likely each text answers the question (0 to 1)."""
        return self._scores(0, [(question, t) for t in texts])

    def needs_history(self, question: str, previous: str) -> float:
        """How likely `question` cannot be understood without `previous`, the question asked before it."""
        from assistant.judge.pairs import FOLLOWUP

        return float(self._scores(1, [(FOLLOWUP + question, previous)])[0])
