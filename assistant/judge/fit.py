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

The `form` feature's linear model (assistant/judge/answerable.py) is fitted
first, on the training split's embeddings: the questions of FORM_KINDS
against the answerable ones. The network is then fitted on form scores each
training question got from a form model fitted without it (k folds), so it
learns how far to trust the score on questions the form model has not seen,
as at run time, rather than on scores it memorised.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from assistant.judge.answerable import FEATURES, Answerability, features
from assistant.judge.pairs import JUDGE_FOLDERS, is_validation, load_lines
from assistant.judge.train import auc
from corpus.records import Scope
from corpus.settings import Settings


FOLDERS = (*JUDGE_FOLDERS, "vendor", "chat")  # the judge's, the vendor picks and the chat-register questions: the
# kinds the form model learns, and answerable questions put as a situation and then an ask, so it does not learn
# "conversational" as a form to refuse
FORM_KINDS = ("vendor_pick", "instruction", "task", "out_of_scope", "other_language", "jurisdiction")  # unanswered
# for what they ask, whatever the guidance holds; false premises, presuppositions and absent facts turn on what it
# holds, so the form model leaves them out (the judge and the premise check read those against the passages)


def questions(data: Path) -> list[tuple[str, str, int, str]]:
    """(id, question as the search sees it, 1 if the guidance answers it, kind) for each written question."""
    out = []
    for line in load_lines(data, FOLDERS):
        row = (line["id"], line["question"], int(bool(line.get("answerable"))), line.get("kind") or "")
        if line.get("type") == "followup" and line.get("needs_history"):
            if line.get("standalone"):
                out.append((row[0], line["standalone"], *row[2:]))
        else:
            out.append(row)
    return out


def feature_rows(assistant, items: list[tuple[str, str, int, str]], log=lambda line: None) -> np.ndarray:
    """The features of each question, searched as the assistant searches (judge and all), `form` left at 0
    (fit_rows fills it in)."""
    rows = []
    for i, (_, question, _, _) in enumerate(items, start=1):
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


def fit(settings: Settings, data: Path, assistant, embedder, log=print) -> Answerability:
    """Fit on the training split, pick thresholds on the validation split; the model, its card filled in.
    `embedder` is the index's, whose `embed_query` the refusal policy gives the form model at run time (one
    question at a time, as there: a batch would pad them and move an int8 model's vectors)."""
    started = time.perf_counter()
    items = questions(data)
    vectors = np.vstack([embedder.embed_query(question) for _, question, _, _ in items])
    model = fit_rows(settings, items, feature_rows(assistant, items, log), vectors)
    model.card["embedder"] = embedder.name  # the form model reads this embedder's vectors
    model.card["fit_s"] = round(time.perf_counter() - started, 1)
    return model


def _form_labels(labels: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1 for the questions of FORM_KINDS, which questions the form model reads: those and the answerable ones)."""
    form = np.isin(kinds, FORM_KINDS) & (labels == 0)
    return form, form | (labels == 1)


def fit_form(vectors: np.ndarray, labels: np.ndarray, kinds: np.ndarray, c: float, seed: int) -> dict | None:
    """The form model: logistic regression on the question embeddings, FORM_KINDS (1) against answerable
    questions (0); None when the data holds no question of either."""
    from sklearn.linear_model import LogisticRegression

    form, used = _form_labels(labels, kinds)
    if len(set(form[used])) < 2:
        return None
    model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(vectors[used], form[used].astype(int))
    return {"weights": model.coef_[0].astype(np.float64), "bias": float(model.intercept_[0])}  # JSON rounds it


def form_scores(vectors: np.ndarray, labels: np.ndarray, kinds: np.ndarray, fitted: np.ndarray, c: float,
                folds: int, seed: int) -> tuple[dict | None, np.ndarray]:
    """(the form model fitted on the `fitted` rows, each row's form score): out of fold for the fitted rows (each
    scored by a model fitted on the other folds), by the whole model for the rest."""
    whole = fit_form(vectors[fitted], labels[fitted], kinds[fitted], c, seed)
    scores = np.zeros(len(vectors))
    if whole is None:
        return None, scores
    scores[~fitted] = vectors[~fitted] @ whole["weights"] + whole["bias"]
    rows = np.flatnonzero(fitted)
    fold = np.random.default_rng(seed).permutation(len(rows)) % folds
    for k in range(folds):
        part = fit_form(vectors[rows[fold != k]], labels[rows[fold != k]], kinds[rows[fold != k]], c, seed) or whole
        scores[rows[fold == k]] = vectors[rows[fold == k]] @ part["weights"] + part["bias"]
    return whole, scores


def fit_rows(settings: Settings, items: list[tuple[str, str, int, str]], x: np.ndarray,
             vectors: np.ndarray | None = None) -> Answerability:
    """`fit` from the questions' features already computed; `vectors`, the questions' embeddings, fit the form
    model (None: no form model, the feature stays 0)."""
    y = np.array([label for _, _, label, _ in items])
    kinds = np.array([kind for _, _, _, kind in items])
    valid = np.array([is_validation(qid, settings.training.validation) for qid, _, _, _ in items])
    if len(set(y[~valid])) < 2 or not valid.any():  # a handful of lines (a smoke test): fit and pick on all
        valid = np.zeros(len(y), dtype=bool)
        fitted, picked_on = np.ones(len(y), dtype=bool), "all"
    else:
        fitted, picked_on = ~valid, "validation"
    if len(set(y)) < 2:
        raise ValueError("the training data needs questions the guidance answers and questions it does not")
    checked = valid if valid.any() else fitted
    t = settings.training
    form = None
    if vectors is not None:
        x = x.copy()
        form, x[:, FEATURES.index("form")] = form_scores(vectors, y, kinds, fitted, t.form_c, t.form_folds, t.seed)
    model = Answerability.fit(x[fitted], y[fitted], t.seed, t.answerability_hidden, t.answerability_alpha)
    model.form = form
    probs = np.asarray(model.probability(x[checked]))
    picked = pick(probs, y[checked], settings.training.false_refusals, settings.training.unanswerable_answered)
    best_alone = auc(y[checked], x[checked][:, FEATURES.index("best")])
    model.card = {"thresholds": {"answer": picked["answer"], "closest": picked["closest"]}, "picked_on": picked_on,
                  "validation": {**picked["validation"], "judge_best_unit_auc": round(best_alone, 4)},
                  "questions": {"train": int(fitted.sum()), "validation": int(valid.sum())},
                  "form_validation": _form_card(x[:, FEATURES.index("form")], y, kinds, checked) if form is not None else None,
                  "topic_floor": topic_floor(x[:, FEATURES.index("similarity")], y, settings.refusals.topic_similarity)}
    return model


def _form_card(scores: np.ndarray, labels: np.ndarray, kinds: np.ndarray, checked: np.ndarray) -> dict:
    """What the form model does on the validation questions: its AUC for FORM_KINDS against answerable ones, and
    for every unanswerable question against answerable ones (it is not meant to catch false premises)."""
    form, used = _form_labels(labels, kinds)
    used &= checked
    return {"kinds": list(FORM_KINDS), "auc_form_kinds": round(auc(form[used].astype(int), scores[used]), 4),
            "auc_all_unanswerable": round(auc(1 - labels[checked], scores[checked]), 4)}


def topic_floor(similarity: np.ndarray, labels: np.ndarray, cut: float) -> dict:
    """What the topic floor (`refusals.topic_similarity`) does to the written questions, for the card: the share of
    answerable and unanswerable ones whose best passage's cosine is under it, and the cosine 1 in 1,000 answerable
    ones fall under, which is where the floor is set (a new embedder moves it)."""
    answerable, unanswerable = similarity[labels == 1], similarity[labels == 0]
    return {"cut": cut,
            "answerable_under": round(float((answerable < cut).mean()), 4) if len(answerable) else None,
            "unanswerable_under": round(float((unanswerable < cut).mean()), 4) if len(unanswerable) else None,
            "answerable_one_in_1000": round(float(np.quantile(answerable, 0.001)), 4) if len(answerable) else None}
