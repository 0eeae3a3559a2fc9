"""Whether the guidance answers a question at all: one probability per question, from the judge and the search.

The judge (assistant/judge/model.py) says how well each unit answers; its best
unit alone tells answerable from unanswerable questions only so well, because
an out-of-scope question ("the Irish tender threshold") can still find a unit
that shares its words. This small model reads the judge's verdict
together with what the search and the vocabulary say about the question:

- `best`, `second`: the logits of the best and second-best units judged;
- `strong`: the share of judged units the judge thinks likely (>= 0.5);
- `similarity`: the best passage's cosine similarity with the question;
- `covered`: the share of its words the first passage holds;
- `form`: how much the question reads as one the guidance's kind of text cannot answer whatever it holds (a
  product pick, an instruction to the assistant, another subject, another country's law), from the question
  alone: a linear model on its embedding (the embedder the index uses), fitted on the written questions of
  those kinds against the answerable ones. The judge reads a question beside a passage and learns this only
  weakly (a judge trained with the vendor picks refused 11 of 14 of them and more answerable questions too);
  a question's form does not depend on the corpus, so it carries over to a user's own documents.

Two features that helped on the validation questions are left out because
they would not carry over: the share of the question's words the guidance
never uses depends on the corpus's size (over a handful of a user's own
documents nearly every word is unknown), and the question's length says more
about how the training questions were written (the unanswerable ones carry
false premises) than about whether the guidance answers it: with it, long
answerable questions in the evaluation sets were refused
(evals/results/judge.md). It is fitted by `procure-ai train` on the training questions and its
thresholds picked on the validation questions (assistant/judge/build.py);
weights and scaling are stored as JSON beside the judge, nothing pickled.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from corpus.records import Passage
from corpus.text import tokenize

FEATURES = ("best", "second", "strong", "similarity", "covered", "form")
FILE = "answerable.json"


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def features(question: str, passages: list[Passage], form: float = 0.0) -> np.ndarray:
    """The question's feature vector (FEATURES, in order) from the judged passages of its search and its `form`
    score (Answerability.form_score; 0 without a form model)."""
    probs = sorted((float(v) for p in passages for v in (p.signals.get("units") or {}).values()), reverse=True)
    best = max([float(p.signals.get("judge", 0.0)) for p in passages] + probs[:1] or [0.0])
    second = probs[1] if len(probs) > 1 else 0.0
    strong = sum(1 for v in probs if v >= 0.5) / len(probs) if probs else 0.0
    similarity = max((p.similarity for p in passages if p.similarity is not None), default=0.0)
    terms = set(tokenize(question))
    covered = len(terms & set(tokenize(passages[0].text))) / len(terms) if terms and passages else 0.0
    return np.array([_logit(best), _logit(second), strong, similarity, covered, form])


class Answerability:
    """The fitted model: `probability(features)` is how likely the guidance answers the question.

    A small neural network (scikit-learn's MLPClassifier: one ReLU layer, a logistic output) on
    standardised features; its weights are plain lists, so it runs in numpy without scikit-learn. `form` is the
    linear model on the question's embedding that gives the `form` feature ({"weights": [...], "bias": b}; None:
    the feature is 0)."""

    def __init__(self, mean, scale, weights, biases, card: dict | None = None, form: dict | None = None,
                 low=None, high=None):
        self.mean, self.scale = np.asarray(mean, dtype=np.float64), np.asarray(scale, dtype=np.float64)
        self.low = None if low is None else np.asarray(low, dtype=np.float64)  # the training rows' range: inputs are
        self.high = None if high is None else np.asarray(high, dtype=np.float64)  # held inside it (see probability)
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]
        self.biases = [np.asarray(b, dtype=np.float64) for b in biases]
        self.card = card or {}
        self.form = None if form is None else {"weights": np.asarray(form["weights"], dtype=np.float64),
                                               "bias": float(form["bias"])}

    def form_score(self, vector) -> float:
        """The `form` feature of a question from its embedding: the form model's logit; 0 without one, or for a
        vector of another size (an embedder other than the one it was fitted with, `card["embedder"]`: refit it)."""
        if self.form is None or np.shape(vector) != self.form["weights"].shape:
            return 0.0
        return float(np.asarray(vector, dtype=np.float64) @ self.form["weights"] + self.form["bias"])

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, seed: int, hidden: int = 16, alpha: float = 0.01) -> "Answerability":
        from sklearn.neural_network import MLPClassifier

        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        model = MLPClassifier((hidden,), alpha=alpha, max_iter=2000, random_state=seed)
        model.fit((x - mean) / scale, y)
        return cls(mean, scale, model.coefs_, model.intercepts_, low=x.min(axis=0), high=x.max(axis=0))

    def probability(self, x: np.ndarray) -> np.ndarray | float:
        """How likely the guidance answers, from the features `x` (one row or many). Each feature is first held
        inside the range the network was fitted on: outside it a ReLU network extrapolates along whatever line it
        learned, and a corpus of two documents, where a question finds one unit and so no second-best (logit
        -9.2 where training saw -5.5 at least), was refused with the best unit at 0.84."""
        x = np.asarray(x, dtype=np.float64)
        if self.low is not None:
            x = np.clip(x, self.low, self.high)
        h = (x - self.mean) / self.scale
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
        z = h[..., 0]
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist(),
                "weights": [w.round(6).tolist() for w in self.weights],
                "biases": [b.round(6).tolist() for b in self.biases],
                "low": None if self.low is None else self.low.round(6).tolist(),
                "high": None if self.high is None else self.high.round(6).tolist(),
                "form": None if self.form is None else {"weights": self.form["weights"].round(6).tolist(),
                                                        "bias": round(self.form["bias"], 6)},
                **self.card}

    def save(self, folder: Path) -> Path:
        path = Path(folder) / FILE
        path.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> "Answerability | None":
        """The model stored beside the judge, or None when there is none (a judge trained before it)."""
        path = Path(folder) / FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("features") == list(FEATURES[:-1]):  # fitted before the form feature: it reads that as nothing
            data.update(mean=[*data["mean"], 0.0], scale=[*data["scale"], 1.0],
                        weights=[[*data["weights"][0], [0.0] * len(data["weights"][0][0])], *data["weights"][1:]])
        elif data.get("features") != list(FEATURES):
            return None  # fitted on other features
        stored = ("features", "mean", "scale", "weights", "biases", "form", "low", "high")
        card = {k: v for k, v in data.items() if k not in stored}
        return cls(data["mean"], data["scale"], data["weights"], data["biases"], card, data.get("form"),
                   data.get("low"), data.get("high"))
