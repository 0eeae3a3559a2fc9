"""`procure-ai train`: rebuild the judge from the written questions, start to end, and write its model card.

The corpus is ingested into a fresh data dir (the same chunker as an ingest,
the embedder as published: `untuned_index`), each written question is asked of
it to find the units the judge will be shown (assistant/judge/pairs.py), the
model is trained and exported
(assistant/judge/train.py), and the exported int8 model is scored again on the
validation questions, which were never trained on. The answerability model
is then fitted on the training questions' searches with the new judge, over
the index the assistant uses (tuned embedder and all), and its cut-offs picked
on the validation questions (assistant/judge/fit.py). The card records the
data's hash, the settings, the figures and how long it took.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from assistant.judge.fit import fit
from assistant.judge.model import Judge
from assistant.judge.pairs import Pair, build, data_hash, is_validation
from assistant.judge.train import figures, train
from corpus.settings import Settings


def rebuild(settings: Settings, data: Path, corpus: Path, out: Path, factory, log=print,
            limit: int | None = None, work_dir: Path | None = None) -> dict:
    """Train the judge from the training files in `data` over the guidance in `corpus`, into `out`.
    `factory` wires the index and searcher (assistant/factory.py); `limit` keeps only the first pairs
    (a smoke test of the whole path); `work_dir` keeps the index and the pairs between runs (pairs are
    built again when the data's hash changes). Returns the model card, also written to out/card.json."""
    started = time.perf_counter()
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="procure-ai-train-"))
    train_pairs, valid_pairs = _pairs(settings, data, corpus, work_dir, factory, log)
    if limit:
        train_pairs, valid_pairs = train_pairs[:limit], valid_pairs[: max(limit // 5, 50)]
    pairs_s = time.perf_counter() - started
    log(f"{len(train_pairs)} training pairs, {len(valid_pairs)} validation pairs ({pairs_s:.0f} s); training")
    from index.embedder import BASE_MODEL, bundled_model_path

    base = Path(bundled_model_path())
    card = train(train_pairs, valid_pairs, base, out, settings.training, settings.judge, log)
    judge = Judge(out, settings.judge)
    work, index = _training_index(settings, corpus, work_dir, factory, log)  # the search the assistant runs
    answerability = _fit_answerability(settings, data, work, index, judge, out, factory, log)
    probs = np.concatenate([judge.answers(p.a, [p.b]) if p.task == "answers" else [judge.needs_history(p.a[len("follow-up: "):], p.b)]
                            for p in valid_pairs]) if valid_pairs else np.zeros(0)
    card.update({
        "model": "MiniLM (all-MiniLM-L6-v2, Apache-2.0) first layers, mean pooling, heads: " + ", ".join(("answers", "followup")),
        "data_sha256": data_hash(data),
        "pairs_mined_with": BASE_MODEL,  # untuned_index: the examples do not depend on the tuned embedder
        "pairs_s": round(pairs_s, 1),
        "validation_int8": figures(valid_pairs, probs),
        "best_unit_cuts": thresholds(valid_pairs, probs),
        "answerability": answerability.card,
        "counts": _counts(train_pairs, valid_pairs),
        "total_s": round(time.perf_counter() - started, 1),
    })
    (out / "card.json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return card


def refit(settings: Settings, data: Path, corpus: Path, out: Path, factory, log=print,
          work_dir: Path | None = None) -> dict:
    """Fit the answerability model again over the judge in `out`, as `rebuild` does after training, and record it in
    out/card.json: what a new embedder needs (its cosines are one of the model's features), without training the
    judge again. Returns the answerability card."""
    started = time.perf_counter()
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="procure-ai-train-"))
    work, index = _training_index(settings, corpus, work_dir, factory, log)
    answerability = _fit_answerability(settings, data, work, index, Judge(out, settings.judge), out, factory, log)
    card_path = Path(out) / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.exists() else {}
    card["answerability"] = answerability.card
    card_path.write_text(json.dumps(card, indent=1), encoding="utf-8")
    return {**answerability.card, "total_s": round(time.perf_counter() - started, 1)}


def _fit_answerability(settings: Settings, data: Path, work: Settings, index, judge: Judge, out: Path, factory, log):
    """The answerability model fitted on the training questions searched over `index` with `judge`, saved in `out`."""
    log("fitting the answerability model")
    answerability = fit(settings, data, factory.build_assistant(work, index=index, judge=judge),
                        index.embedder, log)
    answerability.save(out)
    return answerability


def _pairs(settings: Settings, data: Path, corpus: Path, work_dir: Path, factory, log, name: str = "pairs",
           recipe: list | None = None, builder=build, digest=data_hash) -> tuple[list[Pair], list[Pair]]:
    """The training and validation pairs, from `work_dir` when built there from the same data and settings:
    `builder(data, searcher, training, log)` over the training index otherwise (the judge's pairs.build, or the
    premise check's), keyed by `digest(data)` and the `recipe` of settings they depend on."""
    from index.search import Searcher

    t = settings.training  # only what the pairs depend on
    recipe = [*(recipe or [t.seed, t.negatives, t.passages, t.validation, settings.answers.list_words]), "untuned"]
    key = digest(data)[:16] + "-" + hashlib.sha256(json.dumps(recipe).encode()).hexdigest()[:8]
    cached = [work_dir / f"{name}-{key}-{part}.jsonl" for part in ("train", "validation")]
    if all(path.exists() for path in cached):
        return tuple([Pair(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]
                     for path in cached)
    work, index = untuned_index(settings, corpus, work_dir, factory, log)
    log(f"building {name}")
    pairs = builder(data, Searcher(index, work.retrieval), settings.training, log)
    for part, path in zip(pairs, cached):
        save_pairs(part, path)
    return pairs


def untuned_index(settings: Settings, corpus: Path, work_dir: Path, factory, log=lambda line: None):
    """(settings, index) over the bundled embedder as published, in work_dir/untuned: what the training examples are
    mined from (the judge's and the premise check's pairs, the embedder's own examples). Mining them with the tuned
    embedder would hand the judge its training questions' evidence ranked higher than a new question's (the tuned
    embedder learned them), and would make the judge depend on whether the embedder was rebuilt first; a judge
    trained so hedged more (evals/results/judge.md). The answerability model is still fitted over the search the
    assistant runs, tuned embedder and all."""
    from index.embedder import BASE_MODEL

    return _training_index(replace(settings, embed_model=BASE_MODEL), corpus, Path(work_dir) / "untuned", factory, log)


def _training_index(settings: Settings, corpus: Path, work_dir: Path, factory, log=lambda line: None):
    """(settings, index) of the training index in work_dir/index, the corpus ingested (nothing to do when it is)."""
    work = replace(factory.offline(settings), data_dir=work_dir / "index")
    log(f"indexing {corpus}")
    index = factory.build_index(work)
    factory.ingest(work, [corpus], index)
    return work, index


def thresholds(pairs: list[Pair], probs: np.ndarray) -> dict:
    """For validation questions: the best unit's probability, and what each cut-off would refuse."""
    best: dict[str, tuple[int, float]] = {}
    for p, prob in zip(pairs, probs):
        if p.task == "answers":
            answered, top = best.get(p.qid, (0, 0.0))
            best[p.qid] = (max(answered, p.label), max(top, float(prob)))
    answerable = np.array([b for a, b in best.values() if a])
    unanswerable = np.array([b for a, b in best.values() if not a])
    table = {}
    for cut in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        table[str(cut)] = {"false_refusals": round(float((answerable < cut).mean()), 4) if len(answerable) else None,
                           "refusals": round(float((unanswerable < cut).mean()), 4) if len(unanswerable) else None}
    return table


def _counts(train_pairs: list[Pair], valid_pairs: list[Pair]) -> dict:
    out = {}
    for name, pairs in (("train", train_pairs), ("validation", valid_pairs)):
        out[name] = {f"{task}:{label}": sum(1 for p in pairs if p.task == task and p.label == label)
                     for task in ("answers", "followup") for label in (0, 1)}
        out[name]["questions"] = len({p.qid for p in pairs})
    return out


def save_pairs(pairs: list[Pair], path: Path) -> None:
    path.write_text("".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")


def rebuild_premise(settings: Settings, data: Path, corpus: Path, out: Path, factory, log=print,
                    work_dir: Path | None = None) -> dict:
    """Train the premise check (assistant/judge/premise.py) into `out` beside the judge, pick its cut-off on the
    validation questions asked of the whole pipeline, and write its card (out/premise.json)."""
    from assistant.judge import premise
    from index.embedder import bundled_model_path

    started = time.perf_counter()
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="procure-ai-train-"))
    t = settings.training
    recipe = ["claims", "by-pair", t.seed, t.passages, t.validation, t.premise_answerable, settings.answers.list_words]
    train_pairs, valid_pairs = _pairs(settings, data, corpus, work_dir, factory, log, "premise", recipe,
                                      premise.build, premise.data_hash)
    pairs_s = time.perf_counter() - started
    log(f"{len(train_pairs)} training pairs, {len(valid_pairs)} validation pairs ({pairs_s:.0f} s); training")
    shape = replace(t, layers=t.premise_layers, epochs=t.premise_epochs)
    card = train(train_pairs, valid_pairs, Path(bundled_model_path()), out, shape, settings.judge, log,
                 tasks=premise.TASK, name=premise.Premise.filename, keep="auc")
    model = premise.Premise(out, replace(settings.judge, premise_cut=1.0))
    probs = np.array([model.contradicts(p.a, [p.b])[0] for p in valid_pairs])
    log("picking the cut-off on the validation questions")
    work, index = _training_index(settings, corpus, work_dir, factory)
    card.update(pick_premise_cut(settings, data, model, Judge(out, settings.judge), factory, work, index))
    card.update({
        "model": f"MiniLM (all-MiniLM-L6-v2, Apache-2.0), its first {t.premise_layers} layers, mean pooling, head: contradicts",
        "data_sha256": premise.data_hash(data),
        "pairs_s": round(pairs_s, 1),
        "validation_int8": _question_auc(figures(valid_pairs, probs, premise.TASK)),
        "counts": {name: {"pairs:1": sum(p.label for p in part), "pairs:0": sum(1 - p.label for p in part),
                          "questions": len({p.qid for p in part})}
                   for name, part in (("train", train_pairs), ("validation", valid_pairs))},
        "total_s": round(time.perf_counter() - started, 1),
    })
    (out / premise.Premise.card_name).write_text(json.dumps(card, indent=1), encoding="utf-8")
    return card


def repick_premise(settings: Settings, data: Path, corpus: Path, out: Path, factory, log=print,
                   work_dir: Path | None = None) -> dict:
    """The premise check in `out` kept, its cut-off picked again with the judge in `out` (it reads the units that judge
    ranks first, so a new judge moves the scores it sees), and recorded in out/premise.json."""
    from assistant.judge import premise

    started = time.perf_counter()
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="procure-ai-train-"))
    work, index = _training_index(settings, corpus, work_dir, factory, log)
    log("picking the premise check's cut-off on the validation questions")
    model = premise.Premise(out, replace(settings.judge, premise_cut=1.0))
    picked = pick_premise_cut(settings, data, model, Judge(out, settings.judge), factory, work, index)
    card_path = Path(out) / premise.Premise.card_name
    card = {**json.loads(card_path.read_text(encoding="utf-8")), **picked}
    card_path.write_text(json.dumps(card, indent=1), encoding="utf-8")
    return {**card, "total_s": round(time.perf_counter() - started, 1)}


def pick_premise_cut(settings: Settings, data: Path, model, judge: Judge, factory, work: Settings, index) -> dict:
    """The premise check's cut-off: each validation question (answerable, or a false premise or presupposition)
    asked of the whole pipeline (`judge` and the premise check `model`, over the training `index`), its highest
    premise score kept, the cut-off the lowest that flags at most `premise_false_flags` of the answerable ones, the
    doubt cut-off the lowest that reaches at most `premise_doubts` of them."""
    from assistant.judge import premise

    t = settings.training
    assistant = factory.build_assistant(work, index=index, judge=judge, premise=model)
    answerable, false = [], []
    for line in premise.load_lines(data):
        if not is_validation(premise.split_id(line), t.validation) or (not line.get("answerable")
                                                          and line.get("kind") not in premise.FALSE):
            continue
        found = assistant.searcher.search(line["question"])
        top = max([prob for p in found for prob in p.signals.get("premise", {}).values()], default=0.0)
        (answerable if line.get("answerable") else false).append(top)
    return {**premise.pick_cut(answerable, false, t.premise_false_flags, t.premise_doubts), "units": settings.judge.premise_units}


def _question_auc(found: dict) -> dict:
    """The premise check's figures: its "answerability" AUC is per question, false premises against the rest."""
    return {("question_auc" if k == "answerability_auc" else k): v for k, v in found.items()}
