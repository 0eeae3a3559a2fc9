"""Fit the answerability model (assistant/judge/answerable.py) and pick the thresholds the refusal policy uses.

Every written question that stands alone (and each follow-up's standalone
rewrite) is asked of the assistant over the training index with the judge
just trained; the features of what it finds are the model's input and the
line's `answerable` its label. Questions in the judge's training split fit
the model; the validation split, never fitted on, picks the two cut-offs:
`closest`, the highest at which at most `TrainingSettings.false_refusals` of
the answerable questions would be refused, and `answer`, the lowest at which
at most `TrainingSettings.unanswerable_answered` of the unanswerable ones
would be answered as if the guidance said so (between the two, the answer
says it does not answer directly and quotes the closest it says).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from assistant.judge.answerable import FEATURES, Answerability, features
from assistant.judge.pairs import is_validation, load_lines
from assistant.judge.train import auc
from corpus.records import Scope
from corpus.settings import Settings


def questions(data: Path) -> list[tuple[str, str, int]]:
    """(id, question as the search sees it, 1 if the guidance answers it) for each written question."""
    out = []
    for line in load_lines(data):
        if line.get("type") == "followup":
            if not line.get("needs_history"):
                out.append((line["id"], line["question"], int(bool(line.get("answerable")))))
            elif line.get("standalone"):
                out.append((line["id"], line["standalone"], int(bool(line.get("answerable")))))
        else:
            out.append((line["id"], line["question"], int(bool(line.get("answerable")))))
    return out


def feature_rows(assistant, items: list[tuple[str, str, int]], log=lambda line: None) -> np.ndarray:
    """The features of each question, searched as the assistant searches (judge and all)."""
    rows = []
    for i, (_, question, _) in enumerate(items, start=1):
        passages = assistant.searcher.search(question, None, Scope())
        rows.append(features(question, passages))
        if i % 500 == 0:
            log(f"  answerability features: {i} of {len(items)} questions")
    return np.array(rows)


def pick(probs: np.ndarray, labels: np.ndarray, false_refusals: float, unanswerable_answered: float) -> dict:
    """The two cut-offs from validation probabilities, and what they do there."""
    answerable, unanswerable = np.sort(probs[labels == 1]), np.sort(probs[labels == 0])
    closest = float(answerable[int(np.floor(false_refusals * len(answerable)))]) if len(answerable) else 0.0
    answer = float(unanswerable[min(len(unanswerable) - 1, int(np.ceil((1 - unanswerable_answered) * len(unanswerable))))]) \
        if len(unanswerable) else 0.5
    answer = max(answer, closest)
    return {"answer": round(answer, 4), "closest": round(closest, 4),
            "validation": {
                "answerable": int(len(answerable)), "unanswerable": int(len(unanswerable)),
                "auc": round(auc(labels, probs), 4),
                "false_refusals": round(float((answerable < closest).mean()), 4),
                "answerable_closest": round(float(((answerable >= closest) & (answerable < answer)).mean()), 4),
                "refusals": round(float((unanswerable < closest).mean()), 4),
                "unanswerable_answered": round(float((unanswerable >= answer).mean()), 4)}}


def fit(settings: Settings, data: Path, assistant, log=print) -> Answerability:
    """Fit on the training split, pick thresholds on the validation split; the model, its card filled in."""
    started = time.perf_counter()
    items = questions(data)
    model = fit_rows(settings, items, feature_rows(assistant, items, log))
    model.card["fit_s"] = round(time.perf_counter() - started, 1)
    return model


def fit_rows(settings: Settings, items: list[tuple[str, str, int]], x: np.ndarray) -> Answerability:
    """`fit` from the questions' features already computed."""
    y = np.array([label for _, _, label in items])
    valid = np.array([is_validation(qid, settings.training.validation) for qid, _, _ in items])
    if len(set(y[~valid])) < 2 or not valid.any():  # a handful of lines (a smoke test): fit and pick on all
        valid = np.zeros(len(y), dtype=bool)
        fitted, picked_on = np.ones(len(y), dtype=bool), "all"
    else:
        fitted, picked_on = ~valid, "validation"
    if len(set(y)) < 2:
        raise ValueError("the training data needs questions the guidance answers and questions it does not")
    checked = valid if valid.any() else fitted
    t = settings.training
    model = Answerability.fit(x[fitted], y[fitted], t.seed, t.answerability_hidden, t.answerability_alpha)
    probs = np.asarray(model.probability(x[checked]))
    picked = pick(probs, y[checked], settings.training.false_refusals, settings.training.unanswerable_answered)
    best_alone = auc(y[checked], x[checked][:, FEATURES.index("best")])
    model.card = {"thresholds": {"answer": picked["answer"], "closest": picked["closest"]}, "picked_on": picked_on,
                  "validation": {**picked["validation"], "judge_best_unit_auc": round(best_alone, 4)},
                  "questions": {"train": int(fitted.sum()), "validation": int(valid.sum())},
                  "topic_floor": topic_floor(x[:, FEATURES.index("similarity")], y, settings.refusals.topic_similarity)}
    return model


def topic_floor(similarity: np.ndarray, labels: np.ndarray, cut: float) -> dict:
    """What the topic floor (`refusals.topic_similarity`) does to the written questions, for the card: the share of
    answerable and unanswerable ones whose best passage's cosine is under it, and the cosine 1 in 1,000 answerable
    ones fall under, which is where the floor is set (a new embedder moves it)."""
    answerable, unanswerable = similarity[labels == 1], similarity[labels == 0]
    return {"cut": cut,
            "answerable_under": round(float((answerable < cut).mean()), 4) if len(answerable) else None,
            "unanswerable_under": round(float((unanswerable < cut).mean()), 4) if len(unanswerable) else None,
            "answerable_one_in_1000": round(float(np.quantile(answerable, 0.001)), 4) if len(answerable) else None}
